"""The RTL PIM bank (rtl/pim_bank.v) held to the Python models: command timing to the DRAM controller,
values to numpy, on random legal command streams and on illegal ones (refused by both).

The core's timing parameters are the compiled rules of memory/specs/PIM-BANK.yaml (`delay_matrix`);
the cycle each command may issue comes from the controller replaying the stream strictly
(`schedule`); the bench (archsim/hdl/benches/pim.py, which registers the core `pim_bank`) presents
each command one cycle before that (it must be refused) and at it (it must be accepted), and reads
back RD data and RDACC sums.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from archsim.engine import Engine
from archsim.errors import WorkloadError
from memory.dram.level import DramLevel
from memory.dram.spec import DramSpec, load_spec
from memory.dram.stream import CommandStream

REPO = Path(__file__).resolve().parents[3]
STANDARD = "PIM-BANK"
LANES, DW = 16, 16
Cmd = tuple[str, int, int, list[int] | None]        # (command, row, column, lane values for WR/WRGB)


def delay_matrix(spec: DramSpec) -> list[list[int]]:
    """D[p][n]: the largest delay any rule of the spec puts from p to n inside one bank (every scope but
    other_rank), at least the bus cycles of p: what the controller's next-allowed tables enforce."""
    n = len(spec.commands)
    d = [[c.cycles for _ in range(n)] for c in spec.commands]
    for r in spec.rules:
        if r.scope != "other_rank" and r.delay > d[r.prev][r.next]:
            d[r.prev][r.next] = r.delay
    return d


# what the core executes (RDA and WRA are refused); the commands that carry a row address
IMPLEMENTED = ("ACT", "PRE", "RD", "WR", "REF", "REFsb", "MAC", "WRGB", "RDACC", "CLRACC", "ACTAB", "PREAB", "MACAB")
ROW_CMDS = ("ACT", "PRE", "RD", "WR", "MAC", "ACTAB", "PREAB", "MACAB")
OPENS, CLOSES, MACS = ("ACT", "ACTAB"), ("PRE", "PREAB"), ("MAC", "MACAB")
DLW = 16                                            # bits of one DELAY field of the core


def verilog_params(spec: DramSpec) -> dict[str, int | str]:
    d = delay_matrix(spec)
    n = len(d)
    keep = {spec.cmd[c] for c in IMPLEMENTED}
    d = [[d[p][q] if p in keep and q in keep else 0 for q in range(n)] for p in range(n)]
    if max(max(row) for row in d) >= 1 << DLW:
        raise WorkloadError(f"{spec.name}: a delay of {1 << DLW} cycles or more does not fit pim_bank's "
                            f"{DLW}-bit DELAY fields")
    if n > 16:
        raise WorkloadError(f"{spec.name}: {n} commands do not fit pim_bank's 4-bit command port")
    packed = sum(d[p][q] << (DLW * (p * n + q)) for p in range(n) for q in range(n))
    cmd = spec.cmd
    return {"NCMD": n, "LANES": LANES, "DW": DW, "ROWS": spec.rows, "COLS": spec.bursts_per_row,
            "RW": max(1, (spec.rows - 1).bit_length()), "CLW": max(1, (spec.bursts_per_row - 1).bit_length()),
            "DLW": DLW, "DELAY": f"{n * n * DLW}'h{packed:x}",
            **{f"C_{c.upper()}": cmd[c] for c in IMPLEMENTED}}


