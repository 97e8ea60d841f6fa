"""Physical quantities with explicit units: parse `1 GHz`, `256 KiB`, `25.6 GB/s`, `30 us`, `0.2 pJ`.

Every quantity is stored in one base unit: Hz, bytes, bytes/s, picoseconds (integer), picojoules.
A bare number is accepted only where the key's name carries the unit (e.g. `latency_cycles`), which
the schema decides, never here.
"""
from __future__ import annotations

import math
import re
from typing import Annotated, Mapping

from pydantic import BeforeValidator, PlainSerializer

_NUM = r"([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)"
_RE = re.compile(rf"^\s*{_NUM}\s*([A-Za-z/µ]+(?:/s)?)\s*$")

FREQUENCY = {"hz": 1, "khz": 1e3, "mhz": 1e6, "ghz": 1e9, "thz": 1e12}
SIZE = {
    "b": 1, "byte": 1, "bytes": 1,
    "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
    "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
    "bit": 0.125, "bits": 0.125, "kbit": 125, "mbit": 125e3, "gbit": 125e6,
    "kibit": 128, "mibit": 2**17, "gibit": 2**27,
}
BANDWIDTH = {
    "b/s": 1, "kb/s": 1e3, "mb/s": 1e6, "gb/s": 1e9, "tb/s": 1e12,
    "kib/s": 2**10, "mib/s": 2**20, "gib/s": 2**30,
    "bit/s": 0.125, "kbit/s": 125, "mbit/s": 125e3, "gbit/s": 125e6, "bps": 0.125, "gbps": 125e6,
}
DURATION_PS = {"ps": 1, "ns": 10**3, "us": 10**6, "µs": 10**6, "ms": 10**9, "s": 10**12}
ENERGY_PJ = {"fj": 1e-3, "pj": 1, "nj": 1e3, "uj": 1e6, "µj": 1e6, "mj": 1e9, "j": 1e12}

_KINDS: dict[str, tuple[Mapping[str, float], str]] = {
    "frequency": (FREQUENCY, "a frequency such as '1 GHz' or '800 MHz'"),
    "size": (SIZE, "a size such as '256 KiB', '2 MB' or '64 B'"),
    "bandwidth": (BANDWIDTH, "a bandwidth such as '25.6 GB/s' or '16 GiB/s'"),
    "duration": (DURATION_PS, "a duration such as '30 us', '13.75 ns' or '500 ps'"),
    "energy": (ENERGY_PJ, "an energy such as '0.2 pJ' or '15 fJ'"),
}


def parse_quantity(value: object, kind: str) -> float:
    """Parse `value` (a string with a unit) into the base unit of `kind`; raise ValueError if malformed."""
    table, expected = _KINDS[kind]
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError(f"expected {expected} (a number with a unit), got {value!r}")
    m = _RE.match(value)
    if not m:
        raise ValueError(f"expected {expected}, got {value!r}")
    number, unit = float(m.group(1)), m.group(2).lower()
    if unit not in table:
        units = ", ".join(sorted({u for u in table}))
        raise ValueError(f"unknown unit {m.group(2)!r} for {kind}; expected one of: {units}")
    out = number * table[unit]
    if not math.isfinite(out) or out < 0:
        raise ValueError(f"expected a non-negative {kind}, got {value!r}")
    return out


def parse_frequency(v: object) -> float:
    out = parse_quantity(v, "frequency")
    if out <= 0:
        raise ValueError(f"a frequency must be positive, got {v!r}")
    return out


def parse_size(v: object) -> int:
    out = parse_quantity(v, "size")
    if abs(out - round(out)) > 1e-9 * max(1.0, out):
        raise ValueError(f"a size must be a whole number of bytes, got {v!r} = {out} B")
    return int(round(out))


def parse_bandwidth(v: object) -> float:
    out = parse_quantity(v, "bandwidth")
    if out <= 0:
        raise ValueError(f"a bandwidth must be positive, got {v!r}")
    return out


def parse_duration_ps(v: object) -> int:
    """Durations are integer picoseconds (the engine's time base); sub-ps values are rounded."""
    return int(round(parse_quantity(v, "duration")))


def parse_energy_pj(v: object) -> float:
    return parse_quantity(v, "energy")


def _fmt_size(b: int) -> str:
    for unit, f in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if b >= f and b % f == 0:
            return f"{b // f} {unit}"
    return f"{b} B"


def _fmt_freq(hz: float) -> str:
    return f"{hz / 1e9:g} GHz" if hz >= 1e9 else f"{hz / 1e6:g} MHz"


def _fmt_bw(bps: float) -> str:
    return f"{bps / 1e9:g} GB/s"


def _fmt_ps(ps: int) -> str:
    for unit, f in (("s", 10**12), ("ms", 10**9), ("us", 10**6), ("ns", 10**3)):
        if ps >= f and ps % f == 0:
            return f"{ps // f} {unit}"
    return f"{ps / 1000:g} ns" if ps % 1000 else f"{ps // 1000} ns"


def _fmt_pj(pj: float) -> str:
    return f"{pj:g} pJ"


# Pydantic field types: parse on input, serialise back to a unit string (so `config show` round-trips).
Frequency = Annotated[float, BeforeValidator(parse_frequency), PlainSerializer(_fmt_freq, return_type=str)]
Size = Annotated[int, BeforeValidator(parse_size), PlainSerializer(_fmt_size, return_type=str)]
Bandwidth = Annotated[float, BeforeValidator(parse_bandwidth), PlainSerializer(_fmt_bw, return_type=str)]
Duration = Annotated[int, BeforeValidator(parse_duration_ps), PlainSerializer(_fmt_ps, return_type=str)]
Energy = Annotated[float, BeforeValidator(parse_energy_pj), PlainSerializer(_fmt_pj, return_type=str)]
