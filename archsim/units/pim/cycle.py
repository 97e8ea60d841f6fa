"""`cycle`: issue a PIM kernel's command stream to the DRAM level's own controllers.

Each channel's controller takes the stream in order beside its host queues, so refresh (which the
controller issues on every standard) and host requests interleave with the PIM commands under the
spec's rules. Every channel gets the same stream; a level with no other traffic is simulated on one
command-bus group (the pseudo-channels sharing a command bus) and the rest are identical by
symmetry, which `run_stream` says in its result (`channels_simulated`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from archsim.engine import Engine
from memory.dram.level import DramLevel
from memory.dram.stream import CommandStream
from memory.request import Request

PHASES = ("mac", "row", "input", "readout", "mode", "refresh")


@dataclass
class StreamRun:
    cycles: int                          # DRAM cycles until every channel's stream is done
    time_ps: int
    commands: dict[str, int]             # per channel
    breakdown: dict[str, int]            # cycles of one channel by phase (waits charged to what waited)
    repairs: int = 0
    refreshes: int = 0
    channels_simulated: int = 0
    energy_pj: dict[str, float] = field(default_factory=dict)   # all channels, by command


def fresh_level(spec, channels: int, refresh: str = "all_bank", **kw) -> DramLevel:
    """A cycle-mode DRAM level of `spec` on its own engine (the standalone PIM run and the tests)."""
    return DramLevel("pim", Engine(), spec, channels=channels, refresh=refresh, fidelity="cycle", **kw)


def run_stream(level: DramLevel, cmds: list[tuple[str, int, int, str]], channels: list[int] | None = None,
               total_channels: int | None = None, host: tuple[Request, ...] = ()) -> StreamRun:
    """Push `cmds` to each of `channels` (default all) of `level`, submit `host` requests at once, run
    the engine; report channel 0's phases. `total_channels` scales energy to the whole level."""
    chans = list(range(level.channels)) if channels is None else channels
    spec = level.spec
    streams = {}
    start = level.clock.ps_to_cycles(level.engine.now)
    for ch in chans:
        st = CommandStream(spec, source=f"PIM stream on channel {ch}")
        for name, bank, row, phase in cmds:
            st.push(name, bank, row, phase)
        ctrl = level.ctrls[ch]
        if ctrl.idle:
            ctrl._catch_up_refresh(start)        # refreshes that fell due while the channel was idle
        ctrl.stream, ctrl.log = st, []
        streams[ch] = st
        level.wake_channel(ch, start)
    for r in host:
        level.submit(r)
    level.engine.run()
    done = max(max(st.done for st in streams.values()), level.last_cycle)
    c0 = chans[0]
    ctrl, st = level.ctrls[c0], streams[c0]
    names = spec.command_names
    counts = dict(zip(names, ctrl.cmd_counts))
    counts["REF"] += ctrl.refreshes_owed(done) if level.refresh == "all_bank" else 0
    scale = (total_channels or len(chans)) / len(chans)
    energy = {n: sum(level.ctrls[ch].cmd_counts[i] for ch in chans) * spec.energy_pj[n] * scale
              for i, n in enumerate(names) if spec.energy_pj[n]}
    phases = _breakdown(st, ctrl, spec, start, done)
    for ch in chans:
        level.ctrls[ch].stream = level.ctrls[ch].log = None
    return StreamRun(cycles=done - start, time_ps=level.clock.cycles_to_ps(done) - level.clock.cycles_to_ps(start),
                     commands=counts, breakdown=phases, repairs=st.repairs,
                     refreshes=counts["REF"] + counts["REFsb"], channels_simulated=len(chans), energy_pj=energy)


def _breakdown(st: CommandStream, ctrl, spec, start: int, done: int) -> dict[str, int]:
    """Charge each gap between stream commands to the phase of the command that waited, except the
    part a refresh occupied (from its first precharge to REF + tRFC)."""
    trfc = spec.timing["tRFC"] if ctrl.refresh == "all_bank" else spec.timing["tRFCsb"]
    ref_ids = {spec.cmd["REF"], spec.cmd["REFsb"]}
    refs = [t for t, c, *_ in ctrl.log if c in ref_ids]
    out = dict.fromkeys(PHASES, 0)
    prev, k, last = start, 0, None
    for t, _c, tag in st.issued:
        gap = t - prev
        while k < len(refs) and refs[k] + trfc <= prev:
            k += 1
        j, busy = k, 0
        while j < len(refs) and refs[j] < t:
            busy += max(0, min(t, refs[j] + trfc) - max(prev, refs[j] - spec.timing["tRP"]))
            j += 1
        busy = min(busy, gap)
        out["refresh"] += busy
        # a mode change's wait is its own
        out["mode" if last == "mode" else tag if tag in out else "row"] += gap - busy
        prev, last = t, tag
    out["readout"] += max(0, done - prev)           # the last command's data
    return out


def start_streams(level: DramLevel, cmds: list[tuple[str, int, int, str]], on_done) -> None:
    """Push `cmds` to every channel of a level that may be serving other requests on its engine, now;
    on_done(StreamRun of channel 0, done cycle) once every channel's stream has issued its last
    command (its data included). Host requests keep arriving meanwhile and share the banks."""
    spec = level.spec
    start = level.clock.ps_to_cycles(level.engine.now)
    left, done_at, streams = [level.channels], [start], []
    for ch in range(level.channels):
        st = CommandStream(spec, source=f"PIM stream on channel {ch}")
        for name, bank, row, phase in cmds:
            st.push(name, bank, row, phase)
        streams.append(st)

    def finished(done: int) -> None:
        left[0] -= 1
        done_at[0] = max(done_at[0], done)
        if left[0]:
            return
        c0, st0 = level.ctrls[0], streams[0]
        phases = _breakdown(st0, c0, spec, start, done_at[0])
        c0.log = None
        counts: dict[str, int] = {}
        for _t, c, _tag in st0.issued:
            counts[spec.command_names[c]] = counts.get(spec.command_names[c], 0) + 1
        energy = {n: k * spec.energy_pj[n] * level.channels for n, k in counts.items() if spec.energy_pj[n]}
        time_ps = level.clock.cycles_to_ps(done_at[0]) - level.clock.cycles_to_ps(start)
        run = StreamRun(cycles=done_at[0] - start, time_ps=time_ps,
                        commands=counts, breakdown=phases, repairs=st0.repairs, channels_simulated=level.channels,
                        energy_pj=energy)
        level.engine.at(level.clock.cycles_to_ps(done_at[0]), on_done, run)

    for ch, st in enumerate(streams):
        ctrl = level.ctrls[ch]
        if ctrl.idle:
            ctrl._catch_up_refresh(start)
        st.on_empty = finished
        ctrl.stream = st
        if ch == 0:
            ctrl.log = []
        level.wake_channel(ch, start)


def host_run(level: DramLevel, phases: list[tuple[int, bool]], chunk: int = 1 << 16) -> int:
    """The same memory without PIM: the host streams `phases` of (bytes, is_write) in order through
    the controllers (reads of every operand, then the result written back), each phase starting when
    the previous one's data is done; returns DRAM cycles."""
    addr = 0
    for nbytes, is_write in phases:
        end = addr + nbytes
        while addr < end:
            n = min(chunk, end - addr)
            level.submit(Request(addr, n, is_write, "host"))
            addr += n
        level.engine.run()
    level.sync_commands()             # the compiled core, when it drives the level, keeps last_cycle itself
    return level.last_cycle
