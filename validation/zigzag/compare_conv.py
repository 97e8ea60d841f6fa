"""archsim beside ZigZag on ResNet-18's conv layers on ZigZag's `tpu_like`: DRAM bytes and latency.

ZigZag's figures come from zigzag_tpu_like_resnet18.csv, or with `--net others`
zigzag_tpu_like_others.csv (AlexNet's and MobileNetV2's ungrouped convs); run_zigzag_conv.py wrote
both (zigzag-dse 3.9.1; see their `source` column), so this runs without ZigZag. The archsim
design is compare.py's DESIGN, the equivalent of tpu_like (its docstring derives every figure).
Per layer:
  * run: `archsim run` on the conv (the mapper's latency objective, fast fidelity);
  * at ZigZag's latency: the mapping with the fewest DRAM bytes among those no slower than ZigZag's
    reported latency (the same search space, scored by the same cost model): ZigZag's optimiser
    trades latency for bytes at another point, so this compares the traffic at equal speed.
Where ZigZag's latency is below what the 8 B/cycle port can carry for its own bytes, it is marked.
"""
from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
PORT_BYTES_PER_CYCLE = 8.0          # tpu_like: one 64 bit read/write DRAM port at 1 GHz


def zigzag_rows(net: str = "resnet18") -> list[dict]:
    with open(HERE / f"zigzag_tpu_like_{net}.csv") as f:
        return list(csv.DictReader(f))


