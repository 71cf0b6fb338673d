"""The two places SQLite and PostgreSQL differ for the reports, hidden here:
reading a field of an event's JSON body, and whole buckets of a time."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

__all__ = ["json_number", "json_text", "time_bucket"]


def _json(backend: str, column: Any) -> Any:
    # bodies are stored as text: PostgreSQL parses it (jsonb), SQLite's json_extract reads text as it is
    return sa.cast(column, postgresql.JSONB) if backend == "postgresql" else sa.type_coerce(column, sa.JSON)


def json_number(backend: str, column: Any, key: str) -> Any:
    """The number under `key` of a JSON text column (NULL when absent)."""
    return _json(backend, column)[key].as_float()


def json_text(backend: str, column: Any, key: str) -> Any:
    """The string under `key` of a JSON text column (NULL when absent)."""
    return _json(backend, column)[key].as_string()


def time_bucket(backend: str, column: Any, seconds: int) -> Any:
    """floor(column / seconds) as an integer (epoch seconds, so never negative here)."""
    if backend == "postgresql":
        return sa.cast(sa.func.floor(column / seconds), sa.BigInteger)
    return sa.cast(column / seconds, sa.Integer)  # SQLite truncates toward zero
