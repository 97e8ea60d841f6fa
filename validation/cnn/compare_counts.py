"""Bundled vision networks' MAC and parameter counts beside the published figures (published_counts.csv).

    python validation/cnn/compare_counts.py

`rounding` says how a row must agree: `exact` (integers), `nearest` (ours rounded to the published
digits), `down` (the source truncated: published <= ours < published + one unit of its last digit;
the note says where the same source rounds elsewhere) or `differs` (a stated difference, printed only).
"""
from __future__ import annotations

import csv
import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from dataflows.vision import build_network  # noqa: E402

HERE = Path(__file__).resolve().parent
BN = {"w+b": 0, "w+b+2bn": 2, "w+b+4bn": 4}


def rows() -> list[dict]:
    with open(HERE / "published_counts.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def ours(row: dict) -> int:
    params = dict(kv.split("=") for kv in row["params"].split(";") if kv)
    net = build_network(row["network"], **params)
    if row["quantity"] == "params":
        return net.params(BN[row["convention"]])
    return net.macs * (2 if row["quantity"] == "flops" else 1)


def agrees(row: dict, value: int) -> bool | None:
    pub, scale = Decimal(row["published"]), Decimal(row["scale"])
    unit = Decimal(1).scaleb(pub.as_tuple().exponent)            # one unit of the last digit
    v = Decimal(value) / scale
    mode = row["rounding"]
    if mode == "exact":
        return value == int(pub)
    if mode == "nearest":
        return abs(v - pub) <= unit / 2
    if mode == "down":
        return pub <= v < pub + unit
    return None


def main() -> int:
    bad = 0
    print(f"{'network':20s} {'params':22s} {'quantity':8s} {'ours':>16s} {'published':>12s} {'ratio':>7s}  agrees")
    for r in rows():
        v = ours(r)
        ok = agrees(r, v)
        ratio = v / (float(r["published"]) * float(r["scale"]))
        bad += ok is False
        mark = {True: "yes", False: "NO", None: "differs (see note)"}[ok]
        print(f"{r['network']:20s} {r['params'] or '-':22s} {r['quantity']:8s} {v:>16,d} {r['published']:>12s} "
              f"{ratio:7.4f}  {mark} ({r['rounding']})")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
