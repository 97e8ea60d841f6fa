"""Chrome / Perfetto trace export: one track per compute unit and per memory channel.

Writes the Trace Event Format (a JSON object with `traceEvents`) that chrome://tracing and
ui.perfetto.dev open directly. Each track is a (pid, tid) pair named by `M` metadata events: pid 1
holds compute units, pid 2 memory channels. Events are `ph: "X"` complete events; times are kept in
integer picoseconds until the very end and written as microseconds (`ts`, `dur`) as floats, so a
1 ps event is 1e-06 us and nothing is rounded away.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Mapping

from archsim.fileio import atomic_write_text

GROUPS = {"units": 1, "memory": 2}
_GROUP_NAMES = {1: "compute units", 2: "memory channels"}
PS_PER_US = 1_000_000


class Trace:
    """Collects events on named tracks; `write(path)` emits Chrome trace JSON."""

    def __init__(self) -> None:
        self._tracks: dict[str, tuple[int, int]] = {}
        self._events: list[dict[str, Any]] = []

    def track(self, name: str, group: str = "units") -> tuple[int, int]:
        """Declare (or look up) a track; `group` is "units" or "memory". Returns its (pid, tid)."""
        if name in self._tracks:
            return self._tracks[name]
        if group not in GROUPS:
            raise ValueError(f"trace track group must be one of {sorted(GROUPS)}, got {group!r}")
        pid = GROUPS[group]
        tid = 1 + sum(1 for p, _ in self._tracks.values() if p == pid)
        self._tracks[name] = (pid, tid)
        return pid, tid

    def add(self, track: str, name: str, start_ps: int, dur_ps: int, args: Mapping[str, Any] | None = None) -> None:
        """One complete event on `track` (declared on first use in the "units" group unless declared before)."""
        if isinstance(start_ps, bool) or not isinstance(start_ps, int) or not isinstance(dur_ps, int) \
                or start_ps < 0 or dur_ps < 0:
            raise ValueError(f"trace event {name!r} on {track!r}: start_ps and dur_ps must be non-negative "
                             f"integers, got {start_ps!r}, {dur_ps!r}")
        pid, tid = self.track(track)
        ev: dict[str, Any] = {"name": name, "ph": "X", "pid": pid, "tid": tid,
                              "ts": start_ps / PS_PER_US, "dur": dur_ps / PS_PER_US}
        if args:
            ev["args"] = dict(args)
        self._events.append(ev)

    def extend(self, events: Iterable[tuple]) -> None:
        """Add (track, name, start_ps, dur_ps[, args]) tuples."""
        for ev in events:
            self.add(*ev)

    def to_dict(self) -> dict[str, Any]:
        meta: list[dict[str, Any]] = []
        for pid in sorted({p for p, _ in self._tracks.values()}):
            meta.append({"name": "process_name", "ph": "M", "pid": pid, "tid": 0,
                         "args": {"name": _GROUP_NAMES[pid]}})
            meta.append({"name": "process_sort_index", "ph": "M", "pid": pid, "tid": 0, "args": {"sort_index": pid}})
        for name, (pid, tid) in self._tracks.items():
            meta.append({"name": "thread_name", "ph": "M", "pid": pid, "tid": tid, "args": {"name": name}})
            meta.append({"name": "thread_sort_index", "ph": "M", "pid": pid, "tid": tid, "args": {"sort_index": tid}})
        events = sorted(self._events, key=lambda e: (e["pid"], e["tid"], e["ts"]))
        return {"traceEvents": meta + events, "displayTimeUnit": "ns",
                "otherData": {"generator": "archsim", "time_base": "integer ps, written as us"}}

    def write(self, path: str | Path) -> Path:
        p = Path(path)
        atomic_write_text(p, json.dumps(self.to_dict(), separators=(",", ":")))
        return p


def write_trace(path: str | Path, events: Iterable[tuple], memory_tracks: Iterable[str] = ()) -> Path:
    """Write (track, name, start_ps, dur_ps[, args]) events; tracks named in `memory_tracks` go in the memory group."""
    t = Trace()
    for name in memory_tracks:
        t.track(name, "memory")
    t.extend(events)
    return t.write(path)


def read_trace(path: str | Path) -> dict[str, list[tuple[str, int, int, dict]]]:
    """Load a trace back as {track name: [(event name, start_ps, dur_ps, args)]}, checking its structure."""
    data = json.loads(Path(path).read_text())
    if not isinstance(data, dict) or not isinstance(data.get("traceEvents"), list):
        raise ValueError(f"{path}: not a Chrome trace (no traceEvents list)")
    names: dict[tuple[int, int], str] = {}
    out: dict[str, list[tuple[str, int, int, dict]]] = {}
    for ev in data["traceEvents"]:
        if ev.get("ph") == "M" and ev.get("name") == "thread_name":
            names[(ev["pid"], ev["tid"])] = ev["args"]["name"]
    for ev in data["traceEvents"]:
        if ev.get("ph") != "X":
            continue
        key = (ev["pid"], ev["tid"])
        if key not in names:
            raise ValueError(f"{path}: event {ev.get('name')!r} on pid/tid {key} has no thread_name metadata")
        start_ps, dur_ps = round(ev["ts"] * PS_PER_US), round(ev["dur"] * PS_PER_US)
        out.setdefault(names[key], []).append((ev["name"], start_ps, dur_ps, ev.get("args", {})))
    return out
