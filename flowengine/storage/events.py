"""Event storage: the SQL sink for the `EventWriter`, reads, retention, recovery.

`SqlEventSink(db)` is an `EventSink`: every batch the writer hands it is one
transaction — the events (one bulk ``executemany`` insert), the CDRs of the
calls whose `call_ended` is in the batch, and the `open_calls` bookkeeping.
The transaction runs on one worker thread, so the event loop (and the calls
on it) go on while SQLite or PostgreSQL writes; `write_batch` returns once
the batch is committed. A batch is all or nothing: after a crash the
database holds every batch whose `write_batch` returned, and at most the one
in flight is lost (with the events still queued in the writer).

Inserting an event that is already stored (same stream, key and `seq`) is
ignored, so replaying a batch is harmless.

`EventStore(db)` reads them back: a call's stream by `seq` (resumable from a
`seq`), a time range, an operator's events, and CDRs; `purge(before)` is the
retention job. `close_interrupted_calls(db)` is start-up recovery: every call
with a stored `call_started` and no `call_ended` gets a `call_ended` with
cause ``engine_restart`` and a CDR that says so.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from flowengine.events.base import StreamEvent
from flowengine.events.codec import dumps_event, event_line
from flowengine.storage.cdr import CDR_COLUMNS, ENGINE_RESTART, Cdr, CdrBuilder
from flowengine.storage.database import Database
from flowengine.storage.schema import cdrs as cdr_table
from flowengine.storage.schema import events, open_calls

__all__ = ["EventStore", "PurgeResult", "SqlEventSink", "close_interrupted_calls"]

log = logging.getLogger("flowengine.storage.events")

#: call events the CDR needs the fields of (the others only count)
_CDR_EVENTS = frozenset(
    {
        "call_started", "call_answered", "call_hung_up", "bridge_started", "bridge_ended",
        "transfer_completed", "queue_entered", "queue_connected", "queue_completed", "queue_abandoned",
        "queue_timeout", "queue_full", "queue_no_operators", "queue_no_answer", "queue_overflow",
        "queue_callback_requested",
    }
)  # fmt: skip


def _insert_ignoring_duplicates(db: Database, table: sa.Table) -> Any:
    if db.backend == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


_EVENT_COLUMNS = ("stream", "stream_key", "seq", "ts", "name", "operator_id", "body")


def _event_insert_sql(db: Database) -> str:
    """The hot path's statement, for the driver's ``executemany`` with tuples:
    SQLAlchemy's per-row parameter processing would cost a third of the time,
    and these columns need none (text, numbers)."""
    mark = "?" if db.engine.dialect.paramstyle == "qmark" else "%s"
    return (
        f"INSERT INTO {events.name} ({', '.join(_EVENT_COLUMNS)}) "
        f"VALUES ({', '.join([mark] * len(_EVENT_COLUMNS))}) ON CONFLICT DO NOTHING"
    )


class SqlEventSink:
    """An `EventSink` that stores events and CDRs in `db` (see the module doc).

    `commit_seconds` keeps the duration of the last commits (for the
    benchmark and /metrics); `written` and `batches` count what was stored.
    With `cdrs=False` only events are written (no CDRs, no open-call list).
    """

    def __init__(self, db: Database, *, cdrs: bool = True, thread: bool = True, keep_timings: int = 10_000) -> None:
        self.db = db
        self.cdrs = cdrs
        self.written = 0
        self.batches = 0
        self.commit_seconds: deque[float] = deque(maxlen=keep_timings)
        self._builders: dict[str, CdrBuilder] = {}
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="sql-event-sink") if thread else None
        self._insert_events_sql = _event_insert_sql(db)
        self._insert_open = _insert_ignoring_duplicates(db, open_calls)
        self._insert_cdr = _insert_ignoring_duplicates(db, cdr_table)

    @property
    def open_calls(self) -> int:
        """Calls whose end this sink has not seen yet."""
        return len(self._builders)

    async def write_batch(self, batch: Sequence[StreamEvent]) -> None:
        if not batch:
            return
        if self._executor is None:
            self.write_sync(batch)
            return
        await asyncio.get_running_loop().run_in_executor(self._executor, self.write_sync, list(batch))

    def write_sync(self, batch: Sequence[StreamEvent]) -> None:
        """Store one batch in one transaction (from any thread, one at a time)."""
        rows = []
        opened: dict[str, float] = {}
        ended: list[tuple[CdrBuilder | None, str, dict[str, Any]]] = []
        builders = self._builders
        track = self.cdrs
        for e in batch:
            stream = e.stream
            key = e.stream_key
            name = e.name
            rows.append(
                (stream, key, e.seq, e.ts, name, getattr(e, "operator_id", None), event_line(e)[:-1].decode("utf-8"))
            )
            if not track or stream != "call":
                continue
            builder = builders.get(key)
            if builder is None:
                builder = builders[key] = CdrBuilder(key)
            if name == "call_ended":
                del builders[key]
                ended.append((builder if builder.has_start else None, key, e.to_dict()))
                continue
            if name in _CDR_EVENTS:
                if name == "call_started":
                    opened[key] = e.ts
                builder.feed(name, e.to_dict())
            else:
                builder.count += 1
        started = time.perf_counter()
        with self.db.begin() as conn:
            conn.exec_driver_sql(self._insert_events_sql, rows)
            if track:
                self._calls(conn, opened, ended)
        self.commit_seconds.append(time.perf_counter() - started)
        self.written += len(rows)
        self.batches += 1

    def _calls(
        self, conn: Connection, opened: dict[str, float], ended: list[tuple[CdrBuilder | None, str, dict[str, Any]]]
    ) -> None:
        closed = {key for _b, key, _e in ended}
        still_open = [{"call_id": k, "started_at": ts} for k, ts in opened.items() if k not in closed]
        if still_open:
            conn.execute(self._insert_open, still_open)
        if not ended:
            return
        records = []
        for builder, key, end in ended:
            if builder is None:  # started before this sink saw it: build from what is stored
                builder = _builder_from_db(conn, key, exclude_seq=end.get("seq"))
            builder.count += 1
            records.append(builder.finish(end).to_row())
        conn.execute(self._insert_cdr, records)
        stale = [k for k in closed if k not in opened]
        if stale:
            conn.execute(open_calls.delete().where(open_calls.c.call_id.in_(stale)))

    async def flush(self) -> None:
        """Nothing to do: every batch is committed before `write_batch` returns."""

    async def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None


def _builder_from_db(conn: Connection, call_id: str, exclude_seq: int | None = None) -> CdrBuilder:
    builder = CdrBuilder(call_id)
    query = (
        sa.select(events.c.name, events.c.body)
        .where(events.c.stream == "call", events.c.stream_key == call_id)
        .order_by(events.c.seq)
    )
    for name, body in conn.execute(query):
        if name == "call_ended":
            continue
        data = json.loads(body)
        if exclude_seq is not None and data.get("seq") == exclude_seq:
            continue
        if name in _CDR_EVENTS:
            builder.feed(name, data)
        else:
            builder.count += 1
            builder.last_ts = max(builder.last_ts, data.get("ts") or 0.0)
            builder.last_seq = max(builder.last_seq, data.get("seq") or 0)
    return builder


# ---- reads -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PurgeResult:
    events: int
    cdrs: int


class EventStore:
    """Reads of stored events and CDRs; events come back as the dicts of
    their JSON-lines form (``event``, ``v``, key, ``seq``, ``ts``...)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def call_events(self, call_id: str, *, after_seq: int = 0, limit: int = 10_000) -> list[dict[str, Any]]:
        """A call's events in `seq` order, those after `after_seq` (resume from
        the last `seq` you have)."""
        return self.stream_events("call", call_id, after_seq=after_seq, limit=limit)

    def stream_events(
        self, stream: str, key: str, *, after_seq: int = 0, limit: int = 10_000
    ) -> list[dict[str, Any]]:
        query = (
            sa.select(events.c.body)
            .where(events.c.stream == stream, events.c.stream_key == key, events.c.seq > after_seq)
            .order_by(events.c.seq)
            .limit(limit)
        )
        return self._bodies(query)

    def events_between(
        self,
        start: float,
        end: float,
        *,
        stream: str | None = None,
        names: Iterable[str] | None = None,
        limit: int = 10_000,
    ) -> list[dict[str, Any]]:
        """Events with `start` <= ts < `end` (epoch seconds), in time order."""
        query = sa.select(events.c.body).where(events.c.ts >= start, events.c.ts < end)
        if stream is not None:
            query = query.where(events.c.stream == stream)
        if names is not None:
            query = query.where(events.c.name.in_(list(names)))
        return self._bodies(query.order_by(events.c.ts, events.c.id).limit(limit))

    def operator_events(
        self,
        operator_id: str,
        *,
        start: float | None = None,
        end: float | None = None,
        stream: str | None = "operator",
        limit: int = 10_000,
    ) -> list[dict[str, Any]]:
        """An operator's events in time order: their own stream (status and
        state changes), or with `stream=None` also the call events naming them."""
        query = sa.select(events.c.body).where(events.c.operator_id == operator_id)
        if stream is not None:
            query = query.where(events.c.stream == stream)
        if start is not None:
            query = query.where(events.c.ts >= start)
        if end is not None:
            query = query.where(events.c.ts < end)
        return self._bodies(query.order_by(events.c.ts, events.c.id).limit(limit))

    def count_events(self) -> int:
        with self.db.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(events)).scalar() or 0)

    def cdr(self, call_id: str) -> Cdr | None:
        with self.db.connect() as conn:
            row = conn.execute(sa.select(cdr_table).where(cdr_table.c.call_id == call_id)).first()
        return None if row is None else Cdr(**{c: getattr(row, c) for c in CDR_COLUMNS})

    def cdrs(
        self,
        *,
        start: float | None = None,
        end: float | None = None,
        operator_id: str | None = None,
        result: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Cdr]:
        """CDRs of calls started in [start, end), newest first."""
        query = sa.select(cdr_table)
        if start is not None:
            query = query.where(cdr_table.c.started_at >= start)
        if end is not None:
            query = query.where(cdr_table.c.started_at < end)
        if operator_id is not None:
            query = query.where(cdr_table.c.operator_id == operator_id)
        if result is not None:
            query = query.where(cdr_table.c.result == result)
        query = query.order_by(cdr_table.c.started_at.desc(), cdr_table.c.call_id).limit(limit).offset(offset)
        with self.db.connect() as conn:
            rows = conn.execute(query).all()
        return [Cdr(**{c: getattr(r, c) for c in CDR_COLUMNS}) for r in rows]

    def open_call_ids(self) -> list[str]:
        """Calls started and not ended, as far as the database knows."""
        with self.db.connect() as conn:
            return list(conn.execute(sa.select(open_calls.c.call_id).order_by(open_calls.c.started_at)).scalars())

    def purge(self, before: float, *, chunk: int = 10_000) -> PurgeResult:
        """Delete events with ts < `before` and CDRs of calls started before
        it, `chunk` rows per transaction; events of calls still open stay."""
        gone_events = gone_cdrs = 0
        while True:
            with self.db.begin() as conn:
                ids = (
                    sa.select(events.c.id)
                    .where(events.c.ts < before)
                    .where(~sa.and_(events.c.stream == "call", events.c.stream_key.in_(sa.select(open_calls.c.call_id))))
                    .limit(chunk)
                    .scalar_subquery()
                )
                done = conn.execute(events.delete().where(events.c.id.in_(ids))).rowcount
            gone_events += done
            if done < chunk:
                break
        with self.db.begin() as conn:
            gone_cdrs = conn.execute(cdr_table.delete().where(cdr_table.c.started_at < before)).rowcount
        return PurgeResult(gone_events, gone_cdrs)

    def _bodies(self, query: Any) -> list[dict[str, Any]]:
        with self.db.connect() as conn:
            return [json.loads(body) for body in conn.execute(query).scalars()]


