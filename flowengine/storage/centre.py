"""Call-centre data in the database: the centre document, per entity.

The stored centre is the centre file's content (`flowengine.acd.model.Centre`):
operators and queues (departments) one row each, in their order; the rest
(custom statuses, dial policy, ring-in-use) as one settings document. What
was written is what is read back: each entity is kept as the fields the
user set (defaults stay implicit, so a later default change reaches them).

Every change validates the whole centre before it is stored — an operator
still in a queue's member list cannot be deleted, a queue cannot overflow to
a queue that does not exist — and raises `CentreError` naming the place
(``queues[1].members[0].operator: unknown operator '907'``). Each change
bumps `revision()`, which a running ACD can poll to reload.

Schedules (weekly hours, time zone, holidays, exception dates: the Schedule
component's parameters) are named documents of their own.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.engine import Connection

from flowengine.acd.model import Centre, OperatorSpec, QueueSpec, parse_centre
from flowengine.storage.database import Database
from flowengine.storage.errors import NotFound
from flowengine.storage.schema import centre_settings, operators, queues, schedules

__all__ = ["CentreRepository", "Schedule"]

_SETTINGS_FIELDS = ("version", "statuses", "dial_policy", "ring_in_use")


@dataclass(frozen=True, slots=True)
class Schedule:
    schedule_id: str
    name: str
    spec: dict[str, Any]
    updated_at: dt.datetime


def _dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", exclude_unset=True)


def _text(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


class CentreRepository:
    def __init__(self, db: Database, *, now: Callable[[], dt.datetime] | None = None) -> None:
        self.db = db
        self._now = now or (lambda: dt.datetime.now(dt.UTC))

    # ---- the whole centre -----------------------------------------------------------------
    def load(self) -> Centre:
        """The stored centre (an empty one if nothing is stored)."""
        with self.db.connect() as conn:
            return parse_centre(_document(conn), "stored centre")

    def document(self) -> dict[str, Any]:
        """The stored centre as a centre file's data (what `load` validates)."""
        with self.db.connect() as conn:
            return _document(conn)

    def revision(self) -> int:
        """Goes up by one with every change (0: never changed)."""
        with self.db.connect() as conn:
            return int(conn.execute(sa.select(centre_settings.c.revision)).scalar() or 0)

    def save(self, centre: Centre | dict[str, Any]) -> Centre:
        """Replace the whole centre (a `Centre`, or a centre file's data)."""
        checked = centre if isinstance(centre, Centre) else parse_centre(centre, "centre")
        data = _dump(checked)
        with self.db.begin() as conn:
            _lock(conn)
            _write(conn, data)
        return checked

    # ---- operators -------------------------------------------------------------------------
    def operators(self) -> list[OperatorSpec]:
        return list(self.load().operators)

    def get_operator(self, operator_id: str) -> OperatorSpec:
        for op in self.load().operators:
            if op.id == operator_id:
                return op
        raise NotFound(f"operator '{operator_id}' does not exist")

    def put_operator(self, spec: OperatorSpec | dict[str, Any]) -> OperatorSpec:
        """Add the operator, or replace the one with its id (keeping its place)."""
        data = _dump(spec) if isinstance(spec, OperatorSpec) else dict(spec)
        centre = self._change(lambda doc: _put(doc, "operators", data))
        return centre.operator(str(data.get("id")))

    def delete_operator(self, operator_id: str) -> None:
        """Remove the operator; refused (`CentreError`) while a queue lists them."""
        self._change(lambda doc: _remove(doc, "operators", operator_id, "operator"))

    # ---- queues (departments) -------------------------------------------------------------------
    def queues(self) -> list[QueueSpec]:
        return list(self.load().queues)

    def get_queue(self, queue_id: str) -> QueueSpec:
        for q in self.load().queues:
            if q.id == queue_id:
                return q
        raise NotFound(f"queue '{queue_id}' does not exist")

    def put_queue(self, spec: QueueSpec | dict[str, Any]) -> QueueSpec:
        data = _dump(spec) if isinstance(spec, QueueSpec) else dict(spec)
        centre = self._change(lambda doc: _put(doc, "queues", data))
        return centre.queue(str(data.get("id")))

    def delete_queue(self, queue_id: str) -> None:
        """Remove the queue; refused while another queue overflows to it."""
        self._change(lambda doc: _remove(doc, "queues", queue_id, "queue"))

    # ---- statuses, dial policy, ring-in-use ----------------------------------------------
    def put_settings(self, settings: dict[str, Any]) -> Centre:
        """Replace the given top-level settings (`statuses`, `dial_policy`, `ring_in_use`)."""
        unknown = set(settings) - set(_SETTINGS_FIELDS)
        if unknown:
            from flowengine.acd.model import CentreError
            from flowengine.errors import Problem

            raise CentreError([Problem(f"'{k}' is not a centre setting", path=k) for k in sorted(unknown)])
        return self._change(lambda doc: doc.update(settings))

    # ---- schedules -------------------------------------------------------------------------
    def schedules(self) -> list[Schedule]:
        with self.db.connect() as conn:
            rows = conn.execute(sa.select(schedules).order_by(schedules.c.id)).all()
        return [_schedule(r) for r in rows]

    def get_schedule(self, schedule_id: str) -> Schedule:
        with self.db.connect() as conn:
            row = conn.execute(sa.select(schedules).where(schedules.c.id == schedule_id)).first()
        if row is None:
            raise NotFound(f"schedule '{schedule_id}' does not exist")
        return _schedule(row)

    def put_schedule(self, schedule_id: str, spec: dict[str, Any], *, name: str = "") -> Schedule:
        """Create or replace a schedule. `spec` is checked by the caller (the
        Schedule component's parameter model lives with the components)."""
        values = {"name": name, "spec": _text(spec), "updated_at": self._now()}
        with self.db.begin() as conn:
            done = conn.execute(schedules.update().where(schedules.c.id == schedule_id).values(**values)).rowcount
            if done == 0:
                conn.execute(schedules.insert().values(id=schedule_id, **values))
        return self.get_schedule(schedule_id)

    def delete_schedule(self, schedule_id: str) -> None:
        with self.db.begin() as conn:
            if conn.execute(schedules.delete().where(schedules.c.id == schedule_id)).rowcount == 0:
                raise NotFound(f"schedule '{schedule_id}' does not exist")

    # ---- helpers ----------------------------------------------------------------------------------
    def _change(self, edit: Callable[[dict[str, Any]], Any]) -> Centre:
        with self.db.begin() as conn:
            _lock(conn)
            doc = _document(conn)
            edit(doc)
            centre = parse_centre(doc, "centre")
            _write(conn, _dump(centre))
        return centre


