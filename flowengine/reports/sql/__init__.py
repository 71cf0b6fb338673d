"""Reports computed in the database (SQLite or PostgreSQL) from the stored
events: `db_report(db, kind, period, filt)` gives the same body as
`flowengine.reports.compute.fold_report` over the same events
(`tests/flowengine/reports/test_sql_reports.py` checks every figure).

Call reports read the report tables (`tables`), which `refresh` first brings
up to date with the raw events; queue and operator streams (callbacks,
wrap-up, statuses) are read from the events table itself.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from flowengine.reports.catalogue import ReportFilter, kind_of
from flowengine.reports.compute import break_totals
from flowengine.reports.period import Period
from flowengine.reports.sql import queries
from flowengine.reports.sql.refresh import rebuild, refresh
from flowengine.storage import Database
from flowengine.storage.schema import events

__all__ = ["db_report", "rebuild", "refresh", "stored_statuses"]

_QUERIES = {
    "queues": queries.queues,
    "operators": queries.operators,
    "load": queries.load,
    "lost": queries.lost,
    "transfers": queries.transfers,
    "history": queries.history,
    "paths": queries.paths,
}


def db_report(
    db: Database, kind: str, period: Period, filt: ReportFilter | None = None, *, fresh: bool = True
) -> dict[str, Any]:
    """The report's body (``rows``, or ``by_hour`` and ``by_weekday``).
    `fresh`: fold the calls that ended since the last report first."""
    kind_of(kind)
    filt = filt or ReportFilter()
    if kind == "history" and not filt.caller:
        raise ValueError("the history report needs a caller's number")
    if fresh:
        refresh(db)
    if kind == "statuses":
        times, _last = stored_statuses(db, period, filt, fresh=False)
        return {"rows": [{"operator": op, "seconds": dict(sorted(times[op].items()))} for op in sorted(times)]}
    with db.connect() as conn:
        body = _QUERIES[kind](conn, db.backend, period, filt)
    return body if isinstance(body, dict) else {"rows": body}


def stored_statuses(
    db: Database,
    period: Period,
    filt: ReportFilter | None = None,
    *,
    until: float | None = None,
    fresh: bool = True,
) -> tuple[dict[str, dict[str, float]], float | None]:
    """Seconds per operator in each status and state over the stored operator
    streams (`queries.statuses`), and where the streams end: the latest stored
    event, or `until`; what was still going on is counted until then."""
    if fresh:
        refresh(db)
    with db.connect() as conn:
        if until is None:
            until = conn.execute(sa.select(sa.func.max(events.c.ts))).scalar()
        horizon = None if until is None else min(period.end, float(until))
        return break_totals(queries.statuses(conn, period, filt or ReportFilter(), horizon)), until
