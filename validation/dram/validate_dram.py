"""Reproduce the DRAM reference: closed forms (dram.md 4.3) and DRAMSim3 / Ramulator 2.1 measurements.

    .venv/bin/python validation/dram/validate_dram.py [--n 10000]

Prints ours beside theirs with ratios and a verdict per row; exits 1 if a target is missed.
Targets: closed forms within 1 %; measured figures within 3 % where the two simulators agree
(within 0.5 %), and between them (with 3 % slack) where they disagree.

A second table sets DRAMsim3 figures for cases beyond the reference (dramsim3_extra.csv: writes,
ddr4_bgil, HBM2 legacy channels) beside ours; rows where the two controllers follow different
policies are printed with the reason and are not targets.
"""
from __future__ import annotations

import argparse
import csv
import random
import sys
from pathlib import Path

import numpy as np
import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from archsim.engine import Engine                       # noqa: E402
from memory import Request                              # noqa: E402
from memory.dram.level import DramLevel                 # noqa: E402
from memory.dram.spec import SPEC_DIR, build_spec, load_spec  # noqa: E402
from memory.patterns import generate                    # noqa: E402
from memory.trace import replay                         # noqa: E402
from memory.dram.spec import DramSpec                   # noqa: E402

MAPPINGS = {"ddr4": "rochrababgco", "ddr4_bgil": "rorabacobgch"}
# DRAMSim3 and Ramulator both report ~2 cycles more than tRCD + CL + BL/2 for an unloaded closed-bank
# read (DRAMSim3's median idle latency is 50 = 48 + 2): their controllers spend a cycle accepting the
# request and a cycle returning data. We model that pipeline explicitly for the comparison.
FRONTEND_CYCLES = 2
METRICS = [("total_cycles", "total_cycles"), ("avg_rd_lat_cyc", "avg_read_latency_cycles"),
           ("row_hit_rate", "row_hit_rate"), ("acts", "activates"), ("refs", "refreshes")]
LATENCY_ONLY_ON = {"idle_rand"}     # saturating patterns' latency measures queueing, not DRAM timing


def level(mapping="rochrababgco", frontend=FRONTEND_CYCLES, **kw) -> DramLevel:
    kw.setdefault("trace_frontend", "in_order")     # a DRAMSim3-style trace driver, as the references ran
    return DramLevel("ddr4", Engine(), load_spec("DDR4-3200"), mapping=mapping,
                     frontend_latency_cycles=frontend, **kw)


def run(pattern: str, org: str, n: int, **kw) -> dict:
    lvl = level(MAPPINGS[org], **kw)
    a, w, c = generate(pattern, lvl.mapping, n, seed=1)
    return replay(lvl, a, w, c, 64, lvl.clock)


def closed_forms(n: int) -> list[tuple[str, float, float]]:
    t = load_spec("DDR4-3200").timing
    ref = 1 + t["tRFC"] / t["tREFI"]
    rows = []
    lvl = level(frontend=0, refresh="none")
    m, out = lvl.mapping, []
    for addr, at in ((m.encode(ro=3), 0), (m.encode(ro=3, co=1), 1000), (m.encode(ro=4), 2000)):
        lvl.engine.at(at * 625, lambda a=addr: lvl.submit(Request(a, 64, False, "v", out.append)))
    lvl.engine.run()
    lat = [lvl.clock.ps_to_cycles(r.done_ps - r.issue_ps) for r in out]
    rows += [("unloaded read, closed bank (tRCD+CL+BL/2)", lat[0], t["tRCD"] + t["CL"] + t["tBL"]),
             ("unloaded read, row hit (CL+BL/2)", lat[1], t["CL"] + t["tBL"]),
             ("unloaded read, conflict (+tRP)", lat[2], t["tRP"] + t["tRCD"] + t["CL"] + t["tBL"])]
    s = run("rowconf", "ddr4", n, frontend=0)
    rows.append(("conflict stream cycles/access = tRC(1+tRFC/tREFI)", s["total_cycles"] / n, t["tRC"] * ref))
    s = run("rowhit", "ddr4", n, frontend=0)
    per_row = 127 * t["tCCD_L"] + t["tRTP"] + t["tRP"] + t["tRCD"]
    rows.append(("hit stream cycles/access", s["total_cycles"] / n, per_row / 128 * ref))
    s = run("seq_rd", "ddr4_bgil", n, frontend=0)
    rows.append(("bank-group-interleaved stream cycles/access = BL/2(1+tRFC/tREFI)", s["total_cycles"] / n,
                 t["tBL"] * ref))
    return rows


