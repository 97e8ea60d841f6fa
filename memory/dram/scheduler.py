"""Request queues kept per bank, and the FR-FCFS / FCFS choice of the next command.

Each bank's candidate is its oldest row hit (a column command) or, when it has none, the ACT or PRE
its oldest request needs; it is cached until the bank's queue or open row changes. Each
(bank, command)'s earliest legal cycle is cached as a lower bound (next-allowed times only grow),
so a scheduling decision recomputes timing only for banks that might be ready now.
"""
from __future__ import annotations

from memory.dram.commands import ACT, PRE, RD, RDA, WR, WRA, INF, Txn


class BankQueue:
    """One queue (reads or writes) of at most `size` transactions, indexed by bank."""

    def __init__(self, nbanks: int, size: int) -> None:
        self.size = size
        self.n = 0
        self.by_bank: list[list[Txn]] = [[] for _ in range(nbanks)]
        self.active: dict[int, None] = {}          # banks with queued work, insertion-ordered
        self.cand: list[tuple[int, Txn] | None] = [None] * nbanks

    def push(self, t: Txn) -> None:
        b = t.bank
        self.by_bank[b].append(t)
        self.active[b] = None
        self.cand[b] = None
        self.n += 1

    def remove(self, t: Txn) -> None:
        b = t.bank
        lst = self.by_bank[b]
        lst.remove(t)
        if not lst:
            del self.active[b]
        self.cand[b] = None
        self.n -= 1

    def touch(self, b: int) -> None:
        """Bank b's open row changed: its candidate must be recomputed."""
        self.cand[b] = None

    def oldest(self) -> Txn:
        return min((self.by_bank[b][0] for b in self.active), key=lambda t: t.seq)

    def col_cmd(self, t: Txn, closed_page: bool) -> int:
        """RD/WR, or RDA/WRA under the closed-page policy unless another queued request hits the row."""
        if closed_page and not any(o is not t and o.row == t.row for o in self.by_bank[t.bank]):
            return WRA if t.is_write else RDA
        return WR if t.is_write else RD


def candidate(q: BankQueue, b: int, open_row: int) -> tuple[int, Txn]:
    lst = q.by_bank[b]
    if open_row >= 0:
        for t in lst:
            if t.row == open_row:
                return (WR if t.is_write else RD), t
        return PRE, lst[0]
    return ACT, lst[0]


def pick_frfcfs(ctrl, q: BankQueue, now: int, blocked: set | None):
    """(command, txn, hint) to issue at `now` (oldest ready hit, else oldest ready ACT/PRE), or the
    earliest cycle at which one might become ready. `hint` is a lower bound on when any other
    current candidate can issue (issuing only pushes next-allowed times later)."""
    rows, lb, cand = ctrl.open_row, ctrl.e_lb, q.cand
    earliest = ctrl.earliest
    best_hit = best_row = None
    next_t = INF
    ready = 0
    for b in q.active:
        cd = cand[b]
        if cd is None:
            cd = cand[b] = candidate(q, b, rows[b])
        c, t = cd
        if blocked and (b in blocked or -1 - t.rank in blocked):
            continue                     # a refresh is pending there: only its own commands issue
        lbb = lb[b]
        e = lbb[c]
        if e <= now:
            e = lbb[c] = earliest(c, t.rank, t.gi, b)
        if e <= now:
            ready += 1
            if c == RD or c == WR:
                if best_hit is None or t.seq < best_hit[1].seq:
                    best_hit = cd
            elif best_row is None or t.seq < best_row[1].seq:
                best_row = cd
        elif e < next_t:
            next_t = e
    if ready > 1:
        next_t = now                     # another candidate was ready too
    if best_hit is not None:
        return q.col_cmd(best_hit[1], ctrl.closed_page), best_hit[1], next_t
    return (best_row[0], best_row[1], next_t) if best_row is not None else next_t


def pick_fcfs(ctrl, q: BankQueue, now: int, blocked: set | None):
    """Strictly in arrival order: only the oldest request's next command may issue."""
    t = q.oldest()
    b, orow = t.bank, ctrl.open_row[t.bank]
    c = (WR if t.is_write else RD) if orow == t.row else (ACT if orow < 0 else PRE)
    if blocked and (b in blocked or -1 - t.rank in blocked):
        return INF
    e = ctrl.earliest(c, t.rank, t.gi, b)
    if e > now:
        return e
    return (q.col_cmd(t, ctrl.closed_page) if c == RD or c == WR else c), t, now
