"""SCALE-Sim v3 front end: its .cfg and topology CSV in, its three report files out.

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
from archsim.units.systolic.scalesim_memory import SCHEDULES, ConvGeometry, MemoryRun, UserMemory, memory_run
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
IfmapSramSzkB: {ifmap_kb}
FilterSramSzkB: {filter_kb}
OfmapSramSzkB: {ofmap_kb}
IfmapOffset: 0
FilterOffset: 10000000
OfmapOffset: 20000000
Bandwidth: {ofmap_bw}
Dataflow: {dataflow}
ReadRequestBuffer: 32
WriteRequestBuffer: 32

[layout]
IfmapCustomLayout: False
IfmapSRAMBankBandwidth: {ifmap_bw}
IfmapSRAMBankNum: {banks}
IfmapSRAMBankPort: 2
FilterCustomLayout: False
FilterSRAMBankBandwidth: {filter_bw}
FilterSRAMBankNum: {banks}
FilterSRAMBankPort: 2

[sparsity]
SparsitySupport: false
SparseRep: ellpack_block
OptimizedMapping: false
BlockSize: 8
RandomNumberGeneratorSeed: 40

[run_presets]
InterfaceBandwidth: {mode}
UseRamulatorTrace: False
"""


def scalesim_cfg_text(rows: object, cols: object, dataflow: object, sram_kb: int = 1024,
                      run_name: str = "archsim", mode: str = "CALC", memory: UserMemory | None = None) -> str:
    """A complete SCALE-Sim v3 .cfg (every required key) for an R x C array, so the two simulators
    can be run on the same design: `sram_kb` per SRAM at 10 words/cycle in 10 banks, or `memory`'s
    sizes and bandwidths in one bank each (SCALE-Sim wants the bandwidth to split evenly)."""
    mem = memory or UserMemory(sram_kb, sram_kb, sram_kb, 10, 10, 10)
    return _CFG_TEMPLATE.format(rows=rows, cols=cols, dataflow=dataflow, run_name=run_name, mode=mode,
                                banks=1 if memory else 10, **vars(mem))


PREFETCH_COLUMN = "Total Cycles (incl. prefetch)"
REPORT_COLUMNS = ("LayerID", PREFETCH_COLUMN, "Total Cycles", "Stall Cycles", "Overall Util %",
                  "Mapping Efficiency %", "Compute Util %")
BANDWIDTH_COLUMNS = ("LayerID", "Avg IFMAP SRAM BW", "Avg FILTER SRAM BW", "Avg OFMAP SRAM BW",
                     "Avg IFMAP DRAM BW", "Avg FILTER DRAM BW", "Avg OFMAP DRAM BW")
_OPERANDS = (("ifmap", "IFMAP"), ("filter", "Filter"), ("ofmap", "OFMAP"))
DETAIL_COLUMNS = ("LayerID",
                  *(f"SRAM {n} {f}" for _, n in _OPERANDS for f in
                    ("Start Cycle", "Stop Cycle", "Writes" if n == "OFMAP" else "Reads")),
                  *(f"DRAM {n} {f}" for _, n in _OPERANDS for f in
                    ("Start Cycle", "Stop Cycle", "Writes" if n == "OFMAP" else "Reads")))
PIPELINED_COLUMN = "archsim Pipelined Cycles"


@dataclass(frozen=True)
class ScalesimConfig:
    """The parts of a SCALE-Sim .cfg that decide compute timing."""

    run_name: str
    rows: int
    cols: int
    dataflow: str
    interface_bandwidth: str      # CALC (no bandwidth limit) or USER (finite DRAM bandwidth, stalls)
    memory: UserMemory | None = None   # SRAM sizes and DRAM bandwidths
    ignored: tuple[str, ...] = ()  # "key=value" of every .cfg key that shapes none of the reports

    @property
    def memory_modelled(self) -> bool:
        """Whether archsim models SCALE-Sim's memory here (every dataflow, CALC and USER mode,
        once the SRAM sizes and bandwidths are known)."""
        return self.memory is not None and self.dataflow in SCHEDULES


