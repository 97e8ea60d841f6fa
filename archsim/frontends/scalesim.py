"""SCALE-Sim v3 front end: its .cfg and topology CSV in, its COMPUTE_REPORT.csv out.

The reader follows SCALE-Sim's conventions (header line skipped, last field of every row dropped,
`DP` layers split per channel, ceil-based conv output size, no padding, batch 1) so the same files
give the same layers; every bad value is an ArchsimError naming file, line and field.
"""
from __future__ import annotations

import configparser
import csv
from dataclasses import dataclass
from pathlib import Path

from archsim.errors import ArchsimError
from archsim.fileio import atomic_write_text
from archsim.units.base import GemmShape
from archsim.units.systolic.conv import conv_to_gemm
from archsim.units.systolic.scalesim_timing import scalesim_cycles

REQUIRED_KEYS: dict[str, tuple[str, ...]] = {
    "general": ("run_name",),
    "architecture_presets": (
        "ArrayHeight", "ArrayWidth", "IfmapSramSzkB", "FilterSramSzkB", "OfmapSramSzkB",
        "IfmapOffset", "FilterOffset", "OfmapOffset", "Dataflow", "Bandwidth",
        "ReadRequestBuffer", "WriteRequestBuffer"),
    "layout": (
        "IfmapCustomLayout", "IfmapSRAMBankBandwidth", "IfmapSRAMBankNum", "IfmapSRAMBankPort",
        "FilterCustomLayout", "FilterSRAMBankBandwidth", "FilterSRAMBankNum", "FilterSRAMBankPort"),
    "sparsity": ("SparsitySupport", "SparseRep", "OptimizedMapping", "BlockSize",
                 "RandomNumberGeneratorSeed"),
    "run_presets": ("InterfaceBandwidth", "UseRamulatorTrace"),
}

_CFG_TEMPLATE = """[general]
run_name = {run_name}

[architecture_presets]
ArrayHeight: {rows}
ArrayWidth: {cols}
IfmapSramSzkB: {sram_kb}
FilterSramSzkB: {sram_kb}
OfmapSramSzkB: {sram_kb}
IfmapOffset: 0
FilterOffset: 10000000
OfmapOffset: 20000000
Bandwidth: 10
Dataflow: {dataflow}
ReadRequestBuffer: 32
WriteRequestBuffer: 32

[layout]
IfmapCustomLayout: False
IfmapSRAMBankBandwidth: 10
IfmapSRAMBankNum: 10
IfmapSRAMBankPort: 2
FilterCustomLayout: False
FilterSRAMBankBandwidth: 10
FilterSRAMBankNum: 10
FilterSRAMBankPort: 2

[sparsity]
SparsitySupport: false
SparseRep: ellpack_block
OptimizedMapping: false
BlockSize: 8
RandomNumberGeneratorSeed: 40

[run_presets]
InterfaceBandwidth: CALC
UseRamulatorTrace: False
"""


def scalesim_cfg_text(rows: object, cols: object, dataflow: object, sram_kb: int = 1024,
                      run_name: str = "archsim") -> str:
    """A complete SCALE-Sim v3 .cfg (CALC mode, every required key) for an R x C array, so the two
    simulators can be run on the same design."""
    return _CFG_TEMPLATE.format(rows=rows, cols=cols, dataflow=dataflow, sram_kb=sram_kb, run_name=run_name)


REPORT_COLUMNS = ("LayerID", "Total Cycles", "Stall Cycles", "Overall Util %",
                  "Mapping Efficiency %", "Compute Util %")
PIPELINED_COLUMN = "archsim Pipelined Cycles"


@dataclass(frozen=True)
class ScalesimConfig:
    """The parts of a SCALE-Sim .cfg that decide compute timing."""

    run_name: str
    rows: int
    cols: int
    dataflow: str
    interface_bandwidth: str      # CALC (stall-free) or USER (SCALE-Sim adds its own stalls)
    ignored: tuple[str, ...] = ()  # "key=value" of every .cfg key that does not shape the compute report


