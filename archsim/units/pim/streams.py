"""The DRAM command streams a PIM kernel issues on each channel (every channel gets the same one).

Commands are the spec's declared names; each carries a phase (mac, row, input, readout, mode) so
the cycle run can say where the time went. Two ways to reach the units' registers are modelled:
`reserved_row` (HBM-PIM: CRF, GRF and mode bits are writes to reserved rows, so loading the input
vector opens the register row in every bank) and `global_buffer` (AiM, Newton, AttAcc: a channel
buffer written without a row; alternating register and bank commands costs a mode change, TMOD).
"""
from __future__ import annotations

from math import ceil

from archsim.errors import WorkloadError
from archsim.units.pim.layout import Geometry, GemvLayout

Cmd = tuple[str, int, int, str]          # (command, bank, row, phase)


class StreamBuilder:
    """Builds one channel's stream, tracking the all-bank open row and the register mode."""

    def __init__(self, cfg, g: Geometry, spec) -> None:
        self.cfg, self.g, self.spec = cfg, g, spec
        self.out: list[Cmd] = []
        self.open = -1                   # row open in every bank (all-bank state), -1: closed
        self.reg_mode = False            # global_buffer: the channel is in register-access mode
        self.reg_row = cfg.register_row if cfg.register_row >= 0 else g.rows - 1
        self.mode_rows = (g.rows - 2, g.rows - 3)
        self._need(("ACTAB", "PREAB", "MACAB") + (("WRAB",) if cfg.registers == "reserved_row" else
                                                  ("WRGB", "WRBIAS", "RDMAC")) +
                   (("TMOD",) if cfg.mode_switch == "register_mode" else ()))

    def _need(self, names: tuple[str, ...]) -> None:
        missing = [n for n in names if n not in self.spec.cmd]
        if missing:
            pim = ", ".join(self.spec.pim_commands) or "none"
            raise WorkloadError(f"PIM unit near a {self.spec.name} level needs DRAM command(s) {', '.join(missing)}, "
                                f"which standard {self.spec.name} does not declare (its PIM commands: {pim}); use a "
                                f"PIM standard (e.g. HBM2-PIM, GDDR6-AiM, HBM3-PIM) for that level")

    def emit(self, cmd: str, phase: str, row: int = -1, bank: int = 0) -> None:
        if self.cfg.mode_switch == "register_mode":
            reg = self.spec.commands[self.spec.cmd[cmd]].register
            if reg != self.reg_mode:
                self.out.append(("TMOD", 0, -1, "mode"))
                self.reg_mode = reg
        self.out.append((cmd, bank, row, phase))

    def row(self, r: int) -> None:
        """Open row r in every bank (closing another first)."""
        if self.open == r:
            return
        self.close()
        self.emit("ACTAB", "row", r)
        self.open = r

    def close(self) -> None:
        if self.open >= 0:
            self.emit("PREAB", "row", self.open)
            self.open = -1

    def cols(self, nbytes: int) -> int:
        return ceil(nbytes / self.g.col_bytes)

    # -- HBM-PIM style mode changes (writes to reserved rows, single banks then all banks) -------------
    def enter(self) -> None:
        if self.cfg.mode_switch != "reserved_rows":
            return
        banks = range(self.g.banks)
        for b in banks:                                  # park: put every bank in a known state
            self.emit("ACT", "mode", self.mode_rows[0], b)
        for b in banks:
            self.emit("RD", "mode", self.mode_rows[0], b)
        for b in banks:
            self.emit("PRE", "mode", self.mode_rows[0], b)
        half = self.spec.bankgroups // 2 * self.spec.banks_per_group
        sel = (0, 1, half, half + 1) if half else (0, 1)
        for c in ("ACT", "WR", "PRE"):                   # SB -> AB: a write to a reserved row of 4 banks
            for b in sel:
                self.emit(c, "mode", self.mode_rows[1], b)

    def leave(self) -> None:
        if self.cfg.mode_switch != "reserved_rows":
            return
        self.close()
        for c in ("ACT", "WR", "PRE"):                   # AB -> SB: 2 banks
            for b in (0, 1):
                self.emit(c, "mode", self.mode_rows[1] - 1, b)

    def reg_write(self, n: int, phase: str) -> None:
        """n column writes into the units' registers (reserved row) or the channel buffer."""
        if self.cfg.registers == "reserved_row":
            self.row(self.reg_row)
            for _ in range(n):
                self.emit("WRAB", phase, self.reg_row)
        else:
            for _ in range(n):
                self.emit("WRGB", phase)

    def macs(self, row: int, ncols: int) -> None:
        self.row(row)
        for _ in range(ncols * self.g.cmds_per_col):
            self.emit("MACAB", "mac", row)


