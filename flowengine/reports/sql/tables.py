"""The report tables: each ended call's story (`flowengine.reports.calls`)
as rows, kept beside the raw events and rebuilt from them at will.

They are a derived cache, not part of the schema the migrations own:
`refresh` creates them when missing, folds the calls that ended since it
last ran (a watermark on the events' row id), and drops, recreates and
refills them when `FACTS_VERSION` changes (the fold or the tables changed).
Every table is keyed by the call, so a call is written whole or not at all.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

#: bump when the rows a story gives change: every report table is rebuilt
FACTS_VERSION = 3

metadata = MetaData()
ID = String(128)

report_state = Table(
    "report_state",
    metadata,
    Column("id", Integer, primary_key=True),  # always 1
    Column("version", Integer, nullable=False),
    Column("last_event_id", BigInteger, nullable=False),  # the last call_ended folded
    Column("last_stream_event_id", BigInteger, nullable=False),  # the last event read for report_ops
)

report_calls = Table(
    "report_calls",
    metadata,
    Column("call_id", String(64), primary_key=True),
    Column("started", Float, nullable=False),
    Column("ended", Float, nullable=True),
    Column("caller", String(64), nullable=False),
    Column("called", String(64), nullable=False),
    Column("scenario_id", ID, nullable=False),
    Column("scenario_version", Integer, nullable=False),
    Column("talked", Boolean, nullable=False),
    Column("queued", Boolean, nullable=False),  # it entered a queue
    Column("lost_reason", String(32), nullable=True),
    Column("lost_detail", String(200), nullable=False),
    Column("last_queue", ID, nullable=True),
    Column("operator", ID, nullable=True),  # who the caller talked to
    Column("result", String(32), nullable=False),  # talked, a lost reason, ivr
    Column("path", Text, nullable=False),  # "start > menu > q > bye"
    Column("hangup_by", String(32), nullable=True),
    Column("hangup_node", ID, nullable=True),
    # covering the load report: the month is read from the index alone
    Index("ix_report_calls_started", "started", "ended", "talked", "queued", "lost_reason"),
    Index("ix_report_calls_caller", "caller", "started"),
)


def _facts(name: str, *items: Column[Any] | Index) -> Table:
    """A table of one kind of fact of a call (its queue stays, offers, ...),
    keyed by the call and the fact's place among the call's (`pos`)."""
    return Table(
        name, metadata, Column("call_id", String(64), primary_key=True), Column("pos", Integer, primary_key=True), *items
    )


report_stays = _facts(
    "report_stays",
    Column("queue_id", ID, nullable=False),
    Column("entered", Float, nullable=False),
    Column("left_at", Float, nullable=True),
    Column("outcome", String(32), nullable=True),
    Column("wait", Float, nullable=True),
    Column("operator_id", ID, nullable=True),
    Column("talk", Float, nullable=True),
    Column("completed_by", String(32), nullable=True),
    Column("overflow_in", Boolean, nullable=False),
    Index("ix_report_stays_entered", "entered"),
    Index("ix_report_stays_left", "left_at"),
)

report_offers = _facts(
    "report_offers",
    Column("operator_id", ID, nullable=False),
    Column("queue_id", ID, nullable=False),
    Column("at", Float, nullable=False),
    Column("outcome", String(32), nullable=True),
    Column("reason", String(32), nullable=True),
    Column("ring_time", Float, nullable=True),
    Index("ix_report_offers_at", "at"),
)

report_dials = _facts(
    "report_dials",
    Column("target", String(128), nullable=False),
    Column("operator_id", ID, nullable=True),
    Column("outcome", String(32), nullable=False),
    Column("at", Float, nullable=False),
    Index("ix_report_dials_at", "at"),
)

report_nodes = _facts(
    "report_nodes",
    Column("started", Float, nullable=False),  # the call's start, for the period
    Column("scenario_id", ID, nullable=False),
    Column("scenario_version", Integer, nullable=False),
    Column("node_id", ID, nullable=False),
    Column("exit", String(64), nullable=True),
    Index("ix_report_nodes_started", "started", "scenario_id", "scenario_version", "node_id", "exit"),  # covering
)

#: each hold of a caller by an operator, with its length (an open one counted to the call's end)
report_holds = _facts(
    "report_holds",
    Column("operator_id", ID, nullable=True),
    Column("queue_id", ID, nullable=True),  # the queue whose call it was
    Column("at", Float, nullable=False),
    Column("held", Float, nullable=False),  # seconds
    Index("ix_report_holds_at", "at"),
)

#: each operator's request to hand the caller on, and what became of it
report_op_transfers = _facts(
    "report_op_transfers",
    Column("operator_id", ID, nullable=True),
    Column("queue_id", ID, nullable=True),
    Column("target", String(128), nullable=False),
    Column("at", Float, nullable=False),
    Column("outcome", String(32), nullable=True),  # answered, busy, ..., refused; NULL: none yet
    Column("reason", String(64), nullable=True),  # why refused
    Column("kind", String(32), nullable=True),  # operator, queue, number
    Column("to_operator_id", ID, nullable=True),
    Index("ix_report_op_transfers_at", "at"),
)

#: the operator and queue streams' events the reports count, their fields
#: taken out of the JSON body: wrap-ups (operator, queue, duration),
#: callbacks' ends (queue), status and state changes (label, by)
report_ops = Table(
    "report_ops",
    metadata,
    Column("id", BigInteger, primary_key=True),  # the event's row id
    Column("name", String(64), nullable=False),
    Column("operator_id", ID, nullable=True),
    Column("queue_id", ID, nullable=True),
    Column("ts", Float, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("duration", Float, nullable=True),
    Column("label", String(128), nullable=True),  # status or state
    Column("by_whom", String(32), nullable=True),
    Index("ix_report_ops_name_ts", "name", "ts"),
    Index("ix_report_ops_operator_ts", "operator_id", "ts"),
)

#: each operator's statuses and states as spans: from a change to the next
#: change of the same kind (end NULL: still going on where the streams end)
report_spans = Table(
    "report_spans",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("operator_id", ID, nullable=False),
    Column("kind", String(8), nullable=False),  # status, state
    Column("label", String(128), nullable=False),
    Column("start_at", Float, nullable=False),
    Column("end_at", Float, nullable=True),
    Index("ix_report_spans_start", "start_at"),
    Index("ix_report_spans_end", "end_at"),
)

OPS_EVENTS = (
    "operator_wrap_up_started", "operator_wrap_up_ended", "callback_completed", "callback_given_up",
    "operator_status_changed", "operator_state_changed",
)  # fmt: skip

#: the tables one call has rows in
CALL_TABLES = (report_calls, report_stays, report_offers, report_dials, report_nodes, report_holds, report_op_transfers)