def _design():
    spec = importlib.util.spec_from_file_location("zigzag_compare", HERE / "compare.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.DESIGN


def least_dram_within(mapper, op, conv, cycles_cap: float):
    """The fewest-DRAM-bytes mapping no slower than `cycles_cap`: (hold, tile, innermost) rows in
    order of their traffic (exact for m or k innermost, a lower bound for n), each row's orders scored."""
    from dataflows.bounds import dram_bytes, held_dram_bytes
    from dataflows.mapper import Resolved, _orders_with_innermost
    from dataflows.mapspace import ORDERS

    g = op.as_gemm()
    space = mapper.space(g, Resolved(), conv)
    tiles = space.tile_array()
    traffic = np.stack([dram_bytes(tiles, g, mapper.bits, conv)[0] if h == ("", "") else
                        np.where(space.hold_fit(tiles, h)[:, None],
                                 held_dram_bytes(tiles, g, mapper.bits, conv, ORDERS, h), np.inf)
                        for h in space.holds])
    best = None
    for flat in np.argsort(traffic, axis=None, kind="stable").tolist():
        h, rest = divmod(flat, traffic.shape[1] * 3)
        ti, inner = divmod(rest, 3)
        bound = traffic[h, ti, inner]
        if not np.isfinite(bound) or (best is not None and bound >= best.dram_total_bytes):
            break
        tile, hold = tuple(tiles[ti].tolist()), space.holds[h]
        for o in _orders_with_innermost(space.orders, tile, (g.M, g.N, g.K), inner, hold):
            for df in space.dataflows:
                c = mapper.cost.evaluate(space.mapping(*tile, o, df, hold))
                if c.cycles <= cycles_cap and (best is None or c.dram_total_bytes < best.dram_total_bytes):
                    best = c
    return best


def compare(at_zigzag_latency: bool = True, net: str = "resnet18") -> list[dict]:
    """Per layer: ZigZag's figures, `archsim run`'s, and (with `at_zigzag_latency`, slow) the
    fewest-byte mapping no slower than ZigZag, and the check of the mapper's objective: its pick's
    bytes beside the fewest of any mapping within its latency window (2% of the fastest)."""
    import archsim
    from archsim.config.loader import load_config
    from archsim.workload import parse_conv
    from dataflows.conv_reuse import conv_geometry
    from dataflows.mapper import mapper_for

    design = load_config(_design())
    out = []
    for r in zigzag_rows(net):
        spec = (f"H={r['H']},W={r['W']},R={r['R']},S={r['S']},C={r['C']},F={r['F']},stride={r['stride']},"
                f"pad={r['pad']},name={r['name']}")
        op = parse_conv(spec)
        row = archsim.run(design, {"conv": [spec], "bits": 8}).ops[0]
        zz_bytes = sum(int(r[k]) for k in ("dram_I_rd", "dram_W_rd", "dram_O_rd", "dram_O_wr"))
        zz_cycles = float(r["latency_cycles"])
        at_zz = window = pick = None
        if at_zigzag_latency:
            mapper, conv = mapper_for(design, "sa", None, op), conv_geometry(op)
            at_zz = least_dram_within(mapper, op, conv, zz_cycles)
            res = mapper.map_gemm(op.as_gemm(), op.name, op.kind, conv)
            pick = res.best.dram_total_bytes
            window = least_dram_within(mapper, op, conv, min(c.cycles for c in res.top) * (1 + res.tolerance))
        g = op.as_gemm()
        out.append({"name": r["name"], "kernel": int(r["R"]), "uses": int(r["uses"]),
                    "zigzag_bytes": zz_bytes, "zigzag_cycles": zz_cycles,
                    "zigzag_bytes_per_cycle": zz_bytes / zz_cycles,
                    "zigzag_I": int(r["dram_I_rd"]), "zigzag_W": int(r["dram_W_rd"]),
                    "zigzag_O": int(r["dram_O_rd"]) + int(r["dram_O_wr"]),
                    "run_bytes": row["dram_read_bytes"] + row["dram_write_bytes"], "run_cycles": row["cycles"],
                    "run_mapping": row["mapping"],
                    "at_zz_bytes": at_zz.dram_total_bytes if at_zz else None,
                    "at_zz_cycles": at_zz.cycles if at_zz else None,
                    "at_zz_dram": dict(at_zz.dram_bytes) if at_zz else None,
                    "at_zz_mapping": str(at_zz.mapping) if at_zz else None,
                    "pick_bytes": pick, "window_bytes": window.dram_total_bytes if window else None,
                    "im2col_bytes": g.M * g.K + g.K * g.N + g.M * g.N})
    return out


def main(argv: list[str]) -> int:
    rows = compare(net=argv[1] if argv[:1] == ["--net"] else "resnet18")
    print(f"{'layer':<14} {'k':>1} {'ZigZag B':>9} {'cycles':>8} {'B/cyc':>5} | {'run B':>9} {'ratio':>5} "
          f"{'cycles':>8} | {'at ZZ lat B':>11} {'ratio':>5} {'cycles':>8} | {'pick B':>9} {'2% min B':>9} "
          f"| {'im2col B':>9}")
    for r in rows:
        z = r["zigzag_bytes"]
        at = f"{r['at_zz_bytes']:>11} {r['at_zz_bytes'] / z:>5.3f} {r['at_zz_cycles']:>8}" if r["at_zz_bytes"] \
            else f"{'none':>11} {'':>5} {'':>8}"
        zz = f"{z:>9} {r['zigzag_cycles']:>8.0f} {r['zigzag_bytes_per_cycle']:>5.2f}"
        ours = f"{r['run_bytes']:>9} {r['run_bytes'] / z:>5.3f} {r['run_cycles']:>8}"
        obj = f"{r['pick_bytes']:>9} {r['window_bytes']:>9}"
        print(f"{r['name']:<14} {r['kernel']:>1} {zz} | {ours} | {at} | {obj} | {r['im2col_bytes']:>9}")
    print("ZigZag B: its DRAM bytes (I + W + O, memory_word_access at DRAM x 8); B/cyc: those over its latency "
          f"(above {PORT_BYTES_PER_CYCLE:.0f}, the 64 bit port, is faster than the port can carry).\n"
          "run: `archsim run` (latency objective); at ZZ lat: the fewest-byte mapping no slower than ZigZag; "
          "pick B: the mapper's best (its own estimate);\n2% min B: the fewest bytes of any mapping within its "
          "latency window; im2col B: what the old im2col lowering moved at least.")
    for r in rows:
        print(f"  {r['name']}: run {r['run_mapping']}; at ZigZag's latency {r['at_zz_mapping']} {r['at_zz_dram']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
