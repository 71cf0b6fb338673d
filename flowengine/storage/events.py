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
import operator
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from flowengine.events.base import StreamEvent
from flowengine.events.codec import dumps_event, event_line
from flowengine.storage.cdr import CDR_COLUMNS, ENGINE_RESTART, Cdr, CdrBuilder
from flowengine.storage.database import Database
from flowengine.storage.schema import cdrs as cdr_table
from flowengine.storage.schema import events, open_calls, streams

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


#: event class -> (stream, name, its key's getter, its operator_id getter or None)
_CLASS_INFO: dict[type, tuple[str, str, Callable[[Any], str], Callable[[Any], Any] | None]] = {}


def _class_info(cls: type[StreamEvent]) -> tuple[str, str, Callable[[Any], str], Callable[[Any], Any] | None]:
    operator_of = operator.attrgetter("operator_id") if "operator_id" in cls.field_names else None
    info = (cls.stream, cls.name, operator.attrgetter(cls.key), operator_of)
    _CLASS_INFO[cls] = info
    return info


def _insert_ignoring_duplicates(db: Database, table: sa.Table) -> Any:
    if db.backend == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


_EVENT_COLUMNS = ("stream_id", "stream", "stream_key", "seq", "ts", "name", "operator_id", "body")


def _event_insert_sql(db: Database) -> str:
    """The hot path's statement, for the driver's ``executemany`` with tuples:
    SQLAlchemy's per-row parameter processing would cost a third of the time,
    and these columns need none (text, numbers)."""
    mark = "?" if db.engine.dialect.paramstyle == "qmark" else "%s"
    return (
        f"INSERT INTO {events.name} ({', '.join(_EVENT_COLUMNS)}) "
        f"VALUES ({', '.join([mark] * len(_EVENT_COLUMNS))}) ON CONFLICT DO NOTHING"
    )