def gemv_stream(cfg, lay: GemvLayout, spec, host_readout: bool = True) -> list[Cmd]:
    """One channel's commands for y = W x (see archsim.units.pim.layout for the placement).
    `host_readout`: with `reduction: host`, end with the host's reads of the partial sums (the PIM
    kernel alone, as PIMSimulator times it, leaves them in a bank row)."""
    b = StreamBuilder(cfg, lay.g, spec)
    g = lay.g
    acc_cols = b.cols(g.units * lay.accumulators * cfg.acc_bytes *
                      (g.lanes if cfg.reduction == "host" else 1))
    b.enter()
    if cfg.registers == "reserved_row":
        b.reg_write(ceil(min(cfg.crf_entries, 8) / 8), "mode")         # program the CRF (one 256-bit write)
    order = sorted(range(lay.chunks), key=lambda j: (j % g.banks_per_unit, j))   # even banks, then odd
    for t in range(lay.tiles):
        if cfg.registers == "reserved_row":
            b.reg_write(1, "mode")                                      # AB -> AB-PIM
        else:
            b.emit("WRBIAS", "readout")                                 # clear the accumulators
        for j in order:
            b.reg_write(b.cols(lay.chunk_elems(j) * g.elem_bytes), "input")
            for row, n in lay.row_runs(t, j):
                b.macs(row, n)
                b.close()
        if cfg.registers == "reserved_row":
            b.row(g.rows - 4)                                           # partial sums to a bank row
            for _ in range(lay.accumulators):
                b.emit("WRAB", "readout", g.rows - 4)
            b.reg_write(1, "mode")                                      # AB-PIM -> AB
        else:
            for _ in range(acc_cols):
                b.emit("RDMAC", "readout")
    b.leave()
    if cfg.registers == "reserved_row" and host_readout:                # host reads the partial sums
        n = lay.tiles * acc_cols
        per_bank = ceil(n / g.banks)
        for bank in range(g.banks):
            k = min(per_bank, n - bank * per_bank)
            if k <= 0:
                break
            b.emit("ACT", "readout", g.rows - 4, bank)
            for _ in range(k):
                b.emit("RD", "readout", g.rows - 4, bank)
            b.emit("PRE", "readout", g.rows - 4, bank)
    return b.out


ELTWISE_OPERANDS = {"add": 2, "mul": 2, "relu": 1}


def eltwise_tiles(cfg, g: Geometry, n: int) -> int:
    """Steps of one unit register file per bank of each unit over n elements (all channels)."""
    per_step = g.channels * g.units * g.banks_per_unit * (cfg.input_buffer_bytes // g.elem_bytes)
    return ceil(n / per_step)


def eltwise_stream(cfg, g: Geometry, spec, op: str, n: int, where: str = "pim") -> list[Cmd]:
    """One channel's commands for c = a op b over n elements: per step and bank of a unit, load a
    register file from a's row, combine with b's row, write the result row (HBM-PIM's ADD flow)."""
    if op not in ELTWISE_OPERANDS:
        raise WorkloadError(f"{where}: element-wise op {op!r} is not one of {', '.join(ELTWISE_OPERANDS)}")
    if not cfg.eltwise or cfg.registers != "reserved_row":
        raise WorkloadError(f"{where}: this PIM unit runs no element-wise ops in the banks (eltwise: false or "
                            f"registers: {cfg.registers}); run them on another unit")
    b = StreamBuilder(cfg, g, spec)
    grf = cfg.input_buffer_bytes // g.col_bytes
    steps = eltwise_tiles(cfg, g, n)
    rows_a = ceil(steps * grf / g.cols_per_row)
    if 3 * rows_a > g.usable_rows:
        raise WorkloadError(f"{where}: {n} elements need {3 * rows_a} rows per bank; a bank has {g.usable_rows}")
    b.enter()
    b.reg_write(1, "mode")                                              # CRF
    b.reg_write(1, "mode")                                              # AB -> AB-PIM
    for s in range(steps):
        row_off, col = divmod(s * grf, g.cols_per_row)
        for _bank in range(g.banks_per_unit):
            b.macs(row_off, grf)                                        # a -> GRF
            if ELTWISE_OPERANDS[op] == 2:
                b.macs(rows_a + row_off, grf)                           # GRF op= b
            b.row(2 * rows_a + row_off)
            for _ in range(grf):
                b.emit("WRAB", "readout", 2 * rows_a + row_off)         # GRF -> c
            b.close()
    b.reg_write(1, "mode")                                              # AB-PIM -> AB
    b.leave()
    return b.out


def mac_rows_stream(rows: int, cols: int) -> list[Cmd]:
    """Full-row all-bank MACs, row after row (aim_simulator's MAC micro-benchmark): ACT, MACs, PRE."""
    out: list[Cmd] = []
    for r in range(rows):
        out.append(("ACTAB", 0, r, "row"))
        out.extend(("MACAB", 0, r, "mac") for _ in range(cols))
        out.append(("PREAB", 0, r, "row"))
    return out