def load_reference() -> dict:
    ref: dict = {}
    with open(HERE / "reference.csv") as f:
        for row in csv.DictReader(line for line in f if not line.startswith("#")):
            ref.setdefault((row["org"], row["pattern"]), {})[row["simulator"]] = row
    return ref


def verdict(ours: float, a: float, b: float) -> tuple[str, bool]:
    lo, hi = min(a, b), max(a, b)
    if hi == 0:
        return ("ok" if ours == 0 else "MISS"), ours == 0
    if (hi - lo) / hi <= 0.005:
        ok = abs(ours / hi - 1) <= 0.03
        return ("within 3% (agree)" if ok else "MISS (agree)"), ok
    ok = lo * 0.97 <= ours <= hi * 1.03
    inside = lo <= ours <= hi
    return ("between" if inside else "near (3%)" if ok else "MISS (disagree)"), ok


# ---- DRAMsim3 beyond the reference table (dramsim3_extra.csv) ----

# The trace generator's organisations: (mapping, field widths, log2 transaction bytes). Facts of
# dram.md's traces: its random patterns draw from Python's random.Random(seed) in this order, so
# `peer_trace` rebuilds the very same request stream.
PEER_ORGS = {
    "ddr4": ("rochrababgco", dict(ch=0, ra=1, bg=2, ba=2, ro=16, co=7), 6),
    "ddr4_bgil": ("rorabacobgch", dict(ch=0, ra=1, bg=2, ba=2, ro=16, co=7), 6),
    "hbm2": ("rorabgbachco", dict(ch=3, ra=0, bg=2, ba=2, ro=15, co=5), 6),
}
PEER_TOLERANCE = 0.03
# Rows whose totals measure a policy the two controllers do not share (see docs of each reason).
PEER_EXCLUDED = {
    ("ddr4", "rand_mix", "trace_cpu"): "write drain policy: DRAMsim3 drains only at a full write buffer (or with "
                                       "no reads queued) and completes a write at acceptance; ours drains between "
                                       "24/8 watermarks and completes at the DRAM (1.032; ddr4_bgil's 1.024 passes)",
    ("ddr4", "stream_add", "trace_cpu"): "reorder window: DRAMsim3's FR-FCFS sees <= 8 commands a bank (PER_BANK "
                                         "cmd_queue_size 8) and the three streams share one bank under rochrababgco, "
                                         "so it finds fewer row hits (816 ACTs vs our 566; with a 16-entry read queue "
                                         "we take 1.028x); and the write drain policy, as ddr4 rand_mix",
    ("ddr4_bgil", "stream_add", "trace_cpu"): "write drain policy: DRAMsim3 drains its whole 32-entry buffer at once "
                                              "(half our read/write turnarounds; watermarks 1.0/0.0 give 1.062x)",
    ("hbm2", "stream_add", "trace_cpu"): "write drain policy, as ddr4 rand_mix",
    ("hbm2", "seq_rd", "all_due"): "DRAMsim3 moves at most one transaction a cycle from a channel's transaction "
                                   "queue to its command queue, so 32 lines bound for one channel admit at 1/cycle "
                                   "while the rest wait behind them; our controller has one queue level",
    ("hbm2", "stream_add", "all_due"): "one transaction a cycle into the command queue (as seq_rd all_due) and the "
                                       "write drain policy",
}


