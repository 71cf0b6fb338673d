"""The service's SQLite file: documents, published versions, auth, events.

A deliberately small store for `flowengine serve` (stdlib ``sqlite3``, WAL
mode) until the SQLAlchemy storage package takes these tables over. One
connection, used from the event loop's thread only; every write is its own
short transaction, so a SIGKILL leaves the file consistent and loses at most
the event batch that was being written.

Tables: ``docs`` (drafts, the routing table, the centre: JSON by kind and
key, with a revision), ``versions`` (published scenario versions, immutable),
``users`` and ``tokens`` (hashes only), ``events`` (every stream's events as
JSON, unique by stream, key and seq).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowengine.errors import FlowEngineError
from flowengine.events import StreamEvent
from flowengine.events.codec import event_line

#: the schema this code writes; a newer file is refused
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs (
    kind TEXT NOT NULL, key TEXT NOT NULL, revision INTEGER NOT NULL,
    body TEXT NOT NULL, updated_at REAL NOT NULL, updated_by TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (kind, key));
CREATE TABLE IF NOT EXISTS versions (
    scenario_id TEXT NOT NULL, version INTEGER NOT NULL, published_at REAL NOT NULL,
    author TEXT NOT NULL, comment TEXT NOT NULL, digest TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (scenario_id, version));
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL,
    operator_id TEXT, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
    id TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
    username TEXT NOT NULL, role TEXT NOT NULL, name TEXT NOT NULL,
    created_at REAL NOT NULL, expires_at REAL, revoked_at REAL);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY, stream TEXT NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL,
    ts REAL NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS events_stream ON events (stream, key, seq);
CREATE INDEX IF NOT EXISTS events_ts ON events (ts);
"""


class DatabaseError(FlowEngineError):
    """The database file cannot be used (newer schema, not a database)."""


@dataclass(frozen=True, slots=True)
class Doc:
    kind: str
    key: str
    revision: int
    body: Any
    updated_at: float
    updated_by: str