@dataclass(frozen=True)
class Layer:
    """One topology layer after SCALE-Sim's splitting, with where it came from."""

    name: str
    line: int
    gemm: GemmShape
    geo: ConvGeometry | None = None   # how SCALE-Sim addresses it (for the memory model)


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
    sizes = {k: _positive_int(*get("architecture_presets", k), k)
             for k in ("IfmapSramSzkB", "FilterSramSzkB", "OfmapSramSzkB", "Bandwidth")}
    banks = {k: _positive_int(*get("layout", k), k) for k in
             ("IfmapSRAMBankBandwidth", "IfmapSRAMBankNum", "FilterSRAMBankBandwidth", "FilterSRAMBankNum")}
    for op in ("Ifmap", "Filter"):
        if banks[f"{op}SRAMBankBandwidth"] % banks[f"{op}SRAMBankNum"]:
            raise ArchsimError(f"{path}: [layout] {op}SRAMBankBandwidth ({banks[f'{op}SRAMBankBandwidth']}) "
                               f"must be divisible by {op}SRAMBankNum ({banks[f'{op}SRAMBankNum']}), "
                               "as SCALE-Sim requires")
    memory = UserMemory(sizes["IfmapSramSzkB"], sizes["FilterSramSzkB"], sizes["OfmapSramSzkB"],
                        banks["IfmapSRAMBankBandwidth"], banks["FilterSRAMBankBandwidth"], sizes["Bandwidth"])
    used = {"run_name", "arrayheight", "arraywidth", "dataflow", "interfacebandwidth", "sparsitysupport",
            *(k.lower() for k in sizes), *(k.lower() for k in banks)}
    ignored = tuple(f"{key_name(s, k)}={v.strip()}" for s in cp.sections() for k, v in cp.items(s)
                    if k.lower() not in used)
    return ScalesimConfig(run_name=get("general", "run_name")[0], rows=rows, cols=cols,
                          dataflow=df.lower(), interface_bandwidth=bw.upper(), memory=memory,
                          ignored=ignored)


def key_name(section: str, key: str) -> str:
    """A .cfg key as SCALE-Sim spells it (configparser lowercases keys)."""
    return next((k for k in REQUIRED_KEYS.get(section, ()) if k.lower() == key), key)


def conv_layers(name: str, H: int, W: int, R: int, S: int, C: int, F: int, stride: int,
                line: int = 0, depthwise: bool = False) -> list[Layer]:
    """One conv row as SCALE-Sim runs it: a `DP` layer (or one marked `#dw`) becomes C
    single-channel layers, F filters each."""
    chans = [(f"{name}Channel_{c}", 1) for c in range(C)] if "DP" in name or depthwise else [(name, C)]
    return [Layer(lname, line, conv_to_gemm(H, W, R, S, ch, F, stride, convention="scalesim"),
                  ConvGeometry(H, W, R, S, ch, F, stride)) for lname, ch in chans]


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
            layers.append(Layer(name, lineno, GemmShape(v["M"], v["N"], v["K"]),
                                ConvGeometry(v["M"], v["K"], 1, v["K"], 1, v["N"], 1)))
            continue
        if v["R"] > v["H"] or v["S"] > v["W"]:
            raise ArchsimError(f"{where}: filter {v['R']}x{v['S']} is larger than input {v['H']}x{v['W']}")
        layers += conv_layers(name, *v.values(), line=lineno, depthwise=marked)
    if not layers:
        raise ArchsimError(f"{path}: no layers after the header line")
    return layers


@dataclass
class LayerReport:
    """One layer's rows of SCALE-Sim's three report files."""

    compute: dict[str, object]
    bandwidth: dict[str, object] | None = None
    detail: dict[str, object] | None = None


