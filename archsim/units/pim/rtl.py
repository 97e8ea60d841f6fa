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


IMPLEMENTED = ("ACT", "PRE", "RD", "WR", "MAC", "WRGB", "RDACC", "CLRACC")   # the rest are refused by the core


def verilog_params(spec: DramSpec) -> dict[str, int | str]:
    d = delay_matrix(spec)
    n = len(d)
    keep = {spec.cmd[c] for c in IMPLEMENTED}
    d = [[d[p][q] if p in keep and q in keep else 0 for q in range(n)] for p in range(n)]
    if max(max(row) for row in d) > 255:
        raise WorkloadError(f"{spec.name}: a delay above 255 cycles does not fit pim_bank's 8-bit DELAY fields")
    packed = sum(d[p][q] << (8 * (p * n + q)) for p in range(n) for q in range(n))
    cmd = spec.cmd
    return {"NCMD": n, "LANES": LANES, "DW": DW, "ROWS": spec.rows, "COLS": spec.bursts_per_row,
            "RW": max(1, (spec.rows - 1).bit_length()), "CLW": max(1, (spec.bursts_per_row - 1).bit_length()),
            "DELAY": f"{n * n * 8}'h{packed:x}",
            **{f"C_{c}": cmd[c] for c in IMPLEMENTED}}


def schedule(spec: DramSpec, cmds: list[Cmd]) -> list[int]:
    """The cycle the controller issues each command at, replaying the stream strictly (an illegal
    order raises WorkloadError naming the command's index as its line)."""
    lv = DramLevel("bank", Engine(), spec, refresh="none", fidelity="cycle")
    st = CommandStream(spec, strict=True, source="pim_bank stream")
    for i, (name, row, _col, _data) in enumerate(cmds):
        st.push(name, 0, row if name in ("ACT", "PRE", "RD", "WR", "MAC") else -1, i)
    lv.ctrls[0].stream = st
    lv.wake_channel(0, 0)
    lv.engine.run()
    return [t for t, _c, _i in st.issued]


def expected(spec: DramSpec, cmds: list[Cmd]) -> tuple[list[list[int]], list[int]]:
    """RD data (lane values) and RDACC sums the stream must produce."""
    cols = spec.bursts_per_row
    mem = np.zeros((spec.rows, cols, LANES), dtype=np.int64)
    rowbuf = np.zeros((cols, LANES), dtype=np.int64)
    gb = np.zeros((cols, LANES), dtype=np.int64)
    acc = np.zeros(LANES, dtype=np.int64)
    open_row, reads, sums = -1, [], []
    for name, row, col, data in cmds:
        if name == "ACT":
            rowbuf, open_row = mem[row].copy(), row
        elif name == "PRE" and open_row >= 0:
            mem[open_row], open_row = rowbuf.copy(), -1
        elif name == "WR":
            rowbuf[col] = data or 0
        elif name == "WRGB":
            gb[col] = data or 0
        elif name == "RD":
            reads.append(rowbuf[col].tolist())
        elif name == "MAC":
            acc += rowbuf[col] * gb[col]
        elif name == "CLRACC":
            acc[:] = 0
        elif name == "RDACC":
            sums.append(int(acc.sum()))
    return reads, sums


def random_stream(spec: DramSpec, rng: np.random.Generator, n: int = 60) -> list[Cmd]:
    """A legal stream: rows opened and closed, columns written, buffer loads, MACs, reads, sums."""
    cols = spec.bursts_per_row
    lanes = lambda: rng.integers(-(1 << (DW - 1)), 1 << (DW - 1), LANES).tolist()   # noqa: E731
    out: list[Cmd] = []
    open_row = -1
    while len(out) < n:
        if open_row < 0:
            open_row = int(rng.integers(spec.rows))
            out.append(("ACT", open_row, 0, None))
            continue
        k = rng.random()
        col = int(rng.integers(cols))
        if k < 0.2:
            out.append(("WR", open_row, col, lanes()))
        elif k < 0.35:
            out.append(("WRGB", -1, col, lanes()))
        elif k < 0.6:
            out.append(("MAC", open_row, col, None))
        elif k < 0.72:
            out.append(("RD", open_row, col, None))
        elif k < 0.82:
            out.append(("RDACC", -1, 0, None))
        elif k < 0.87:
            out.append(("CLRACC", -1, 0, None))
        else:
            out.append(("PRE", open_row, 0, None))
            open_row = -1
    return out + [("RDACC", -1, 0, None)]


def illegal_stream(spec: DramSpec, rng: np.random.Generator, n: int | None = None) -> list[Cmd]:
    """A legal prefix (`n` commands, default 3-19 drawn) and one command the bank cannot take in that
    state (the last)."""
    prefix = random_stream(spec, rng, n or int(rng.integers(3, 20)))
    open_row = -1
    for name, row, _c, _d in prefix:
        open_row = row if name == "ACT" else -1 if name == "PRE" else open_row
    col = int(rng.integers(spec.bursts_per_row))
    if open_row < 0:
        bad = (str(rng.choice(["MAC", "RD", "WR"])), int(rng.integers(spec.rows)), col)
    elif rng.random() < 0.5:
        bad = ("ACT", int(rng.integers(spec.rows)), 0)
    else:
        bad = (str(rng.choice(["MAC", "RD", "WR"])), (open_row + 1) % spec.rows, col)
    data = rng.integers(-4, 4, LANES).tolist() if bad[0] == "WR" else None
    return prefix + [(bad[0], bad[1], bad[2], data)]


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