# ---- recovery --------------------------------------------------------------------------------


def close_interrupted_calls(db: Database, *, now: float | None = None) -> list[Cdr]:
    """Close every call the database holds as open (a `call_started` and no
    `call_ended`): append `call_ended` with cause ``engine_restart`` to its
    stream and write its CDR (result ``interrupted``). Run at start-up,
    before taking calls. Returns the CDRs written."""
    now = time.time() if now is None else now
    closed: list[Cdr] = []
    with db.begin() as conn:
        keys = list(conn.execute(sa.select(open_calls.c.call_id).order_by(open_calls.c.started_at)).scalars())
        for key in keys:
            if conn.execute(
                sa.select(events.c.id).where(
                    events.c.stream == "call", events.c.stream_key == key, events.c.name == "call_ended"
                )
            ).first():
                continue  # ended after all (written by an older sink): only the bookkeeping is stale
            builder = _builder_from_db(conn, key)
            started = builder.started_at if builder.started_at is not None else builder.last_ts
            ended_at = max(now, builder.last_ts)
            duration = round(max(0.0, ended_at - started), 6)
            end = {
                "event": "call_ended",
                "v": 2,
                "call_id": key,
                "seq": builder.last_seq + 1,
                "ts": ended_at,
                "t": duration,
                "duration": duration,
                "steps": 0,
                "hangup_cause": ENGINE_RESTART,
            }
            conn.execute(
                _insert_ignoring_duplicates(db, events),
                [
                    {
                        "stream": "call", "stream_key": key, "seq": end["seq"], "ts": ended_at,
                        "name": "call_ended", "operator_id": None, "body": dumps_event(end),
                    }
                ],
            )  # fmt: skip
            builder.last_ts = ended_at
            record = builder.finish(end, interrupted=True)
            conn.execute(_insert_ignoring_duplicates(db, cdr_table), [record.to_row()])
            closed.append(record)
        if keys:
            conn.execute(open_calls.delete().where(open_calls.c.call_id.in_(keys)))
    if closed:
        log.warning("closed %d calls interrupted by the last shutdown (cause %s)", len(closed), ENGINE_RESTART)
    return closed