class _Prepared:
    """One batch, encoded: event rows, new streams, calls opened and ended."""

    __slots__ = ("rows", "missing", "found", "opened", "ended")

    def __init__(self) -> None:
        self.rows: list[tuple[Any, ...]] = []
        self.found: dict[tuple[str, str], int] = {}
        self.missing: set[tuple[str, str]] = set()
        self.opened: dict[str, float] = {}
        self.ended: list[tuple[CdrBuilder | None, str, dict[str, Any]]] = []


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
        #: (stream, key) -> streams.id; a call's entry goes when it ends
        self._stream_ids: dict[tuple[str, str], int] = {}
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="sql-event-sink") if thread else None
        self._insert_events_sql = _event_insert_sql(db)
        self._copy_sql: str | None = None
        #: what a batch that repeats stored events raises
        self._duplicate_errors: tuple[type[Exception], ...] = (IntegrityError,)
        if db.backend == "postgresql":
            import psycopg

            self._copy_sql = f"COPY {events.name} ({', '.join(_EVENT_COLUMNS)}) FROM STDIN"
            self._duplicate_errors = (IntegrityError, psycopg.IntegrityError)
        self._insert_open = _insert_ignoring_duplicates(db, open_calls)
        self._insert_cdr = _insert_ignoring_duplicates(db, cdr_table)

    @property
    def open_calls(self) -> int:
        """Calls whose end this sink has not seen yet."""
        return len(self._builders)

    async def write_batch(self, batch: Sequence[StreamEvent]) -> None:
        """Encode the batch on the event loop, a slice at a time (yielding in
        between, so no call step waits for a whole batch), then commit it on
        the sink's thread, where the driver lets go of the interpreter lock
        while the database works."""
        if not batch:
            return
        work = _Prepared()
        for i in range(0, len(batch), self.SLICE):
            if i:
                await asyncio.sleep(0)
            self._prepare(batch[i : i + self.SLICE], work)
        if self._executor is not None:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._commit, work)
            return
        # on the loop: the transaction's inserts in slices, the calls run in between
        started = time.perf_counter()
        with self.db.begin() as conn:
            rows = self._rows(conn, work)
            for i in range(0, len(rows), self.SLICE):
                if i:
                    await asyncio.sleep(0)
                self._insert(conn, rows[i : i + self.SLICE])
            if self.cdrs:
                self._calls(conn, work.opened, work.ended)
        self._committed(work, started)

    #: events encoded between two yields to the event loop
    SLICE = 100

    def write_sync(self, batch: Sequence[StreamEvent]) -> None:
        """Store one batch in one transaction, here and now (one batch at a time)."""
        work = _Prepared()
        self._prepare(batch, work)
        self._commit(work)

    def _prepare(self, batch: Sequence[StreamEvent], work: _Prepared) -> None:
        rows = work.rows
        opened = work.opened
        ended = work.ended
        missing = work.missing
        builders = self._builders
        track = self.cdrs
        info = _CLASS_INFO
        ids = self._stream_ids
        for e in batch:
            stream, name, key_of, operator_of = info.get(type(e)) or _class_info(type(e))
            key = key_of(e)
            if (stream, key) not in ids:
                missing.add((stream, key))
            rows.append(
                (stream, key, e.seq, e.ts, name, operator_of(e) if operator_of else None, event_line(e)[:-1].decode())
            )
            if stream != "call" or not track:
                continue
            if name in _CDR_EVENTS:
                builder = builders.get(key)
                if builder is None:
                    builder = builders[key] = CdrBuilder(key)
                if name == "call_started":
                    opened[key] = e.ts
                builder.feed(name, e.to_dict())
            elif name == "call_ended":
                builder = builders.pop(key, None)
                ended.append((builder if builder is not None and builder.has_start else None, key, e.to_dict()))
            else:
                builder = builders.get(key)
                if builder is None:
                    builder = builders[key] = CdrBuilder(key)
                builder.count += 1

    def _commit(self, work: _Prepared) -> None:
        started = time.perf_counter()
        with self.db.begin() as conn:
            self._insert(conn, self._rows(conn, work))
            if self.cdrs:
                self._calls(conn, work.opened, work.ended)
        self._committed(work, started)

    def _insert(self, conn: Connection, rows: list[tuple[Any, ...]]) -> None:
        """Insert event rows: ``executemany`` on SQLite; on PostgreSQL ``COPY``
        (several times faster), falling back to ``INSERT ... ON CONFLICT DO
        NOTHING`` when the batch repeats stored events."""
        if self._copy_sql is None or not rows:
            conn.exec_driver_sql(self._insert_events_sql, rows)
            return
        try:
            with conn.begin_nested():
                cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
                with cursor.copy(self._copy_sql) as copy:
                    for row in rows:
                        copy.write_row(row)
        except self._duplicate_errors:
            conn.exec_driver_sql(self._insert_events_sql, rows)

    def _rows(self, conn: Connection, work: _Prepared) -> list[tuple[Any, ...]]:
        """The batch's rows with their stream ids (numbering new streams)."""
        ids = self._stream_ids
        work.found = found = _stream_ids(conn, self.db, work.missing) if work.missing else {}
        new = found.get
        return [(new((r[0], r[1])) or ids[(r[0], r[1])], *r) for r in work.rows]

    def _committed(self, work: _Prepared, started: float) -> None:
        ids = self._stream_ids
        ids.update(work.found)  # only once committed: a rolled-back stream row has no id
        for _builder, key, _end in work.ended:
            ids.pop(("call", key), None)
        self.commit_seconds.append(time.perf_counter() - started)
        self.written += len(work.rows)
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


