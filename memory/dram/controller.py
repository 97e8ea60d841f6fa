"""Per-channel DRAM controller, event-driven: each command issues at its earliest legal cycle.

Legality is kept as next-allowed timestamps, one per (scope instance, command): a bank, a bank
group, a rank, the channel. Issuing command P at cycle t raises, for every rule (P, N, scope, d)
of the standard's rule table, the next-allowed time of N in that scope to t + d. A command's
earliest cycle is then the max of four lookups, the command bus and any rolling window (tFAW).
The controller sleeps until that cycle; nothing ticks per cycle.

Scheduling: FR-FCFS (oldest ready row hit, else oldest ready ACT/PRE, never closing a row that
still has queued hits, nor one whose opener's column command has not issued: that command issues in
either read/write mode) or strict FCFS; open or closed page (auto-precharge unless another queued
request hits the row); read/write queues with write-drain watermarks; all-bank refresh staggered
over ranks (as DRAMSim3) or per-bank refresh round-robin. Refreshes that fall due while the
controller is idle are replayed at their due times when work arrives, so idle time costs nothing
(against this channel's own command-bus slots: see `_catch_up_refresh`).
"""
from __future__ import annotations

from collections import deque
from typing import Callable

from archsim.errors import ConfigError
from memory.dram.commands import ACT, INF, NCMD, PRE, RD, RDA, REF, REFSB, WR, WRA, CommandBus, Txn
from memory.dram.scheduler import DIRTY, BankQueue, candidate, pick_fcfs, pick_frfcfs
from memory.dram.spec import DramSpec
from memory.dram.stream import CommandStream