class LocalDB:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("PRAGMA busy_timeout=5000")
            found = self._schema_version()
            if found is not None and found > SCHEMA_VERSION:
                raise DatabaseError(
                    f"{path}: the database has schema {found}, newer than this flowengine knows "
                    f"({SCHEMA_VERSION}); upgrade flowengine"
                )
            self.conn.executescript(_SCHEMA)
            self.conn.execute(
                "INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),)
            )
        except sqlite3.DatabaseError as exc:
            raise DatabaseError(f"{path}: cannot open the database: {exc}") from None
        self.path = path

    def _schema_version(self) -> int | None:
        row = self.conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name='meta'"
        ).fetchone()
        if row is None:
            return None
        found = self.conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        return int(found[0]) if found else None

    def close(self) -> None:
        self.conn.close()

    def is_empty(self) -> bool:
        return self.conn.execute("SELECT count(*) FROM docs").fetchone()[0] == 0 and (
            self.conn.execute("SELECT count(*) FROM versions").fetchone()[0] == 0
        )

    # ---- documents -------------------------------------------------------------------
    def get_doc(self, kind: str, key: str) -> Doc | None:
        row = self.conn.execute(
            "SELECT revision, body, updated_at, updated_by FROM docs WHERE kind=? AND key=?", (kind, key)
        ).fetchone()
        if row is None:
            return None
        return Doc(kind, key, row[0], json.loads(row[1]), row[2], row[3])

    def list_docs(self, kind: str) -> list[Doc]:
        rows = self.conn.execute(
            "SELECT key, revision, body, updated_at, updated_by FROM docs WHERE kind=? ORDER BY key", (kind,)
        ).fetchall()
        return [Doc(kind, r[0], r[1], json.loads(r[2]), r[3], r[4]) for r in rows]

    def put_doc(self, kind: str, key: str, body: Any, *, expect: int | None, by: str = "") -> int | None:
        """Store `body`; `expect` is the revision the writer read (None: must
        not exist yet, -1: any). Returns the new revision, or None when the
        stored revision is not the expected one (nothing written)."""
        text = json.dumps(body, ensure_ascii=False)
        now = time.time()
        with self.transaction():
            row = self.conn.execute("SELECT revision FROM docs WHERE kind=? AND key=?", (kind, key)).fetchone()
            current = row[0] if row else None
            if expect != -1 and current != expect:
                return None
            revision = (current or 0) + 1
            self.conn.execute(
                "INSERT OR REPLACE INTO docs VALUES (?, ?, ?, ?, ?, ?)", (kind, key, revision, text, now, by)
            )
            return revision

    def delete_doc(self, kind: str, key: str) -> bool:
        return self.conn.execute("DELETE FROM docs WHERE kind=? AND key=?", (kind, key)).rowcount > 0

    def transaction(self) -> _Transaction:
        return _Transaction(self.conn)

    # ---- versions -------------------------------------------------------------------
    def add_version(
        self, scenario_id: str, version: int, published_at: float, author: str, comment: str, digest: str, body: Any
    ) -> None:
        self.conn.execute(
            "INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?, ?)",
            (scenario_id, version, published_at, author, comment, digest, json.dumps(body, ensure_ascii=False)),
        )

    def all_versions(self) -> Iterator[tuple[str, int, float, str, str, str, Any]]:
        for r in self.conn.execute(
            "SELECT scenario_id, version, published_at, author, comment, digest, body FROM versions "
            "ORDER BY scenario_id, version"
        ):
            yield r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6])

    def delete_versions(self, scenario_id: str) -> None:
        self.conn.execute("DELETE FROM versions WHERE scenario_id=?", (scenario_id,))

    # ---- users and tokens ---------------------------------------------------------------
    def execute(self, sql: str, args: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, args)

    # ---- events ---------------------------------------------------------------------------
    def write_events(self, events: Sequence[StreamEvent]) -> None:
        rows = [
            (e.stream, e.stream_key, e.seq, e.ts, e.name, event_line(e).decode("utf-8")) for e in events
        ]
        with self.transaction():
            self.conn.executemany(
                "INSERT OR IGNORE INTO events (stream, key, seq, ts, name, body) VALUES (?, ?, ?, ?, ?, ?)", rows
            )

    def stream(self, stream: str, key: str, from_seq: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT body FROM events WHERE stream=? AND key=? AND seq>? ORDER BY seq LIMIT ?",
            (stream, key, from_seq, limit),
        ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def last_seq(self, stream: str) -> dict[str, int]:
        return dict(self.conn.execute("SELECT key, max(seq) FROM events WHERE stream=? GROUP BY key", (stream,)))

    def unfinished_calls(self) -> list[str]:
        """Calls whose stream has a start and no end (the engine stopped under them)."""
        rows = self.conn.execute(
            "SELECT key FROM events WHERE stream='call' AND name='call_started' AND key NOT IN "
            "(SELECT key FROM events WHERE stream='call' AND name='call_ended')"
        ).fetchall()
        return [r[0] for r in rows]

    def ended_call_ids(self, limit: int, offset: int) -> list[str]:
        rows = self.conn.execute(
            "SELECT key FROM events WHERE stream='call' AND name='call_ended' ORDER BY ts DESC, key LIMIT ? OFFSET ?",
            (limit, offset),
        ).fetchall()
        return [r[0] for r in rows]

    def count_events(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM events").fetchone()[0])


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT; inside another transaction it joins that one."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.outer = False

    def __enter__(self) -> None:
        if not self.conn.in_transaction:
            self.conn.execute("BEGIN IMMEDIATE")
            self.outer = True

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if self.outer:
            self.conn.execute("COMMIT" if exc_type is None else "ROLLBACK")


class LocalEventSink:
    """`EventSink` into `LocalDB.events`: one transaction per writer batch."""

    def __init__(self, db: LocalDB) -> None:
        self.db = db
        self.written = 0

    async def write_batch(self, events: Sequence[StreamEvent]) -> None:
        self.db.write_events(events)
        self.written += len(events)

    async def flush(self) -> None:
        return None

    async def close(self) -> None:
        return None
