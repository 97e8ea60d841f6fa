"""Shared helpers for the DRAM tests: build a level, run a pattern, check a command log."""
from archsim.engine import Engine
from memory.dram.level import DramLevel
from memory.dram.spec import load_spec
from memory.patterns import generate
from memory.trace import replay


def make(standard="DDR4-3200", **kw):
    e = Engine()
    return DramLevel("dram", e, load_spec(standard, kw.pop("timing", None)), **kw)


def run_pattern(pattern, n, standard="DDR4-3200", seed=1, log=False, **kw):
    lvl = make(standard, **kw)
    if log:
        for c in lvl.ctrls:
            c.log = []
    a, w, c = generate(pattern, lvl.mapping, n, seed)
    return lvl, replay(lvl, a, w, c, lvl.spec.burst_bytes, lvl.clock)


def touched(spec, ranks, scope, b):
    """(banks, bank groups, ranks) a command of `scope` issued at bank b touches, from the organisation."""
    bpr, bpg = spec.banks, spec.banks_per_group
    r = b // bpr
    banks = {"bank": {b}, "bankgroup": set(range(b - b % bpg, b - b % bpg + bpg)),
             "rank": set(range(r * bpr, (r + 1) * bpr)), "channel": set(range(ranks * bpr))}[scope]
    return banks, {x // bpr * spec.bankgroups + x % bpr // bpg for x in banks}, {x // bpr for x in banks}


def violations(ctrl, reach=400):
    """Brute-force check of a command log against the rule table and the windows (independent of
    next-allowed timestamps): every command at or after every rule's bound from the `reach` before it.
    A command wider than a bank is held to each rule in every bank, group and rank it touches."""
    spec, log, bad = ctrl.spec, ctrl.log, []
    rules: dict[tuple[int, int], list] = {}
    for rule in spec.rules:
        rules.setdefault((rule.prev, rule.next), []).append(rule)
    where = [touched(spec, ctrl.ranks, spec.commands[c].scope, b) for _t, c, _r, _g, b in log]
    for j, (tj, cj, _rj, _gj, _bj) in enumerate(log):
        bj, gj, rj = where[j]
        for i in range(max(0, j - reach), j):
            ti, ci = log[i][:2]
            bi, gi, ri = where[i]
            for rule in rules.get((ci, cj), ()):
                same = {"bank": bool(bi & bj), "bankgroup": bool(gi & gj), "rank": bool(ri & rj),
                        "channel": True, "other_rank": bool(rj - ri)}[rule.scope]
                if same and tj - ti < rule.delay:
                    bad.append((ti, ci, tj, cj, rule))
        for wc, _scope, count, span in spec.windows:     # rank-scoped rolling windows (tFAW)
            past = [log[i][0] for i in range(max(0, j - reach), j) if log[i][1] == wc and where[i][2] & rj]
            if cj == wc and len(past) >= count and tj - past[-count] < span:
                bad.append(("window", spec.commands[wc].name, tj))
    return bad
