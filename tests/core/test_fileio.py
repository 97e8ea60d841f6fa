"""Outputs appear whole or not at all."""
from __future__ import annotations

import pytest

from archsim.fileio import atomic_write_text

def test_atomic_write_replaces_whole_file(tmp_path):
    p = tmp_path / "out.json"
    p.write_text("old")
    atomic_write_text(p, "new contents")
    assert p.read_text() == "new contents"
    assert [q.name for q in tmp_path.iterdir()] == ["out.json"]   # no temporary left behind

def test_failed_write_keeps_old_file_and_leaves_no_temp(tmp_path):
    p = tmp_path / "out.json"
    p.write_text("old")

    with pytest.raises(TypeError):
        atomic_write_text(p, 12345)  # not text: the write fails before the rename
    assert p.read_text() == "old"
    assert [q.name for q in tmp_path.iterdir()] == ["out.json"]
