"""DRAM standards as data: load memory/specs/<name>.yaml, check it, compile its commands and rules.

A spec holds organisation, timing (in tCK), command-bus shape and energy. Its rule files (`rules:`,
one name or a list) declare the command set (each command's scope, bus and bus cycles, whether it
opens or closes rows, moves data or only touches registers) and the timing rules between any two
declared commands in any scope, so a PIM design's commands are a YAML file, not controller code.
The host scheduler's commands (CORE) must be declared by every standard and keep fixed ids 0..7;
further commands follow in declaration order.
"""
from __future__ import annotations

import ast
import operator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from archsim.config.quantities import parse_frequency
from archsim.errors import ConfigError

SPEC_DIR = Path(__file__).resolve().parent.parent / "specs"
CORE = ("ACT", "PRE", "RD", "WR", "RDA", "WRA", "REF", "REFsb")   # the host scheduler's commands, ids 0..7
COMMANDS = CORE                     # the command set of every standard without PIM (replay.c's enum)
CMD = {c: i for i, c in enumerate(CORE)}
SCOPES = ("bank", "bankgroup", "rank", "channel", "other_rank")
# what one command touches: one bank, every bank of its bank group, every bank of its rank (all banks
# of a single-rank channel), or the channel's shared logic (buffers, mode registers) and no bank
CMD_SCOPES = ("bank", "bankgroup", "rank", "channel")
CMD_KEYS = {"scope", "bus", "cycles", "row", "data", "register", "energy", "pim", "latency"}
TIMING_KEYS = ("CL", "CWL", "tRCD", "tRCDWR", "tRP", "tRAS", "tRC", "tCCD_S", "tCCD_L", "tRRD_S",
               "tRRD_L", "tFAW", "tWR", "tRTP", "tWTR_S", "tWTR_L", "tRTRS", "tRFC", "tREFI",
               "tRFCsb", "tREFIsb")
_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.FloorDiv: operator.floordiv,
        ast.Div: operator.truediv}
_CMPS = {ast.GtE: operator.ge, ast.Gt: operator.gt, ast.LtE: operator.le, ast.Lt: operator.lt, ast.Eq: operator.eq}


def evaluate(expr: str, names: dict[str, int]) -> int | bool:
    """Evaluate a timing expression (+ - * // /, max, min, comparisons) over named numbers."""
    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return node.value
        if isinstance(node, ast.Name):
            if node.id not in names:
                raise ConfigError(f"timing expression {expr!r}: unknown name {node.id!r}")
            return names[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _CMPS:
            return _CMPS[type(node.ops[0])](ev(node.left), ev(node.comparators[0]))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("max", "min"):
            return (max if node.func.id == "max" else min)(ev(a) for a in node.args)
        raise ConfigError(f"timing expression {expr!r}: unsupported syntax {ast.dump(node)[:60]}")
    return ev(ast.parse(str(expr), mode="eval"))


@dataclass(frozen=True)
class Command:
    """One declared DRAM command. `bus`: row or column command bus, held `cycles`; `row`: open, close
    or none (rows of every bank in its scope); `data`: read, write or none (moves data on the
    channel's data bus); `register`: touches only registers/buffers, never a bank's row; `pim`: part
    of a PIM design's command set (not a host command)."""

    name: str
    scope: str = "bank"
    bus: str = "row"
    cycles: int = 1
    row: str = "none"
    data: str = "none"
    register: bool = False
    pim: bool = False
    latency: int = -1          # cycles from issue until its data is done (-1: CL/CWL + tBL, or the bus cycles)

    @property
    def needs_open_row(self) -> bool:
        """A column command on the bank array needs its row open in every bank of its scope."""
        return self.bus == "column" and not self.register and self.row != "open"


@dataclass(frozen=True)
class Rule:
    prev: int
    next: int
    scope: str
    delay: int


@dataclass
class DramSpec:
    name: str
    source: str
    clock_hz: float
    beats_per_clock: int
    channel_width_bits: int
    device_width_bits: int
    ranks: int
    bankgroups: int
    banks_per_group: int
    rows: int
    columns: int
    burst_length: int
    bus_kind: str                  # shared | split (row/column buses)
    act_cycles: int
    shared_by_channels: int
    timing: dict[str, int]
    rules: list[Rule]
    windows: list[tuple[int, str, int, int]]   # (cmd, scope, count, span)
    energy_pj: dict[str, float]
    background_mw: float = 0.0
    energy_source: str = ""
    extra: dict = field(default_factory=dict)
    commands: tuple[Command, ...] = ()
    cmd: dict[str, int] = field(default_factory=dict)     # name -> id

    @property
    def command_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.commands)

    @property
    def pim_commands(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.commands if c.pim)

    @property
    def tBL(self) -> int:
        return self.timing["tBL"]

    @property
    def burst_bytes(self) -> int:
        return self.channel_width_bits // 8 * self.burst_length

    @property
    def bursts_per_row(self) -> int:
        return self.columns // self.burst_length

    @property
    def banks(self) -> int:
        return self.bankgroups * self.banks_per_group

    @property
    def channel_bytes(self) -> int:
        return self.ranks * self.banks * self.rows * self.bursts_per_row * self.burst_bytes

    @property
    def tck_ps(self) -> float:
        return 1e12 / self.clock_hz

    @property
    def peak_bytes_per_s(self) -> float:
        return self.channel_width_bits / 8 * self.beats_per_clock * self.clock_hz


