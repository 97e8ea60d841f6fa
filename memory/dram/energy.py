"""DRAM energy as the runner charges it: per command in `cycle`, a calibrated closed form in `fast`.

Both split it the way `archsim mem` does (memory/dram/level.py `level_stats`): row commands
(ACT/PRE), column commands (RD/WR, with auto-precharge), refresh and background power. Refresh
and background depend only on time: refreshes at their average rate (tREFI, or tREFIsb per bank)
on every rank of every channel, background power over the op's duration, as `mem` counts them for
a device that is never powered down. The commands are what the controllers issued (`cycle`), or
what a stream implies (`fast`): a burst per `burst_bytes` moved, and a row opened per request
(requests go to unrelated addresses) plus one per row of bursts after it.
"""
from __future__ import annotations

from memory.dram.spec import COMMANDS

GROUPS = {"ACT": "act_pre", "PRE": "act_pre", "RD": "rd_wr", "WR": "rd_wr", "RDA": "rd_wr", "WRA": "rd_wr",
          "REF": "refresh", "REFsb": "refresh"}


def command_energy_pj(level) -> dict[str, float]:
    """Energy of the row and column commands the controllers have issued so far (cycle fidelity)."""
    e = level.spec.energy_pj
    level.sync_commands()
    out = {"act_pre": 0.0, "rd_wr": 0.0}
    for i, c in enumerate(COMMANDS):
        if GROUPS[c] in out:
            out[GROUPS[c]] += sum(ctrl.cmd_counts[i] for ctrl in level.ctrls) * e[c]
    return out


def time_energy_pj(level, time_ps: float) -> dict[str, float]:
    """Refresh at its average rate and background power over `time_ps`."""
    spec = level.spec
    ranks = level.ranks * level.channels
    refresh = 0.0
    if level.refresh != "none":
        per_bank = level.refresh == "per_bank"
        t_refi = spec.timing["tREFIsb" if per_bank else "tREFI"]
        refresh = time_ps / (t_refi * spec.tck_ps) * ranks * spec.energy_pj["REFsb" if per_bank else "REF"]
    return {"refresh": refresh, "background": spec.background_mw * ranks * time_ps / 1000.0}


def stream_energy_pj(level, read_bytes: int, write_bytes: int, requests: int, time_ps: float) -> dict[str, float]:
    """The closed form (fast fidelity): the commands `read_bytes` and `write_bytes` moved in
    `requests` transfers imply, plus refresh and background over `time_ps`."""
    spec, e = level.spec, level.spec.energy_pj
    bb = spec.burst_bytes
    rd, wr = -(-read_bytes // bb), -(-write_bytes // bb)
    bursts = rd + wr
    opened = min(requests, bursts) if bursts else 0
    acts = opened + (bursts - opened) // spec.bursts_per_row
    return {"act_pre": acts * (e["ACT"] + e["PRE"]), "rd_wr": rd * e["RD"] + wr * e["WR"],
            **time_energy_pj(level, time_ps)}


def stream_energy_per_byte_pj(level) -> float:
    """What a long sequential stream costs per byte at the level's streaming rate: the mapper's
    per-byte figure for a DRAM level (one row opened per row of bursts, refresh and background
    spread over the bytes the level moves meanwhile)."""
    nbytes = 1 << 24
    time_ps = level.stream_time_ps(nbytes)
    return sum(stream_energy_pj(level, nbytes, 0, 1, time_ps).values()) / nbytes