@dataclass(frozen=True)
class Layer:
    """One topology layer after SCALE-Sim's splitting, with where it came from."""

    name: str
    line: int
    gemm: GemmShape


def _line_of(path: Path, key: str) -> int | None:
    for i, text in enumerate(path.read_text().splitlines(), 1):
        if text.split("=")[0].split(":")[0].strip().lower() == key.lower():
            return i
    return None


def _positive_int(text: str, where: str, field: str) -> int:
    try:
        v = int(text.strip())
    except ValueError:
        raise ArchsimError(f"{where}: field {field!r} must be a positive integer, got {text.strip()!r}") from None
    if v < 1:
        raise ArchsimError(f"{where}: field {field!r} must be a positive integer, got {v}")
    return v


def read_config(path: str | Path) -> ScalesimConfig:
    """Parse a SCALE-Sim .cfg; every key SCALE-Sim requires must be present (it has no defaults)."""
    path = Path(path)
    cp = configparser.ConfigParser()
    try:
        read = cp.read(path)
    except configparser.Error as exc:
        raise ArchsimError(f"{path}: not a valid SCALE-Sim .cfg file ({exc})") from None
    if not read:
        raise ArchsimError(f"{path}: cannot read the SCALE-Sim config file")
    for section, keys in REQUIRED_KEYS.items():
        if not cp.has_section(section):
            raise ArchsimError(f"{path}: missing section [{section}]; SCALE-Sim needs it with keys {', '.join(keys)}")
        for key in keys:
            if not cp.has_option(section, key):
                raise ArchsimError(f"{path}: section [{section}] is missing key {key!r} "
                                   "(SCALE-Sim has no default for it)")

    def get(section: str, key: str) -> tuple[str, str]:
        line = _line_of(path, key)
        return cp.get(section, key).strip(), f"{path}, line {line}" if line else str(path)

    rows = _positive_int(*get("architecture_presets", "ArrayHeight"), "ArrayHeight")
    cols = _positive_int(*get("architecture_presets", "ArrayWidth"), "ArrayWidth")
    df, where = get("architecture_presets", "Dataflow")
    if df.lower() not in ("os", "ws", "is"):
        raise ArchsimError(f"{where}: field 'Dataflow' must be os, ws or is, got {df!r}")
    bw, where = get("run_presets", "InterfaceBandwidth")
    if bw.upper() not in ("CALC", "USER"):
        raise ArchsimError(f"{where}: field 'InterfaceBandwidth' must be CALC or USER, got {bw!r}")
    sp, where = get("sparsity", "SparsitySupport")
    if sp.lower() in ("true", "1", "yes"):
        raise ArchsimError(f"{where}: SparsitySupport is on, but archsim's SCALE-Sim mode models dense "
                           "layers only; set it to false")
    used = {"run_name", "arrayheight", "arraywidth", "dataflow", "interfacebandwidth", "sparsitysupport"}
    ignored = tuple(f"{key_name(s, k)}={v.strip()}" for s in cp.sections() for k, v in cp.items(s)
                    if k.lower() not in used)
    return ScalesimConfig(run_name=get("general", "run_name")[0], rows=rows, cols=cols,
                          dataflow=df.lower(), interface_bandwidth=bw.upper(), ignored=ignored)


def key_name(section: str, key: str) -> str:
    """A .cfg key as SCALE-Sim spells it (configparser lowercases keys)."""
    return next((k for k in REQUIRED_KEYS.get(section, ()) if k.lower() == key), key)


def conv_layers(name: str, H: int, W: int, R: int, S: int, C: int, F: int, stride: int,
                line: int = 0, depthwise: bool = False) -> list[Layer]:
    """One conv row as SCALE-Sim runs it: a `DP` layer (or one marked `#dw`) becomes C
    single-channel layers, F filters each."""
    chans = [(f"{name}Channel_{c}", 1) for c in range(C)] if "DP" in name or depthwise else [(name, C)]
    return [Layer(lname, line, conv_to_gemm(H, W, R, S, ch, F, stride, convention="scalesim"))
            for lname, ch in chans]


