"""Flash as a `MemoryLevel`: per page operation (`cycle`) or closed form (`fast`).

Pages interleave channel first, then die, then plane, so a sequential stream spreads over every
channel before it reuses one. A page read occupies its array unit (the plane with multi-plane
operation, else the whole die) for tR and a page buffer until its data has crossed the channel;
the channel moves one transfer at a time at the bus rate. A program moves data in first, then
holds the unit for tPROG. That rule lives engine-free in `memory.flash.timing`, so the runner's
`fast` port (`FlashLevel.fast_port`) runs exactly what `submit` does.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

from archsim.config.quantities import parse_bandwidth, parse_duration_ps, parse_energy_pj, parse_size
from archsim.engine import Engine
from archsim.errors import ConfigError
from memory.flash.timing import FlashPort, FlashTiming
from memory.request import MemoryLevel, Request

PRESETS_FILE = Path(__file__).resolve().parent.parent / "specs" / "flash.yaml"
FIELDS = ("channels", "dies_per_channel", "planes_per_die", "page_size", "page_buffers", "t_read",
          "t_prog", "t_erase", "channel_bandwidth", "multi_plane", "read_slice", "multi_plane_rule",
          "command_overhead", "t_wb", "t_rr", "t_adl", "read_retries", "t_ecc", "dies_per_chip",
          "array_read_energy", "program_energy", "erase_energy", "channel_energy")
MULTI_PLANE_RULES = ("independent", "same_offset")


@dataclass
class FlashSpec:
    name: str
    source: str
    channels: int
    dies_per_channel: int
    planes_per_die: int
    page_size: int
    page_buffers: int
    t_read: int
    t_prog: int
    t_erase: int
    channel_bandwidth: float
    multi_plane: bool
    read_slice: int | None
    pages_per_block: int = 1024
    blocks_per_plane: int = 1024
    multi_plane_rule: str = "independent"   # same_offset: MQSim's rule (planes of a die share the page offset)
    command_overhead: bool = False          # ONFI command/address cycles and tWB/tRR/tADL per operation
    t_wb: int = 100_000
    t_rr: int = 20_000
    t_adl: int = 70_000
    read_retries: int = 0                   # extra senses per read (an aged device's read-retry tier)
    t_ecc: int = 0                          # decode latency after sensing (the ECC tier)
    dies_per_chip: int = 1
    array_read_energy: float = 0.0          # pJ per bit sensed
    program_energy: float = 0.0             # pJ per bit programmed
    erase_energy: float = 0.0               # pJ per block erased
    channel_energy: float = 0.0             # pJ per bit over the channel (I/O)

    @property
    def capacity_bytes(self) -> int:
        return (self.channels * self.dies_per_channel * self.planes_per_die * self.blocks_per_plane
                * self.pages_per_block * self.page_size)

    @property
    def channel_ps_per_byte(self) -> float:
        return 1e12 / self.channel_bandwidth

    def sense_pj(self, pages: int) -> float:
        """Array energy of reading `pages` pages: a sense reads the whole page, each retry senses again."""
        return pages * self.page_size * 8 * self.array_read_energy * (1 + self.read_retries)

    def program_pj(self, pages: int) -> float:
        return pages * self.page_size * 8 * self.program_energy

    def erase_share_pj(self, pages: int) -> float:
        """Erases owed by `pages` programmed pages: a block is erased once before its pages are rewritten,
        so each programmed page carries 1/pages_per_block of an erase (append-only, no GC copies)."""
        return pages * self.erase_energy / self.pages_per_block

    def channel_pj(self, nbytes: int) -> float:
        return nbytes * 8 * self.channel_energy

    @property
    def units_per_channel(self) -> int:
        """Array units that can run tR concurrently on one channel."""
        return self.dies_per_channel * (self.planes_per_die if self.multi_plane else 1)


@functools.lru_cache(maxsize=1)
def flash_presets() -> dict:
    """The preset file, parsed once (callers copy an entry before changing it)."""
    return yaml.safe_load(PRESETS_FILE.read_text())


def load_flash_spec(preset: str, overrides: dict | None = None) -> FlashSpec:
    presets = flash_presets()
    if preset not in presets:
        raise ConfigError(f"unknown flash preset {preset!r}; expected one of {', '.join(sorted(presets))}")
    raw = dict(presets[preset])
    raw.update({k: v for k, v in (overrides or {}).items() if v is not None})
    try:
        spec = FlashSpec(
            name=preset, source=raw["source"], channels=int(raw["channels"]),
            dies_per_channel=int(raw["dies_per_channel"]), planes_per_die=int(raw["planes_per_die"]),
            page_size=_q(parse_size, raw["page_size"]), page_buffers=int(raw["page_buffers"]),
            t_read=_q(parse_duration_ps, raw["t_read"]), t_prog=_q(parse_duration_ps, raw["t_prog"]),
            t_erase=_q(parse_duration_ps, raw["t_erase"]),
            channel_bandwidth=_q(parse_bandwidth, raw["channel_bandwidth"]),
            multi_plane=bool(raw["multi_plane"]),
            read_slice=None if raw.get("read_slice") is None else _q(parse_size, raw["read_slice"]),
            pages_per_block=int(raw.get("pages_per_block", 1024)),
            blocks_per_plane=int(raw.get("blocks_per_plane", 1024)), **_options(raw))
    except (KeyError, ValueError) as exc:
        raise ConfigError(f"flash preset {preset!r}: bad or missing field: {exc}") from None
    for key in ("channels", "dies_per_channel", "planes_per_die", "page_buffers", "dies_per_chip"):
        if getattr(spec, key) < 1:
            what = "a die without planes" if key == "planes_per_die" else "must be >= 1"
            raise ConfigError(f"flash {preset!r}: {key} = {getattr(spec, key)}: {what}; expected an integer >= 1")
    if spec.dies_per_channel % spec.dies_per_chip:
        raise ConfigError(f"flash {preset!r}: dies_per_channel {spec.dies_per_channel} is not a multiple of "
                          f"dies_per_chip {spec.dies_per_chip}")
    if spec.multi_plane_rule not in MULTI_PLANE_RULES:
        raise ConfigError(f"flash {preset!r}: multi_plane_rule {spec.multi_plane_rule!r} unknown; "
                          f"expected one of {', '.join(MULTI_PLANE_RULES)}")
    if spec.read_retries < 0:
        raise ConfigError(f"flash {preset!r}: read_retries must be >= 0, got {spec.read_retries}")
    if spec.read_slice is not None and (spec.read_slice <= 0 or spec.page_size % spec.read_slice):
        raise ConfigError(f"flash {preset!r}: read_slice {spec.read_slice} must divide page_size {spec.page_size}")
    return spec


_OPTION_PARSERS = {"multi_plane_rule": str, "command_overhead": bool, "t_wb": parse_duration_ps,
                   "t_rr": parse_duration_ps, "t_adl": parse_duration_ps, "read_retries": int,
                   "t_ecc": parse_duration_ps, "dies_per_chip": int, "array_read_energy": parse_energy_pj,
                   "program_energy": parse_energy_pj, "erase_energy": parse_energy_pj,
                   "channel_energy": parse_energy_pj}


def _options(raw: dict) -> dict:
    """The optional fields a preset or override sets (absent ones keep the dataclass defaults)."""
    out = {}
    for key, parse in _OPTION_PARSERS.items():
        if raw.get(key) is not None:
            v = raw[key]
            if parse is bool and not isinstance(v, bool):
                raise ValueError(f"{key}: expected true or false, got {v!r}")
            out[key] = parse(v) if parse in (str, bool, int) else _q(parse, v)
    return out


def _q(parse, v):
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else parse(v)


class FlashLevel(MemoryLevel):
    def __init__(self, name: str, engine: Engine, spec: FlashSpec, fidelity: str = "cycle") -> None:
        super().__init__(name, engine, spec.capacity_bytes)
        self.spec, self.fidelity = spec, fidelity
        self.timing = FlashTiming(spec)      # channels, units, page buffers: shared with the fast port
        self.chans = self.timing.chans
        self.erases = 0
        self.last_ps = 0
        self._fast_free = 0
        self.prices_bytes = any((spec.array_read_energy, spec.program_energy, spec.erase_energy,
                                 spec.channel_energy))

    @classmethod
    def from_config(cls, cfg, engine: Engine, name: str = "offchip") -> "FlashLevel":
        over = {f: getattr(cfg, f) for f in FIELDS}
        return cls(name, engine, load_flash_spec(cfg.preset, over), cfg.fidelity)

    # -- cycle: one event per page operation ----------------------------------------------------
    def submit(self, req: Request) -> None:
        self._check(req)
        req.issue_ps = now = self.engine.now
        self._account(req)
        if self.fidelity == "fast":
            self._fast_free, end = self.stream_serve(self._fast_free, now, req.addr, req.nbytes, req.is_write)
        else:
            end = self.timing.serve(now, req.addr, req.nbytes, req.is_write)
        self.last_ps = max(self.last_ps, end)
        self._finish_at(req, end)

    def fast_port(self) -> "FlashPort | _StreamPort":
        """The runner's `fast` port: what `submit` does, on an idle device, without the engine.

        Page fidelity: the shared `FlashTiming` rule (exact). Level `fast`: the stream closed form.
        """
        return _StreamPort(self) if self.fidelity == "fast" else FlashPort(self.spec)

    def stream_serve(self, free_ps: int, now: int, addr: int, nbytes: int, is_write: bool) -> tuple[int, int]:
        """The level's `fast` rule: requests queue whole, each costing its stream time after the
        previous one's; returns (the queue's new free time, this request's completion)."""
        lead = self._lead_ps(is_write)
        free = max(now, free_ps) + self.stream_time_ps(nbytes, is_write, addr) - lead
        return free, max(free + lead, now)

    # -- fast: closed form --------------------------------------------------------------------
    def _lead_ps(self, is_write: bool) -> int:
        return self.timing.prog_lead if is_write else self.timing.read_lead

    @property
    def peak_bytes_per_s(self) -> float:
        """All channels' bus bandwidth together (reads cannot beat it even with every die busy)."""
        return float(self.spec.channels * self.spec.channel_bandwidth)

    def stream_time_ps(self, nbytes: int, is_write: bool = False, addr: int = 0) -> int:
        """Pipelined stream of pages from `addr`, in closed form.

        The busiest channel carries k pages over `units` array units. Channel bound: one op then k
        transfers back to back. Array bound: ceil(k/units) rounds of op (plus, with a single page
        buffer, the unit also waits for its transfer), then the last round's m transfers queue.
        """
        s = self.spec
        pages = (addr + nbytes - 1) // s.page_size - addr // s.page_size + 1
        k = -(-pages // s.channels)
        t = self.timing
        per_page = s.page_size + t.prog_cmd if is_write else t.xfer_bytes(min(nbytes, s.page_size))
        xfer = per_page * self.chans[0].ps_per_byte + (t.prog_extra if is_write else 0)
        op = self._lead_ps(is_write)
        units = min(s.units_per_channel, k)
        rounds = -(-k // units)
        m = k - (rounds - 1) * units
        chan = op + k * xfer
        if s.page_buffers > 1:
            arr = rounds * op + m * xfer
        else:
            arr = rounds * (op + xfer) + (m - 1) * xfer
        total = max(chan, arr)
        return -((-total.numerator) // total.denominator)

    def erase_block(self, block: int) -> int:
        """Erase a block now (KV-cache reclaim); returns when its unit is free again."""
        end = self.timing.erase(self.engine.now, block)
        self.erases += 1
        self.last_ps = max(self.last_ps, end)
        return end

    def energy_breakdown_pj(self) -> dict[str, float]:
        """Array sensing (each retry senses again), programming, erases and channel I/O, in pJ, from the
        page operations the timing model ran (erases: the blocks actually erased)."""
        s, t = self.spec, self.timing
        return {"array_read": s.sense_pj(t.page_reads), "program": s.program_pj(t.page_programs),
                "erase": t.block_erases * s.erase_energy, "channel": s.channel_pj(t.bytes_transferred)}

    def request_energy_pj(self, addr: int, nbytes: int, is_write: bool) -> dict[str, float]:
        """What one request costs, by the page rule `FlashTiming.serve` runs: a read senses every page it
        touches and moves whole slices (or pages) plus command bytes over the channel; a write moves its
        bytes in and programs every page it touches, owing those pages' share of a block erase."""
        s, t = self.spec, self.timing
        ps = s.page_size
        first, last = addr // ps, (addr + nbytes - 1) // ps
        pages = last - first + 1
        if is_write:
            parts = {"program": s.program_pj(pages), "erase": s.erase_share_pj(pages),
                     "channel": s.channel_pj(nbytes + pages * t.prog_cmd)}
        else:
            if pages == 1:
                xfer = t.xfer_bytes(nbytes)
            else:      # a partial first and last page, whole pages between
                xfer = t.xfer_bytes(ps - addr % ps) + t.xfer_bytes(addr + nbytes - last * ps) \
                    + (pages - 2) * t.xfer_bytes(ps)
            parts = {"array_read": s.sense_pj(pages), "channel": s.channel_pj(xfer)}
        return {f"{self.name}.{k}": v for k, v in parts.items() if v}

    def level_stats(self) -> dict:
        s = self.spec
        energy = self.energy_breakdown_pj()
        if self.fidelity == "fast":     # the stream rule keeps no bus state: bytes over peak
            util = [self.timing.bytes_transferred / (self.peak_bytes_per_s * self.last_ps / 1e12)
                    if self.last_ps else 0.0]
        else:
            util = [c.busy_until(self.last_ps) / self.last_ps if self.last_ps else 0.0 for c in self.chans]
        return {"preset": s.name, "fidelity": self.fidelity, "page_reads": self.timing.page_reads,
                "page_programs": self.timing.page_programs, "erases": self.erases,
                "channel_utilisation": sum(util) / len(util), "flash_energy_pj": sum(energy.values()),
                "channel_bytes": self.timing.bytes_transferred, "time_ns": self.last_ps / 1000,
                "bandwidth_gbps": (self.bytes_read + self.bytes_written) / (self.last_ps / 1000)
                if self.last_ps else 0.0,
                "peak_channel_bandwidth_gbps": s.channels * s.channel_bandwidth / 1e9}


class _StreamPort:
    """Fast port of a flash level configured `fidelity: fast`: its stream rule on an idle queue."""

    uses_addresses = True   # the page count of a request depends on its offset in the first page

    def __init__(self, level: FlashLevel) -> None:
        self.level, self.free_ps = level, 0

    def issue(self, at_ps: int, nbytes: int, is_write: bool, addr: int = 0) -> int:
        self.free_ps, done = self.level.stream_serve(self.free_ps, at_ps, addr, nbytes, is_write)
        return done
