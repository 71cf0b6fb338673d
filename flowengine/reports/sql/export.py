"""The CDR export of a period: the calls' records as CSV, and the ACD's
events as an Asterisk queue_log (the format queue-statistics tools read)."""

from __future__ import annotations

import csv
import io
import json

import sqlalchemy as sa

from flowengine.reports.period import Period
from flowengine.storage import Database
from flowengine.storage.cdr import CDR_COLUMNS
from flowengine.storage.schema import cdrs, events

__all__ = ["cdr_csv", "queue_log"]

#: rows fetched from the database at a time
_CHUNK = 5000


def cdr_csv(db: Database, period: Period) -> str:
    """One row per call that started in the period, oldest first; times are
    UTC epoch seconds as stored, plus `started` in the period's time zone."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["started", *CDR_COLUMNS])
    query = (
        sa.select(*(cdrs.c[c] for c in CDR_COLUMNS))
        .where(cdrs.c.started_at >= period.start, cdrs.c.started_at < period.end)
        .order_by(cdrs.c.started_at, cdrs.c.call_id)
    )
    with db.connect() as conn:
        for row in conn.execution_options(yield_per=_CHUNK).execute(query):
            local = period.local(row.started_at).isoformat(timespec="seconds")
            writer.writerow([local, *("" if v is None else v for v in row)])
    return out.getvalue()


def queue_log(db: Database, period: Period) -> str:
    """queue_log lines of the ACD events in the period, in time order."""
    from flowengine.acd.analysis.export import queue_log_lines

    wanted = sa.or_(
        events.c.name.in_(("call_started", "call_ended")),
        events.c.name.like("queue\\_%", escape="\\"),
        events.c.name.like("callback\\_%", escape="\\"),
        events.c.name.like("operator\\_%", escape="\\"),
    )
    query = (
        sa.select(events.c.body)
        .where(events.c.ts >= period.start, events.c.ts < period.end, wanted)
        .order_by(events.c.ts, events.c.id)
    )
    with db.connect() as conn:
        bodies = (json.loads(b) for b in conn.execution_options(yield_per=_CHUNK).execute(query).scalars())
        return "".join(line if line.endswith("\n") else line + "\n" for line in queue_log_lines(bodies))