def available_standards() -> list[str]:
    """The DRAM standards in memory/specs (not the timing rule sets or the flash presets)."""
    return sorted(p.stem for p in SPEC_DIR.glob("*.yaml") if not p.stem.startswith("rules_") and p.stem != "flash")


def _pow2(name: str, v: int, what: str) -> None:
    if v < 1 or v & (v - 1):
        raise ConfigError(f"DRAM standard {name!r}: {what} must be a power of two, got {v}")


def _expand(cmds: str, cmd: dict[str, int], where: str) -> list[int]:
    out = []
    for c in str(cmds).split("|"):
        if c not in cmd:
            raise ConfigError(f"{where}: timing rule names command {c!r}, which no rule file of this standard "
                              f"declares; declared: {', '.join(cmd)}")
        out.append(cmd[c])
    return out


def _declare(decls: dict, fname: str, names: dict) -> list[tuple[str, dict]]:
    """Check one rule file's `commands:` mapping (name -> properties); cycles/energy stay expressions."""
    out = []
    for cname, props in (decls or {}).items():
        where = f"memory/specs/{fname}: commands.{cname}"
        props = dict(props or {})
        unknown = set(props) - CMD_KEYS
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; "
                              f"expected {', '.join(sorted(CMD_KEYS))}")
        for key, allowed in (("scope", CMD_SCOPES), ("bus", ("row", "column")), ("row", ("open", "close", "none")),
                             ("data", ("read", "write", "none"))):
            if key in props and props[key] not in allowed:
                raise ConfigError(f"{where}.{key}: {props[key]!r} is not one of {', '.join(allowed)}")
        if cname in names:
            raise ConfigError(f"{where}: command {cname!r} is already declared in {names[cname]}")
        names[cname] = fname
        out.append((cname, props))
    return out


def build_spec(raw: dict, overrides: dict[str, int] | None = None, where: str = "") -> DramSpec:
    """Check a spec dict and compile its commands and rules; `overrides` replaces timing values (in tCK)."""
    name = raw.get("name", where or "?")
    try:
        org, bus, timing = raw["organisation"], raw["command_bus"], dict(raw["timing"])
        rules_files = raw["rules"]
    except KeyError as exc:
        raise ConfigError(f"DRAM standard {name!r} ({where}): missing section {exc.args[0]!r}") from None
    missing = [k for k in TIMING_KEYS if k not in timing]
    if missing:
        raise ConfigError(f"DRAM standard {name!r}: timing is missing {', '.join(missing)}")
    for k, v in (overrides or {}).items():
        if k not in timing:
            raise ConfigError(f"DRAM standard {name!r}: cannot override unknown timing {k!r}; "
                              f"expected one of {', '.join(timing)}")
        timing[k] = int(v)
    bl, beats = int(org["burst_length"]), int(org["beats_per_clock"])
    if bl % beats:
        raise ConfigError(f"DRAM standard {name!r}: burst_length {bl} is not a whole number of clocks "
                          f"at {beats} beats per clock")
    timing["tBL"] = bl // beats
    for key in ("ranks", "bankgroups", "banks_per_group", "rows", "columns", "burst_length"):
        _pow2(name, int(org[key]), f"organisation.{key}")
    files = [rules_files] if isinstance(rules_files, str) else list(rules_files)
    tables = [(f, _load_rules(f)) for f in files]
    declared: dict[str, str] = {}
    decls = [d for f, t in tables for d in _declare(t.get("commands"), f, declared)]
    absent = [c for c in CORE if c not in declared]
    if absent:
        raise ConfigError(f"DRAM standard {name!r}: the controller needs command(s) {', '.join(absent)}, which "
                          f"none of its rule files ({', '.join(files)}) declares")
    decls.sort(key=lambda d: CORE.index(d[0]) if d[0] in CORE else len(CORE))   # stable: extras keep order
    names = dict(timing, act_cycles=int(bus.get("act_cycles", 1)))
    commands = tuple(Command(n, p.get("scope", "bank"), p.get("bus", "row"), int(evaluate(p.get("cycles", 1), names)),
                             p.get("row", "none"), p.get("data", "none"), bool(p.get("register", False)),
                             bool(p.get("pim", False)), int(evaluate(p["latency"], names)) if "latency" in p else -1)
                     for n, p in decls)
    cmd = {c.name: i for i, c in enumerate(commands)}
    rules, windows = [], []
    for fname, table in tables:
        for check in table.get("checks", ()):
            if not evaluate(check, timing):
                vals = ", ".join(f"{n}={timing[n]}" for n in sorted(timing) if n in check)
                raise ConfigError(f"DRAM standard {name!r}: timing rule `{check}` fails ({vals})")
        for k, (prev, nxt, scope, delay) in enumerate(table.get("rules", ())):
            here = f"memory/specs/{fname}: rules[{k}]"
            if scope not in SCOPES:
                raise ConfigError(f"{here} {prev}->{nxt}: unknown scope {scope!r}; expected {', '.join(SCOPES)}")
            d = evaluate(delay, timing)
            ps, ns = _expand(prev, cmd, here), _expand(nxt, cmd, here)
            if d > 0:
                rules.extend(Rule(p, n, scope, d) for p in ps for n in ns)
        for k, (c, scope, count, span) in enumerate(table.get("windows", ())):
            windows.append((_expand(c, cmd, f"memory/specs/{fname}: windows[{k}]")[0], scope, int(count),
                            evaluate(span, timing)))
    energy, src, bg = _energy(raw.get("energy") or {}, org, timing, name)
    for n, p in decls:
        if n not in CORE:
            energy[n] = float(evaluate(p.get("energy", 0), energy)) if "energy" in p else \
                float((raw.get("energy") or {}).get("per_command_pj", {}).get(n, 0.0))
    return DramSpec(
        name=name, source=raw.get("source", ""), clock_hz=parse_frequency(org["clock"]),
        beats_per_clock=beats, channel_width_bits=int(org["channel_width_bits"]),
        device_width_bits=int(org["device_width_bits"]), ranks=int(org["ranks"]),
        bankgroups=int(org["bankgroups"]), banks_per_group=int(org["banks_per_group"]),
        rows=int(org["rows"]), columns=int(org["columns"]), burst_length=bl,
        bus_kind=bus.get("kind", "shared"), act_cycles=int(bus.get("act_cycles", 1)),
        shared_by_channels=int(bus.get("shared_by_channels", 1)), timing=timing, rules=rules,
        windows=windows, energy_pj=energy, background_mw=bg, energy_source=src, extra=dict(raw.get("pim") or {}),
        commands=commands, cmd=cmd)


