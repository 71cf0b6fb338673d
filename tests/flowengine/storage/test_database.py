"""Opening a database: migrations applied at start, SQLite settings, a
newer schema refused, the metadata in step with the migrations."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from flowengine.storage import Database, DatabaseError, SchemaTooNew, database_url, open_database
from flowengine.storage.database import head_revision
from flowengine.storage.schema import metadata


def test_open_migrates_an_empty_database_to_the_head(db: Database) -> None:
    assert db.schema_revision() == head_revision()
    names = set(sa.inspect(db.engine).get_table_names())
    assert set(metadata.tables) <= names


def test_the_tables_match_the_migrations(db: Database) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with db.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_reopening_is_idempotent(db_url: str) -> None:
    open_database(db_url).close()
    db = open_database(db_url)
    try:
        assert db.schema_revision() == head_revision()
    finally:
        db.close()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    db = open_database(tmp_path / "sub" / "fe.db")  # a plain path; the directory is created
    try:
        with db.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
    finally:
        db.close()
    assert (tmp_path / "sub" / "fe.db").exists()


def test_a_newer_schema_is_refused_with_a_clear_message(db_url: str) -> None:
    open_database(db_url).close()
    engine = sa.create_engine(database_url(db_url))
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    engine.dispose()
    with pytest.raises(SchemaTooNew, match="9999_from_the_future.*newer than this flowengine"):
        open_database(db_url)


def test_urls() -> None:
    assert database_url("postgresql://u:p@h/db").drivername == "postgresql+psycopg"
    assert database_url("data/fe.db").drivername == "sqlite"
    with pytest.raises(DatabaseError, match="only sqlite and postgresql"):
        database_url("mysql://u@h/db")


def test_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match="cannot open database"):
        open_database(f"postgresql://nobody@/x?host={tmp_path}&port=1&connect_timeout=2")


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are somebody's notes, not an SQLite database\n" * 100)
    with pytest.raises(DatabaseError, match="cannot open database .*notes.db: file is not a database"):
        open_database(path)
    assert path.read_bytes().startswith(b"these are somebody's notes")  # left as it was


def test_a_database_from_the_first_schema_is_migrated_and_keeps_its_calls(db_url: str) -> None:
    """Revision 0002 adds `cdrs.hold`: a CDR written at 0001 is still there
    after the upgrade that opening runs, with its hold unknown (NULL)."""
    from flowengine.storage.database import create_engine, upgrade

    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            upgrade(conn, "0001")
            conn.execute(sa.text(
                "INSERT INTO cdrs (call_id, started_at, ended_at, duration, caller, called, scenario_id,"
                " scenario_version, result, talk, hangup_cause, hangup_by, events)"
                " VALUES ('old-call', 1.0, 61.0, 60.0, '+7900', '100', 'ivr', 1, 'operator', 50.0, 'normal', 'caller', 9)"
            ))  # fmt: skip
    finally:
        engine.dispose()
    db = open_database(db_url)
    try:
        assert db.schema_revision() == head_revision() != "0001"
        with db.connect() as conn:
            row = conn.execute(sa.text("SELECT call_id, talk, hold FROM cdrs")).one()
        assert tuple(row) == ("old-call", 50.0, None)
    finally:
        db.close()