def peer_trace(pattern: str, org: str, n: int, seed: int = 1, gap: int = 500):
    """(addrs, writes, arrival cycles) exactly as dram_trace_gen.py writes them for `org`."""
    order, widths, offset = PEER_ORGS[org]
    pos, p = {}, offset
    for tok in reversed([order[i:i + 2] for i in range(0, len(order), 2)]):
        pos[tok], p = p, p + widths[tok]
    tx, lines = 1 << offset, 1 << (p - offset)
    rng = random.Random(seed)
    ncol, nrow = 1 << widths["co"], 1 << widths["ro"]
    if pattern == "seq_rd":
        reqs = [(False, i * tx, 0) for i in range(n)]
    elif pattern == "rand_rd":
        reqs = [(False, rng.randrange(lines) * tx, 0) for _ in range(n)]
    elif pattern == "rand_mix":
        reqs = [(rng.random() < 1 / 3, rng.randrange(lines) * tx, 0) for _ in range(n)]
    elif pattern == "stream_add":
        region = (lines * tx) // 4
        reqs = [(i % 3 == 2, (i % 3) * region + (i // 3) * tx, 0) for i in range(n)]
    elif pattern in ("rowhit", "rowconf"):
        row_of = (lambda i: (i // ncol) % nrow) if pattern == "rowhit" else (lambda i: i % nrow)
        reqs = [(False, (row_of(i) << pos["ro"]) | ((i % ncol) << pos["co"]), 0) for i in range(n)]
    elif pattern == "idle_rand":
        reqs = [(False, rng.randrange(lines) * tx, i * gap) for i in range(n)]
    else:
        raise ValueError(pattern)
    w, a, c = zip(*reqs)
    return np.asarray(a, dtype=np.int64), np.asarray(w, dtype=bool), np.asarray(c, dtype=np.int64)


def hbm2_legacy_spec() -> DramSpec:
    """Our HBM2 standard reshaped as DRAMsim3's HBM2_8Gb_x128.ini models it: one 128-bit legacy channel
    (64 B per BL4), 32K rows of 2 KiB, dual issue of a row and a column command per cycle, its timings
    (tCCD_S/L 1/2 become 2/2 under its max(burst, tCCD); tRTP 5 is its default, the ini's tRTP_L/_S
    are never read; tRFC 260, tRRD_L 6, tFAW 30, CWL 4, tRCDWR 14)."""
    raw = yaml.safe_load((SPEC_DIR / "HBM2.yaml").read_text())
    raw["name"] = "HBM2 legacy (DRAMsim3 HBM2_8Gb_x128)"
    raw["organisation"].update(channel_width_bits=128, device_width_bits=128, rows=32768, columns=128)
    raw["command_bus"] = {"kind": "split", "act_cycles": 1, "shared_by_channels": 1}
    raw["timing"].update(CL=14, CWL=4, tRCD=14, tRCDWR=14, tRP=14, tRAS=34, tRC=48, tCCD_S=2, tCCD_L=2,
                         tRRD_S=4, tRRD_L=6, tFAW=30, tWR=16, tRTP=5, tWTR_S=6, tWTR_L=8, tRTRS=2,
                         tRFC=260, tREFI=3900)
    return build_spec(raw, where="HBM2.yaml (legacy reshape)")


# The trace front end of each injector: DRAMsim3's TraceBasedCPU offers one record a cycle, in order;
# the all-due injector offers every due record, in order (our in_order front end with no limit).
PEER_PER_CYCLE = {"trace_cpu": 1, "all_due": 0}
# Requests an HBM2_8Gb_x128.ini channel holds: its 16-entry transaction queue (per direction) plus
# its one 32-entry per-rank command queue (1 rank). Our controller has one queue level, so it gets
# both (with 16 alone, in-order seq_rd takes 14,996 cycles, 1.47x DRAMsim3: the head blocks sooner).
HBM2_QUEUE = 16 + 32


def run_peer(org: str, pattern: str, n: int = 10_000, injector: str = "trace_cpu") -> dict:
    """Our stats on the dram_trace_gen.py trace, with the controller settings mirroring DRAMsim3's ini
    and the injector's admission (in trace order; one a cycle for its trace CPU)."""
    if org == "hbm2":
        spec, channels, queue = hbm2_legacy_spec(), 8, HBM2_QUEUE
    else:                                # the table-1 settings: 32-entry queues
        spec, channels, queue = load_spec("DDR4-3200"), 1, 32
    lvl = DramLevel(org, Engine(), spec, channels=channels, mapping=PEER_ORGS[org][0], read_queue=queue,
                    write_queue=queue, frontend_latency_cycles=FRONTEND_CYCLES,
                    trace_frontend="in_order", trace_per_cycle=PEER_PER_CYCLE[injector])
    a, w, c = peer_trace(pattern, org, n)
    return replay(lvl, a, w, c, spec.burst_bytes, lvl.clock)


def load_peer_extra() -> list[dict]:
    with open(HERE / "dramsim3_extra.csv") as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


def peer_table(n: int) -> int:
    """Print DRAMsim3's extra rows beside ours; return the number of included rows off by > 3 %."""
    print(f"\nDRAMsim3 beyond the reference (dramsim3_extra.csv, {n} requests; ours with the mirrored settings)")
    print(f"{'org':9s} {'pattern':10s} {'injector':9s} {'metric':14s} {'ours':>10s} {'DRAMsim3':>10s} "
          f"{'ratio':>6s}  verdict")
    missed = 0
    for row in load_peer_extra():
        org, pattern, inj = row["org"], row["pattern"], row["injector"]
        s = run_peer(org, pattern, n, inj)
        reason = PEER_EXCLUDED.get((org, pattern, inj))
        for key, our_key in METRICS:
            if key == "avg_rd_lat_cyc" and pattern not in LATENCY_ONLY_ON:
                continue
            ours, theirs = float(s[our_key]), float(row[key])
            ratio = ours / theirs if theirs else float("nan")
            if key != "total_cycles":
                v = "info"
            elif reason:
                v = f"excluded: {reason}"
            else:
                ok = abs(ratio - 1) <= PEER_TOLERANCE
                missed += not ok
                v = "within 3%" if ok else "MISS"
            print(f"{org:9s} {pattern:10s} {inj:9s} {key:14s} {ours:10.4g} {theirs:10.4g} {ratio:6.3f}  {v}")
    return missed


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000)
    args = ap.parse_args()
    failed = 0
    print("Closed forms (DDR4-3200, pure DRAM timing, no controller pipeline)")
    print(f"{'quantity':66s} {'ours':>10s} {'closed':>10s} {'ratio':>7s}")
    for name, ours, closed in closed_forms(args.n):
        ok = abs(ours / closed - 1) <= 0.01
        failed += not ok
        print(f"{name:66s} {ours:10.3f} {closed:10.3f} {ours / closed:7.4f} {'ok' if ok else 'MISS'}")
    print(f"\nMeasured (DDR4-3200, {args.n} requests, seed 1; controller pipeline {FRONTEND_CYCLES} cycles)")
    hdr = (f"{'org':9s} {'pattern':9s} {'metric':14s} {'ours':>10s} {'DRAMSim3':>10s} {'Ramulator':>10s} "
           f"{'/DS3':>6s} {'/Ram':>6s}  verdict")
    print(hdr)
    for (org, pattern), sims in load_reference().items():
        s = run(pattern, org, args.n)
        for key, our_key in METRICS:
            if key == "avg_rd_lat_cyc" and pattern not in LATENCY_ONLY_ON:
                continue
            ours = float(s[our_key])
            ds3, ram = float(sims["DRAMSim3"][key]), float(sims["Ramulator 2.1"][key])
            v, ok = verdict(ours, ds3, ram)
            failed += not ok
            r1 = ours / ds3 if ds3 else float("nan")
            r2 = ours / ram if ram else float("nan")
            print(f"{org:9s} {pattern:9s} {key:14s} {ours:10.4g} {ds3:10.4g} {ram:10.4g} {r1:6.3f} {r2:6.3f}  {v}")
    print("\nWhere the simulators disagree we follow DRAMSim3's refresh (staggered per rank, tRFC = 350 ns per"
          " JEDEC) and Ramulator's one-command-per-cycle bus with strict oldest-first FR-FCFS; see docs/memory.md.")
    if args.n == 10_000:                 # the extra table was recorded at n = 10,000
        failed += peer_table(args.n)
    print(f"\n{'all targets met' if not failed else f'{failed} target(s) missed'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
