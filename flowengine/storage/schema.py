"""The tables, as SQLAlchemy Core metadata.

The Alembic migrations in `migrations/versions/` are the authority on what
a database holds; this module mirrors the head revision for the queries
(`tests/flowengine/storage/test_database.py` checks the two agree). Change
both together: a new migration for every change here.

Times are UTC epoch seconds (float) where the engine produces them (events,
CDRs) and timezone-aware datetimes for what people do (publish, edit).
JSON documents are stored as text: the same on SQLite and PostgreSQL, and
what we write is exactly what we read back.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(128)
#: a row id that outgrows 32 bits on PostgreSQL; SQLite needs INTEGER for its rowid alias
BIG_ID = BigInteger().with_variant(Integer(), "sqlite")

# ---- scenarios -------------------------------------------------------------------------------
scenarios = Table(
    "scenarios",
    metadata,
    Column("id", ID, primary_key=True),
    Column("draft", Text, nullable=False),  # the draft document, JSON
    Column("revision", Integer, nullable=False),  # +1 on every draft save
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(128), nullable=False, default=""),
)

scenario_versions = Table(
    "scenario_versions",
    metadata,
    Column("scenario_id", ID, ForeignKey("scenarios.id", ondelete="CASCADE"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("content", Text, nullable=False),  # the published document, JSON, with its version
    Column("digest", String(64), nullable=False),
    Column("comment", Text, nullable=False, default=""),
    Column("published_by", String(128), nullable=False, default=""),
    Column("published_at", DateTime(timezone=True), nullable=False),
)

# ---- routing -----------------------------------------------------------------------------------
routing_numbers = Table(
    "routing_numbers",
    metadata,
    Column("number", String(64), primary_key=True),
    Column("scenario_id", ID, ForeignKey("scenarios.id", ondelete="RESTRICT"), nullable=False),
    Column("version", Integer, nullable=True),  # None: the latest published
    Column("position", Integer, nullable=False),
)

routing_lines = Table(
    "routing_lines",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("number", String(64), nullable=True),
    Column("called_rules", Text, nullable=True),  # JSON list, None: the table's
    Column("caller_rules", Text, nullable=True),
    Column("scenario_id", ID, ForeignKey("scenarios.id", ondelete="RESTRICT"), nullable=True),
    Column("version", Integer, nullable=True),
    Column("position", Integer, nullable=False),
)

routing_settings = Table(
    "routing_settings",
    metadata,
    Column("id", Integer, primary_key=True),  # always 1
    Column("default_scenario_id", ID, ForeignKey("scenarios.id", ondelete="RESTRICT"), nullable=True),
    Column("default_version", Integer, nullable=True),
    Column("called_rules", Text, nullable=False),  # JSON list
    Column("caller_rules", Text, nullable=False),
)

# ---- call-centre data ----------------------------------------------------------------------
centre_settings = Table(
    "centre_settings",
    metadata,
    Column("id", Integer, primary_key=True),  # always 1
    Column("document", Text, nullable=False),  # the centre minus operators and queues, JSON
    Column("revision", Integer, nullable=False),
)

operators = Table(
    "operators",
    metadata,
    Column("id", ID, primary_key=True),
    Column("position", Integer, nullable=False),
    Column("spec", Text, nullable=False),  # OperatorSpec as written, JSON
)

queues = Table(
    "queues",
    metadata,
    Column("id", ID, primary_key=True),
    Column("position", Integer, nullable=False),
    Column("spec", Text, nullable=False),  # QueueSpec as written, JSON
)

schedules = Table(
    "schedules",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(200), nullable=False, default=""),
    Column("spec", Text, nullable=False),  # weekly hours, time zone, holidays, exceptions: JSON
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# ---- people and access ------------------------------------------------------------------
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(128), nullable=False, unique=True),
    Column("role", String(16), nullable=False),  # admin, supervisor, operator
    Column("password_hash", Text, nullable=True),  # None: cannot log in with a password
    Column("operator_id", ID, nullable=True),  # the operator this user is, for role operator
    Column("display_name", String(200), nullable=False, default=""),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=True),
    Column("name", String(200), nullable=False, default=""),
    Column("token_hash", String(128), nullable=False, unique=True),
    Column("scope", String(16), nullable=False),  # the role the token acts as
    Column("revoked", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_used_at", DateTime(timezone=True), nullable=True),
    Column("expires_at", DateTime(timezone=True), nullable=True),
)

media = Table(
    "media",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("language", String(16), nullable=False, default=""),
    Column("kind", String(16), nullable=False, default="prompt"),  # prompt, recording, voicemail
    Column("call_id", String(64), nullable=True),
    Column("path", Text, nullable=False),  # relative to the data directory
    Column("size", BigInteger, nullable=False),
    Column("duration", Float, nullable=True),
    Column("content_type", String(64), nullable=False, default="audio/wav"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("name", "language", "kind"),
    Index(None, "call_id"),
)

# ---- events and CDRs ----------------------------------------------------------------------
#: one row per event stream: events refer to it by number, so the index that
#: orders a stream by `seq` holds two integers instead of the key's text
streams = Table(
    "streams",
    metadata,
    Column("id", BIG_ID, primary_key=True, autoincrement=True),
    Column("stream", String(16), nullable=False),  # call, operator, queue
    Column("stream_key", String(128), nullable=False),  # call id, operator id, queue id
    UniqueConstraint("stream", "stream_key"),
)

events = Table(
    "events",
    metadata,
    Column("id", BIG_ID, primary_key=True, autoincrement=True),
    Column("stream_id", BIG_ID, nullable=False),  # streams.id (not a foreign key: one lookup less per insert)
    Column("stream", String(16), nullable=False),  # the stream's kind and key again, for people reading the table
    Column("stream_key", String(128), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("ts", Float, nullable=False),
    Column("name", String(64), nullable=False),
    Column("operator_id", String(128), nullable=True),  # whose event it is, for reads by operator
    Column("body", Text, nullable=False),  # the whole event, JSON (as in JSON lines)
    UniqueConstraint("stream_id", "seq"),
    Index(None, "ts"),
    # most events name no operator: a partial index skips them (a quarter off each insert)
    Index(
        None,
        "operator_id",
        "ts",
        sqlite_where=sa.text("operator_id IS NOT NULL"),
        postgresql_where=sa.text("operator_id IS NOT NULL"),
    ),
)

#: calls whose `call_started` is stored and whose `call_ended` is not: what
#: start-up recovery closes with cause engine_restart
open_calls = Table(
    "open_calls",
    metadata,
    Column("call_id", String(64), primary_key=True),
    Column("started_at", Float, nullable=False),
)

cdrs = Table(
    "cdrs",
    metadata,
    Column("call_id", String(64), primary_key=True),
    Column("started_at", Float, nullable=False),
    Column("answered_at", Float, nullable=True),
    Column("ended_at", Float, nullable=False),
    Column("duration", Float, nullable=False),
    Column("caller", String(64), nullable=False, default=""),
    Column("called", String(64), nullable=False, default=""),
    Column("line", String(64), nullable=True),
    Column("scenario_id", ID, nullable=False, default=""),
    Column("scenario_version", Integer, nullable=False, default=0),
    Column("result", String(32), nullable=False),
    Column("queue_id", ID, nullable=True),
    Column("operator_id", ID, nullable=True),
    Column("wait", Float, nullable=True),
    Column("talk", Float, nullable=True),
    Column("hangup_cause", String(64), nullable=False, default=""),
    Column("hangup_by", String(32), nullable=False, default=""),
    Column("events", Integer, nullable=False, default=0),
    # seconds operators held the caller (migration 0002; None on older rows and calls with no operator)
    Column("hold", Float, nullable=True),
    Index(None, "started_at"),
    Index(None, "operator_id", "started_at"),
)
