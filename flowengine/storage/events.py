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
import contextlib
import datetime as dt
import json
import logging
import operator
import time
import urllib.parse
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from flowengine.events.base import _ROWS, StreamEvent
from flowengine.events.codec import dumps_event, event_line
from flowengine.storage.cdr import CDR_COLUMNS, ENGINE_RESTART, Cdr, CdrBuilder
from flowengine.storage.database import Database
from flowengine.storage.schema import cdrs as cdr_table
from flowengine.storage.schema import events, media, open_calls, streams

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


_Info = tuple[str, str, Callable[[Any], str], Callable[[Any], Any] | None, Callable[[Any], dict[str, Any]]]
#: event class -> (stream, name, its key's getter, its operator_id getter or None, its dict maker)
_CLASS_INFO: dict[type, _Info] = {}


def _class_info(cls: type[StreamEvent]) -> _Info:
    operator_of = operator.attrgetter("operator_id") if "operator_id" in cls.field_names else None
    info = (cls.stream, cls.name, operator.attrgetter(cls.key), operator_of, _ROWS[cls])
    _CLASS_INFO[cls] = info
    return info


_dumps = orjson.dumps
_JSONError = orjson.JSONEncodeError
#: the codec's fast path (`event_line`), without the newline; anything it refuses takes the codec's careful path
_JSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


def _insert_ignoring_duplicates(db: Database, table: sa.Table) -> Any:
    if db.backend == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


_EVENT_COLUMNS = ("stream_id", "stream", "stream_key", "seq", "ts", "name", "operator_id", "body")


def _event_insert_sql(db: Database) -> str:
    """The hot path's statement, for the driver's ``executemany`` with tuples:
    SQLAlchemy's per-row parameter processing would cost a third of the time,
    and these columns need none (text, numbers)."""
    return _insert_sql(db, events.name, _EVENT_COLUMNS)


def _insert_sql(db: Database, table: str, columns: Sequence[str], *, ignore: bool = True) -> str:
    """``INSERT INTO table (columns) VALUES (?, ...)`` in the driver's own
    parameter style, skipping rows already there (SQLite and PostgreSQL both
    take ``ON CONFLICT DO NOTHING``)."""
    mark = "?" if db.engine.dialect.paramstyle == "qmark" else "%s"
    tail = " ON CONFLICT DO NOTHING" if ignore else ""
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))}){tail}"


class _Statements:
    """The batch transaction's statements, as driver SQL (made once per sink)."""

    __slots__ = (
        "events", "streams", "select_streams", "open_calls", "close_calls", "cdrs", "call_events", "mark", "begin",
        "media", "created_at",
    )  # fmt: skip

    def __init__(self, db: Database) -> None:
        self.mark = mark = "?" if db.engine.dialect.paramstyle == "qmark" else "%s"
        self.events = _event_insert_sql(db)
        self.streams = _insert_sql(db, streams.name, ("stream", "stream_key"))
        self.select_streams = f"SELECT id, stream_key FROM {streams.name} WHERE stream = {mark} AND stream_key IN "
        self.open_calls = _insert_sql(db, open_calls.name, ("call_id", "started_at"))
        self.close_calls = f"DELETE FROM {open_calls.name} WHERE call_id = {mark}"
        self.cdrs = _insert_sql(db, cdr_table.name, CDR_COLUMNS)
        self.call_events = (
            f"SELECT name, body FROM {events.name} WHERE stream_id = (SELECT id FROM {streams.name} "
            f"WHERE stream = 'call' AND stream_key = {mark}) ORDER BY seq"
        )
        self.media = _insert_sql(db, media.name, _MEDIA_COLUMNS)
        #: the driver's form of a datetime (SQLAlchemy's own, so reads agree)
        self.created_at = media.c.created_at.type.bind_processor(db.engine.dialect)
        #: SQLite: take the write lock first (as `Database.begin` does); psycopg begins by itself
        self.begin = "BEGIN IMMEDIATE" if db.backend == "sqlite" else None


_MEDIA_COLUMNS = ("name", "language", "kind", "call_id", "path", "size", "duration", "content_type", "created_at")


def _recording_file(uri: str, root: Path | None) -> tuple[str, int]:
    """(path to store, size): a ``file://`` URI under `root` as a path
    relative to it and the file's size; anything else as given, size 0."""
    if root is None or not uri.startswith("file://"):
        return uri, 0
    try:
        path = Path(urllib.parse.unquote(urllib.parse.urlsplit(uri).path))
        return path.relative_to(root.resolve()).as_posix(), path.stat().st_size
    except (ValueError, OSError):
        return uri, 0


#: a CDR as the tuple of its columns, in CDR_COLUMNS order
_cdr_values = operator.attrgetter(*CDR_COLUMNS)


