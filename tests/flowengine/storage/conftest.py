"""Every storage test runs against a real SQLite file and a real PostgreSQL
server (tests/conftest.py starts one per session)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from flowengine.storage import Database, open_database


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'flowengine.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = open_database(db_url)
    yield database
    database.close()
