"""The DRACO-style study: depthwise layers idle a 64x64 array, grouping them cuts latency, and the
bundled sweep spec varies the network's shape (50 points)."""
import importlib.util
from pathlib import Path

from archsim.cli import main

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("draco", ROOT / "validation" / "cnn" / "draco.py")
draco = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(draco)


def test_depthwise_idles_the_array_and_grouping_helps():
    from archsim import load_config

    design = load_config(ROOT / "configs" / "cnn" / "draco_64x64.yaml")
    rows, base_ns = draco.layers(design, 1.0, 224, 1)
    util = {t: [op["utilization"] for op in rows if draco.layer_type(op) == t] for t in ("depthwise", "pointwise")}
    assert len(util["depthwise"]) == len(util["pointwise"]) == 13
    assert max(util["depthwise"]) < 0.01 < 0.5 < min(util["pointwise"][1:])
    rows2, ns2 = draco.layers(design, 1.0, 224, 2)
    assert sum(op["macs"] for op in rows2) > sum(op["macs"] for op in rows) and ns2 < 0.7 * base_ns
    assert all(draco.layer_type(op) == "grouped" for op in rows2 if op["name"].endswith("_gconv"))


def test_bundled_sweep_has_fifty_points(capsys):
    assert main(["sweep", str(ROOT / "configs" / "sweeps" / "draco_mobilenet_64x64.yaml"), "--dry-run"]) == 0
    assert "50 points" in capsys.readouterr().out


def test_depthwise_may_go_to_the_vector_unit():
    """With `depthwise: true` the vector unit runs depthwise convs (channels across lanes); placement
    sends them where they finish first, which on this design is the vector unit."""
    from archsim import load_config, run

    path = ROOT / "configs" / "cnn" / "draco_64x64.yaml"
    base = run(load_config(path), {"model": "mobilenet-v1"}).to_dict()
    vec = run(load_config(path, {"units.vec.depthwise": True}), {"model": "mobilenet-v1"}).to_dict()
    units = {op["name"]: op["unit"] for op in vec["ops"]}
    assert all(units[n] == "vec" for n in units if n.endswith("_dw"))
    assert all(units[n] == "sa" for n in units if n.endswith("_pw"))
    assert vec["totals"]["macs"] == base["totals"]["macs"] == 568_740_352
    assert vec["totals"]["time_ns"] < 0.5 * base["totals"]["time_ns"]
