"""Reports as text tables, CSV or JSON (the CLI's `--format`)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

__all__ = ["render"]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    if isinstance(value, dict):
        return " ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


def render(rows: Sequence[dict[str, Any]], fmt: str, columns: Sequence[str] | None = None) -> str:
    """`rows` as `table` (aligned text), `csv` (with a header) or `json` (one array)."""
    if fmt == "json":
        return json.dumps(list(rows), ensure_ascii=False, indent=1)
    cols = list(columns or (rows[0].keys() if rows else []))
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(cols)
        for r in rows:
            writer.writerow([_cell(r.get(c)) for c in cols])
        return out.getvalue().rstrip("\n")
    if not rows:
        return "(nothing in the period)"
    cells = [[_cell(r.get(c)) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(line.rstrip() for line in lines)


def report_csv(kind: str, body: dict[str, Any]) -> str:
    """A report body (``rows``, or ``by_hour`` and ``by_weekday``) as CSV text:
    the load report is two tables with a blank line between; the statuses
    report has one column per status and state."""
    from flowengine.reports.catalogue import COLUMNS, LOAD_WEEKDAY

    if kind == "load":
        hours = render(body["by_hour"], "csv", COLUMNS["load"])
        days = render(body["by_weekday"], "csv", [c.name for c in LOAD_WEEKDAY])
        return f"{hours}\n\n{days}\n"
    rows = body["rows"]
    if kind == "statuses":
        names = sorted({n for r in rows for n in r["seconds"]})
        flat = [{"operator": r["operator"], **r["seconds"]} for r in rows]
        return render(flat, "csv", ["operator", *names]) + "\n"
    return render(rows, "csv", COLUMNS[kind]) + "\n"
