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


def violations(ctrl):
    """Brute-force check of a command log against the rule table (independent of next-allowed timestamps)."""
    spec, log, bad = ctrl.spec, ctrl.log, []
    for j, (tj, cj, rj, gj, bj) in enumerate(log):
        for ti, ci, ri, gi, bi in log[max(0, j - 400):j]:
            for rule in spec.rules:
                if rule.prev != ci or rule.next != cj:
                    continue
                same = {"bank": bi == bj, "bankgroup": gi == gj, "rank": ri == rj,
                        "channel": True, "other_rank": ri != rj}[rule.scope]
                if same and tj - ti < rule.delay:
                    bad.append((ti, ci, tj, cj, rule))
        acts = [t for t, c, r, _g, _b in log[:j] if c == 0 and r == rj]
        if cj == 0 and len(acts) >= 4 and tj - acts[-4] < spec.timing["tFAW"]:
            bad.append(("tFAW", tj))
    return bad
