"""Command ids, the in-controller transaction, and the command bus shared where the standard shares it."""
from __future__ import annotations

from typing import Callable

from memory.dram.spec import CMD, CORE, DramSpec

ACT, PRE, RD, WR, RDA, WRA, REF, REFSB = (CMD[c] for c in CORE)
NCMD = len(CORE)                    # host commands; a spec may declare more (DramSpec.commands)
INF = 1 << 62


class CommandBus:
    """Command bus(es) of a channel, or shared by the pseudo-channels of an HBM channel.

    `shared`: one bus carries every command. `split`: row commands (those the spec declares
    `bus: row`) on one bus, column commands on the other, each held for its declared cycles.
    `free[i]` is the first cycle bus i is idle.
    """

    def __init__(self, spec: DramSpec) -> None:
        self.free = [0, 0]
        col = 1 if spec.bus_kind == "split" else 0
        self.bus_of = [col if c.bus == "column" else 0 for c in spec.commands]
        self.cycles_of = [c.cycles for c in spec.commands]


class Txn:
    """One burst-sized transaction inside the controller."""

    __slots__ = ("arrive", "is_write", "rank", "gi", "bank", "row", "col", "cause", "done", "tag", "seq")

    def __init__(self, arrive: int, is_write: bool, rank: int, gi: int, bank: int, row: int, col: int,
                 done: Callable, tag: object = None) -> None:
        self.arrive, self.is_write, self.rank, self.gi, self.bank = arrive, is_write, rank, gi, bank
        self.row, self.col, self.done, self.tag = row, col, done, tag
        self.cause = 0          # 0 row hit, 1 miss (bank closed), 2 conflict (other row open)
        self.seq = 0            # acceptance order (FR-FCFS age)
