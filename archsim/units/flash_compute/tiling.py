"""Hardware-aware tiling and the byte-balanced split of a GEMV between the dies and the NPU (L0 model).

A matrix is cut into requests of H_req x W_req; each channel takes W_req/ch columns and each of its
cc cores one atomic tile of H_req/cc rows, exactly one page. With the input broadcast per channel a
request moves W_req + ch*H_req bytes, least at H_req = sqrt(cc*P). The dies read at
R_f = cores*P/t_rc; the channels carry the NPU's share at R_c = ch*bw*(1 - rate_rc). The flash
share of bytes that finishes both together is R_f/(R_f + R_c) (Cambricon-LLM's alpha formula read
as a byte fraction is right only for cc = 1).

When no plane is left for the NPU (`core_feed: all`, or a core per plane) its page reads sense on the
compute planes too: each NPU page then holds a plane max(tR, its transfer at what read-compute leaves
of the channel) (cache-read pipelining),
i.e. 1/R_s of the dies' time per NPU weight, and the balance becomes f/R_f + (1 - f)/R_s = (1 - f)/R_c
(the array, not the channels, then bounds the sum; if 1/R_s >= 1/R_f everything goes to the dies).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from archsim.errors import ConfigError
from memory.flash.timing import READ_CMD_BYTES

CORE_GROUPS = {"die": "dies", "plane": "planes", "chip": "chips"}


@dataclass(frozen=True)
class Plan:
    """Everything the two fidelities share for one flash device and unit configuration."""

    ch: int                 # channels
    cc: int                 # cores per channel
    page: int               # weights one core takes from one page (its atomic tile)
    page_bytes: int         # bytes a page read senses and an NPU page read moves
    wpb: float              # weights per byte (8 / weight bits)
    h_req: int
    w_req: int
    t_sense: int            # ps from a read command to data in the register
    ps_per_byte: float      # channel
    vec_bytes: int          # input bytes per channel per request, per token of the batch
    res_bytes: int          # per core per request, per token of the batch
    cmd_bytes: int          # per page operation (0 without command overhead)
    core_ps: float          # one page through a core, per token of the batch
    share: float | None     # split override (None: byte-balanced)
    shared_planes: int = 0  # planes per channel when all feed cores and also serve the NPU (0: it has its own)
    feed: int = 1           # pages (planes) one core takes per request

    @property
    def cores(self) -> int:
        return self.ch * self.cc

    @property
    def tile_weights(self) -> int:
        return self.cores * self.page

    def t_rc(self, batch: int = 1) -> float:
        """One read-compute request: the vector, then the sense (a multi-plane read first sends its other
        planes' address cycles), or the core's compute if slower."""
        vec_ps = (self.vec_bytes * batch + (self.feed - 1) * self.cmd_bytes) * self.ps_per_byte
        return max(self.t_sense + vec_ps, self.core_ps * batch)

    def rates(self, batch: int = 1) -> tuple[float, float, float]:
        """(R_f, R_c in weights/s, rate_rc): die and channel rates and the read-compute share of a channel."""
        t_rc = self.t_rc(batch)
        rc_bytes = (self.vec_bytes + self.cc * self.res_bytes) * batch + self.cc * self.feed * self.cmd_bytes
        rate_rc = min(1.0, rc_bytes * self.ps_per_byte / t_rc)
        r_f = self.cores * self.page / (t_rc / 1e12)
        page_ps = (self.page_bytes + self.cmd_bytes) * self.ps_per_byte
        r_c = self.ch * (self.page_bytes * self.wpb / (page_ps / 1e12)) * (1 - rate_rc)
        return r_f, r_c, rate_rc

    def npu_sense_ps(self, batch: int = 1) -> float:
        """Compute planes' time (per channel) one NPU page read costs on shared planes: its sense, or its
        cache register held while the page crosses what the read-compute traffic leaves of the channel."""
        if not self.shared_planes:
            return 0.0
        _, _, rate_rc = self.rates(batch)
        transfer = (self.page_bytes + self.cmd_bytes) * self.ps_per_byte / max(1e-9, 1 - rate_rc)
        return max(self.t_sense, transfer) / self.shared_planes

    def npu_die_s(self, batch: int = 1) -> float:
        """Seconds of the dies' time one NPU weight costs (1/R_s)."""
        return self.npu_sense_ps(batch) / 1e12 / (self.ch * self.page_bytes * self.wpb)

    def flash_share(self, batch: int = 1) -> float:
        if self.share is not None:
            return self.share
        r_f, r_c, _ = self.rates(batch)
        if not self.shared_planes:
            return r_f / (r_f + r_c)
        k = self.npu_die_s(batch)
        if k >= 1 / r_f:        # an NPU page costs the planes more than computing it: all in the dies
            return 1.0
        return min(1.0, max(0.0, (1 / r_c - k) / (1 / r_f + 1 / r_c - k)))


def cores_per_channel(spec, core_per: str) -> int:
    if core_per == "die":
        return spec.dies_per_channel
    if core_per == "plane":
        return spec.dies_per_channel * spec.planes_per_die
    return spec.dies_per_channel // spec.dies_per_chip


def planes_per_core(spec, core_per: str, core_feed: str) -> int:
    """Planes that sense for one core per request (a multi-plane read of its die or chip with `all`)."""
    if core_feed == "one" or core_per == "plane":
        return 1
    return spec.planes_per_die * (spec.dies_per_chip if core_per == "chip" else 1)


def make_plan(spec, cfg, clock_hz: float) -> Plan:
    """The tiling and rates of `cfg` (a FlashComputeConfig) on flash `spec`; bad shapes are ConfigErrors."""
    ch, cc = spec.channels, cores_per_channel(spec, cfg.core_per)
    feed = planes_per_core(spec, cfg.core_per, cfg.core_feed)
    page = feed * spec.page_size * 8 // cfg.weight_bits    # weights one core takes per request
    if cfg.tile == "auto":
        h = max(cc, round(math.sqrt(cc * page)))
        h -= h % cc
        w = ch * (page // (h // cc))
    else:
        try:
            h, w = (int(x) for x in cfg.tile.lower().split("x"))
        except ValueError:
            raise ConfigError(f"tile: expected 'auto' or HxW (e.g. 256x2048), got {cfg.tile!r}") from None
        if h % cc or w % ch or h <= 0 or w <= 0:
            raise ConfigError(f"tile: {h}x{w} must split into {cc} cores x {ch} channels (H a multiple of "
                              f"{cc}, W of {ch})")
        atomic = (h // cc) * (w // ch)
        if atomic > page:
            pages = "a page" if feed == 1 else f"its {feed} pages"
            raise ConfigError(f"tile: {h}x{w} gives each core {h // cc}x{w // ch} = {atomic} weights, larger "
                              f"than {pages} ({page} weights of {cfg.weight_bits} bits in {spec.page_size} B pages)")
    buf = (w // ch) * cfg.input_bytes + (h // cc) * cfg.result_bytes
    if buf > cfg.core_buffer:
        raise ConfigError(f"core_buffer: a {h}x{w} tile needs {w // ch}x{cfg.input_bytes} B of input and {h // cc}x"
                          f"{cfg.result_bytes} B of results per core ({buf} B), more than {cfg.core_buffer} B")
    share = _share(cfg.split)
    over = spec.command_overhead
    t_sense = spec.t_read * (1 + spec.read_retries) + spec.t_ecc + (spec.t_wb + spec.t_rr if over else 0)
    macs_per_page = (h // cc) * (w // ch)
    planes = spec.dies_per_channel * spec.planes_per_die
    shared = feed * cc == planes            # every plane feeds a core: none left for the NPU's reads
    cmd = READ_CMD_BYTES if over else 0
    return Plan(ch=ch, cc=cc, page=macs_per_page, page_bytes=spec.page_size, wpb=8 / cfg.weight_bits,
                h_req=h, w_req=w, t_sense=t_sense, ps_per_byte=1e12 / spec.channel_bandwidth,
                vec_bytes=(w // ch) * cfg.input_bytes,
                res_bytes=(h // cc) * cfg.result_bytes, cmd_bytes=cmd,
                core_ps=macs_per_page / (cfg.core_macs_per_cycle * clock_hz) * 1e12, share=share,
                shared_planes=planes if shared else 0, feed=feed)


def _share(split: str) -> float | None:
    if split == "auto":
        return None
    if split == "flash":
        return 1.0
    try:
        v = float(split)
    except ValueError:
        raise ConfigError(f"split: expected auto, flash or a flash share between 0 and 1, got {split!r}") from None
    if not 0 <= v <= 1:
        raise ConfigError(f"split: the flash share must lie in [0, 1], got {v}")
    return v