def replay(spec: DramSpec, cmds: list[Cmd], refresh: str = "none") -> list[tuple[int, Cmd, str]]:
    """Every command the controller issues for the stream: (cycle, command, by), replaying it strictly (an
    illegal order raises WorkloadError naming the command's index as its line). `by` is "stream", or with
    `refresh` on ("all_bank": REF every tREFI; "per_bank": REFsb every tREFIsb) "refresh" for the
    precharges and refreshes the controller inserts and "row" for the ACTs with which the stream reopens
    its row after them."""
    lv = DramLevel("bank", Engine(), spec, refresh=refresh, fidelity="cycle")
    ctrl = lv.ctrls[0]
    ctrl.log = []
    st = CommandStream(spec, strict=True, source="pim_bank stream")
    for i, (name, row, _col, _data) in enumerate(cmds):
        st.push(name, 0, row if name in ROW_CMDS else -1, i)
    ctrl.stream = st
    lv.wake_channel(0, 0)
    lv.engine.run()
    tags = {t: tag for t, _c, tag in st.issued}
    out: list[tuple[int, Cmd, str]] = []
    for t, c, *_ in reversed(ctrl.log):       # backwards: a repair takes the row of the command after it
        tag = tags.get(t)
        if isinstance(tag, int):
            out.append((t, cmds[tag], "stream"))
        else:
            row = next((x[1][1] for x in reversed(out) if x[1][0] not in CLOSES), -1) if tag == "row" else -1
            out.append((t, (spec.command_names[c], row, 0, None), "row" if tag == "row" else "refresh"))
    return out[::-1]


def rule_bound(spec: DramSpec, issued: list[tuple[int, Cmd, str]]) -> list[bool]:
    """Per issued command: does a timing rule (or the command bus) forbid it one cycle earlier? Not so for a
    refresh command the controller issued at the refresh's due time: the device would take it sooner."""
    d, cmd = delay_matrix(spec), spec.cmd
    out = []
    for i, (t, (name, *_r), by) in enumerate(issued):
        earliest = max((tp + d[cmd[p[0]]][cmd[name]] for tp, p, _b in issued[:i]), default=0)
        if earliest > t:
            raise WorkloadError(f"pim_bank stream: {name} issued at cycle {t}, before its rules allow ({earliest})")
        out.append(by != "refresh" or earliest == t)
    return out


def schedule(spec: DramSpec, cmds: list[Cmd]) -> list[int]:
    """The cycle the controller issues each command at, replaying the stream strictly without refresh."""
    return [t for t, _c, _by in replay(spec, cmds)]


def open_row(cmds: list[Cmd]) -> int:
    """The row a command sequence leaves open in the bank (-1: none)."""
    row = -1
    for name, r, _c, _d in cmds:
        row = r if name in OPENS else -1 if name in CLOSES else row
    return row


def expected(spec: DramSpec, cmds: list[Cmd]) -> tuple[list[list[int]], list[int]]:
    """RD data (lane values) and RDACC sums the stream must produce."""
    cols = spec.bursts_per_row
    mem = np.zeros((spec.rows, cols, LANES), dtype=np.int64)
    rowbuf = np.zeros((cols, LANES), dtype=np.int64)
    gb = np.zeros((cols, LANES), dtype=np.int64)
    acc = np.zeros(LANES, dtype=np.int64)
    opened, reads, sums = -1, [], []
    for name, row, col, data in cmds:
        if name in OPENS:
            rowbuf, opened = mem[row].copy(), row
        elif name in CLOSES and opened >= 0:
            mem[opened], opened = rowbuf.copy(), -1
        elif name == "WR":
            rowbuf[col] = data or 0
        elif name == "WRGB":
            gb[col] = data or 0
        elif name == "RD":
            reads.append(rowbuf[col].tolist())
        elif name in MACS:
            acc += rowbuf[col] * gb[col]
        elif name == "CLRACC":
            acc[:] = 0
        elif name == "RDACC":
            sums.append(int(acc.sum()))
    return reads, sums


def random_stream(spec: DramSpec, rng: np.random.Generator, n: int = 60) -> list[Cmd]:
    """A legal stream: rows opened and closed (ACT/PRE or the all-bank ACTAB/PREAB), columns written,
    buffer loads, MACs (MAC or MACAB), reads, sums."""
    cols = spec.bursts_per_row
    lanes = lambda: rng.integers(-(1 << (DW - 1)), 1 << (DW - 1), LANES).tolist()   # noqa: E731
    pick = lambda pair: pair[int(rng.random() < 0.3)]                                 # noqa: E731
    out: list[Cmd] = []
    row = -1
    while len(out) < n:
        if row < 0:
            row = int(rng.integers(spec.rows))
            out.append((pick(OPENS), row, 0, None))
            continue
        k = rng.random()
        col = int(rng.integers(cols))
        if k < 0.2:
            out.append(("WR", row, col, lanes()))
        elif k < 0.35:
            out.append(("WRGB", -1, col, lanes()))
        elif k < 0.6:
            out.append((pick(MACS), row, col, None))
        elif k < 0.72:
            out.append(("RD", row, col, None))
        elif k < 0.82:
            out.append(("RDACC", -1, 0, None))
        elif k < 0.87:
            out.append(("CLRACC", -1, 0, None))
        else:
            out.append((pick(CLOSES), row, 0, None))
            row = -1
    return out + [("RDACC", -1, 0, None)]


