"""Read a sweep's results: `load(db)` gives a pandas DataFrame (or a list of dicts without pandas).

Filtering uses the same safe expression language as sweep constraints, over each row's columns
(status, workload, the swept dotted keys and the metric columns), e.g.
`status == 'ok' and units.sa.rows >= 64 and time_ns < 2e6`.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from archsim.errors import ArchsimError
from archsim.fileio import atomic_write_text
from archsim.sweep.expr import Expr
from archsim.sweep.store import Store

# columns a table or export leaves out unless asked (large JSON blobs)
_BULKY = ("report", "design", "traceback", "workload_json", "params")


def rows(db: str | Path, where: str | None = None, with_report: bool = False) -> list[dict[str, Any]]:
    """Every point of `db` (optionally filtered by `where`) as a dict."""
    p = Path(db)
    if not p.is_file():
        raise ArchsimError(f"{p}: no such results database")
    with Store(p) as store:
        out = store.rows(with_report=with_report)
    if where:
        expr = Expr(where)
        out = [r for r in out if expr.evaluate(r)]
    return out


def load(db: str | Path, where: str | None = None, with_report: bool = False) -> Any:
    """A pandas DataFrame of the results when pandas is installed, else a list of dicts."""
    data = rows(db, where, with_report)
    try:
        import pandas as pd
    except ImportError:
        return data
    return pd.DataFrame(data)


def export(data: list[dict[str, Any]], out: str | Path) -> Path:
    """Write rows to .csv (stdlib) or .parquet (needs pyarrow); bulky JSON columns are left out."""
    out = Path(out)
    table = [{k: v for k, v in r.items() if k not in _BULKY} for r in data]
    cols: dict[str, None] = {}
    for r in table:
        cols.update(dict.fromkeys(r))
    if out.suffix == ".csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(cols))
        w.writeheader()
        w.writerows(table)
        return atomic_write_text(out, buf.getvalue())
    if out.suffix == ".parquet":
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise ArchsimError("Parquet export needs pyarrow: pip install pyarrow (or export to .csv)") from None
        pq.write_table(pa.Table.from_pylist(table), out)
        return out
    raise ArchsimError(f"--export {out}: expected a .csv or .parquet file name")
