"""An in-order DRAM command stream beside the host queues: how a PIM unit drives a channel.

A PIM kernel is a fixed sequence of DRAM commands (all-bank ACT, MAC column commands, register
writes, PRE, ...) that the controller must issue in order, each at its earliest legal cycle under
the spec's rules. The channel's controller takes the stream's head first when it is legal, refresh
still has priority, and host requests fill the cycles between; while a stream command holds a row
open in a bank, host requests to that bank wait (the "blocked mode" NeuPIMs describes), unless the
controller gives the stream its own row buffers (`separate_pim_rows`: NeuPIMs' dual row buffers).

The stream repairs what refresh or host requests did to its rows: a column command finding its row
closed (or another row open) first issues the spec's opener (or closer) of its scope, and a REF or
REFsb finding a row open in its banks first closes it, counted in `repairs`. A strict stream (a
command trace) also checks the order against the rows its own commands opened and closed, and refuses
one the device could not execute (a refresh while one of them is open too), naming the trace line.
"""
from __future__ import annotations

from collections import deque
from typing import Any

from archsim.errors import WorkloadError
from memory.dram.commands import INF, REF, REFSB
from memory.dram.spec import DramSpec


class CommandStream:
    """Commands (id, bank, row, tag) for one channel, issued in order; `issued` logs (cycle, id, tag)."""

    def __init__(self, spec: DramSpec, strict: bool = False, source: str = "command stream") -> None:
        self.spec, self.strict, self.source = spec, strict, source
        self.q: deque[tuple[int, int, int, Any]] = deque()
        self.issued: list[tuple[int, int, Any]] = []
        self.done = 0                  # cycle the last issued command's data (if any) completes
        self.repairs = 0               # openers/closers issued to restore a row the stream needed
        self._opener = self._pick("open")
        self._closer = self._pick("close")
        self.logical: dict[int, int] = {}     # strict: bank -> row the stream's own commands left open
        self.on_empty: Any = None             # called with `done` when the last command has issued

    def _pick(self, what: str) -> dict[str, int]:
        """Per scope, the declared command that opens (or closes) rows and moves no data."""
        out: dict[str, int] = {}
        for i, c in enumerate(self.spec.commands):
            if c.row == what and c.data == "none" and not c.register and c.scope not in out:
                out[c.scope] = i
        return out

    def __bool__(self) -> bool:
        return bool(self.q)

    def __len__(self) -> int:
        return len(self.q)

    def push(self, cmd: str | int, bank: int = 0, row: int = -1, tag: Any = None) -> None:
        if not isinstance(cmd, int) and cmd not in self.spec.cmd:
            raise WorkloadError(f"{self.source}: command {cmd!r} is not declared by standard {self.spec.name}")
        c = cmd if isinstance(cmd, int) else self.spec.cmd[cmd]
        self.q.append((c, bank, row, tag))

    def _refuse(self, tag: Any, why: str) -> None:
        raise WorkloadError(f"{self.source} line {tag}: {why}")

    def _check_order(self, c: int, cm: Any, banks: tuple[int, ...], row: int, tag: Any) -> None:
        """Strict streams: refuse a command its own earlier commands make illegal."""
        lg = self.logical
        if (cm.row == "open" or c in (REF, REFSB)) and any(lg.get(x, -1) >= 0 for x in banks):
            x = next(x for x in banks if lg.get(x, -1) >= 0)
            self._refuse(tag, f"{cm.name} to bank {x}, whose row {lg[x]} is still open (precharge it first)")
        if cm.needs_open_row and any(lg.get(x, -1) != row for x in banks):
            x = next(x for x in banks if lg.get(x, -1) != row)
            have = f"row {lg[x]} open" if lg.get(x, -1) >= 0 else "no open row"
            self._refuse(tag, f"{cm.name} needs row {row} open in bank {x}, which has {have}")

    def _fix(self, kind: dict[str, int], scope: str, tag: Any, why: str) -> int:
        if scope not in kind:
            raise WorkloadError(f"{self.source}: {why}, and standard {self.spec.name} declares no command "
                                f"that does it for a {scope} scope")
        return kind[scope]

    def _close_for_refresh(self, ctrl: Any, cm: Any, b: int, banks: tuple[int, ...],
                           tag: Any) -> tuple[int | None, int, bool]:
        """(closer, bank, in the stream's row buffers) a REF/REFsb at bank b needs first, or (None, b,
        True): a device refreshes precharged banks only. Rows the stream left open close first, then
        the host's (a separate buffer); several at once by the scope's closer where one is declared."""
        for pim, rows in ((True, ctrl.pim_rows), (False, ctrl.open_row)):
            still = [x for x in banks if rows[x] >= 0]
            if still:
                why = f"{cm.name} to bank {still[0]}, whose row {rows[still[0]]} is open"
                if len(still) > 1 and cm.scope in self._closer:
                    return self._closer[cm.scope], b, pim
                return self._fix(self._closer, "bank", tag, why), still[0], pim
        return None, b, True

    def step(self, ctrl: Any, now: int, blocked: set | None) -> int:
        """Issue the head (or the command restoring its row) if legal at `now`: -1; else the earliest
        cycle it may issue (INF while a refresh blocks it)."""
        q, cmds, rows = self.q, ctrl.commands, ctrl.pim_rows
        c, b, row, tag = q[0]
        cm = cmds[c]
        banks, _groups, ranks = ctrl.span[c][b]
        if self.strict:
            self._check_order(c, cm, banks, row, tag)
        fix, at, pim = None, b, True
        if c == REF or c == REFSB:
            fix, at, pim = self._close_for_refresh(ctrl, cm, b, banks, tag)
        elif cm.row == "open":
            if any(rows[x] >= 0 for x in banks):
                fix = self._fix(self._closer, cm.scope, tag, f"{cm.name} to a bank whose row is open "
                                f"(bank {b}: precharge it first)")
        elif cm.needs_open_row and any(rows[x] != row for x in banks):
            is_open = any(rows[x] >= 0 for x in banks)
            what = f"row {row} is not open in every bank it touches (bank {b} has " + \
                (f"row {rows[b]} open)" if rows[b] >= 0 else "no open row)")
            fix = self._fix(self._closer if is_open else self._opener, cm.scope, tag, f"{cm.name}: {what}")
        if blocked and (any(x in blocked for x in banks) or any(-1 - r in blocked for r in ranks)):
            return INF                                # a refresh is pending there
        cc = c if fix is None else fix
        if cc in ctrl.starved:
            t = self.spec.timing
            raise WorkloadError(f"{self.source}: {cmds[cc].name} touches every bank of a rank and waits "
                                f"{ctrl.starved[cc]} cycles after a REFsb to any of them, but per-bank refresh "
                                f"issues one every tREFIsb = {t['tREFIsb']} (tRFCsb = {t['tRFCsb']}) on "
                                f"{self.spec.name}: it would never issue; use refresh: all_bank")
        e = ctrl.earliest(ctrl.timed_as[cc], ctrl.rank_of[at], ctrl.gi_of[at], at)
        if e > now:
            return e
        ctrl.issue(cc, ctrl.rank_of[at], ctrl.gi_of[at], at, now, row, pim=pim)
        if cmds[cc].row == "open" and rows is ctrl.open_row:     # one row buffer: the host must wait
            ctrl.held.update(ctrl.span[cc][at][0])
        if fix is not None:
            self.repairs += 1
            self.issued.append((now, cc, "row"))
            return -1
        q.popleft()
        self.issued.append((now, c, tag))
        if self.strict and cm.row != "none":
            for x in banks:
                self.logical[x] = row if cm.row == "open" else -1
        lat = cm.latency if cm.latency >= 0 else ctrl.rd_lat if cm.data == "read" else \
            ctrl.wr_lat if cm.data == "write" else ctrl.bus.cycles_of[c]
        if now + lat > self.done:
            self.done = now + lat
        if not q and self.on_empty is not None:
            self.on_empty(self.done)
        return -1
