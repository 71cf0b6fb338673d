"""Retention for the report tables: when the service purges old events
(`EventStore.purge`, then `purge_report_rows` with the same cut), the
report rows they gave go too, so a purged period reports nothing.
(Storage does not call it itself: the report tables are built on storage,
not part of it.)

A call goes with its start (as its CDR does): every row of the calls that
started before the cut. The copied operator and queue events go by their
time; the status and state spans that ended before the cut go, and one
still on at the cut is cut there, so the time after it is reported as
before. (Only a full rebuild, after an upgrade that folds differently,
loses that: it starts each operator at their first change left.)
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from flowengine.reports.sql.refresh import _lock
from flowengine.reports.sql.tables import (
    CALL_TABLES,
    report_calls,
    report_ops,
    report_spans,
    report_state,
)
from flowengine.storage import Database

__all__ = ["purge_report_rows"]

#: calls deleted per transaction
CHUNK = 1000


def purge_report_rows(db: Database, before: float, *, chunk: int = CHUNK) -> int:
    """Delete the report rows of calls started before `before` and of the
    operator and queue events older than it, and cut the operators'
    statuses and states there; how many calls went. Nothing
    to do (0) when the report tables were never made."""
    with _lock(db):
        try:
            with db.connect() as conn:
                conn.execute(sa.select(report_state.c.version)).first()
        except DBAPIError:
            return 0  # no report tables: no report was ever asked for
        gone = 0
        ca = report_calls.c
        while True:
            with db.begin() as conn:
                ids = list(conn.execute(sa.select(ca.call_id).where(ca.started < before).limit(chunk)).scalars())
                for table in CALL_TABLES:
                    conn.execute(table.delete().where(table.c.call_id.in_(ids)))
            gone += len(ids)
            if len(ids) < chunk:
                break
        with db.begin() as conn:
            conn.execute(report_ops.delete().where(report_ops.c.ts < before))
            sp = report_spans.c
            conn.execute(report_spans.delete().where(sp.start_at < before, sp.end_at <= before))
            # a status still on at the cut keeps its time after it
            conn.execute(
                report_spans.update()
                .where(sp.start_at < before, sa.or_(sp.end_at.is_(None), sp.end_at > before))
                .values(start_at=before)
            )
        return gone