class _Prepared:
    """One batch, encoded: event rows, new streams, calls opened and ended.

    A row whose stream has no id yet (its first events) carries None in
    place of it; `fix` lists those rows, numbered once the streams are."""

    __slots__ = ("rows", "fix", "missing", "found", "opened", "ended", "recordings")

    def __init__(self) -> None:
        self.rows: list[tuple[Any, ...]] = []
        self.fix: list[int] = []
        self.found: dict[tuple[str, str], int] = {}
        self.missing: set[tuple[str, str]] = set()
        self.opened: dict[str, float] = {}
        self.ended: list[tuple[CdrBuilder | None, str, dict[str, Any]]] = []
        #: the batch's `recording_made` events
        self.recordings: list[Any] = []


class SqlEventSink:
    """An `EventSink` that stores events and CDRs in `db` (see the module doc).

    `commit_seconds` keeps the duration of the last commits (for the
    benchmark and /metrics); `written` and `batches` count what was stored.
    With `cdrs=False` only events are written (no CDRs, no open-call list).

    Each `recording_made` event of a call also gets a row in the ``media``
    table (kind ``recording`` for a recorded conversation, reason
    ``conversation``; else ``voicemail``, with the call's id) in the same transaction:
    a recording whose URI is a ``file://`` path under `files_root` is stored
    by its path relative to it, with its size; any other URI as it is.
    """

    def __init__(
        self,
        db: Database,
        *,
        cdrs: bool = True,
        thread: bool = True,
        keep_timings: int = 10_000,
        files_root: Path | None = None,
    ) -> None:
        self.db = db
        self.files_root = files_root
        self.cdrs = cdrs
        self.written = 0
        self.batches = 0
        self.commit_seconds: deque[float] = deque(maxlen=keep_timings)
        self._builders: dict[str, CdrBuilder] = {}
        #: (stream, key) -> streams.id; a call's entry goes when it ends
        self._stream_ids: dict[tuple[str, str], int] = {}
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="sql-event-sink") if thread else None
        self._sql = _Statements(db)
        #: the driver connection batches are written on (taken at the first batch)
        self._raw: Any = None
        self._insert_events_sql = self._sql.events
        self._copy_sql: str | None = None
        #: what a batch that repeats stored events raises
        self._duplicate_errors: tuple[type[Exception], ...] = (IntegrityError,)
        if db.backend == "postgresql":
            import psycopg

            self._copy_sql = f"COPY {events.name} ({', '.join(_EVENT_COLUMNS)}) FROM STDIN"
            self._duplicate_errors = (IntegrityError, psycopg.IntegrityError)

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
        with self._transaction() as cursor:
            rows = self._rows(cursor, work)
            for i in range(0, len(rows), self.SLICE):
                if i:
                    await asyncio.sleep(0)
                self._insert(cursor, rows[i : i + self.SLICE])
            if self.cdrs:
                self._calls(cursor, work.opened, work.ended)
            if work.recordings:
                self._recordings(cursor, work.recordings)
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
        fix = work.fix
        opened = work.opened
        ended = work.ended
        missing = work.missing
        builders = self._builders
        track = self.cdrs
        info = _CLASS_INFO
        ids = self._stream_ids.get
        for e in batch:
            stream, name, key_of, operator_of, as_dict = info.get(type(e)) or _class_info(type(e))
            key = key_of(e)
            sid = ids((stream, key))
            if sid is None:
                missing.add((stream, key))
                fix.append(len(rows))
            data = as_dict(e)
            try:
                body = _dumps(data, option=_JSON_OPTIONS).decode()
            except (TypeError, _JSONError):  # an odd value: the careful encoder
                body = event_line(e)[:-1].decode()
            rows.append((sid, stream, key, e.seq, e.ts, name, operator_of(e) if operator_of else None, body))
            if stream != "call" or not track:
                if track and name == "callback_recorded":  # a callback's conversation: the asking call's recording
                    work.recordings.append(e)
                continue
            if name in _CDR_EVENTS:
                builder = builders.get(key)
                if builder is None:
                    builder = builders[key] = CdrBuilder(key)
                if name == "call_started":
                    opened[key] = e.ts
                builder.feed(name, data)
            elif name == "call_ended":
                builder = builders.pop(key, None)
                ended.append((builder if builder is not None and builder.has_start else None, key, data))
            else:
                builder = builders.get(key)
                if builder is None:
                    builder = builders[key] = CdrBuilder(key)
                builder.count += 1
                if name == "recording_made":
                    work.recordings.append(e)

    def _commit(self, work: _Prepared) -> None:
        started = time.perf_counter()
        with self._transaction() as cursor:
            self._insert(cursor, self._rows(cursor, work))
            if self.cdrs:
                self._calls(cursor, work.opened, work.ended)
            if work.recordings:
                self._recordings(cursor, work.recordings)
        self._committed(work, started)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Any]:
        """One transaction on the sink's own driver connection (kept between
        batches: no pool checkout, no SQLAlchemy per statement), committed
        when the block ends, rolled back if it raises; a connection that
        failed is dropped and the next batch takes a fresh one."""
        raw = self._raw
        if raw is None:
            raw = self._raw = self.db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            if self._sql.begin is not None:
                cursor.execute(self._sql.begin)
            yield cursor
            raw.commit()
        except BaseException:
            self._raw = None
            try:
                raw.rollback()
            except Exception:  # noqa: BLE001 (the connection is gone: the first error is the one to tell)
                pass
            raw.invalidate()
            raise

    def _insert(self, cursor: Any, rows: list[tuple[Any, ...]]) -> None:
        """Insert event rows: the driver's ``executemany`` on SQLite; on
        PostgreSQL ``COPY`` (several times faster), falling back to ``INSERT
        ... ON CONFLICT DO NOTHING`` when the batch repeats stored events."""
        if self._copy_sql is None or not rows:
            cursor.executemany(self._sql.events, rows)
            return
        try:
            with cursor.connection.transaction():  # a savepoint inside the batch's transaction
                with cursor.copy(self._copy_sql) as copy:
                    for row in rows:
                        copy.write_row(row)
        except self._duplicate_errors:
            cursor.executemany(self._sql.events, rows)

    def _rows(self, cursor: Any, work: _Prepared) -> list[tuple[Any, ...]]:
        """The batch's rows, the new streams numbered (in the transaction)."""
        rows = work.rows
        if work.missing:
            work.found = found = _stream_ids(cursor, self._sql, work.missing)
            for i in work.fix:
                r = rows[i]
                rows[i] = (found[(r[1], r[2])], *r[1:])
        return rows

    def _committed(self, work: _Prepared, started: float) -> None:
        ids = self._stream_ids
        ids.update(work.found)  # only once committed: a rolled-back stream row has no id
        for _builder, key, _end in work.ended:
            ids.pop(("call", key), None)
        self.commit_seconds.append(time.perf_counter() - started)
        self.written += len(work.rows)
        self.batches += 1

    def _calls(
        self,
        cursor: Any,
        opened: dict[str, float],
        ended: list[tuple[CdrBuilder | None, str, dict[str, Any]]],
    ) -> None:
        closed = {key for _b, key, _e in ended}
        still_open = [(k, ts) for k, ts in opened.items() if k not in closed]
        if still_open:
            cursor.executemany(self._sql.open_calls, still_open)
        if not ended:
            return
        records = []
        for builder, key, end in ended:
            if builder is None:  # started before this sink saw it: build from what is stored
                cursor.execute(self._sql.call_events, (key,))
                builder = _builder_from_rows(key, cursor.fetchall(), exclude_seq=end.get("seq"))
            builder.count += 1
            records.append(_cdr_values(builder.finish(end)))
        cursor.executemany(self._sql.cdrs, records)
        stale = [(k,) for k in closed if k not in opened]
        if stale:
            cursor.executemany(self._sql.close_calls, stale)

    def _recordings(self, cursor: Any, made: list[Any]) -> None:
        to_db = self._sql.created_at
        rows = []
        for e in made:
            path, size = _recording_file(e.uri, self.files_root)
            when = dt.datetime.fromtimestamp(e.ts, dt.UTC)
            if e.name == "callback_recorded":  # numbered in the queue's stream, not the call's
                media_id, kind = f"{e.call_id}-callback-{e.seq}", "recording"
            else:  # a bridged conversation, or a Record node's message
                media_id, kind = f"{e.call_id}-{e.seq}", "recording" if e.reason == "conversation" else "voicemail"
            rows.append((media_id, "", kind, e.call_id, path, size, e.duration, "audio/wav",
                         to_db(when) if to_db is not None else when))  # fmt: skip
        cursor.executemany(self._sql.media, rows)

    async def flush(self) -> None:
        """Nothing to do: every batch is committed before `write_batch` returns."""

    async def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        if self._raw is not None:
            self._raw.close()  # back to the pool
            self._raw = None


