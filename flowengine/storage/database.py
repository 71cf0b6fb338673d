"""Opening the database: one URL, SQLite or PostgreSQL, migrated at start.

`open_database(url)` creates the SQLAlchemy engine, applies every Alembic
migration the database lacks (the scripts ship in `migrations/`) and returns
a `Database`. A database migrated by a newer flowengine is refused with a
`SchemaTooNew` that says so, rather than being written by code that does not
know its tables.

* ``sqlite:///data/flowengine.db`` (or a plain file path): WAL journal, so
  readers never wait for the writer; ``synchronous=NORMAL`` (a committed
  transaction survives a process crash; a power cut may lose the last ones);
  a busy timeout, so a second connection waits for the lock instead of
  failing; foreign keys enforced.
* ``postgresql://user:pass@host/db`` (psycopg 3; ``postgresql+psycopg://``
  is the same): the same tables and queries.

The repositories (`SqlScenarioStore`, `RoutingRepository`, ...) take the
`Database`; each of their methods is one transaction.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, ProgrammingError

from flowengine.storage.errors import DatabaseError, SchemaTooNew

log = logging.getLogger("flowengine.storage")

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: how long an SQLite connection waits for another one's write lock, in ms
SQLITE_BUSY_TIMEOUT_MS = 10_000


def database_url(url: str | Path) -> URL:
    """The SQLAlchemy URL for `url`: a file path means SQLite; ``postgresql://``
    uses psycopg 3. A malformed URL is a `DatabaseError` that repeats it."""
    if isinstance(url, Path) or "://" not in url:
        return URL.create("sqlite", database=str(Path(url)))
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(f"database URL '{url}' is not a URL (sqlite:///FILE or postgresql://...)") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseError(
            f"database URL '{parsed.render_as_string(hide_password=True)}': only sqlite and postgresql are supported"
        )
    return parsed


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # transactions are begun by `_sqlite_begin`, not by the sqlite3 module
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    """BEGIN IMMEDIATE for write transactions (`Database.begin`): the write
    lock is taken first, waiting out the busy timeout, so a transaction that
    reads and then writes never fails half-way because another connection
    wrote in between (SQLite would refuse the upgrade at once). Reads begin
    deferred and never block anyone."""
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("flowengine_write") else "BEGIN")


def create_engine(url: str | Path, *, echo: bool = False) -> Engine:
    """The engine for `url` with this project's settings (see the module doc)."""
    parsed = database_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(parsed, echo=echo)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    return sa.create_engine(parsed, echo=echo, pool_pre_ping=True)


class Database:
    """An open, migrated database: the engine and transactions on it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def url(self) -> str:
        """The URL without its password, fit for a log line."""
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextlib.contextmanager
    def begin(self) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with self.engine.connect() as conn:
            conn.execution_options(flowengine_write=True)
            with conn.begin():
                yield conn

    def connect(self) -> Connection:
        return self.engine.connect()

    def schema_revision(self) -> str | None:
        with self.engine.connect() as conn:
            return _current_revision(conn)

    def close(self) -> None:
        self.engine.dispose()


def open_database(url: str | Path, *, migrate: bool = True, echo: bool = False) -> Database:
    """Open `url`, apply the missing migrations (unless `migrate` is False) and
    return the `Database`. Raises `SchemaTooNew` for a database a newer
    flowengine wrote, `DatabaseError` when it cannot be reached."""
    engine = create_engine(url, echo=echo)
    try:
        with engine.connect() as conn:
            conn.execution_options(flowengine_write=True)
            with conn.begin():
                check_schema(conn)
                if migrate:
                    upgrade(conn)
    except DBAPIError as exc:  # unreachable server, bad credentials, not a database file...
        engine.dispose()
        where = engine.url.render_as_string(hide_password=True)
        raise DatabaseError(f"cannot open database {where}: {_first_line(exc.orig or exc)}") from None
    except DatabaseError:
        engine.dispose()
        raise
    return Database(engine)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


# ---- migrations ------------------------------------------------------------------------------


def _alembic_config(conn: Connection | None = None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if conn is not None:
        config.attributes["connection"] = conn
    return config


def known_revisions() -> list[str]:
    """Every migration this code ships, oldest first."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def head_revision() -> str:
    return known_revisions()[-1]


def _current_revision(conn: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    try:
        return MigrationContext.configure(conn).get_current_revision()
    except ProgrammingError:
        return None


def check_schema(conn: Connection) -> None:
    """Refuse a database whose schema revision this code does not know."""
    current = _current_revision(conn)
    if current is None:
        return
    known = known_revisions()
    if current not in known:
        raise SchemaTooNew(
            f"the database schema is at revision '{current}', newer than this flowengine knows "
            f"(its newest is '{known[-1]}'): it was written by a newer version; upgrade flowengine "
            "or point it at another database"
        )


def upgrade(conn: Connection, target: str = "head") -> None:
    """Apply the missing migrations on `conn` (inside its transaction)."""
    from alembic import command

    before = _current_revision(conn)
    command.upgrade(_alembic_config(conn), target)
    after = _current_revision(conn)
    if before != after:
        log.info("database schema migrated from %s to %s", before or "empty", after)
