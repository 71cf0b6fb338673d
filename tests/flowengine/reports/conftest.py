"""The reports' sources: the same events folded in memory (the JSON-lines
path) and stored in a real SQLite file and a real PostgreSQL database (the
SQL path). `report_source` runs a test once on each."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from flowengine.events import event_from_dict
from flowengine.reports.catalogue import ReportFilter
from flowengine.reports.compute import fold_report
from flowengine.reports.period import Period
from flowengine.storage import Database, SqlEventSink, open_database

Report = Callable[..., dict[str, Any]]


def store(db: Database, events: list[dict[str, Any]]) -> None:
    """Write `events` as the service's sink does (in batches, with CDRs)."""
    sink = SqlEventSink(db, thread=False)
    typed = [event_from_dict(e) for e in sorted(events, key=lambda e: e["ts"])]
    for i in range(0, len(typed), 50):
        sink.write_sync(typed[i : i + 50])


def make_db(kind: str, tmp: Path, request: pytest.FixtureRequest) -> tuple[Database, Callable[[], None]]:
    if kind == "sqlite":
        db = open_database(f"sqlite:///{tmp / 'flowengine.db'}")
        return db, db.close
    server = request.getfixturevalue("postgres_server")
    url = server.create_database()
    db = open_database(url)

    def close() -> None:
        db.close()
        server.drop_database(url)

    return db, close


def reporter(source: str, events: list[dict[str, Any]], tmp: Path, request: pytest.FixtureRequest) -> tuple[Report, Callable[[], None]]:
    """report(kind, period, **filter fields) -> the report's body, from `source`."""
    if source == "fold":

        def folded(kind: str, period: Period, **filt: Any) -> dict[str, Any]:
            return fold_report(kind, events, period, ReportFilter(**filt))

        return folded, lambda: None
    from flowengine.reports.sql import db_report

    db, close = make_db(source, tmp, request)
    store(db, events)

    def stored(kind: str, period: Period, **filt: Any) -> dict[str, Any]:
        return db_report(db, kind, period, ReportFilter(**filt))

    return stored, close


@pytest.fixture(params=["fold", "sqlite", "postgresql"])
def report_source(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def sources(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[[str, list[dict[str, Any]]], Report]]:
    """sources(name, events) -> report function; everything made is closed after the test."""
    closers: list[Callable[[], None]] = []

    def make(name: str, events: list[dict[str, Any]]) -> Report:
        fn, close = reporter(name, events, tmp_path / f"{name}-{len(closers)}", request)
        closers.append(close)
        return fn

    yield make
    for close in closers:
        close()


@pytest.fixture
def store_events() -> Callable[[Database, list[dict[str, Any]]], None]:
    """store(db, events): write events as the service's sink does."""
    return store


@pytest.fixture
def report_db(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[[str], Database]]:
    """report_db("sqlite" | "postgresql") -> an empty database, closed (and dropped) after the test."""
    closers: list[Callable[[], None]] = []

    def make(kind: str) -> Database:
        db, close = make_db(kind, tmp_path / f"db-{len(closers)}", request)
        closers.append(close)
        return db

    yield make
    for close in closers:
        close()