def _energy(e: dict, org: dict, t: dict, name: str) -> tuple[dict[str, float], str, float]:
    """Per-command pJ, either given or from IDD currents (DRAMPower decomposition, per rank)."""
    if "per_command_pj" in e:
        given = e["per_command_pj"]
        out = {c: float(given.get(c, given.get(c[:2], 0.0))) for c in COMMANDS}   # RDA/WRA cost as RD/WR
        return out, e.get("source", ""), 0.0
    if "idd_ma" not in e:
        return {c: 0.0 for c in COMMANDS}, "none", 0.0
    i, vdd = e["idd_ma"], float(e["vdd"])
    devices = int(org["channel_width_bits"]) // int(org["device_width_bits"])
    tck_ns = 1e9 / parse_frequency(org["clock"])
    k = vdd * tck_ns * devices            # mA x V x ns = pJ
    act = k * (i["IDD0"] * t["tRC"] - i["IDD3N"] * t["tRAS"] - i["IDD2N"] * (t["tRC"] - t["tRAS"]))
    rd = k * (i["IDD4R"] - i["IDD3N"]) * t["tBL"]
    wr = k * (i["IDD4W"] - i["IDD3N"]) * t["tBL"]
    ref = k * (i["IDD5B"] - i["IDD3N"]) * t["tRFC"]
    if min(act, rd, wr, ref) < 0:
        raise ConfigError(f"DRAM standard {name!r}: IDD currents give a negative command energy "
                          f"(ACT {act:.0f}, RD {rd:.0f}, WR {wr:.0f}, REF {ref:.0f} pJ); check energy.idd_ma")
    banks = int(org["bankgroups"]) * int(org["banks_per_group"])
    out = {"ACT": act, "PRE": 0.0, "RD": rd, "WR": wr, "RDA": rd, "WRA": wr, "REF": ref, "REFsb": ref / banks}
    return out, e.get("source", ""), vdd * i["IDD2N"] * devices   # background mW per rank (precharged standby)


@lru_cache(maxsize=None)
def _load_rules_cached(fname: str) -> dict:
    path = SPEC_DIR / fname
    if not path.is_file():
        raise ConfigError(f"DRAM rule table {fname!r} not found in memory/specs")
    return yaml.safe_load(path.read_text())


def _load_rules(fname: str) -> dict:
    return _load_rules_cached(str(fname))


def load_spec(standard: str, overrides: dict[str, int] | None = None) -> DramSpec:
    """Load a standard by name (case-insensitive, `DDR4-3200`, `hbm2`, ...)."""
    names = {n.lower(): n for n in available_standards()}
    key = standard.lower()
    if key not in names:
        raise ConfigError(f"unknown DRAM standard {standard!r}; expected one of "
                          f"{', '.join(available_standards())} (files in memory/specs)")
    path = SPEC_DIR / f"{names[key]}.yaml"
    return build_spec(yaml.safe_load(path.read_text()), overrides, where=path.name)
