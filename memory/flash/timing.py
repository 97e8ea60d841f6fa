"""The flash array's timing state, without an engine: what both fidelities of the runner run.

A flash request's completion is fixed the moment it is submitted (the level serves pages in
submission order and never reorders), so its timing is a pure function of the state left by the
earlier requests. `FlashTiming.serve` is that function; the event-driven `FlashLevel` calls it at
`engine.now` and `FlashPort` (the runner's `fast` port) calls it at the issue time the closed-form
pipeline computes. Both therefore share one address mapping and one page-operation rule.
"""
from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

from archsim.engine import PS_PER_S

if TYPE_CHECKING:
    from memory.flash.level import FlashSpec


class Channel:
    """A serial bus at a fixed rate; busy periods timed from the bytes moved since they began."""

    def __init__(self, ps_per_byte: Fraction) -> None:
        self.ps_per_byte = ps_per_byte
        self._num, self._den = ps_per_byte.numerator, ps_per_byte.denominator  # ints: Fractions are slow
        self.start = self.bytes = self.free = 0

    def transfer(self, ready_ps: int, nbytes: int) -> int:
        """Start at `ready_ps` or when free; return the end time (the period's exact time, rounded up once)."""
        if ready_ps >= self.free:
            self.start, self.bytes = ready_ps, 0
        self.bytes += nbytes
        self.free = self.start - ((-self.bytes * self._num) // self._den)
        return self.free


class FlashTiming:
    """Channels, array units and page buffers of one flash device, and the page-operation rule."""

    def __init__(self, spec: "FlashSpec") -> None:
        self.spec = spec
        ps_per_byte = Fraction(PS_PER_S) / Fraction(spec.channel_bandwidth).limit_denominator(10**6)
        self.chans = [Channel(ps_per_byte) for _ in range(spec.channels)]
        n_units = spec.channels * spec.dies_per_channel * spec.planes_per_die
        self.unit_free = [0] * n_units                                   # array busy until
        self.buffers = [[0] * spec.page_buffers for _ in range(n_units)]  # each buffer free at
        self.page_reads = self.page_programs = 0
        self.bytes_transferred = 0

    def locate(self, page: int) -> tuple[int, int]:
        """(channel, array-unit index) of a page: channel, then die, then plane interleave."""
        s = self.spec
        ch = page % s.channels
        rest = page // s.channels
        die = rest % s.dies_per_channel
        plane = (rest // s.dies_per_channel) % s.planes_per_die
        unit = (ch * s.dies_per_channel + die) * s.planes_per_die
        return ch, unit + (plane if s.multi_plane else 0)

    def xfer_bytes(self, nbytes: int) -> int:
        """Bytes a read of `nbytes` from one page moves over the channel: whole slices, else the page."""
        sl = self.spec.read_slice
        return -(-nbytes // sl) * sl if sl else self.spec.page_size

    def serve(self, now: int, addr: int, nbytes: int, is_write: bool) -> int:
        """Run a request's page operations from `now`; return when its last page is done."""
        ps, end, a, stop = self.spec.page_size, now, addr, addr + nbytes
        op = self._program if is_write else self._read
        while a < stop:
            page, off = divmod(a, ps)
            n = min(ps - off, stop - a)
            end = max(end, op(page, n, now))
            a += n
        return end

    def _read(self, page: int, nbytes: int, now: int) -> int:
        """tR on the unit once it and a page buffer are free; the buffer holds until the channel drains it."""
        ch, u = self.locate(page)
        bufs = self.buffers[u]
        free = min(bufs)
        k = bufs.index(free)                                  # earliest free page buffer
        ready = max(now, self.unit_free[u], free) + self.spec.t_read
        self.unit_free[u] = ready
        nb = self.xfer_bytes(nbytes)
        end = self.chans[ch].transfer(ready, nb)
        bufs[k] = end
        self.page_reads += 1
        self.bytes_transferred += nb
        return end

    def _program(self, page: int, nbytes: int, now: int) -> int:
        """Data crosses the channel into a free page buffer, then tPROG once the unit is free."""
        ch, u = self.locate(page)
        bufs = self.buffers[u]
        free = min(bufs)
        k = bufs.index(free)
        arrived = self.chans[ch].transfer(max(now, free), nbytes)
        done = max(arrived, self.unit_free[u]) + self.spec.t_prog
        self.unit_free[u] = bufs[k] = done
        self.page_programs += 1
        self.bytes_transferred += nbytes
        return done


class FlashPort:
    """The runner's `fast` port for flash: the level's own timing rule on a fresh, idle device.

    No engine: `issue` runs the page operations at `at_ps`, so its ready times equal the
    event-driven level's completion times for the same request stream, to the picosecond.
    """

    uses_addresses = True   # pages, planes, dies and channels follow from the address

    def __init__(self, spec: "FlashSpec") -> None:
        self.timing = FlashTiming(spec)

    def issue(self, at_ps: int, nbytes: int, is_write: bool, addr: int = 0) -> int:
        return self.timing.serve(at_ps, addr, nbytes, is_write)
