"""Reports computed in the database (SQLite or PostgreSQL) from the stored
events: `db_report(db, kind, period, filt)` gives the same body as
`flowengine.reports.compute.fold_report` over the same events."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from flowengine.reports.catalogue import ReportFilter, kind_of
from flowengine.reports.compute import fold_report
from flowengine.reports.period import Period
from flowengine.storage import Database
from flowengine.storage.schema import events

__all__ = ["db_report", "stored_statuses"]

_STATUS_EVENTS = ("operator_status_changed", "operator_state_changed")


def db_report(db: Database, kind: str, period: Period, filt: ReportFilter | None = None) -> dict[str, Any]:
    kind_of(kind)
    filt = filt or ReportFilter()
    if kind == "statuses":
        times, _last = stored_statuses(db, period)
        return {"rows": [
            {"operator": op, "seconds": dict(sorted(times[op].items()))}
            for op in sorted(times) if filt.operators is None or op in filt.operators
        ]}  # fmt: skip
    started = (
        sa.select(events.c.stream_id)
        .where(events.c.name == "call_started", events.c.ts >= period.start, events.c.ts < period.end)
    )
    query = sa.select(events.c.body).where(
        sa.or_(events.c.stream_id.in_(started), sa.and_(events.c.stream != "call", events.c.ts < period.end))
    ).order_by(events.c.ts, events.c.id)
    with db.connect() as conn:
        found = [json.loads(b) for b in conn.execute(query).scalars()]
    return fold_report(kind, found, period, filt)


def stored_statuses(
    db: Database, period: Period, *, until: float | None = None
) -> tuple[dict[str, dict[str, float]], float | None]:
    """`status_times` over the stored operator streams: each operator's last
    status and state change before the period, and every change in it. The
    streams end at the latest stored event before the period's end (or `until`)."""
    from flowengine.acd.analysis.status_time import status_times

    before = (
        sa.select(sa.func.max(events.c.id))
        .where(events.c.operator_id.is_not(None), events.c.ts < period.start, events.c.name.in_(_STATUS_EVENTS))
        .group_by(events.c.operator_id, events.c.name)
    )
    query = (
        sa.select(events.c.body)
        .where(
            events.c.operator_id.is_not(None),
            events.c.name.in_(_STATUS_EVENTS),
            sa.or_(events.c.id.in_(before), sa.and_(events.c.ts >= period.start, events.c.ts < period.end)),
        )
        .order_by(events.c.ts, events.c.id)
    )
    with db.connect() as conn:
        found = [json.loads(b) for b in conn.execute(query).scalars()]
        if until is None:
            until = conn.execute(sa.select(sa.func.max(events.c.ts)).where(events.c.ts < period.end)).scalar()
    if not found:
        return {}, until
    return status_times(found, period.start, period.end, until=until)
