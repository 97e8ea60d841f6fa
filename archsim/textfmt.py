"""Numbers and tables for people: engineering units, and plain-text tables that fit a terminal.

Every table of every command goes through `render_table`: numbers are never cut (a column that
does not fit is dropped whole and named below the table), text cells wrap onto more lines, and
the result fits `width` columns (80 by default).
"""
from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence

PREFIXES = {-15: "f", -12: "p", -9: "n", -6: "u", -3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T", 15: "P",
            18: "E"}


def eng(value: float | int | None, unit: str = "") -> str:
    """`value` with an SI prefix and three significant digits: 12.9 G, 1.04 GB, 195 mJ, 77.1 us."""
    if value is None:
        return ""
    v = float(value)
    if v == int(v) and abs(v) < 1000:                  # small whole numbers as they are
        return f"{int(v)}" + (f" {unit}" if unit else "")
    if not math.isfinite(v):
        return f"{v:g}" + (f" {unit}" if unit else "")
    exp = max(-15, min(18, int(math.floor(math.log10(abs(v)) / 3) * 3)))
    mant = v / 10 ** exp
    text = _three_digits(mant)
    if abs(float(text)) >= 1000 and exp < 18:          # 999.7 rounds up into the next prefix
        exp += 3
        text = _three_digits(v / 10 ** exp)
    sep = " " if unit or PREFIXES[exp] else ""
    return f"{text}{sep}{PREFIXES[exp]}{unit}"


def _three_digits(m: float) -> str:
    a = abs(m)
    return f"{m:.0f}" if a >= 99.95 else f"{m:.1f}" if a >= 9.995 else f"{m:.2f}"


def pct(fraction: float) -> str:
    return f"{100 * fraction:.1f}%"


def plain(v: object) -> str:
    """A cell for a value of unknown meaning: floats to 4 significant digits (engineering above 1e5)."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float):
        return eng(v) if abs(v) >= 1e5 else f"{v:.4g}"
    if isinstance(v, int):
        return eng(v) if abs(v) >= 1e5 else str(v)
    return str(v)


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]], width: int = 80,
                 text_cols: Sequence[int] = (0,), title: str | None = None, keep: int = 1,
                 more: str = "see --json") -> str:
    """Rows of already formatted cells as aligned text no wider than `width`.

    Columns in `text_cols` are left-aligned and may wrap between words (a word longer than 24
    characters may break);
    the others are right-aligned and never cut. If the table is still too wide, columns are dropped
    from the right (never the first `keep`) and listed under it."""
    ncol = len(headers)
    natural = [max([len(headers[i])] + [len(r[i]) for r in rows]) for i in range(ncol)]
    words = [max([len(w) for r in rows for w in r[i].split()] + [0]) for i in range(ncol)]
    floor = [max(len(headers[i]), min(words[i], 24)) if i in text_cols else natural[i] for i in range(ncol)]
    shown = list(range(ncol))
    while len(shown) > keep and sum(floor[i] for i in shown) + len(shown) - 1 > width:
        shown.pop()
    widths = {i: natural[i] for i in shown}
    spare = width - (sum(natural[i] for i in shown) + len(shown) - 1)
    for i in (c for c in shown if c in text_cols and spare < 0):   # wrap text to what is left
        cut = min(-spare, widths[i] - floor[i])
        widths[i] -= cut
        spare += cut
    lines = [] if title is None else textwrap.wrap(title, width) or [""]
    lines.append(_line([headers[i] for i in shown], shown, widths, text_cols))
    lines.append(" ".join("-" * widths[i] for i in shown))
    for r in rows:
        wrapped = {i: (textwrap.wrap(r[i], widths[i], break_on_hyphens=False) or [""]) if i in text_cols else [r[i]]
                   for i in shown}
        for k in range(max(len(w) for w in wrapped.values())):
            lines.append(_line([wrapped[i][k] if k < len(wrapped[i]) else "" for i in shown], shown, widths,
                               text_cols))
    dropped = [headers[i] for i in range(ncol) if i not in shown]
    if dropped:
        lines += textwrap.wrap(f"(not shown at {width} columns: {', '.join(dropped)}; {more})", width)
    return "\n".join(line.rstrip() for line in lines)


def _line(cells: Sequence[str], shown: Sequence[int], widths: dict[int, int], text_cols: Sequence[int]) -> str:
    return " ".join(c.ljust(widths[i]) if i in text_cols else c.rjust(widths[i]) for c, i in zip(cells, shown))


def wrap(text: str, width: int = 80, indent: str = "") -> str:
    """A paragraph wrapped to `width`, continuation lines indented by `indent`."""
    return "\n".join(textwrap.wrap(text, width, subsequent_indent=indent, break_on_hyphens=False))


def join_wrapped(items: Sequence[str], width: int = 80, sep: str = "  ") -> str:
    """Items on lines no wider than `width`, never splitting an item."""
    lines: list[str] = []
    for item in items:
        if lines and len(lines[-1]) + len(sep) + len(item) <= width:
            lines[-1] += sep + item
        else:
            lines.append(item)
    return "\n".join(lines)