def illegal_command(spec: DramSpec, rng: np.random.Generator, stream_row: int, bank_row: int) -> Cmd:
    """A command the bank cannot take and the controller's strict stream refuses, after a stream that left
    `stream_row` open by its own commands while the bank has `bank_row` open (they differ when a refresh
    closed the row after the stream's last column command): an opener on an open bank, or a column command
    on a closed bank or on another row."""
    col = int(rng.integers(spec.bursts_per_row))
    column = str(rng.choice(["MAC", "MACAB", "RD", "WR"]))
    if stream_row < 0:
        bad = (column, int(rng.integers(spec.rows)), col)
    elif bank_row == stream_row and rng.random() < 0.5:
        bad = (str(rng.choice(OPENS)), int(rng.integers(spec.rows)), 0)
    else:
        bad = (column, (stream_row + 1) % spec.rows, col)
    return bad[0], bad[1], bad[2], rng.integers(-4, 4, LANES).tolist() if bad[0] == "WR" else None


def illegal_stream(spec: DramSpec, rng: np.random.Generator, n: int | None = None) -> list[Cmd]:
    """A legal prefix (`n` commands, default 3-19 drawn) and one command the bank cannot take in that
    state (the last)."""
    prefix = random_stream(spec, rng, n or int(rng.integers(3, 20)))
    return prefix + [illegal_command(spec, rng, open_row(prefix), open_row(prefix))]


def run_rtl(sim: str, streams: list[dict], build_dir: Path | None = None,
            timing: dict[str, int] | None = None) -> dict:
    """Build rtl/pim_bank.v for PIM-BANK (cached per simulator; `timing` overrides build the core with
    other delays, in their own directory) and run `streams` ({"cmds", "times", "illegal"}) through the
    bench; returns its report."""
    from cocotb_tools.runner import get_runner

    from archsim.hdl import setup_tool_path
    from archsim.hdl.cosim import build_root
    from archsim.hdl.gemm_port import CFG_ENV, OUT_ENV

    setup_tool_path()
    spec = load_spec(STANDARD, timing)
    tag = "".join(f"_{k}{v}" for k, v in sorted((timing or {}).items()))
    bdir = build_dir or build_root() / f"pim_bank_{sim}{tag}"
    tdir = bdir / "run"
    tdir.mkdir(parents=True, exist_ok=True)
    out = tdir / "pim_bank.json"
    if out.exists():
        out.unlink()
    runner = get_runner(sim)
    runner.build(sources=[REPO / "rtl" / "pim_bank.v"], hdl_toplevel="pim_bank", parameters=verilog_params(spec),
                 build_dir=bdir, timescale=("1ns", "1ps"), always=(sim == "icarus"), log_file=bdir / "build.log",
                 build_args=["-CFLAGS", "-O0"] if sim == "verilator" else [])
    env = {CFG_ENV: json.dumps({"streams": streams, "spec": spec.cmd}), OUT_ENV: str(out)}
    os.environ.update(env)
    try:
        runner.test(hdl_toplevel="pim_bank", test_module="archsim.hdl.benches.pim", build_dir=bdir,
                    test_dir=tdir, extra_env=env, results_xml=str(tdir / "results.xml"), log_file=tdir / "sim.log")
    except SystemExit:
        pass
    finally:
        for k in env:
            os.environ.pop(k, None)
    if not out.exists():
        raise WorkloadError(f"pim_bank on {sim}: the bench wrote no report; see {tdir / 'sim.log'}")
    return json.loads(out.read_text())
