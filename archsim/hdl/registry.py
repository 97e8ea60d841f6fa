"""RTL core registry: every Verilog core that archsim co-simulates, registered by its own bench module.

A bench module lives in `archsim/hdl/benches/`; when imported it calls `register_core(RtlCore(...))`
for each core it checks. `load_benches` imports every module there once, so the cocotb tests in
tests/rtl and `archsim validate rtl --core NAME` see a new core without any central edit:

    register_core(RtlCore(name="os", family="systolic", top="systolic",
                          sources=("gemm_ctrl.v", ..., "systolic.v"), bench=__name__,
                          params=my_params, fault=FaultInjection(...)))

The bench module is also the cocotb test module that `archsim.hdl.cosim.run_cosim` runs on the
core; its report contract is written down in docs/rtl.md ("Adding a core").
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Protocol

from archsim.errors import ArchsimError
from archsim.plugins import import_submodules

BENCH_PACKAGE = "archsim.hdl.benches"   # every module under it is imported by `load_benches`


class GemmCase(Protocol):
    """One co-simulated GEMM (archsim.hdl.cosim.Gemm): C[M,N] = A[M,K] @ B[K,N], operands from `seed`."""

    M: int
    N: int
    K: int
    seed: int


@dataclass(frozen=True)
class FaultInjection:
    """A deliberate bug behind a Verilog parameter that the co-simulation must catch.

    `first_mismatch(R, C, case)` is a regex of the error the bench must report for that case with the
    per-cycle trace on: it is derived from the model (where the bug first shows), not hard-coded.
    """

    what: str                                              # the bug, one line
    first_mismatch: Callable[[int, int, GemmCase], str]
    param: str = "FAULT"                                   # the Verilog parameter; 1 = broken
    min_rows: int = 1                                      # smallest R on which the bug exists


@dataclass(frozen=True)
class RtlCore:
    """A Verilog core, the files that build it and the bench that checks it against its model."""

    name: str                                  # --core NAME; also the build-key prefix
    family: str                                # the unit kind it models (archsim units)
    top: str                                   # top-level module
    sources: tuple[str, ...]                   # files under rtl/, in compile order
    bench: str                                 # dotted cocotb test module (the registering module)
    params: Callable[[int, int, int], Mapping[str, int | str]]   # (R, C, buffer side) -> Verilog parameters
    model: str = ""                            # what the bench compares against, for tables
    fault: FaultInjection | None = None        # None: no fault injection for this core
    test_arrays: tuple[tuple[int, int], ...] = ((2, 3), (4, 4), (3, 5))   # cosim tests; first traced
    lint_arrays: tuple[tuple[int, int], ...] = ((1, 1), (2, 3), (4, 4))
    options: Mapping[str, Any] = field(default_factory=dict)   # JSON values handed to the bench (cfg)


class RtlCoreError(ArchsimError):
    """An unknown core, a core registered twice, or a request the core cannot honour."""


_CORES: dict[str, RtlCore] = {}
_loaded = False


def register_core(core: RtlCore) -> RtlCore:
    """Add a core; one name claimed by two bench modules is an error naming both."""
    old = _CORES.get(core.name)
    if old is not None and old.bench != core.bench:
        raise RtlCoreError(f"RTL core {core.name!r} is registered twice: by {old.bench} and by "
                           f"{core.bench}; give one of them another name")
    if not core.sources or core.top == "" or core.family == "":
        raise RtlCoreError(f"RTL core {core.name!r}: top, family and sources are required")
    _CORES[core.name] = core
    return core


def unregister_core(name: str) -> None:
    """Forget a core (for cores defined inside tests)."""
    _CORES.pop(name, None)


def load_benches() -> None:
    """Import every bench module once, so each registers its cores."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    import_submodules(BENCH_PACKAGE)


def cores(family: str | None = None) -> dict[str, RtlCore]:
    """{name: core} of every registered core (of one family when given), in name order."""
    load_benches()
    return {n: c for n, c in sorted(_CORES.items()) if family is None or c.family == family}


def families() -> list[str]:
    return sorted({c.family for c in cores().values()})


def get_core(name: str) -> RtlCore:
    """The core called `name`; an unknown name is an error with a "did you mean" hint."""
    known = cores()
    if name in known:
        return known[name]
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.5)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise RtlCoreError(f"unknown RTL core {name!r}; {hint}known cores: {', '.join(known) or 'none'}")
