"""archsim.settings: every ARCHSIM_* knob the code reads is declared there, parsed once, with errors
naming the variable."""
import re
import subprocess
from pathlib import Path

import pytest

from archsim.errors import ConfigError
from archsim.settings import KNOBS, Settings

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_and_values():
    s = Settings.from_env({})
    assert (s.cache_dir, s.native, s.sim, s.sim_build, s.vl_opt, s.rtl_fault) == (None, True, "all", None,
                                                                                  "-O0", "0")
    s = Settings.from_env({"ARCHSIM_CACHE_DIR": "cache/c", "ARCHSIM_NATIVE": "Off", "ARCHSIM_SIM": " Icarus "})
    assert s.cache_dir == Path("cache/c") and s.native is False and s.sim == "icarus"
    assert Settings.from_env({"ARCHSIM_NATIVE": ""}).native is True   # empty = unset


def test_bad_boolean_names_the_variable():
    with pytest.raises(ConfigError, match=r"ARCHSIM_NATIVE='maybe': expected one of 1, true"):
        Settings.from_env({"ARCHSIM_NATIVE": "maybe"})


def test_every_knob_in_the_code_is_declared():
    """No module reads an ARCHSIM_* variable that settings.py does not declare (the RTL benches'
    handshake variables, ARCHSIM_<BENCH>_CFG / _OUT, are a bench's input/output files, not knobs)."""
    out = subprocess.run(["git", "grep", "-hoE", r"ARCHSIM_[A-Z_]+", "--", "archsim", "dataflows", "memory"],
                         cwd=ROOT, capture_output=True, text=True).stdout
    used = {v for v in re.findall(r"ARCHSIM_[A-Z_]+", out) if not re.fullmatch(r"ARCHSIM_[A-Z]+_(CFG|OUT)", v)}
    assert used <= {k.env for k in KNOBS}, used - {k.env for k in KNOBS}