def _stream_ids(conn: Connection, db: Database, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """The ids of these (stream, key) pairs, numbering the new ones."""
    conn.execute(
        _insert_ignoring_duplicates(db, streams), [{"stream": stream, "stream_key": key} for stream, key in pairs]
    )
    keys = list({key for _stream, key in pairs})
    found: dict[tuple[str, str], int] = {}
    for i in range(0, len(keys), 500):
        for sid, stream, key in conn.execute(
            sa.select(streams.c.id, streams.c.stream, streams.c.stream_key).where(streams.c.stream_key.in_(keys[i : i + 500]))
        ):
            if (stream, key) in pairs:
                found[(stream, key)] = sid
    return found


def _stream_id(stream: str, key: str) -> Any:
    """The stream's id, as a subquery."""
    return (
        sa.select(streams.c.id).where(streams.c.stream == stream, streams.c.stream_key == key).scalar_subquery()
    )


def _builder_from_db(conn: Connection, call_id: str, exclude_seq: int | None = None) -> CdrBuilder:
    builder = CdrBuilder(call_id)
    query = (
        sa.select(events.c.name, events.c.body)
        .where(events.c.stream_id == _stream_id("call", call_id))
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
            .where(events.c.stream_id == _stream_id(stream, key), events.c.seq > after_seq)
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

    def last_seqs(self, stream: str) -> dict[str, int]:
        """The last stored `seq` of every stream of a kind (``operator``,
        ``queue``): where a restarted engine goes on numbering."""
        query = (
            sa.select(streams.c.stream_key, sa.func.max(events.c.seq))
            .join(events, events.c.stream_id == streams.c.id)
            .where(streams.c.stream == stream)
            .group_by(streams.c.stream_key)
        )
        with self.db.connect() as conn:
            return {key: int(seq) for key, seq in conn.execute(query).all()}

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
        caller: str | None = None,
    ) -> list[Cdr]:
        """CDRs of calls started in [start, end), newest first (`caller`: one number's calls)."""
        query = sa.select(cdr_table)
        if start is not None:
            query = query.where(cdr_table.c.started_at >= start)
        if end is not None:
            query = query.where(cdr_table.c.started_at < end)
        if operator_id is not None:
            query = query.where(cdr_table.c.operator_id == operator_id)
        if result is not None:
            query = query.where(cdr_table.c.result == result)
        if caller is not None:
            query = query.where(cdr_table.c.caller == caller)
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
        still_open = (
            sa.select(streams.c.id)
            .join(open_calls, open_calls.c.call_id == streams.c.stream_key)
            .where(streams.c.stream == "call")
        )
        while True:
            with self.db.begin() as conn:
                ids = (
                    sa.select(events.c.id)
                    .where(events.c.ts < before, events.c.stream_id.not_in(still_open))
                    .limit(chunk)
                    .scalar_subquery()
                )
                done = conn.execute(events.delete().where(events.c.id.in_(ids))).rowcount
            gone_events += done
            if done < chunk:
                break
        with self.db.begin() as conn:
            gone_cdrs = conn.execute(cdr_table.delete().where(cdr_table.c.started_at < before)).rowcount
            conn.execute(  # call streams with nothing left in them
                streams.delete().where(
                    streams.c.stream == "call",
                    ~sa.exists().where(events.c.stream_id == streams.c.id),
                )
            )
        return PurgeResult(gone_events, gone_cdrs)

    def _bodies(self, query: Any) -> list[dict[str, Any]]:
        with self.db.connect() as conn:
            return [json.loads(body) for body in conn.execute(query).scalars()]


# ---- recovery --------------------------------------------------------------------------------


def close_interrupted_calls(db: Database, *, now: float | None = None) -> list[Cdr]:
    """Close every call the database holds as open (a `call_started` and no
    `call_ended`): append `call_ended` with cause ``engine_restart`` to its
    stream and write its CDR (result ``interrupted``). Run at start-up,
    before taking calls, by the one engine that writes to this database
    (another engine's calls in flight would be closed too). A call whose
    `call_ended` was in a batch that failed to commit is closed here as well.
    Returns the CDRs written."""
    now = time.time() if now is None else now
    closed: list[Cdr] = []
    with db.begin() as conn:
        keys = list(conn.execute(sa.select(open_calls.c.call_id).order_by(open_calls.c.started_at)).scalars())
        for key in keys:
            sid = conn.execute(
                sa.select(streams.c.id).where(streams.c.stream == "call", streams.c.stream_key == key)
            ).scalar()
            if sid is None or conn.execute(
                sa.select(events.c.id).where(events.c.stream_id == sid, events.c.name == "call_ended")
            ).first():
                continue  # nothing stored, or ended after all: only the bookkeeping is stale
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
                        "stream_id": sid, "stream": "call", "stream_key": key, "seq": end["seq"], "ts": ended_at,
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
