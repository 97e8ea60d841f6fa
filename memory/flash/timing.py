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

# ONFI command and address cycles (one byte each on the x8 bus): read 00h + 5 address + 30h,
# program 80h + 5 address + 10h, erase 60h + 3 address + D0h.
READ_CMD_BYTES, PROG_CMD_BYTES, ERASE_CMD_BYTES = 7, 7, 5


class Channel:
    """A serial bus at a fixed rate; busy periods timed from the bytes moved since they began."""

    def __init__(self, ps_per_byte: Fraction) -> None:
        self.ps_per_byte = ps_per_byte
        self._num, self._den = ps_per_byte.numerator, ps_per_byte.denominator  # ints: Fractions are slow
        self.start = self.bytes = self.free = self.extra = 0
        self.busy_ps = 0                      # sum of busy periods, for utilisation

    def transfer(self, ready_ps: int, nbytes: int, extra_ps: int = 0) -> int:
        """Start at `ready_ps` or when free; return the end time (the period's exact time, rounded up
        once). `extra_ps` is bus time that is not data (tADL between address and data-in)."""
        if ready_ps >= self.free:
            self.busy_ps += self.free - self.start
            self.start, self.bytes, self.extra = ready_ps, 0, 0
        self.bytes += nbytes
        self.extra += extra_ps
        self.free = self.start + self.extra - ((-self.bytes * self._num) // self._den)
        return self.free

    def busy_until(self, t_ps: int) -> int:
        """Bus-busy picoseconds in [0, t_ps]."""
        return self.busy_ps + max(0, min(self.free, t_ps) - self.start)


class FlashTiming:
    """Channels, array units and page buffers of one flash device, and the page-operation rule."""

    def __init__(self, spec: "FlashSpec") -> None:
        self.spec = spec
        ps_per_byte = Fraction(PS_PER_S) / Fraction(spec.channel_bandwidth).limit_denominator(10**6)
        self.chans = [Channel(ps_per_byte) for _ in range(spec.channels)]
        n_units = spec.channels * spec.dies_per_channel * spec.planes_per_die
        self.unit_free = [0] * n_units                                   # array busy until
        self.buffers = [[0] * spec.page_buffers for _ in range(n_units)]  # each buffer free at
        self.page_reads = self.page_programs = self.block_erases = 0
        self.bytes_transferred = 0
        over = spec.command_overhead
        # a read senses once plus once per retry, then decodes; command cycles ride with the data
        self.read_lead = spec.t_read * (1 + spec.read_retries) + spec.t_ecc + (spec.t_wb + spec.t_rr if over else 0)
        self.prog_lead = spec.t_prog + (spec.t_wb if over else 0)
        self.read_cmd = READ_CMD_BYTES if over else 0
        self.prog_cmd = PROG_CMD_BYTES if over else 0
        self.prog_extra = spec.t_adl if over else 0
        # same-offset multi-plane: per die, the running group (start, end, page offset, planes in it)
        self.groups: list[tuple[int, int, int, int]] = [(0, 0, -1, 0)] * (spec.channels * spec.dies_per_channel)

    def locate(self, page: int) -> tuple[int, int]:
        """(channel, array-unit index) of a page: channel, then die, then plane interleave."""
        s = self.spec
        ch = page % s.channels
        rest = page // s.channels
        die = rest % s.dies_per_channel
        plane = (rest // s.dies_per_channel) % s.planes_per_die
        unit = (ch * s.dies_per_channel + die) * s.planes_per_die
        return ch, unit + (plane if s.multi_plane else 0)

    def page_offset(self, page: int) -> int:
        """Page index inside its plane: the address a same-offset multi-plane operation shares."""
        s = self.spec
        return page // (s.channels * s.dies_per_channel * s.planes_per_die)

    def _array_start(self, page: int, u: int, ready: int, busy: int) -> int:
        """When unit `u` may begin a `busy`-long array operation ready at `ready`.

        Independent planes (and single-plane dies) start at once. Under `same_offset`, a die runs one
        operation at a time: a plane joins the running group when it reads the same page offset, is not
        in it yet and was ready when the group began (MQSim's multi-plane command); else it waits."""
        s = self.spec
        if not s.multi_plane or s.multi_plane_rule == "independent" or s.planes_per_die == 1:
            return ready
        die, bit = u // s.planes_per_die, 1 << (u % s.planes_per_die)
        g_start, g_end, g_off, g_mask = self.groups[die]
        off = self.page_offset(page)
        if off == g_off and not g_mask & bit and ready <= g_start and g_start + busy == g_end:
            self.groups[die] = (g_start, g_end, off, g_mask | bit)
            return g_start
        start = max(ready, g_end)
        self.groups[die] = (start, start + busy, off, bit)
        return start

    def xfer_bytes(self, nbytes: int) -> int:
        """Bytes a read of `nbytes` from one page moves over the channel: whole slices, else the page."""
        sl = self.spec.read_slice
        return (-(-nbytes // sl) * sl if sl else self.spec.page_size) + self.read_cmd

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
        lead = self.read_lead
        ready = self._array_start(page, u, max(now, self.unit_free[u], free), lead) + lead
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
        nb = nbytes + self.prog_cmd
        arrived = self.chans[ch].transfer(max(now, free), nb, self.prog_extra)
        lead = self.prog_lead
        done = self._array_start(page, u, max(arrived, self.unit_free[u]), lead) + lead
        self.unit_free[u] = bufs[k] = done
        self.page_programs += 1
        self.bytes_transferred += nb
        return done

    def erase(self, now: int, block: int) -> int:
        """Erase block `block`: the command, then tBERS on its unit (once its page buffers drain).

        Blocks interleave over channels, dies and planes like pages; each erases alone (no
        multi-plane erase). Erases happen only where data is rewritten (a KV cache reclaimed)."""
        ch, u = self.locate(block)
        cmd = ERASE_CMD_BYTES if self.spec.command_overhead else 0
        issued = self.chans[ch].transfer(now, cmd) if cmd else now
        start = max(issued, self.unit_free[u], max(self.buffers[u]))
        done = start + self.spec.t_erase + (self.spec.t_wb if cmd else 0)
        self.unit_free[u] = done
        self.block_erases += 1
        self.bytes_transferred += cmd
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
