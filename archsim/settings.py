"""The environment knobs, in one place: every `ARCHSIM_*` variable archsim reads, its meaning and default.

`settings()` reads the environment each time it is called (cheap), so a test's monkeypatched
variable or a sweep worker's own environment is always what counts. Values that only one owner
can judge (the RTL fault level, the simulator list) are passed on as given and checked there,
with errors naming the variable; booleans are checked here.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from archsim.errors import ConfigError


@dataclass(frozen=True)
class Knob:
    env: str
    field: str
    default: str
    meaning: str


KNOBS: tuple[Knob, ...] = (
    Knob("ARCHSIM_CACHE_DIR", "cache_dir", "",
         "root of the mapping cache (<root>/mapper) and of the compiled C twins (<root>/native); "
         "default $XDG_CACHE_HOME/archsim, else ~/.cache/archsim"),
    Knob("ARCHSIM_NATIVE", "native", "1",
         "use the compiled C twins (DRAM core, systolic register model) when they apply (0 = Python only)"),
    Knob("ARCHSIM_SIM", "sim", "all", "RTL simulators to use: verilator | icarus | all | comma list"),
    Knob("ARCHSIM_SIM_BUILD", "sim_build", "", "RTL build root (default sim_build/ at the repository root)"),
    Knob("ARCHSIM_VL_OPT", "vl_opt", "-O0", "C++ optimisation flags of Verilator builds"),
    Knob("ARCHSIM_RTL_FAULT", "rtl_fault", "0", "1 = build the RTL cores with their injected bug (docs/rtl.md)"),
    Knob("ARCHSIM_BENCH_FAULT", "bench_fault", "",
         "acc:s:i:j corrupts the systolic model's PE[i][j] accumulator in state s (the checker's self-test)"),
)
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


@dataclass(frozen=True)
class Settings:
    cache_dir: Path | None
    native: bool
    sim: str
    sim_build: Path | None
    vl_opt: str
    rtl_fault: str
    bench_fault: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        raw = {k.field: (env.get(k.env) or k.default).strip() for k in KNOBS}
        native = raw["native"].lower()
        if native not in _TRUE + _FALSE:
            raise ConfigError(f"ARCHSIM_NATIVE={env.get('ARCHSIM_NATIVE')!r}: expected one of "
                              f"{', '.join(_TRUE + _FALSE)}")
        return cls(cache_dir=Path(raw["cache_dir"]) if raw["cache_dir"] else None,
                   native=native in _TRUE, sim=raw["sim"].lower(),
                   sim_build=Path(raw["sim_build"]) if raw["sim_build"] else None,
                   vl_opt=raw["vl_opt"], rtl_fault=raw["rtl_fault"], bench_fault=raw["bench_fault"])


def settings() -> Settings:
    """The knobs as the environment sets them now."""
    return Settings.from_env()


def cache_root() -> Path:
    """Where archsim keeps what it can recompute: $ARCHSIM_CACHE_DIR, else the user's cache
    directory ($XDG_CACHE_HOME/archsim, else ~/.cache/archsim), never the working directory."""
    root = settings().cache_dir
    if root:
        return root
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(xdg) if xdg else Path.home() / ".cache") / "archsim"

