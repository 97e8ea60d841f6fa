"""The digit engine: cycles of a GEMM on a bit-weight PE array, exact from values or expected from histograms.

The loop nest is `for m, n, k, b: C[m,n] += r^b * (SubS[., k, b] * P)`: one operand S is taken digit
by digit (b temporal), the other P in parallel. A design fixes how the loops unroll:

- `rows` engines take `rows` rows of S at once (a round); `cols` lanes per engine share each digit
  of S across `cols` rows of P (OPT4C's shared encoder, Pragmatic's filters), so P's extent takes
  ceil(P / cols) passes over S.
- Each engine has `k_lanes` spatial lanes along k; a lane takes `lane_k` consecutive operands of k
  one after another per step. Its cost in a step is the non-zero digits it must process
  (`skip_zeros`) or all of them; with `per_digit_pass` each bit weight b is its own pass (b
  outermost, the OPT3 law: sum over b of max(1, nnz of the group at b)).
- A step costs the max over its synchronisation group (the engine's k lanes and `sync_rows`
  engines), floor 1. Groups of one round meet at the round's end (the round costs the slowest
  group). `slack` lets an engine run that many steps ahead of its group (bounded run-ahead);
  `window` limits how far a brick's lanes may drift apart within a step (shifter.py).
- `serial="both"` (Laconic): each lane takes one (a, w) pair a step, t(a)*t(w) term pairs; the group
  is k lanes x `cols` x `sync_rows`. `serial="none"`: bit-parallel, or Bit Fusion's `bricks` 2-bit
  products at once (a lane fuses bricks // work MACs a step).

`cycle` gathers each operand's digit counts from the encoding tables and reduces with numpy;
`fast` takes the same quantities from value histograms (operands i.i.d. from them).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from archsim.errors import ConfigError
from archsim.units.bitweight.encodings import Encoding, encoding
from archsim.units.bitweight.shifter import brick_cdf, brick_cycles

SERIAL = ("activation", "weight", "both", "none")
CHUNK_ELEMS = 1 << 24      # Laconic's (rows x k x column-groups) products reduced per numpy call


@dataclass(frozen=True)
class Schedule:
    """How a design unrolls the (m, n, k, b) nest; see the module docstring."""

    serial: str = "activation"
    encoding: str = "ent"
    skip_zeros: bool = True
    rows: int = 1
    cols: int = 1
    k_lanes: int = 1
    lane_k: int = 1
    per_digit_pass: bool = False
    sync_rows: int = 1
    slack: int = 0
    bricks: int = 1
    act_bits: int = 8
    weight_bits: int = 8
    window: int = 0        # limited shifter: digit positions a lane may lead its brick by (0: unlimited)

    def __post_init__(self) -> None:
        if self.serial not in SERIAL:
            raise ConfigError(f"serial must be one of {SERIAL}, got {self.serial!r}")
        if self.rows % self.sync_rows:
            raise ConfigError(f"sync_rows ({self.sync_rows}) must divide rows ({self.rows}): a sync group "
                              "larger than the array, or one that straddles it")
        if self.serial == "both" and (self.lane_k != 1 or self.slack or self.per_digit_pass):
            raise ConfigError("serial: both (Laconic) takes one operand pair per lane a step: lane_k 1, "
                              "no slack, no per_digit_pass")
        if self.window and (self.serial not in ("activation", "weight") or self.lane_k != 1 or self.slack
                            or self.per_digit_pass or not self.skip_zeros):
            raise ConfigError("a limited shifter (window) is for one serial operand skipping zero digits, "
                              "one operand per lane (lane_k 1), without slack or per_digit_pass")
        if self.bricks > 1 and self.skip_zeros:
            raise ConfigError("bricks > 1 (spatial 2-bit products, Bit Fusion) is for dense designs: "
                              "set skip_zeros: false")

    @property
    def serial_bits(self) -> int:
        return self.weight_bits if self.serial == "weight" else self.act_bits

    def table(self, which: str = "serial") -> Encoding:
        bits = self.weight_bits if which == "weight" or (which == "serial" and self.serial == "weight") \
            else self.act_bits
        return encoding(self.encoding, bits)

    def dense_lane(self) -> tuple[int, int]:
        """(operands a lane takes a step, cycles that step costs) where digits are not skipped."""
        if self.serial == "both" or self.serial == "none":
            work = (encoding(self.encoding, self.act_bits).positions
                    * encoding(self.encoding, self.weight_bits).positions)
            if self.encoding == "parallel":
                work = 1
        else:
            work = 1 if self.per_digit_pass else self.table().positions
        per = self.lane_k * max(1, self.bricks // work)
        return per, -(-per * work // self.bricks)


@dataclass
class Cost:
    """Cycles of one GEMM and what they are made of; `fast` fills the same fields with expectations."""

    cycles: float
    steps: int                 # synchronised steps (each costs the max over its group)
    busy_lane_cycles: float    # lane-cycles spent on digits (no waiting)
    lanes: int                 # lanes of the array that step together
    bit_parallel_cycles: int   # the same array with 1 MAC per lane per cycle

    @property
    def mean_step_cycles(self) -> float:
        return self.cycles / self.steps if self.steps else 0.0

    @property
    def stall_share(self) -> float:
        """Share of lane-cycles spent waiting for the slowest lane of the group (or on padding)."""
        return 1.0 - self.busy_lane_cycles / (self.cycles * self.lanes) if self.cycles else 0.0

    @property
    def speedup(self) -> float:
        return self.bit_parallel_cycles / self.cycles if self.cycles else 0.0


def _ceil(a: int, b: int) -> int:
    return -(-a // b)


def _layout(s: Schedule, M: int, N: int, K: int) -> tuple[int, int, int, int]:
    """(rows of S, passes over S, steps per row, lanes) of one batch element."""
    R, P = (N, M) if s.serial == "weight" else (M, N)
    per = s.dense_lane()[0] if s.serial in ("none", "both") and not s.skip_zeros else s.lane_k
    lanes = s.rows * s.k_lanes * (s.cols if s.serial == "both" else 1)
    return R, _ceil(P, s.cols), _ceil(K, s.k_lanes * per), lanes


def bit_parallel_cycles(s: Schedule, M: int, N: int, K: int, batch: int = 1) -> int:
    R, passes, _, _ = _layout(s, M, N, K)
    return batch * passes * _ceil(R, s.rows) * _ceil(K, s.k_lanes)


def _dense(s: Schedule, M: int, N: int, K: int, batch: int) -> Cost:
    """Designs whose cycles do not depend on values: a closed form."""
    R, passes, T, lanes = _layout(s, M, N, K)
    per, c = s.dense_lane()
    npass = s.table().positions if s.per_digit_pass and s.serial in ("activation", "weight") else 1
    steps = batch * passes * _ceil(R, s.rows) * T * npass
    cycles = steps * c
    busy = batch * passes * R * K * c / per * npass * (s.cols if s.serial == "both" else 1)
    return Cost(cycles, steps, busy, lanes, bit_parallel_cycles(s, M, N, K, batch))


# ---- cycle: exact from values ------------------------------------------------------------------------
def cycle_cost(s: Schedule, a: np.ndarray, w: np.ndarray) -> Cost:
    """Exact cycles of C = a @ w for a [batch, M, K] and w [batch, K, N] integer arrays."""
    a, w = np.asarray(a), np.asarray(w)
    if a.ndim == 2:
        a, w = a[None], w[None]
    batch, M, K = a.shape
    N = w.shape[2]
    if not s.skip_zeros or s.serial == "none":
        return _dense(s, M, N, K, batch)
    if s.serial == "both":
        parts = [_both_cycle(s, a[i], w[i]) for i in range(batch)]
    else:
        parts = [_single_cycle(s, w[i].T if s.serial == "weight" else a[i], (M if s.serial == "weight" else N))
                 for i in range(batch)]
    return Cost(sum(p.cycles for p in parts), sum(p.steps for p in parts), sum(p.busy_lane_cycles for p in parts),
                parts[0].lanes, bit_parallel_cycles(s, M, N, K, batch))


def _pad(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    if x.shape == shape:
        return x
    out = np.zeros(shape, x.dtype)
    out[tuple(slice(0, n) for n in x.shape)] = x
    return out


def _single_cycle(s: Schedule, S: np.ndarray, P: int) -> Cost:
    """One operand serial: S [R, K] values; the other operand's P rows take ceil(P / cols) passes."""
    enc = s.table()
    R, K = S.shape
    L = s.k_lanes * s.lane_k
    T, rounds = _ceil(K, L), _ceil(R, s.rows)
    idx = _pad(S - enc.lo, (rounds * s.rows, T * L))
    if len(idx) > R or idx.shape[1] > K:
        idx[R:, :] = -enc.lo
        idx[:, K:] = -enc.lo                       # padding is the value 0: no digits
    if s.per_digit_pass:
        work = np.stack([enc.nz[:, b][idx] for b in range(enc.positions)], axis=1)   # [R', b, T*L]
        lane = work.reshape(len(idx), enc.positions * T, s.k_lanes, s.lane_k).sum(-1, dtype=np.int64)
    else:
        lane = enc.count[idx].reshape(len(idx), T, s.k_lanes, s.lane_k).sum(-1)
    busy = float(lane.sum())
    if s.window:   # the lanes of a brick may not drift apart (shifter.py)
        engine = brick_cycles(enc, idx.reshape(len(idx), T, s.k_lanes), s.window)
    else:
        engine = np.maximum(lane.max(-1), 1)                      # [R', steps]
    steps = engine.shape[1]
    groups = engine.reshape(rounds, s.rows // s.sync_rows, s.sync_rows, steps)
    if s.slack:
        group_t = _run_ahead(groups, s.slack)
    else:
        group_t = groups.max(axis=2).sum(axis=-1)                   # [rounds, groups]
    passes = _ceil(P, s.cols)
    return Cost(float(group_t.max(axis=1).sum() * passes), rounds * steps * passes, busy * passes,
                s.rows * s.k_lanes, 0)


def _run_ahead(groups: np.ndarray, slack: int) -> np.ndarray:
    """Finish time of each group when an engine may start step t once every engine of its group has
    finished step t - slack - 1 (a `slack`-deep register between them); groups [rounds, g, e, steps]."""
    steps = groups.shape[-1]
    fin = np.zeros(groups.shape, np.int64)
    prev = np.zeros(groups.shape[:-1], np.int64)
    for t in range(steps):
        gate = fin[..., t - slack - 1].max(axis=-1, keepdims=True) if t - slack - 1 >= 0 else 0
        prev = np.maximum(prev, gate) + groups[..., t]
        fin[..., t] = prev
    return prev.max(axis=-1)


def _both_cycle(s: Schedule, a: np.ndarray, w: np.ndarray) -> Cost:
    """Laconic: a step of a group costs max over its (m, k, n) lanes of t(a) t(w), floor 1. Because the
    terms are non-negative that max is max_k (max_m t(a)) (max_n t(w)): only the group maxima are formed."""
    ea, ew = encoding(s.encoding, s.act_bits), encoding(s.encoding, s.weight_bits)
    M, K = a.shape
    N = w.shape[1]
    ta, tw = ea.count[a - ea.lo].astype(np.uint8), ew.count[w - ew.lo].astype(np.uint8)
    T, rounds, ng = _ceil(K, s.k_lanes), _ceil(M, s.rows), _ceil(N, s.cols)
    amax = _pad(ta, (rounds * s.rows, T * s.k_lanes)).reshape(-1, s.sync_rows, T * s.k_lanes).max(1)
    wmax = _pad(tw, (T * s.k_lanes, ng * s.cols)).reshape(T * s.k_lanes, ng, s.cols).max(2)   # [K', ng]
    busy = float(ta.sum(0, dtype=np.int64) @ tw.sum(1, dtype=np.int64))
    g = len(amax)
    group_t = np.zeros((g, ng), np.int64)
    step = max(1, CHUNK_ELEMS // max(1, T * s.k_lanes * ng))
    for i in range(0, g, step):
        prod = amax[i:i + step, :, None] * wmax[None]                              # [g', K', ng] uint8
        c = prod.reshape(len(prod), T, s.k_lanes, ng).max(2)
        group_t[i:i + step] = np.maximum(c, 1).sum(1, dtype=np.int64)
    per_round = group_t.reshape(rounds, s.rows // s.sync_rows, ng).max(1)
    return Cost(float(per_round.sum()), rounds * T * ng, busy, s.rows * s.k_lanes * s.cols, 0)


# ---- fast: expected from histograms -------------------------------------------------------------------
def histogram(values: np.ndarray, bits: int) -> np.ndarray:
    """Probability of each `bits`-bit value lo..hi in `values` (the empirical pmf `fast` reads)."""
    lo = -(1 << (bits - 1))
    h = np.bincount((np.asarray(values).ravel() - lo), minlength=1 << bits).astype(np.float64)
    return h / max(h.sum(), 1.0)


def _sum_pmf(p: np.ndarray, n: int) -> np.ndarray:
    """pmf of a sum of n i.i.d. non-negative integer variables with pmf p."""
    out = np.array([1.0])
    for _ in range(n):
        out = np.convolve(out, p)
    return out


def _binom(n: int, q: float) -> np.ndarray:
    return np.array([math.comb(n, j) * q ** j * (1 - q) ** (n - j) for j in range(n + 1)])


def _max_moments(cdfs: list[tuple[np.ndarray, int]]) -> tuple[float, float, float]:
    """Mean, variance and third central moment of max(1, max of independent variables); cdfs lists
    (CDF over 0.., copies)."""
    n = max(len(c) for c, _ in cdfs)
    F = np.ones(n)
    for c, k in cdfs:
        F *= np.concatenate([c, np.ones(n - len(c))]) ** k
    pmf = np.diff(np.concatenate([[0.0], F]))
    x = np.maximum(np.arange(n), 1)
    mean = float(pmf @ x)
    d = x - mean
    return mean, float(pmf @ (d * d)), float(pmf @ (d * d * d))


def _expected_max_of_sums(mean: float, var: float, m3: float, g: int) -> float:
    """E[max of g i.i.d. sums] with the given moments: a Cornish-Fisher (skew-corrected normal) estimate,
    exact for g = 1. Groups that meet only at a round's end pay this."""
    if g <= 1 or var <= 0:
        return mean
    ez, ez2 = _normal_max_moments(g)
    sd = math.sqrt(var)
    return mean + sd * (ez + m3 / sd ** 3 / 6 * (ez2 - 1))


@lru_cache(maxsize=None)
def _normal_max_moments(g: int) -> tuple[float, float]:
    """E[Z] and E[Z^2] of the max of g standard normals (numerical integration)."""
    z = np.linspace(-8, 12, 8001)
    dz = z[1] - z[0]
    phi = np.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    dens = g * (np.cumsum(phi) * dz) ** (g - 1) * phi
    return float(np.sum(z * dens) * dz), float(np.sum(z * z * dens) * dz)


def fast_cost(s: Schedule, M: int, N: int, K: int, batch: int, pmf_a: np.ndarray | None,
              pmf_w: np.ndarray | None) -> Cost:
    """Expected cycles for operands drawn i.i.d. from the pmfs (over each width's lo..hi)."""
    if not s.skip_zeros or s.serial == "none":
        return _dense(s, M, N, K, batch)
    bp = bit_parallel_cycles(s, M, N, K, batch)
    if s.serial == "both":
        return _both_fast(s, M, N, K, batch, pmf_a, pmf_w, bp)
    pmf = pmf_w if s.serial == "weight" else pmf_a
    enc = s.table()
    R, passes, T, lanes = _layout(s, M, N, K)
    rounds = _ceil(R, s.rows)
    L = s.k_lanes * s.lane_k
    tail = K - (T - 1) * L                               # operands in the last chunk
    chunks = [(T - 1, [s.lane_k] * s.k_lanes),
              (1, [min(s.lane_k, max(0, tail - i * s.lane_k)) for i in range(s.k_lanes)])]
    if s.per_digit_pass:
        lane_pmfs = [lambda n, q=float(pmf @ enc.nz[:, b]): _binom(n, q) for b in range(enc.positions)]
        busy_row = K * float(pmf @ enc.count)
    else:
        cnt = np.bincount(enc.count, weights=pmf, minlength=enc.positions + 1)
        lane_pmfs = [lambda n, c=cnt: _sum_pmf(c, n)]
        busy_row = K * float(pmf @ enc.count)
    full, last = rounds - 1, R - (rounds - 1) * s.rows     # engines with rows in the last round
    total = 0.0
    for n_rounds, engines in ((full, s.rows), (1, last)):
        if n_rounds == 0:
            continue
        per_group = [min(s.sync_rows, max(0, engines - g * s.sync_rows)) for g in range(s.rows // s.sync_rows)]
        memo: dict[int, tuple[float, float, float]] = {}
        n_groups = len(per_group)

        def group(e: int, n_groups: int) -> tuple[float, float, float]:
            """Moments of one sync group's time over a row (e engines with rows), summed over its steps."""
            m = v = t3 = 0.0
            for count, lane_ops in chunks:
                if count == 0:
                    continue
                for lp in lane_pmfs:
                    cdfs = ([(brick_cdf(enc, pmf, lane_ops, s.window), max(e, 1))] if s.window else
                            [(np.cumsum(lp(n)), max(e, 1)) for n in lane_ops])
                    if s.slack and e > 1:
                        mm, vv, tt = _slack_moments(cdfs, s.slack, e)
                    else:
                        mm, vv, tt = _max_moments(cdfs) if e else (1.0, 0.0, 0.0)
                    m, v, t3 = m + count * mm, v + count * vv, t3 + count * tt
                if s.per_digit_pass and s.k_lanes == 1 and e == 1 and n_groups > 1:
                    # the passes of one chunk see the same operands: their costs are correlated
                    v += count * (_chunk_pass_var(enc, pmf, lane_ops[0]) - sum(
                        _max_moments([(np.cumsum(lp(lane_ops[0])), 1)])[1] for lp in lane_pmfs))
            return m, v, t3

        if s.slack and not s.per_digit_pass and max(per_group) > 1:
            total += n_rounds * _slack_round_mc(s, chunks, lane_pmfs[0], per_group)
            continue
        for e in per_group:
            if e not in memo:
                memo[e] = group(e, n_groups)
        mean_g = [memo[e] for e in per_group]
        total += n_rounds * _expected_max_of_sums(*max(mean_g), sum(1 for e in per_group if e))
    steps = batch * passes * rounds * T * (enc.positions if s.per_digit_pass else 1)
    return Cost(batch * passes * total, steps, batch * passes * R * busy_row, lanes, bp)


MC_ENGINE_STEPS = 200_000   # engine-steps the slack estimate samples (fixed seed: deterministic)


def _slack_round_mc(s: Schedule, chunks: list, lane_pmf, per_group: list[int]) -> float:
    """Expected round time with run-ahead (`slack`), by sampling the engines' step costs from their
    distribution (max over the engine's lanes of the lane's digits, floor 1) and running the same
    recurrence as `cycle`. Step costs are i.i.d. given the histogram; the seed is fixed."""
    T = sum(count for count, _ in chunks)
    e_max = max(per_group)
    sims = max(64, MC_ENGINE_STEPS // max(1, len(per_group) * e_max * T))
    rng = np.random.default_rng(0)
    costs = np.zeros((sims, len(per_group), e_max, T), np.int64)
    t0 = 0
    for count, lane_ops in chunks:
        if count == 0:
            continue
        cdfs = [np.cumsum(lane_pmf(n)) for n in lane_ops]
        n = max(len(c) for c in cdfs)
        F = np.ones(n)
        for c in cdfs:
            F *= np.concatenate([c, np.ones(n - len(c))])
        draw = np.searchsorted(F, rng.random((sims, len(per_group), e_max, count)) * F[-1], side="right")
        costs[..., t0:t0 + count] = np.maximum(np.minimum(draw, n - 1), 1)
        t0 += count
    for g, e in enumerate(per_group):
        costs[:, g, e:, :] = 0                     # engines without a row this round
    return float(_run_ahead(costs, s.slack).max(axis=1).mean())


def _chunk_pass_var(enc: Encoding, pmf: np.ndarray, n: int) -> float:
    """Variance of sum_b max(1, nnz_b) over one lane's n operands, from the joint distribution of
    their non-zero counts per bit weight (the per-digit passes of one chunk are not independent)."""
    npos = enc.positions
    codes = enc.nz.astype(np.int64) @ (1 << np.arange(npos))          # each value's non-zero pattern
    pat = np.bincount(codes, weights=pmf, minlength=1 << npos)
    dist = np.zeros((n + 1,) * npos)
    dist[(0,) * npos] = 1.0
    for _ in range(n):
        nxt = np.zeros_like(dist)
        for code in np.flatnonzero(pat):
            bits = [(code >> b) & 1 for b in range(npos)]
            src = tuple(slice(0, n + 1 - x) for x in bits)
            dst = tuple(slice(x, n + 1) for x in bits)
            nxt[dst] += pat[code] * dist[src]
        dist = nxt
    grid = np.meshgrid(*([np.maximum(np.arange(n + 1), 1)] * npos), indexing="ij")
    cost = sum(grid)
    mean = float((dist * cost).sum())
    return float((dist * cost * cost).sum()) - mean * mean


def _slack_moments(cdfs: list[tuple[np.ndarray, int]], slack: int, engines: int) -> tuple[float, float]:
    """A step with run-ahead, bounded above by a barrier every `slack + 1` steps: the group pays the
    max over engines of their window sums, spread over the window. Run-ahead never waits longer than
    that barrier (it waits for step t - slack - 1, the barrier for the window's start), so `fast` is an
    upper bound here; `cycle` is exact."""
    n = max(len(c) for c, _ in cdfs)
    F = np.ones(n)
    for c, _ in cdfs:                                      # one engine: max over its lanes
        F *= np.concatenate([c, np.ones(n - len(c))])
    engine = np.diff(np.concatenate([[0.0], F]))
    engine[1:2] += engine[0]                               # floor 1: an empty step still takes a cycle
    engine[0] = 0.0
    window = _sum_pmf(engine, slack + 1)
    mean, var, m3 = _max_moments([(np.cumsum(window), engines)])
    return mean / (slack + 1), var / (slack + 1), m3 / (slack + 1)


def _both_fast(s: Schedule, M: int, N: int, K: int, batch: int, pmf_a, pmf_w, bp: int) -> Cost:
    """Laconic's expectation: a step's max over (rows, k, columns) is max_k Amax_k * Wmax_k with Amax the
    max of the group's real rows' t(a) and Wmax of its real columns' t(w); partial groups at the edges
    (fewer rows, columns or k lanes) are their own cases."""
    ea, ew = encoding(s.encoding, s.act_bits), encoding(s.encoding, s.weight_bits)
    _, passes, T, lanes = _layout(s, M, N, K)
    rounds = _ceil(M, s.rows)
    ca = np.cumsum(np.bincount(ea.count, weights=pmf_a, minlength=ea.positions + 1))
    cw = np.cumsum(np.bincount(ew.count, weights=pmf_w, minlength=ew.positions + 1))

    def step(rows: int, cols: int, klanes: int) -> tuple[float, float]:
        amax = np.diff(np.concatenate([[0.0], ca ** rows]))
        wmax = np.diff(np.concatenate([[0.0], cw ** cols]))
        prod = np.zeros(len(amax) * len(wmax))
        for i, p in enumerate(amax):
            np.add.at(prod, i * np.arange(len(wmax)), p * wmax)
        return _max_moments([(np.cumsum(prod), klanes)])

    ncols = [(passes - 1, s.cols), (1, N - (passes - 1) * s.cols)]
    kl = [(T - 1, s.k_lanes), (1, K - (T - 1) * s.k_lanes)]
    total = 0.0
    for n_rounds, engines in ((rounds - 1, s.rows), (1, M - (rounds - 1) * s.rows)):
        groups = [min(s.sync_rows, engines - g) for g in range(0, engines, s.sync_rows)]
        for npass, cols in ncols:
            if not (n_rounds and npass):
                continue
            moments = []
            for rows in groups:
                parts = [(cnt, *step(rows, cols, k)) for cnt, k in kl if cnt]
                moments.append(tuple(sum(p[0] * p[i] for p in parts) for i in (1, 2, 3)))
            total += n_rounds * npass * _expected_max_of_sums(*max(moments), len(groups))
    busy = batch * M * N * K * float(pmf_a @ ea.count) * float(pmf_w @ ew.count)
    return Cost(batch * total, batch * passes * rounds * T, busy, lanes, bp)