def _schedule(row: Any) -> Schedule:
    updated = row.updated_at if row.updated_at.tzinfo else row.updated_at.replace(tzinfo=dt.UTC)
    return Schedule(row.id, row.name, json.loads(row.spec), updated)


def _lock(conn: Connection) -> None:
    """Bump the revision first: takes the write lock for the whole change."""
    done = conn.execute(centre_settings.update().values(revision=centre_settings.c.revision + 1)).rowcount
    if done == 0:
        conn.execute(centre_settings.insert().values(id=1, document="{}", revision=1))


def _document(conn: Connection) -> dict[str, Any]:
    text = conn.execute(sa.select(centre_settings.c.document)).scalar()
    doc: dict[str, Any] = json.loads(text) if text else {}
    doc["operators"] = [json.loads(s) for s in conn.execute(sa.select(operators.c.spec).order_by(operators.c.position)).scalars()]
    doc["queues"] = [json.loads(s) for s in conn.execute(sa.select(queues.c.spec).order_by(queues.c.position)).scalars()]
    return doc


def _write(conn: Connection, data: dict[str, Any]) -> None:
    settings = {k: v for k, v in data.items() if k not in ("operators", "queues")}
    conn.execute(centre_settings.update().values(document=_text(settings)))
    for table, key in ((operators, "operators"), (queues, "queues")):
        conn.execute(table.delete())
        rows = [{"id": str(item["id"]), "position": i, "spec": _text(item)} for i, item in enumerate(data.get(key, []))]
        if rows:
            conn.execute(table.insert(), rows)


def _put(doc: dict[str, Any], section: str, item: dict[str, Any]) -> None:
    items = doc.setdefault(section, [])
    item_id = str(item.get("id", ""))
    for i, old in enumerate(items):
        if str(old.get("id")) == item_id:
            items[i] = item
            return
    items.append(item)


def _remove(doc: dict[str, Any], section: str, item_id: str, what: str) -> None:
    items = doc.get(section, [])
    kept = [x for x in items if str(x.get("id")) != item_id]
    if len(kept) == len(items):
        raise NotFound(f"{what} '{item_id}' does not exist")
    doc[section] = kept
