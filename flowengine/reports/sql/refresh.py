"""Keeping the report tables (`tables`) up to date with the raw events.

`refresh(db)` folds every call whose `call_ended` was stored since the last
refresh (the watermark is that event's row id) with the same fold as the
JSON-lines reports, and writes its rows; a chunk of calls is one
transaction together with the watermark, so the tables never hold half a
call or miss one after a crash. Calls still in progress are not in the
tables: a call counts in the reports once it has ended. Re-folding a call
replaces its rows, so a refresh is safe to repeat.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from flowengine.reports.calls import FOLD_EVENTS, CallStory, fold_calls
from flowengine.reports.sql.dialect import json_number, json_text
from flowengine.reports.sql.tables import (
    CALL_TABLES,
    FACTS_VERSION,
    OPS_EVENTS,
    metadata,
    report_calls,
    report_dials,
    report_holds,
    report_nodes,
    report_offers,
    report_op_transfers,
    report_ops,
    report_spans,
    report_state,
    report_stays,
)
from flowengine.reports.traffic import call_result, lost_reason, talked_to
from flowengine.storage import Database
from flowengine.storage.schema import events, streams

__all__ = ["refresh", "rebuild", "story_rows"]

#: calls folded per transaction
CHUNK = 1000
_locks: dict[int, threading.Lock] = {}
_guard = threading.Lock()


def _lock(db: Database) -> threading.Lock:
    with _guard:
        return _locks.setdefault(id(db.engine), threading.Lock())


def refresh(db: Database) -> int:
    """Fold the calls that ended since the last refresh, and copy the operator
    and queue events stored since; how many calls were added."""
    with _lock(db):
        last = _prepare(db)
        _copy_ops(db)
        added = 0
        while True:
            # read and fold without the write lock (the event sink goes on writing) ...
            with db.connect() as conn:
                ends = conn.execute(
                    sa.select(events.c.id, events.c.stream_id)
                    .where(events.c.name == "call_ended", events.c.id > last)
                    .order_by(events.c.id)
                    .limit(CHUNK)
                ).all()
                if not ends:
                    return added
                stories = _stories(conn, [sid for _id, sid in ends])
            # ... then write the chunk's rows and the watermark in one short transaction
            last = max(i for i, _sid in ends)
            with db.begin() as conn:
                _write(conn, stories)
                conn.execute(
                    report_state.update()
                    .where(report_state.c.id == 1, report_state.c.last_event_id < last)
                    .values(last_event_id=last)
                )
            added += len(stories)


def rebuild(db: Database) -> int:
    """Empty the report tables and fold every ended call again."""
    with _lock(db):
        _prepare(db)
        with db.begin() as conn:
            _clear(conn)
    return refresh(db)


#: events read per transaction when copying operator and queue events
OPS_CHUNK = 50_000


def _status(backend: str, body: Any) -> Any:
    """The status of an operator_status_changed body; a break with its reason (``break:lunch``)."""
    status = json_text(backend, body, "status")
    reason = json_text(backend, body, "reason")
    return sa.case(
        (sa.and_(status == "break", reason.is_not(None), reason != ""), sa.literal("break:") + reason), else_=status
    )


def _copy_ops(db: Database) -> None:
    """INSERT ... SELECT the new operator and queue events into report_ops,
    their fields read out of the JSON body by the database."""
    backend = db.backend
    ev = events.c
    body = ev.body
    with db.connect() as conn:
        top = conn.execute(sa.select(sa.func.max(ev.id))).scalar() or 0
    while True:
        with db.begin() as conn:
            last = int(conn.execute(sa.select(report_state.c.last_stream_event_id)).scalar() or 0)
            if last >= top:
                return
            upto = min(top, last + OPS_CHUNK)
            rows = sa.select(
                ev.id, ev.name, sa.func.coalesce(ev.operator_id, json_text(backend, body, "operator_id")),
                sa.case((ev.stream == "queue", ev.stream_key), else_=json_text(backend, body, "queue_id")),
                ev.ts, ev.seq, json_number(backend, body, "duration"),
                sa.case((ev.name == "operator_status_changed", _status(backend, body)),
                        (ev.name == "operator_state_changed", json_text(backend, body, "state")), else_=None),
                sa.case((ev.name == "operator_status_changed", json_text(backend, body, "by")), else_=None),
            ).where(ev.id > last, ev.id <= upto, ev.name.in_(OPS_EVENTS))  # fmt: skip
            conn.execute(
                report_ops.insert().from_select(
                    ["id", "name", "operator_id", "queue_id", "ts", "seq", "duration", "label", "by_whom"], rows
                )
            )
            _spans(conn, last, upto)
            conn.execute(report_state.update().values(last_stream_event_id=upto))


_CHANGES = ("operator_status_changed", "operator_state_changed")


def _spans(conn: Connection, after: int, upto: int) -> None:
    """Turn the status and state changes copied in (`after`, `upto`] into
    spans: each closes the operator's open span of its kind. A status
    ``by: start`` (the ACD started) also starts the state idle, as
    `status_times` counts it. An operator whose new changes are older than
    their spans (stored out of order) has their spans rebuilt."""
    ops = report_ops.c
    sp = report_spans.c
    changes = conn.execute(
        sa.select(ops.operator_id, ops.name, ops.label, ops.ts, ops.by_whom)
        .where(ops.id > after, ops.id <= upto, ops.name.in_(_CHANGES), ops.operator_id.is_not(None))
        .order_by(ops.operator_id, ops.ts, ops.seq)
    ).all()
    if not changes:
        return
    earliest: dict[str, float] = {}
    for op, _name, _label, ts, _by in changes:
        earliest.setdefault(op, ts)
    latest: dict[str, float] = {
        str(op): float(ts)
        for op, ts in conn.execute(
            sa.select(sp.operator_id, sa.func.max(sp.start_at)).where(sp.operator_id.in_(earliest)).group_by(sp.operator_id)
        )
    }
    redo = [op for op, ts in earliest.items() if op in latest and ts < latest[op]]
    if redo:
        conn.execute(report_spans.delete().where(sp.operator_id.in_(redo)))
        changes = [c for c in changes if c[0] not in redo] + list(conn.execute(
            sa.select(ops.operator_id, ops.name, ops.label, ops.ts, ops.by_whom)
            .where(ops.id <= upto, ops.name.in_(_CHANGES), ops.operator_id.in_(redo))
            .order_by(ops.operator_id, ops.ts, ops.seq)
        ).all())  # fmt: skip
    open_spans = {
        (op, kind): sid
        for sid, op, kind in conn.execute(
            sa.select(sp.id, sp.operator_id, sp.kind).where(sp.end_at.is_(None), sp.operator_id.in_(earliest))
        )
    }
    closes: list[dict[str, Any]] = []
    opened: dict[tuple[str, str], dict[str, Any]] = {}
    new: list[dict[str, Any]] = []

    def change(op: str, kind: str, label: str, ts: float) -> None:
        key = (op, kind)
        if key in opened:
            opened[key]["end_at"] = ts
        elif key in open_spans:
            closes.append({"sid": open_spans.pop(key), "end": ts})
        opened[key] = row = {"operator_id": op, "kind": kind, "label": label or "", "start_at": ts, "end_at": None}
        new.append(row)

    for op, name, label, ts, by in changes:
        if name == "operator_status_changed":
            change(op, "status", label, ts)
            if by == "start":
                change(op, "state", "idle", ts)
        else:
            change(op, "state", label, ts)
    if closes:
        conn.execute(
            report_spans.update().where(sp.id == sa.bindparam("sid")).values(end_at=sa.bindparam("end")), closes
        )
    _insert(conn, report_spans.name, new)


def _prepare(db: Database) -> int:
    """Create the tables when missing; empty them when made by another
    version of the fold. Returns the watermark."""
    try:
        with db.connect() as conn:
            row = conn.execute(sa.select(report_state.c.version, report_state.c.last_event_id)).first()
        if row is not None and row.version == FACTS_VERSION:
            return int(row.last_event_id)
    except DBAPIError:
        pass  # no tables yet
    with db.begin() as conn:
        metadata.create_all(conn, checkfirst=True)
        row = conn.execute(sa.select(report_state.c.version, report_state.c.last_event_id)).first()
        if row is not None and row.version == FACTS_VERSION:
            return int(row.last_event_id)
        if row is not None:  # made by another version: its tables may differ too
            metadata.drop_all(conn)
            metadata.create_all(conn)
        conn.execute(report_state.insert().values(id=1, version=FACTS_VERSION, last_event_id=0, last_stream_event_id=0))
        return 0


def _clear(conn: Connection) -> None:
    for table in (*CALL_TABLES, report_ops, report_spans):
        conn.execute(table.delete())
    conn.execute(report_state.update().values(version=FACTS_VERSION, last_event_id=0, last_stream_event_id=0))


def _stories(conn: Connection, stream_ids: list[int]) -> list[CallStory]:
    query = (
        sa.select(events.c.body)
        .where(events.c.stream_id.in_(stream_ids), events.c.name.in_(FOLD_EVENTS))
        .order_by(events.c.stream_id, events.c.seq)
    )
    keys: dict[int, str] = {
        int(sid): str(key)
        for sid, key in conn.execute(sa.select(streams.c.id, streams.c.stream_key).where(streams.c.id.in_(stream_ids)))
    }
    found = fold_calls(orjson.loads(b) for b in conn.execute(query).scalars())
    return [found[k] for k in keys.values() if k in found and found[k].started is not None]


def _write(conn: Connection, stories: list[CallStory]) -> None:
    """Replace the rows of these calls. The rows go to the driver's
    executemany as tuples: SQLAlchemy's per-row parameter handling would
    cost a third of a refresh."""
    ids = [s.call_id for s in stories]
    for table in CALL_TABLES:
        conn.execute(table.delete().where(table.c.call_id.in_(ids)))
    rows: dict[str, list[dict[str, Any]]] = {t.name: [] for t in CALL_TABLES}
    for story in stories:
        for name, row in story_rows(story):
            rows[name].append(row)
    for table in CALL_TABLES:
        _insert(conn, table.name, rows[table.name])


def _insert(conn: Connection, table: str, rows: list[dict[str, Any]]) -> None:
    """INSERT `rows` (dicts with the same keys) with the driver's executemany."""
    if not rows:
        return
    names = list(rows[0])
    quote = conn.dialect.identifier_preparer.quote
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {quote(table)} ({', '.join(map(quote, names))}) VALUES ({', '.join([mark] * len(names))})"
    conn.exec_driver_sql(sql, [tuple(r[n] for n in names) for r in rows])