def _stream_ids(cursor: Any, sql: _Statements, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """The ids of these (stream, key) pairs, numbering the new ones. Looked up
    by kind and key, so the unique index on (stream, stream_key) answers
    (by key alone SQLite would scan every stream ever stored, per batch)."""
    cursor.executemany(sql.streams, list(pairs))
    by_kind: dict[str, list[str]] = {}
    for stream, key in pairs:
        by_kind.setdefault(stream, []).append(key)
    found: dict[tuple[str, str], int] = {}
    for stream, keys in by_kind.items():
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            cursor.execute(f"{sql.select_streams}({', '.join([sql.mark] * len(chunk))})", [stream, *chunk])
            for sid, key in cursor.fetchall():
                found[(stream, key)] = sid
    return found


def _stream_id(stream: str, key: str) -> Any:
    """The stream's id, as a subquery."""
    return (
        sa.select(streams.c.id).where(streams.c.stream == stream, streams.c.stream_key == key).scalar_subquery()
    )


def _builder_from_db(conn: Connection, call_id: str, exclude_seq: int | None = None) -> CdrBuilder:
    query = (
        sa.select(events.c.name, events.c.body)
        .where(events.c.stream_id == _stream_id("call", call_id))
        .order_by(events.c.seq)
    )
    return _builder_from_rows(call_id, conn.execute(query).all(), exclude_seq)


def _builder_from_rows(call_id: str, rows: Iterable[Any], exclude_seq: int | None = None) -> CdrBuilder:
    """A call's CDR so far from its stored (name, body) rows in `seq` order."""
    builder = CdrBuilder(call_id)
    for name, body in rows:
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