def layer_report(cfg: ScalesimConfig, layer_id: int, layer: Layer, memory: bool = True) -> LayerReport:
    """SCALE-Sim's report rows for one layer: closed-form compute timing, and (with `memory`, where
    modelled) its memory system's stalls, prefetch-inclusive total, bandwidths and access windows."""
    from archsim.units.systolic.pipelined import pipelined_cycles

    g = layer.gemm
    t = scalesim_cycles(g.M, g.N, g.K, cfg.rows, cfg.cols, cfg.dataflow)
    run: MemoryRun | None = None
    if memory and cfg.memory_modelled and layer.geo is not None:
        assert cfg.memory is not None
        run = memory_run(layer.geo, cfg.rows, cfg.cols, cfg.dataflow, cfg.memory, cfg.interface_bandwidth)
    total = run.total_cycles if run else t.compute_cycles
    util = t.overall_util_pct if run is None else 100.0 * g.M * g.N * g.K / (max(total, 1) * cfg.rows * cfg.cols)
    compute: dict[str, object] = {
        "LayerID": layer_id, PREFETCH_COLUMN: run.total_with_prefetch if run else "",
        "Total Cycles": total, "Stall Cycles": run.stall_cycles if run else 0,
        "Overall Util %": util, "Mapping Efficiency %": t.mapping_eff_pct, "Compute Util %": t.compute_util_pct,
        PIPELINED_COLUMN: int(pipelined_cycles(g.M, g.N, g.K, cfg.rows, cfg.cols, cfg.dataflow).total_cycles)}
    if run is None:
        del compute[PREFETCH_COLUMN]
        return LayerReport(compute)
    sram_counts = {"ifmap": t.sram_ifmap_reads, "filter": t.sram_filter_reads, "ofmap": t.sram_ofmap_writes}
    bandwidth: dict[str, object] = {"LayerID": layer_id}
    for op, name in _OPERANDS:
        bandwidth[f"Avg {name.upper()} SRAM BW"] = sram_counts[op] / total
    for op, name in _OPERANDS:
        start, stop, words = run.dram[op]
        bandwidth[f"Avg {name.upper()} DRAM BW"] = words / (stop - start + 1)
    detail: dict[str, object] = {"LayerID": layer_id}
    for op, name in _OPERANDS:
        verb = "Writes" if op == "ofmap" else "Reads"
        detail[f"SRAM {name} Start Cycle"], detail[f"SRAM {name} Stop Cycle"] = (float(c) for c in run.sram[op])
        detail[f"SRAM {name} {verb}"] = sram_counts[op]
    for op, name in _OPERANDS:
        verb = "Writes" if op == "ofmap" else "Reads"
        start, stop, words = run.dram[op]
        detail[f"DRAM {name} Start Cycle"], detail[f"DRAM {name} Stop Cycle"] = float(start), float(stop)
        detail[f"DRAM {name} {verb}"] = words
    return LayerReport(compute, bandwidth, detail)


def compute_report(cfg: ScalesimConfig, layers: list[Layer], memory: bool = True) -> list[dict[str, object]]:
    """SCALE-Sim's COMPUTE_REPORT rows (plus archsim's pipelined cycles)."""
    return [layer_report(cfg, i, layer, memory).compute for i, layer in enumerate(layers)]


def _csv_lines(rows: list[dict[str, object]]) -> str:
    cols = list(rows[0].keys())
    lines = [", ".join(cols) + ","] + [", ".join(str(r[c]) for c in cols) + "," for r in rows]
    return "\n".join(lines) + "\n"


def write_reports(reports: list[LayerReport], outdir: str | Path, run_name: str) -> Path:
    """SCALE-Sim's report files in its layout: OUTDIR/<run_name>/COMPUTE_REPORT.csv, and
    BANDWIDTH_REPORT.csv and DETAILED_ACCESS_REPORT.csv when the memory was modelled.
    Returns the run folder."""
    run_dir = Path(outdir) / run_name
    files = {"COMPUTE_REPORT.csv": [r.compute for r in reports]}
    if all(r.bandwidth is not None for r in reports):
        files["BANDWIDTH_REPORT.csv"] = [r.bandwidth for r in reports]    # type: ignore[misc]
        files["DETAILED_ACCESS_REPORT.csv"] = [r.detail for r in reports]  # type: ignore[misc]
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        for name, rows in files.items():
            atomic_write_text(run_dir / name, _csv_lines(rows))
    except OSError as exc:
        raise ArchsimError(f"{run_dir}: cannot write SCALE-Sim's reports ({exc.strerror})") from None
    return run_dir
