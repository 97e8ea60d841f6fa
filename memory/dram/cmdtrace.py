"""Replay a DRAM command trace (one command a line) through a channel's controller, strictly in order.

Line format: `COMMAND [bank [row]]`, `#` starts a comment; COMMAND is any the standard declares
(host or PIM). Each command issues at its earliest legal cycle under the spec's rules; an order the
device could not execute (a column command on a closed or different row, an ACT to an open bank, a
command the standard does not declare) is refused naming the file and line.
"""
from __future__ import annotations

from pathlib import Path

from archsim.errors import WorkloadError
from memory.dram.level import DramLevel
from memory.dram.stream import CommandStream


def parse(text: str, spec, source: str = "<commands>") -> list[tuple[int, int, int, int]]:
    """[(command id, bank, row, line number)]."""
    out = []
    banks = spec.banks * spec.ranks
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].split()
        if not line:
            continue
        name, *rest = line
        if name not in spec.cmd:
            raise WorkloadError(f"{source} line {n}: command {name!r} is not declared by standard {spec.name} "
                                f"(declared: {', '.join(spec.command_names)})")
        try:
            nums = [int(x, 0) for x in rest]
        except ValueError:
            raise WorkloadError(f"{source} line {n}: expected `COMMAND [bank [row]]` with integers, "
                                f"got {raw.strip()!r}") from None
        if len(nums) > 2:
            raise WorkloadError(f"{source} line {n}: expected `COMMAND [bank [row]]`, got {raw.strip()!r}")
        bank, row = (nums + [0, -1])[:2] if len(nums) < 2 else nums
        if not 0 <= bank < banks or row >= spec.rows:
            raise WorkloadError(f"{source} line {n}: bank {bank} / row {row} outside the device "
                                f"({banks} banks, {spec.rows} rows)")
        out.append((spec.cmd[name], bank, row, n))
    return out


def replay_commands(level: DramLevel, text: str, source: str = "<commands>", channel: int = 0) -> dict:
    """Issue the trace on `channel` of a fresh cycle-mode level; return cycles, per-command counts and
    each command's issue cycle."""
    st = CommandStream(level.spec, strict=True, source=source)
    for c, bank, row, n in parse(text, level.spec, source):
        st.push(c, bank, row, n)
    ctrl = level.ctrls[channel]
    ctrl.stream = st
    level.wake_channel(channel, level.clock.ps_to_cycles(level.engine.now))
    level.engine.run()
    ctrl.stream = None
    return {"cycles": st.done, "issued": [(t, level.spec.command_names[c], line) for t, c, line in st.issued],
            "commands": dict(zip(level.spec.command_names, ctrl.cmd_counts))}


def replay_file(level: DramLevel, path: str | Path) -> dict:
    p = Path(path)
    if not p.is_file():
        raise WorkloadError(f"command trace {str(p)!r} not found")
    return replay_commands(level, p.read_text(), str(p))
