"""Sweep results store: one SQLite row per design point, committed the moment the point finishes.

WAL mode plus one transaction per point means a `kill -9` loses at most the points in flight, never a
committed one; the content-hash primary key means a resumed sweep cannot duplicate a point. Only the
parent process writes; workers return plain dicts.
"""
from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any, Iterable, Mapping

from archsim import __version__
from archsim.errors import ArchsimError

# headline metrics, each a REAL column, taken from the report's totals
METRICS = ("time_ns", "cycles", "energy_pj", "macs", "utilization", "stall_cycles",
           "dram_read_bytes", "dram_write_bytes", "area_mm2", "macs_per_s_per_mm2")
DONE = ("ok", "skipped")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS points (
    point_id TEXT PRIMARY KEY, sweep TEXT, idx INTEGER, status TEXT NOT NULL, workload TEXT,
    params TEXT, design TEXT, workload_json TEXT, report TEXT, error TEXT, traceback TEXT,
    attempts INTEGER, runtime_s REAL, archsim_version TEXT, finished_at REAL,
    {metrics}
);
""".format(metrics=", ".join(f"{m} REAL" for m in METRICS))
_FIXED = ("point_id", "sweep", "idx", "status", "workload", "params", "design", "workload_json", "report",
          "error", "traceback", "attempts", "runtime_s", "archsim_version", "finished_at", *METRICS)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def headline(report: Mapping[str, Any] | None) -> dict[str, float | None]:
    """The metric columns for one report: totals, with utilisation cycle-weighted over ops if not given."""
    totals = dict((report or {}).get("totals", {}))
    out: dict[str, float | None] = {}
    for m in METRICS:
        v = totals.get(m)
        if isinstance(v, Mapping):
            v = sum(float(x) for x in v.values())
        out[m] = float(v) if isinstance(v, (int, float)) else None
    if out["utilization"] is None and report and report.get("ops"):
        ops = report["ops"]
        cyc = sum(float(o.get("cycles", 0)) * o.get("count", 1) for o in ops)
        if cyc > 0:
            out["utilization"] = sum(float(o.get("utilization", 0)) * float(o.get("cycles", 0)) * o.get("count", 1)
                                     for o in ops) / cyc
    return out


class Store:
    """A results database. Open with `Store(path)`; use as a context manager to close it."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.db = sqlite3.connect(str(self.path), timeout=30, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes in WAL mode
            self.db.executescript(_SCHEMA)
            have = {r[1] for r in self.db.execute("PRAGMA table_info(points)")}
            for m in METRICS:                  # a store written before a metric existed gains its column
                if m not in have:
                    self.db.execute(f"ALTER TABLE points ADD COLUMN {_q(m)} REAL")
        except sqlite3.DatabaseError as exc:
            raise ArchsimError(f"{self.path}: not a usable results database: {exc}") from None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    # -- metadata ---------------------------------------------------------------------------------
    def set_meta(self, key: str, value: Any) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value, default=str)))

    def meta(self, key: str, default: Any = None) -> Any:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    # -- columns ----------------------------------------------------------------------------------
    def columns(self) -> list[str]:
        return [r[1] for r in self.db.execute("PRAGMA table_info(points)")]

    def param_columns(self) -> list[str]:
        return [c for c in self.columns() if c not in _FIXED]

    def add_param_columns(self, names: Iterable[str]) -> None:
        have = set(self.columns())
        for n in names:
            if n not in have:
                self.db.execute(f"ALTER TABLE points ADD COLUMN {_q(n)}")
                have.add(n)

    # -- points -----------------------------------------------------------------------------------
    def ids(self, statuses: Iterable[str] = DONE, sweep: str | None = None) -> set[str]:
        st = list(statuses)
        sql = f"SELECT point_id FROM points WHERE status IN ({','.join('?' * len(st))})"
        args: list[Any] = st
        if sweep is not None:
            sql += " AND sweep = ?"
            args = [*st, sweep]
        return {r[0] for r in self.db.execute(sql, args)}

    def counts(self, sweep: str | None = None) -> dict[str, int]:
        sql, args = "SELECT status, COUNT(*) FROM points", ()
        if sweep is not None:
            sql, args = sql + " WHERE sweep = ?", (sweep,)
        return dict(self.db.execute(sql + " GROUP BY status", args).fetchall())

    def record(self, sweep: str, point: Any, status: str, report: Mapping | None = None, error: str | None = None,
               tb: str | None = None, attempts: int = 1, runtime_s: float = 0.0) -> None:
        """Write one finished point (ok / failed / skipped) and commit it at once."""
        params = dict(point.params)
        cols = {
            "point_id": point.point_id, "sweep": sweep, "idx": point.index, "status": status,
            "workload": str(params.get("workload", "")), "params": json.dumps(params, default=str),
            "design": json.dumps(point.design, default=str), "workload_json": json.dumps(point.workload, default=str),
            "report": json.dumps(report, default=str) if report is not None else None, "error": error,
            "traceback": tb, "attempts": attempts, "runtime_s": runtime_s, "archsim_version": __version__,
            "finished_at": time.time(), **headline(report),
        }
        for k, v in params.items():
            if k not in cols:
                cols[k] = v if isinstance(v, (int, float, str)) or v is None else json.dumps(v, default=str)
        names = ", ".join(_q(c) for c in cols)
        self.db.execute(f"INSERT OR REPLACE INTO points ({names}) VALUES ({','.join('?' * len(cols))})",
                        list(cols.values()))

    def rows(self, with_report: bool = False) -> list[dict[str, Any]]:
        """Every point as a dict: fixed columns, swept parameters and metrics (report parsed if asked)."""
        cols = [c for c in self.columns() if with_report or c not in ("report", "design", "traceback")]
        cur = self.db.execute(f"SELECT {', '.join(_q(c) for c in cols)} FROM points ORDER BY sweep, idx")
        out = []
        for r in cur:
            d = dict(zip(cols, r))
            for k in ("report", "design"):
                if d.get(k):
                    d[k] = json.loads(d[k])
            out.append(d)
        return out
