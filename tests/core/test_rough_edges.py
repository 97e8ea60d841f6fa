"""Bad input ends in one clear line and a non-zero exit, never a traceback; files and caches land
where a user expects them."""
from __future__ import annotations

import os
import stat

import pytest

import archsim
from archsim.cli import main


@pytest.mark.parametrize("argv,words", [
    (["mem", "--pattern", "seq_rd", "--n", "-5"], "--n: must be a positive integer"),
    (["mem", "--pattern", "seq_rd", "--n", "0"], "--n: must be a positive integer"),
    (["mem", "--pattern", "idle_rand", "--gap", "-3"], "--gap: must be an integer >= 0"),
    (["run", "--gemm", "64x64x64", "--bits", "0"], "--bits: must be a positive integer"),
    (["run", "--gemm", "64x64x64", "--json", "/nonexistent-dir/x.json"], "cannot use /nonexistent-dir/x.json"),
    (["run", "--gemm", "64x64x64", "--trace", "/nonexistent-dir/t.json"], "cannot use /nonexistent-dir/t.json"),
    (["mem", "--standard", "DDR9", "--pattern", "seq_rd"], "DRAM standards: DDR4-3200"),
    (["run", "edge_ddr4", "--set", "memory.offchip.standard=DDR9"], "memory.offchip.standard: unknown DRAM standard"),
    (["run", "no-such-design"], "nor a bundled design"),
])
def test_bad_input_is_one_line(argv, words, capsys):
    try:
        rc = main(argv)
    except SystemExit as exc:            # argparse's own checks exit from parse_args
        rc = exc.code
    assert rc == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert words in err and "Traceback" not in err
    if "DRAM standards:" in err:
        assert "flash" not in err.split("DRAM standards:")[-1]      # only DRAM standards are listed


def test_unknown_sort_column_is_named(tmp_path, capsys):
    from archsim.sweep.store import Store

    db = tmp_path / "r.sqlite"
    with Store(db):
        pass
    assert main(["results", str(db), "--sort", "speed"]) == 2
    assert "no column 'speed'" in capsys.readouterr().err


def test_output_files_get_the_users_umask(tmp_path):
    old = os.umask(0o022)
    try:
        out = tmp_path / "r.json"
        assert main(["run", "--gemm", "16x16x16", "--json", str(out)]) == 0
        assert stat.S_IMODE(out.stat().st_mode) == 0o644
    finally:
        os.umask(old)


def test_mapper_cache_lives_in_the_users_cache_dir(tmp_path, monkeypatch):
    from dataflows.cache import default_cache_dir

    monkeypatch.delenv("ARCHSIM_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "archsim"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_cache_dir() == __import__("pathlib").Path.home() / ".cache" / "archsim"


def test_load_config_resolves_bundled_names_like_the_cli(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("default", "default.yaml", "configs/default.yaml", "pim/hbm_pim"):
        assert archsim.load_config(name).name
    assert archsim.load_config("tpu_like_hbm2").name == "tpu-like-128x128-hbm2"