class Controller:
    def __init__(self, spec: DramSpec, ranks: int, bus: CommandBus, *, read_queue: int = 32,
                 write_queue: int = 32, high_wm: float = 0.75, low_wm: float = 0.25,
                 page_policy: str = "open", scheduler: str = "frfcfs", refresh: str = "all_bank",
                 frontend_latency_cycles: int = 0, wake: Callable[[int], None] | None = None) -> None:
        t = spec.timing
        self.spec, self.ranks, self.bus = spec, ranks, bus
        self.nbg = spec.bankgroups
        self.banks_per_rank = spec.banks
        nbanks = ranks * spec.banks
        self.ncmd = ncmd = len(spec.commands)          # the spec's command set: host commands, then PIM ones
        self.open_row = [-1] * nbanks
        self.opener: list[Txn | None] = [None] * nbanks   # request whose ACT opened the row, until its column command
        self.na_bank = [[0] * ncmd for _ in range(nbanks)]
        self.na_bg = [[0] * ncmd for _ in range(ranks * spec.bankgroups)]
        self.na_rank = [[0] * ncmd for _ in range(ranks)]
        self.na_ch = [0] * ncmd
        self.refresh = refresh
        # the bus slots this channel took itself; where pseudo-channels share a command bus, `bus.free`
        # also holds the sibling's, which say nothing about this channel's idle past (_catch_up_refresh)
        self.own_bus = [0, 0] if spec.shared_by_channels > 1 else bus.free
        if refresh == "per_bank" and t["tREFIsb"] <= 0:
            raise ConfigError(f"dram: {spec.name} has no per-bank refresh (tREFIsb = 0); use refresh: all_bank")
        self.t_refi = t["tREFIsb"] if refresh == "per_bank" else t["tREFI"]
        self._compile(spec)
        self.rq, self.wq = BankQueue(nbanks, read_queue), BankQueue(nbanks, write_queue)
        self.rq.other, self.wq.other = self.wq, self.rq
        self.e_lb = [[0] * ncmd for _ in range(nbanks)]     # lower bounds on earliest(), per bank
        self.stream: CommandStream | None = None   # an in-order command stream (a PIM unit's), see stream.py
        self.held: set[int] = set()               # banks whose open row a stream command opened
        self.pim_rows = self.open_row             # the stream's row buffers: the host's, unless separate_pim_rows
        self._seq = 0
        self.hi, self.lo = max(1, int(high_wm * write_queue)), int(low_wm * write_queue)
        self.write_mode = False
        self.closed_page = page_policy == "closed"
        self.split_bus = spec.bus_kind == "split"
        self.pick = pick_fcfs if scheduler == "fcfs" else pick_frfcfs
        # data return after the column command, plus the controller's own pipeline (0: pure DRAM timing)
        self.rd_lat = t["CL"] + t["tBL"] + frontend_latency_cycles
        self.wr_lat = t["CWL"] + t["tBL"] + frontend_latency_cycles
        # DRAMSim3 staggers all-bank refresh: rank r first falls due at (r+1)/ranks of tREFI
        self.ref_due = [INF] * ranks if refresh == "none" else \
            [t["tREFI"] * (r + 1) // ranks if refresh == "all_bank" else self.t_refi for r in range(ranks)]
        self.ref_next = min(self.ref_due)  # earliest due refresh of any rank (skips the rank loop)
        self.ref_bank = [0] * ranks       # per-bank refresh: next bank (index within the rank)
        self.wake = wake                  # wake(cycle): ask the owner to call step(cycle) then
        self.cmd_counts = [0] * ncmd
        self.hits = self.misses = self.conflicts = 0
        self.log: list[tuple[int, int, int, int, int]] | None = None   # (cycle, cmd, rank, gi, bank) when tracing

    # -- rule table -> per-(bank, command) update lists --------------------------------------
    def _compile(self, spec: DramSpec) -> None:
        """Flatten the rule table: for each bank b and command P, every (next-allowed list, N, delay)
        that issuing P at b raises, over all scopes (the bank, its bank group, its rank, the channel,
        the other ranks). Next-allowed lists are never replaced, so `issue` is one flat loop.
        Every command a stream may issue is kept as N, except one whose rules in, scope, bus and windows
        equal a kept command's: it is timed as that one (`timed_as`; the scheduler times RD/WR and issues
        RDA/WRA in their place), so the host's hot path carries no bookkeeping nobody reads, while an
        explicit REF/REFsb/RDA/WRA in a stream meets every rule into it, whatever the refresh mode.
        A command wider than a bank (its declared scope) applies its bank-scoped rules to every bank it
        touches, and so on up."""
        ncmd = self.ncmd
        best: dict[tuple, int] = {}
        for r in spec.rules:                       # keep the largest delay per (prev, next, scope)
            k = (r.prev, r.next, r.scope)
            best[k] = max(best.get(k, 0), r.delay)
        self.timed_as = self._timed_as(spec, best)
        # per-bank refresh starts a bank's REFsb every t_refi: a command touching every bank of a rank
        # that must wait d >= t_refi after any of them never finds a gap (a device would need refreshes
        # postponed); a stream refuses it rather than wait forever
        self.starved = {n: d for (p, n, s), d in best.items() if p == REFSB and s == "bank" and d >= self.t_refi
                        and self.refresh == "per_bank" and spec.commands[n].scope in ("rank", "channel")}
        asked = set(self.timed_as)
        upd = {s: [[] for _ in range(ncmd)] for s in ("bank", "bankgroup", "rank", "channel", "other_rank")}
        for (p, n, s), d in sorted(best.items()):
            if n in asked:
                upd[s][p].append((n, d))
        bpr, bpg = spec.banks, spec.banks_per_group
        self.rank_of = [b // bpr for b in range(self.ranks * bpr)]
        self.gi_of = [b // bpr * spec.bankgroups + b % bpr // bpg for b in range(self.ranks * bpr)]
        # each bank's own next-allowed lists (bank, bank group, rank), for `earliest` in one unpack
        self.na_of = [(self.na_bank[b], self.na_bg[gi], self.na_rank[r])
                      for b, (r, gi) in enumerate(zip(self.rank_of, self.gi_of))]
        # upd[b][P] = ((list, N, delay), ...); the command bus it occupies is one more such entry
        bus = self.bus
        self.upd = []
        # span[p][b]: (banks, bank groups, ranks) command p issued at bank b touches (its declared scope)
        self.span = [[self._span(cm.scope, b) for b in range(self.ranks * bpr)] for cm in spec.commands]
        for b in range(self.ranks * bpr):
            row = []
            for p in range(ncmd):
                banks, groups, ranks = self.span[p][b]
                targets = (("bank", [self.na_bank[x] for x in banks]), ("bankgroup", [self.na_bg[g] for g in groups]),
                           ("rank", [self.na_rank[r] for r in ranks]), ("channel", [self.na_ch]),
                           ("other_rank", [self.na_rank[o] for o in range(self.ranks) if o not in ranks]))
                buses = (bus.free,) if self.own_bus is bus.free else (bus.free, self.own_bus)
                row.append(tuple((a, n, d) for s, arrays in targets for a in arrays for n, d in upd[s][p])
                           + tuple((f, bus.bus_of[p], bus.cycles_of[p]) for f in buses))
            self.upd.append(row)
        self.commands = spec.commands
        # a declared command closing every bank of a rank (a PIM standard's PREA): refresh uses it
        self.pre_all = next((i for i, cm in enumerate(spec.commands) if cm.scope == "rank" and cm.row == "close"
                             and cm.data == "none" and not cm.register), None)
        self.windows = []
        for cmd, scope, count, span in spec.windows:
            if scope != "rank":
                raise ConfigError(f"DRAM standard {spec.name!r}: only rank-scoped command windows are "
                                  f"modelled, got {scope!r}")
            self.windows.append((cmd, count, span, [deque(maxlen=count) for _ in range(self.ranks)]))
        # per command: the windows it is counted in, and its bus (so the hot path indexes, not searches)
        self.win_of = [tuple((count, span, hist) for cmd, count, span, hist in self.windows if cmd == c)
                       for c in range(ncmd)]
        self.bus_free, self.bus_of = self.bus.free, self.bus.bus_of

    def _timed_as(self, spec: DramSpec, best: dict[tuple, int]) -> list[int]:
        """Per command, the command whose next-allowed times time it: itself, or for a host command the
        host scheduler never times (RDA/WRA, the refresh kind not running) a timed one it cannot be told
        from (same rules in, scope, bus, bus cycles and windows)."""
        timed = [ACT, PRE, RD, WR, REF if self.refresh == "all_bank" else REFSB]
        into: dict[int, set] = {c: set() for c in range(self.ncmd)}
        for (p, n, s), d in best.items():
            into[n].add((p, s, d))
        cms = spec.commands
        looks = [(frozenset(into[c]), cms[c].scope, cms[c].bus, cms[c].cycles,
                  tuple(w[1:] for w in spec.windows if w[0] == c)) for c in range(self.ncmd)]
        out = list(range(self.ncmd))
        for c in range(NCMD):
            if c not in timed:
                out[c] = next((m for m in timed if looks[m] == looks[c]), c)
        return out

    # -- queue interface -----------------------------------------------------------------------
    def can_accept(self, is_write: bool) -> bool:
        q = self.wq if is_write else self.rq
        return q.n < q.size

    def _span(self, scope: str, b: int) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        """(banks, bank groups, ranks) a command of `scope` issued at bank b touches."""
        bpr, bpg, r = self.spec.banks, self.spec.banks_per_group, self.rank_of[b]
        if scope == "bank":
            banks = (b,)
        elif scope == "bankgroup":
            first = b - b % bpg
            banks = tuple(range(first, first + bpg))
        elif scope == "rank":
            banks = tuple(range(r * bpr, (r + 1) * bpr))
        else:                                   # channel: every bank of every rank
            banks = tuple(range(self.ranks * bpr))
        return (banks, tuple(sorted({self.gi_of[x] for x in banks})), tuple(sorted({self.rank_of[x] for x in banks})))

    @property
    def idle(self) -> bool:
        return not (self.rq.n or self.wq.n or self.stream)

    def enqueue(self, txn: Txn, now: int) -> None:
        if self.idle:
            self._catch_up_refresh(now)
        self._seq += 1
        txn.seq = self._seq
        (self.wq if txn.is_write else self.rq).push(txn)
        free = self.bus.free                        # nothing new can issue before a bus is free
        self.wake(max(now, min(free) if self.split_bus else free[0]))

    # -- timing --------------------------------------------------------------------------------
    def earliest(self, c: int, rank: int, gi: int, b: int) -> int:
        if c >= NCMD:
            return self.earliest_wide(c, b)
        e = max(self.na_bank[b][c], self.na_bg[gi][c], self.na_rank[rank][c], self.na_ch[c],
                self.bus_free[self.bus_of[c]])
        for count, span, hist in self.win_of[c]:
            h = hist[rank]
            if len(h) == count and h[0] + span > e:
                e = h[0] + span
        return e

    def earliest_wide(self, c: int, b: int) -> int:
        """Earliest legal cycle of command c issued at bank b, over every bank, group and rank it touches."""
        banks, groups, ranks = self.span[c][b]
        e = max(self.na_ch[c], self.bus_free[self.bus_of[c]], max(self.na_bank[x][c] for x in banks),
                max(self.na_bg[g][c] for g in groups), max(self.na_rank[r][c] for r in ranks))
        for count, span, hist in self.win_of[c]:
            for r in ranks:
                h = hist[r]
                if len(h) == count and h[0] + span > e:
                    e = h[0] + span
        return e

    def separate_pim_rows(self) -> None:
        """Give every bank a second row buffer for the command stream (NeuPIMs' dual row buffers): the
        stream's commands open and close rows there, so host requests neither wait for its rows nor close
        them. Bank timing rules and the command bus stay shared."""
        if self.pim_rows is self.open_row:
            self.pim_rows = [-1] * len(self.open_row)

    def issue(self, c: int, rank: int, gi: int, b: int, now: int, row: int = -1, pim: bool = False) -> None:
        """Issue command `c` at cycle `now`: apply every rule it triggers, take the command bus;
        ACT opens `row` (in the stream's own row buffers when `pim` and they are separate)."""
        for a, n, d in self.upd[b][c]:
            d += now
            if a[n] < d:
                a[n] = d
        for _count, _span, hist in self.win_of[c]:
            hist[rank].append(now)
        self.cmd_counts[c] += 1
        if self.log is not None:
            self.log.append((now, c, rank, gi, b))
        if pim and self.pim_rows is not self.open_row:
            if self.commands[c].row != "none":
                for x in self.span[c][b][0]:
                    self.pim_rows[x] = row if self.commands[c].row == "open" else -1
            return
        if c == ACT or c == PRE or c == RDA or c == WRA:
            self.open_row[b] = row if c == ACT else -1
            for q in self.rq, self.wq:           # the bank's candidates must be recomputed
                q.cand[b] = None
                if b in q.active:
                    q.active[b] = DIRTY
            if self.held:
                self.held.discard(b)
        elif c >= NCMD and self.commands[c].row != "none":
            self._set_rows(c, b, row)

    def _set_rows(self, c: int, b: int, row: int) -> None:
        """A declared command opens or closes the rows of every bank in its scope."""
        opens = self.commands[c].row == "open"
        for x in self.span[c][b][0]:
            self.open_row[x] = row if opens else -1
            if not opens:
                self.held.discard(x)
            self.opener[x] = None
            for q in self.rq, self.wq:
                q.cand[x] = None
                if x in q.active:
                    q.active[x] = DIRTY

    # -- refresh -------------------------------------------------------------------------------
    def _refresh_target(self, r: int) -> tuple[int, int]:
        """(command, bank) the refresh of rank r needs next: PRE an open bank (either row buffer), or
        REF/REFsb."""
        base = r * self.banks_per_rank
        rows, pim = self.open_row, self.pim_rows
        if self.refresh == "per_bank":
            b = base + self.ref_bank[r]
            return (PRE if rows[b] >= 0 or pim[b] >= 0 else REFSB), b
        span = range(base, base + self.banks_per_rank)
        if self.pre_all is not None and sum(rows[b] >= 0 or pim[b] >= 0 for b in span) > 1:
            return self.pre_all, base          # close every bank at once (a PIM standard declares PREA)
        for b in span:
            if rows[b] >= 0 or pim[b] >= 0:
                return PRE, b
        return REF, base

    def refreshes_owed(self, end_cycle: int) -> int:
        """Refreshes falling due before `end_cycle` that have not issued: a channel left idle (or
        never used) still refreshes in a real device, so stats count them; timing is unaffected."""
        return sum((end_cycle - 1 - d) // self.t_refi + 1 for d in self.ref_due if d < end_cycle)

    def _do_refresh_cmd(self, c: int, r: int, b: int, now: int) -> None:
        self.issue(c, r, r * self.nbg + (b % self.banks_per_rank) // self.spec.banks_per_group, b, now)
        if self.pim_rows is not self.open_row and self.commands[c].row == "close":
            for x in self.span[c][b][0]:       # refresh closes the stream's row buffer too
                self.pim_rows[x] = -1
        if c == REF or c == REFSB:
            self.ref_due[r] += self.t_refi
            self.ref_next = min(self.ref_due)
            if c == REFSB:
                self.ref_bank[r] = (self.ref_bank[r] + 1) % self.banks_per_rank

    def _catch_up_refresh(self, now: int) -> None:
        """Replay refreshes that fell due while idle, each at its earliest legal time. The command bus
        counts with this channel's own slots only: a pseudo-channel sharing it may already have taken
        slots at or after `now`, and its earlier slots are not kept; a device refreshes its idle
        channel on time whatever the sibling does (the slot it might have taken is a cycle or two)."""
        shared, self.bus_free = self.bus_free, self.own_bus
        try:
            while True:
                r = min(range(self.ranks), key=lambda k: self.ref_due[k])
                due = self.ref_due[r]
                if due >= now:
                    return
                c, b = self._refresh_target(r)
                gi = r * self.nbg + (b % self.banks_per_rank) // self.spec.banks_per_group
                t = max(due, self.earliest(c, r, gi, b))
                if t >= now:
                    return              # not finished before `now`: the live scheduler takes over
                self._do_refresh_cmd(c, r, b, t)
        finally:
            self.bus_free = shared

    # -- scheduling ----------------------------------------------------------------------------
    def step(self, now: int) -> int | None:
        """Issue every command legal at `now` (one per bus); return the cycle to step next (None: only
        new work can wake the controller). The caller owns the wake-up, which saves a callback per step."""
        free = self.bus_free
        while True:
            issued, nxt = self._try_issue(now)
            if issued:
                if free[0] > now and (not self.split_bus or free[1] > now):
                    # every bus is taken this cycle; nothing can issue before a bus frees or `nxt`
                    return max(nxt, min(free) if self.split_bus else free[0])
                continue                 # another bus may still be free this cycle
            if nxt < INF and (self.rq.n or self.wq.n or self.stream):
                return nxt if nxt > now else now + 1
            return None

    def _refresh_due(self, now: int) -> tuple[int, set | None]:
        """Some rank's refresh is due: issue its next command if legal now (then -1, None), else
        (earliest cycle a refresh command or another rank's due time comes, the banks/ranks blocked)."""
        next_t = INF
        blocked = None
        for r in range(self.ranks):
            if self.ref_due[r] <= now:
                c, b = self._refresh_target(r)
                gi = r * self.nbg + (b % self.banks_per_rank) // self.spec.banks_per_group
                e = self.earliest(c, r, gi, b)
                if e <= now:
                    self._do_refresh_cmd(c, r, b, now)
                    return -1, None
                next_t = min(next_t, e)
                blocked = blocked or set()
                blocked.add(b if self.refresh == "per_bank" else -1 - r)
            elif self.rq.n or self.wq.n or self.stream:
                next_t = min(next_t, self.ref_due[r])
        return next_t, blocked

    def _try_issue(self, now: int) -> tuple[bool, int]:
        """(True, lower bound on the next issue) after issuing one command at `now`, or
        (False, earliest cycle anything could issue)."""
        wq, rq = self.wq, self.rq
        # 1) refresh has priority once due
        st = self.stream
        if self.ref_next > now:                  # no rank due: only the next due time matters
            blocked = None
            next_t = self.ref_next if rq.n or wq.n or st else INF
        else:
            next_t, blocked = self._refresh_due(now)
            if next_t < 0:
                return True, now
        # a command stream's head goes first while it holds rows open (those banks are not the
        # host's); between its rows, queued host requests go first (blocked mode at row granularity)
        if st and (self.held or not (rq.n or wq.n)):
            e = st.step(self, now, blocked)
            if e < 0:
                return True, now
            if e < next_t:
                next_t = e
            if self.held:
                blocked = (blocked or set()) | self.held
        elif st:
            issued, e = self._try_host(now, blocked, next_t)
            if issued:
                return True, e
            e2 = st.step(self, now, blocked)
            return (True, now) if e2 < 0 else (False, min(e, e2))
        return self._try_host(now, blocked, next_t)

    def _try_host(self, now: int, blocked: set | None, next_t: int) -> tuple[bool, int]:
        """Issue the host queues' next command (FR-FCFS or FCFS) if one is legal at `now`."""
        wq, rq = self.wq, self.rq
        # 2) pick the queue: drain writes above the high watermark or when no reads wait
        if self.write_mode:
            if not wq.n or (rq.n and wq.n <= self.lo):
                self.write_mode = False
        elif wq.n and (wq.n >= self.hi or not rq.n):
            self.write_mode = True
        q = wq if self.write_mode else rq
        if not q.n:
            return False, next_t
        got = self.pick(self, q, now, blocked)
        if got.__class__ is int:
            return False, got if got < next_t else next_t
        c, t, hint = got
        b = t.bank
        self.issue(c, t.rank, t.gi, b, now, t.row)
        if c != ACT and c != PRE:
            (wq if t.is_write else rq).remove(t)       # the opener's column command may be in q's place
            if self.opener[b] is t:
                self.opener[b] = None
                (rq if t.is_write else wq).touch(b)     # its queue-crossing candidate is gone
            if t.cause == 0:
                self.hits += 1
            elif t.cause == 1:
                self.misses += 1
            else:
                self.conflicts += 1
            t.done(t, now + (self.wr_lat if t.is_write else self.rd_lat))
            return True, now + 1                 # queue counts changed: re-decide next cycle
        if c == PRE or t.cause == 0:
            t.cause = 2 if c == PRE else 1
        self.opener[b] = t if c == ACT else None
        # the bank's own next candidate (e.g. its first column command after this ACT): time it and
        # cache it, so the next decision need not recompute it
        c2, t2 = q.cand[b] = candidate(q, b, self.open_row[b], self.opener[b])
        if not (blocked and (b in blocked or -1 - t2.rank in blocked)):
            e = self.e_lb[b][c2] = q.active[b] = self.earliest(c2, t2.rank, t2.gi, b)
            if e < hint:
                hint = e
        return True, hint if hint < next_t else next_t
