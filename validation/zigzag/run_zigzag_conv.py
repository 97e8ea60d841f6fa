"""Run ZigZag (PyPI `zigzag-dse`) on ResNet-18's distinct conv layers on its `tpu_like`; write
zigzag_tpu_like_resnet18.csv (latency and DRAM bytes per operand). With `--net others`: the
ungrouped convs with a kernel above 1x1 of ZigZag's other bundled networks (inputs/workload/
alexnet.onnx and mobilenetv2.onnx, read with onnx shape inference: AlexNet's Op0 and Op8, the
other three are grouped; MobileNetV2's first conv, the rest are 1x1 or depthwise), written to
zigzag_tpu_like_others.csv.

Run in a separate venv (never an archsim dependency):
    python -m venv .zzvenv && .zzvenv/bin/pip install zigzag-dse six
    .zzvenv/bin/python validation/zigzag/run_zigzag_conv.py [--net others] [layer ...]
The layers are written as ZigZag workload entries in the form its own ONNX conv parser produces
(zigzag/parser/onnx/conv_parser.py: equation, dimension relations, input sizes, padding), batch 1,
precisions I 8 / W 8 / partial sums 16 / outputs 8 bit. DRAM bytes per operand are ZigZag's
`memory_word_access` at the top (DRAM) level, in words of the DRAM port's width (64 bit) x 8.
The CSV is what compare_conv.py and the tests read, so no ZigZag is needed there.
"""
from __future__ import annotations

import csv
import importlib.metadata
import os
import sys
import tempfile
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
# ResNet-18 (He et al. 2016, Table 1) at 224x224, each distinct conv shape once; `uses` = how many of the
# network's convs have it.  name, H(=W), R(=S), C, F, stride, pad, uses
LAYERS = [
    ("conv1", 224, 7, 3, 64, 2, 3, 1),
    ("layer1_3x3", 56, 3, 64, 64, 1, 1, 4),
    ("layer2_3x3_s2", 56, 3, 64, 128, 2, 1, 1),
    ("layer2_3x3", 28, 3, 128, 128, 1, 1, 3),
    ("layer2_down", 56, 1, 64, 128, 2, 0, 1),
    ("layer3_3x3_s2", 28, 3, 128, 256, 2, 1, 1),
    ("layer3_3x3", 14, 3, 256, 256, 1, 1, 3),
    ("layer3_down", 28, 1, 128, 256, 2, 0, 1),
    ("layer4_3x3_s2", 14, 3, 256, 512, 2, 1, 1),
    ("layer4_3x3", 7, 3, 512, 512, 1, 1, 3),
    ("layer4_down", 14, 1, 256, 512, 2, 0, 1),
]
OTHERS = [
    ("alexnet_conv1", 224, 11, 3, 96, 4, 0, 1),
    ("alexnet_conv3", 12, 3, 256, 384, 1, 1, 1),
    ("mobilenetv2_conv0", 224, 3, 3, 32, 2, 1, 1),
]
NETS = {"resnet18": LAYERS, "others": OTHERS}
PRECISION = {"W": 8, "I": 8, "O_final": 8, "O": 16}
PORT_BITS = 64          # tpu_like.yaml: dram rw_port_1, 64 bit


def out_size(H: int, R: int, stride: int, pad: int) -> int:
    return (H + 2 * pad - R) // stride + 1


def workload(H: int, R: int, C: int, F: int, stride: int, pad: int) -> list[dict]:
    P = out_size(H, R, stride, pad)
    return [{"id": 0, "name": "conv", "operator_type": "Conv",
             "equation": "O[b][g][k][oy][ox]+=W[g][k][c][fy][fx]*I[b][g][c][iy][ix]",
             "loop_dims": ["B", "K", "G", "OX", "OY", "C", "FX", "FY"],
             "loop_sizes": [1, F, 1, P, P, C, R, R],
             "dimension_relations": [f"ix={stride}*ox+1*fx", f"iy={stride}*oy+1*fy"],
             "operand_precision": dict(PRECISION), "operand_source": {"I": 0},
             "pr_loop_dims": ["IX", "IY"], "pr_loop_sizes": [H, H], "padding": [[pad, pad], [pad, pad]]}]


def dram_bytes(cme) -> dict[str, int]:
    """Per operand, DRAM reads (down to the SRAM/RF) and writes (up from it) in bytes."""
    out = {}
    for op, levels in cme.memory_word_access.items():
        top = levels[-1]
        name = str(op)
        words = {str(d): v for d, v in top.data.items()}
        out[f"{name}_rd"] = int(words["rd_out_to_low"]) * PORT_BITS // 8
        out[f"{name}_wr"] = int(words["wr_in_by_low"]) * PORT_BITS // 8
    return out


def main(argv: list[str]) -> int:
    from zigzag import api
    import zigzag

    inputs = Path(zigzag.__file__).parent / "inputs"
    acc, mapping = str(inputs / "hardware" / "tpu_like.yaml"), str(inputs / "mapping" / "tpu_like.yaml")
    version = importlib.metadata.version("zigzag-dse")
    net = "resnet18"
    if argv[:1] == ["--net"]:
        net, argv = argv[1], argv[2:]
    out = HERE / f"zigzag_tpu_like_{net}.csv"
    old = {r["name"]: r for r in csv.DictReader(open(out))} if out.exists() else {}
    rows = []
    for name, H, R, C, F, stride, pad, uses in NETS[net]:
        if argv and name not in argv:
            if name in old:
                rows.append(old[name])
            continue
        with tempfile.TemporaryDirectory() as tmp:
            wl = os.path.join(tmp, "wl.yaml")
            Path(wl).write_text(yaml.safe_dump(workload(H, R, C, F, stride, pad)))
            energy, latency, cmes = api.get_hardware_performance_zigzag(
                wl, acc, mapping, opt="latency", dump_folder=tmp, loma_show_progress_bar=False)
        cme = cmes[0][1][0][0] if isinstance(cmes[0][1], list) else cmes[0][0]
        d = dram_bytes(cme)
        rows.append({"name": name, "H": H, "W": H, "R": R, "S": R, "C": C, "F": F, "stride": stride, "pad": pad,
                     "uses": uses, "latency_cycles": round(float(latency), 1),
                     "ideal_cycles": round(float(cme.ideal_cycle), 1),
                     "dram_I_rd": d.get("I_rd", 0), "dram_W_rd": d.get("W_rd", 0), "dram_O_rd": d.get("O_rd", 0),
                     "dram_O_wr": d.get("O_wr", 0), "energy_pj": round(float(energy), 1),
                     "temporal_mapping": str(cme.temporal_mapping).replace("\n", " | "),
                     "source": f"zigzag-dse {version}, tpu_like.yaml + mapping tpu_like.yaml (default: D1=K 32, "
                               f"D2=C 32), opt=latency, LOMA uneven, batch 1, precision {PRECISION}, DRAM bytes "
                               f"= memory_word_access at DRAM x {PORT_BITS // 8}"})
        print({k: v for k, v in rows[-1].items() if k not in ("source", "temporal_mapping")}, file=sys.stderr,
              flush=True)
    with open(out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