def story_rows(s: CallStory) -> Iterable[tuple[str, dict[str, Any]]]:
    """(table name, row) for each row a call's story gives."""
    assert s.started is not None
    lost = lost_reason(s)
    yield report_calls.name, {
        "call_id": s.call_id, "started": s.started, "ended": s.ended, "caller": s.caller[:64],
        "called": s.called[:64], "scenario_id": s.scenario_id, "scenario_version": s.scenario_version,
        "talked": s.talked, "queued": bool(s.stays), "lost_reason": lost[0] if lost else None,
        "lost_detail": lost[1] if lost else "", "last_queue": s.stays[-1].queue_id if s.stays else None,
        "operator": talked_to(s), "result": call_result(s),
        "path": " > ".join(node for node, _, _ in s.path), "hangup_by": s.hangup_by, "hangup_node": s.hangup_node,
    }  # fmt: skip
    for i, st in enumerate(s.stays):
        yield report_stays.name, {
            "call_id": s.call_id, "pos": i, "queue_id": st.queue_id, "entered": st.entered, "left_at": st.left,
            "outcome": st.outcome, "wait": _num(st.wait), "operator_id": st.operator_id, "talk": _num(st.talk),
            "completed_by": st.completed_by, "overflow_in": st.overflow_in,
        }  # fmt: skip
    for i, o in enumerate(s.offers):
        yield report_offers.name, {
            "call_id": s.call_id, "pos": i, "operator_id": o.operator_id, "queue_id": o.queue_id, "at": o.at,
            "outcome": o.outcome, "reason": o.reason, "ring_time": _num(o.ring_time),
        }  # fmt: skip
    for i, d in enumerate(s.dials):
        yield report_dials.name, {
            "call_id": s.call_id, "pos": i, "target": d.target[:128], "operator_id": d.operator_id,
            "outcome": d.outcome, "at": d.at,
        }  # fmt: skip
    for i, h in enumerate(s.holds):
        yield report_holds.name, {
            "call_id": s.call_id, "pos": i, "operator_id": h.operator_id, "queue_id": h.queue_id, "at": h.at,
            "held": float(s.held(h)),
        }  # fmt: skip
    for i, x in enumerate(s.op_transfers):
        yield report_op_transfers.name, {
            "call_id": s.call_id, "pos": i, "operator_id": x.operator_id, "queue_id": x.queue_id,
            "target": x.target[:128], "at": x.at, "outcome": _cut(x.outcome, 32), "reason": _cut(x.reason, 64),
            "kind": _cut(x.kind, 32),
            "to_operator_id": x.to_operator_id,
        }  # fmt: skip
    for i, (node, _type, exit) in enumerate(s.path):
        yield report_nodes.name, {
            "call_id": s.call_id, "pos": i, "started": s.started, "scenario_id": s.scenario_id,
            "scenario_version": s.scenario_version, "node_id": node, "exit": exit,
        }  # fmt: skip


def _cut(v: str | None, n: int) -> str | None:
    return None if v is None else str(v)[:n]


def _num(v: Any) -> float | None:
    return None if v is None else float(v)
