"""SCALE-Sim's own conv nets and configs through `archsim scalesim`, beside SCALE-Sim v3's figures.

    python validation/cnn/scalesim_nets.py

Reference: `scalesim_reference.csv` (SCALE-Sim's shipped nets under its shipped `scale.cfg` and
`google.cfg`), `scalesim_user_stalls.csv` (small USER-mode os layers that stall) and
`scalesim_ws_is.csv` (ws and is layers in USER and CALC mode); sources in README.md.
Prints every layer: prefetch-inclusive total, total and stall cycles and DRAM words,
ours / SCALE-Sim.
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from archsim.frontends import scalesim as fe  # noqa: E402
from archsim.units.systolic.scalesim_memory import ConvGeometry, UserMemory, memory_run  # noqa: E402

FIELDS = ("total_incl_prefetch", "total_cycles", "stall_cycles",
          "dram_ifmap_reads", "dram_filter_reads", "dram_ofmap_writes")
CONV = ("H", "W", "R", "S", "C", "F", "stride")


def rows(name: str) -> list[dict[str, str]]:
    with open(HERE / name, newline="") as f:
        return list(csv.DictReader(f))


def ours_net(row: dict[str, str]) -> dict[str, int]:
    """One reference layer through the front end, with the shipped .cfg it was run with."""
    cfg = fe.read_config(HERE / "scalesim" / f"{row['config']}.cfg")
    (layer,) = fe.conv_layers(row["layer"], *(int(row[k]) for k in CONV))
    rep = fe.layer_report(cfg, 0, layer)
    assert rep.detail is not None
    return {"total_incl_prefetch": int(rep.compute[fe.PREFETCH_COLUMN]),      # type: ignore[call-overload]
            "total_cycles": int(rep.compute["Total Cycles"]),                 # type: ignore[call-overload]
            "stall_cycles": int(rep.compute["Stall Cycles"]),                 # type: ignore[call-overload]
            "dram_ifmap_reads": int(rep.detail["DRAM IFMAP Reads"]),          # type: ignore[call-overload]
            "dram_filter_reads": int(rep.detail["DRAM Filter Reads"]),        # type: ignore[call-overload]
            "dram_ofmap_writes": int(rep.detail["DRAM OFMAP Writes"])}        # type: ignore[call-overload]


def ours_stall_case(row: dict[str, str]) -> dict[str, int]:
    """A layer with its own array, SRAM sizes and bandwidths; os in USER mode unless the row says."""
    mem = UserMemory(*(int(row[k]) for k in ("ifmap_kb", "filter_kb", "ofmap_kb", "ifmap_bw", "filter_bw",
                                              "ofmap_bw")))
    run = memory_run(ConvGeometry(*(int(row[k]) for k in CONV)), int(row["rows"]), int(row["cols"]),
                     row.get("dataflow", "os"), mem, row.get("mode", "USER"))
    return {"total_incl_prefetch": run.total_with_prefetch, "total_cycles": run.total_cycles,
            "stall_cycles": run.stall_cycles, "dram_ifmap_reads": run.dram["ifmap"][2],
            "dram_filter_reads": run.dram["filter"][2], "dram_ofmap_writes": run.dram["ofmap"][2]}


def main() -> int:
    from archsim.textfmt import render_table

    bad = 0
    for title, name, fn, key in (
            ("SCALE-Sim's nets and configs", "scalesim_reference.csv", ours_net, ("config", "network", "layer")),
            ("USER-mode os layers that stall", "scalesim_user_stalls.csv", ours_stall_case, ("case", "layer")),
            ("ws and is, USER and CALC", "scalesim_ws_is.csv", ours_stall_case,
             ("case", "dataflow", "mode", "layer"))):
        table = []
        for row in rows(name):
            ours = fn(row)
            ratio = [ours[f] / int(row[f]) if int(row[f]) else float(ours[f] == 0) for f in FIELDS]
            bad += any(ours[f] != int(row[f]) for f in FIELDS)
            table.append([" ".join(row[k] for k in key), f"{ours['total_incl_prefetch']:,}",
                          f"{int(row['total_incl_prefetch']):,}", f"{ours['total_cycles']:,}",
                          f"{int(row['total_cycles']):,}", f"{ours['stall_cycles']:,}",
                          f"{int(row['stall_cycles']):,}", f"{min(ratio):.4f}-{max(ratio):.4f}"])
        print(render_table(("layer", "incl.pf ours", "SCALE-Sim", "total ours", "SCALE-Sim", "stall ours",
                            "SCALE-Sim", "ratio (6 fields)"), table, text_cols=(0,), title=title))
    print(f"{bad} layers differ on any field")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
