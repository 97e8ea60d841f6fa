"""Request queues kept per bank, and the FR-FCFS / FCFS choice of the next command.

Each bank's candidate is its oldest row hit (a column command) or, when it has none, the ACT or PRE
its oldest request needs; it is cached until the bank's queue or open row changes. Each
(bank, command)'s earliest legal cycle is cached as a lower bound (next-allowed times only grow).
Each queue keeps, per bank with work, the lower bound of its current candidate as the value of its
`active` dict (-1: candidate to recompute), so a decision spends one comparison on each bank that
cannot be ready yet.
"""
from __future__ import annotations

from memory.dram.commands import ACT, PRE, RD, RDA, WR, WRA, INF, Txn

DIRTY = -1          # key of a bank whose candidate must be recomputed (always "might be ready")


class BankQueue:
    """One queue (reads or writes) of at most `size` transactions, indexed by bank."""

    __slots__ = ("size", "n", "by_bank", "active", "cand", "other")

    def __init__(self, nbanks: int, size: int) -> None:
        self.size = size
        self.n = 0
        self.by_bank: list[list[Txn]] = [[] for _ in range(nbanks)]
        # banks with queued work, insertion-ordered -> lower bound on their candidate's issue cycle
        self.active: dict[int, int] = {}
        self.cand: list[tuple[int, Txn] | None] = [None] * nbanks
        self.other: BankQueue | None = None         # the controller's other queue (they share bounds)

    def push(self, t: Txn) -> None:
        b = t.bank
        self.by_bank[b].append(t)
        self.active[b] = DIRTY
        self.cand[b] = None
        self.n += 1

    def remove(self, t: Txn) -> None:
        b = t.bank
        lst = self.by_bank[b]
        lst.remove(t)
        if lst:
            self.active[b] = DIRTY
        else:
            del self.active[b]
        self.cand[b] = None
        self.n -= 1

    def touch(self, b: int) -> None:
        """Bank b's open row changed: its candidate must be recomputed."""
        self.cand[b] = None
        if b in self.active:
            self.active[b] = DIRTY

    def oldest(self) -> Txn:
        return min((self.by_bank[b][0] for b in self.active), key=lambda t: t.seq)

    def col_cmd(self, t: Txn, closed_page: bool) -> int:
        """RD/WR, or RDA/WRA under the closed-page policy unless another queued request hits the row."""
        if closed_page and not any(o is not t and o.row == t.row for o in self.by_bank[t.bank]):
            return WRA if t.is_write else RDA
        return WR if t.is_write else RD


def candidate(q: BankQueue, b: int, open_row: int, opener: Txn | None = None) -> tuple[int, Txn]:
    """The bank's next command for queue q. A row opened for a request of the other queue (`opener`,
    whose column command has not issued) is never closed: its column command is q's candidate
    instead, so it issues in either read/write mode (Ramulator 2's active buffer, DRAMsim3's single
    per-bank queue), and no ACT is wasted on a PRE."""
    lst = q.by_bank[b]
    if open_row >= 0:
        for t in lst:
            if t.row == open_row:
                return (WR if t.is_write else RD), t
        if opener is not None:          # opener.row == open_row, so it is in the other queue
            return (WR if opener.is_write else RD), opener
        return PRE, lst[0]
    return ACT, lst[0]


def pick_frfcfs(ctrl, q: BankQueue, now: int, blocked: set | None):
    """(command, txn, hint) to issue at `now` (oldest ready hit, else oldest ready ACT/PRE), or the
    earliest cycle at which one might become ready. `hint` is a lower bound on when any other
    current candidate can issue (issuing only pushes next-allowed times later).

    Banks whose key is above `now` cannot be ready and cost one comparison; only the others get
    their candidate and exact earliest cycle (inlined `Controller.earliest`: this is the hot loop)."""
    act, rows, lb, cand, opener = q.active, ctrl.open_row, ctrl.e_lb, q.cand, ctrl.opener
    ocand, oact = q.other.cand, q.other.active
    na_of, na_ch = ctrl.na_of, ctrl.na_ch
    bus_free, bus_of, win_of = ctrl.bus_free, ctrl.bus_of, ctrl.win_of
    best_hit = best_row = None
    hit_seq = row_seq = next_t = INF
    ready = 0
    for b, e in act.items():
        if e > now:
            if e < next_t and not (blocked and _blocked(blocked, b, cand[b][1])):
                next_t = e
            continue
        cd = cand[b]
        if cd is None:
            cd = cand[b] = candidate(q, b, rows[b], opener[b])
        c, t = cd
        if blocked and _blocked(blocked, b, t):
            act[b] = lb[b][c]
            continue                     # a refresh is pending there: only its own commands issue
        lbb = lb[b]
        e = lbb[c]
        if e <= now:
            ab, ag, ar = na_of[b]
            e = ab[c]                    # max of five, without a call
            x = ag[c]
            if x > e:
                e = x
            x = ar[c]
            if x > e:
                e = x
            x = na_ch[c]
            if x > e:
                e = x
            x = bus_free[bus_of[c]]
            if x > e:
                e = x
            for count, span, hist in win_of[c]:
                h = hist[t.rank]
                if len(h) == count and h[0] + span > e:
                    e = h[0] + span
            lbb[c] = e
            oc = ocand[b]
            if oc is not None and oc[0] == c:
                oact[b] = e              # the other queue's bound for this bank moved too
        act[b] = e
        if e <= now:
            ready += 1
            if c == RD or c == WR:
                if t.seq < hit_seq:
                    best_hit, hit_seq = cd, t.seq
            elif t.seq < row_seq:
                best_row, row_seq = cd, t.seq
        elif e < next_t:
            next_t = e
    if ready > 1:
        next_t = now                     # another candidate was ready too
    if best_hit is not None:
        t = best_hit[1]
        return (ctrl.wq if t.is_write else ctrl.rq).col_cmd(t, ctrl.closed_page), t, next_t
    return (best_row[0], best_row[1], next_t) if best_row is not None else next_t


def _blocked(blocked: set, b: int, t: Txn) -> bool:
    return b in blocked or -1 - t.rank in blocked


def pick_fcfs(ctrl, q: BankQueue, now: int, blocked: set | None):
    """Strictly in arrival order: only the oldest request's next command may issue."""
    t = q.oldest()
    b, orow = t.bank, ctrl.open_row[t.bank]
    c = (WR if t.is_write else RD) if orow == t.row else (ACT if orow < 0 else PRE)
    if c == PRE and ctrl.opener[b] is not None:      # serve the row's opener first (see `candidate`)
        t = ctrl.opener[b]
        c = WR if t.is_write else RD
    if blocked and (b in blocked or -1 - t.rank in blocked):
        return INF
    e = ctrl.earliest(c, t.rank, t.gi, b)
    if e > now:
        return e
    return ((ctrl.wq if t.is_write else ctrl.rq).col_cmd(t, ctrl.closed_page) if c == RD or c == WR else c), t, now