def read_topology(path: str | Path, input_type: str = "conv") -> list[Layer]:
    """Parse a topology CSV the way SCALE-Sim does: skip the header, drop every row's last field.

    A last field of `#dw` (which SCALE-Sim drops like any other) marks a depthwise layer, as a `DP`
    in its name does."""
    path = Path(path)
    if input_type not in ("conv", "gemm"):
        raise ArchsimError(f"topology input type must be conv or gemm, got {input_type!r}")
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise ArchsimError(f"{path}: cannot read the topology file ({exc.strerror})") from None
    fields = ("M", "N", "K") if input_type == "gemm" else ("H", "W", "R", "S", "C", "F", "stride")
    layers: list[Layer] = []
    for lineno, text in enumerate(lines[1:], 2):
        if not text.strip():
            continue
        where = f"{path}, line {lineno}"
        marked = text.rstrip().lower().endswith("#dw")
        if not (text.rstrip().endswith(",") or marked):
            raise ArchsimError(f"{where}: row must end with a trailing comma (SCALE-Sim drops the last "
                               f"field of every row) or a `#dw` marker, got {text.strip()!r}")
        elems = next(csv.reader([text.rstrip()]))[:-1]
        need = 1 + len(fields)
        if len(elems) < need:
            raise ArchsimError(f"{where}: a {input_type} row needs name,{','.join(fields)}, "
                               f"got {len(elems)} fields")
        extra = [e for e in elems[need:] if e.strip()]
        if extra:
            raise ArchsimError(f"{where}: field {need + 1} ({extra[0].strip()!r}, sparsity N:M) is not "
                               "modelled; archsim's SCALE-Sim mode is dense only")
        name = elems[0].strip()
        v = {f: _positive_int(e, where, f) for f, e in zip(fields, elems[1:need])}
        if input_type == "gemm":          # SCALE-Sim: ifmap M x K, 1 x K filter, N filters
            layers.append(Layer(name, lineno, GemmShape(v["M"], v["N"], v["K"])))
            continue
        if v["R"] > v["H"] or v["S"] > v["W"]:
            raise ArchsimError(f"{where}: filter {v['R']}x{v['S']} is larger than input {v['H']}x{v['W']}")
        layers += conv_layers(name, *v.values(), line=lineno, depthwise=marked)
    if not layers:
        raise ArchsimError(f"{path}: no layers after the header line")
    return layers


def compute_report(cfg: ScalesimConfig, layers: list[Layer]) -> list[dict[str, object]]:
    """SCALE-Sim's COMPUTE_REPORT rows from the closed form (stall-free), plus pipelined cycles."""
    from archsim.units.systolic.pipelined import pipelined_cycles

    rows = []
    for i, layer in enumerate(layers):
        g = layer.gemm
        t = scalesim_cycles(g.M, g.N, g.K, cfg.rows, cfg.cols, cfg.dataflow)
        row: dict[str, object] = {
            "LayerID": i, "Total Cycles": t.compute_cycles, "Stall Cycles": 0,
            "Overall Util %": t.overall_util_pct, "Mapping Efficiency %": t.mapping_eff_pct,
            "Compute Util %": t.compute_util_pct}
        row[PIPELINED_COLUMN] = int(pipelined_cycles(g.M, g.N, g.K, cfg.rows, cfg.cols, cfg.dataflow).total_cycles)
        rows.append(row)
    return rows


def write_compute_report(rows: list[dict[str, object]], outdir: str | Path) -> Path:
    """COMPUTE_REPORT.csv in SCALE-Sim's own format (', ' separated, trailing comma)."""
    out = Path(outdir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        dest = out / "COMPUTE_REPORT.csv"
        cols = list(rows[0].keys())
        lines = [", ".join(cols) + ","] + [", ".join(str(r[c]) for c in cols) + "," for r in rows]
        atomic_write_text(dest, "\n".join(lines) + "\n")
    except OSError as exc:
        raise ArchsimError(f"{outdir}: cannot write COMPUTE_REPORT.csv ({exc.strerror})") from None
    return dest
