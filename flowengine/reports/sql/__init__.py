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

import orjson
import sqlalchemy as sa

from flowengine.reports.catalogue import ReportFilter, kind_of
from flowengine.reports.period import Period
from flowengine.reports.sql import queries
from flowengine.reports.sql.refresh import rebuild, refresh
from flowengine.storage import Database
from flowengine.storage.schema import events

__all__ = ["db_report", "rebuild", "refresh", "stored_statuses"]

_STATUS_EVENTS = ("operator_status_changed", "operator_state_changed")

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
    if kind == "statuses":
        times, _last = stored_statuses(db, period)
        return {"rows": [
            {"operator": op, "seconds": dict(sorted(times[op].items()))}
            for op in sorted(times) if filt.operators is None or op in filt.operators
        ]}  # fmt: skip
    if kind == "history" and not filt.caller:
        raise ValueError("the history report needs a caller's number")
    if fresh:
        refresh(db)
    with db.connect() as conn:
        body = _QUERIES[kind](conn, db.backend, period, filt)
    return body if isinstance(body, dict) else {"rows": body}


def stored_statuses(
    db: Database, period: Period, *, until: float | None = None
) -> tuple[dict[str, dict[str, float]], float | None]:
    """`status_times` over the stored operator streams: each operator's last
    status and state change before the period, and every change in it. The
    streams end at the latest stored event (or `until`): what was still going
    on is counted until then."""
    from flowengine.acd.analysis.status_time import status_times

    ev = events.c
    before = (
        sa.select(sa.func.max(ev.id))
        .where(ev.operator_id.is_not(None), ev.ts < period.start, ev.name.in_(_STATUS_EVENTS))
        .group_by(ev.operator_id, ev.name)
    )
    query = (
        sa.select(ev.body)
        .where(
            ev.operator_id.is_not(None),
            ev.name.in_(_STATUS_EVENTS),
            sa.or_(ev.id.in_(before), sa.and_(ev.ts >= period.start, ev.ts < period.end)),
        )
        .order_by(ev.ts, ev.id)
    )
    with db.connect() as conn:
        found = [orjson.loads(b) for b in conn.execute(query).scalars()]
        if until is None:
            until = conn.execute(sa.select(sa.func.max(ev.ts))).scalar()
    if not found:
        return {}, until
    return status_times(found, period.start, period.end, until=until)
