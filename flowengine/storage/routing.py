"""The routing table in the database: number and line bindings, the default
scenario and normalisation rules (`flowengine.scenario.routing`).

`RoutingRepository.load()` returns a `RoutingTable` the engine routes with.
Every change runs the table's own method (so the same takeover rules apply:
a number held by another scenario needs ``replace=True``) inside one
transaction that first takes the routing lock, so two concurrent changes
never lose one another; the bound scenario must exist and a pinned version
must be published, else `RoutingError` names the place. Foreign keys keep a
bound scenario from being deleted (`SqlScenarioStore.delete` says which
number holds it).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from flowengine.errors import Problem
from flowengine.scenario.routing import (
    LineConfig,
    NormalisationRule,
    NumberBinding,
    Resolution,
    RoutingError,
    RoutingTable,
    parse_routing,
)
from flowengine.storage.database import Database
from flowengine.storage.schema import (
    routing_lines,
    routing_numbers,
    routing_settings,
    scenario_versions,
    scenarios,
)

__all__ = ["RoutingRepository"]

T = TypeVar("T")


def _rules_text(rules: Sequence[NormalisationRule] | None) -> str | None:
    if rules is None:
        return None
    return json.dumps([r.model_dump(mode="json", exclude_none=True) for r in rules], ensure_ascii=False)


def _rules(text: str | None) -> list[Any] | None:
    return None if text is None else list(json.loads(text))


class RoutingRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- reading -----------------------------------------------------------------------------
    def load(self) -> RoutingTable:
        with self.db.connect() as conn:
            return _load(conn)

    def resolve(self, called: str, line: str | None = None, caller: str = "") -> Resolution:
        """Where a call to `called` (as the line sends it) on `line` would go,
        after the line's normalisation, and why (`Resolution.reason`)."""
        table = self.load()
        called, _caller = table.normalise(line, called, caller)
        return table.resolve(called, line)

    # ---- changing -----------------------------------------------------------------------------
    def change(self, apply: Callable[[RoutingTable], T]) -> T:
        """Run `apply` on the stored table and store the result, atomically."""
        with self.db.begin() as conn:
            _lock(conn)
            table = _load(conn)
            result = apply(table)
            _check_references(conn, table)
            _store(conn, table)
        return result

    def save(self, table: RoutingTable | dict[str, Any]) -> RoutingTable:
        """Replace the whole table (the file form is accepted too)."""
        new = table if isinstance(table, RoutingTable) else parse_routing(table)
        with self.db.begin() as conn:
            _lock(conn)
            _check_references(conn, new)
            _store(conn, new)
        return new

    def bind_number(
        self, number: str, scenario_id: str, version: int | None = None, *, replace: bool = False
    ) -> NumberBinding:
        return self.change(lambda t: t.bind_number(number, scenario_id, version, replace=replace))

    def unbind_number(self, number: str) -> NumberBinding | None:
        return self.change(lambda t: t.unbind_number(number))

    def configure_line(self, config: LineConfig, *, replace: bool = False) -> LineConfig:
        return self.change(lambda t: t.configure_line(config, replace=replace))

    def bind_line(
        self, line: str, scenario_id: str, version: int | None = None, *, replace: bool = False
    ) -> LineConfig:
        return self.change(lambda t: t.bind_line(line, scenario_id, version, replace=replace))

    def unbind_line(self, line: str) -> LineConfig | None:
        return self.change(lambda t: t.unbind_line(line))

    def remove_line(self, line: str) -> LineConfig | None:
        """Forget the line entirely (rules, number and binding)."""

        def remove(t: RoutingTable) -> LineConfig | None:
            held = t.line_config(line)
            if held is not None:
                t.lines = [x for x in t.lines if x.name != line]
                t.model_post_init(None)
            return held

        return self.change(remove)

    def set_default(self, scenario_id: str | None, version: int | None = None) -> None:
        self.change(lambda t: t.set_default(scenario_id, version))

    def set_rules(self, called: Sequence[Any], caller: Sequence[Any]) -> RoutingTable:
        """Table-wide normalisation rules (for lines without their own)."""

        def apply(t: RoutingTable) -> RoutingTable:
            checked = parse_routing({"called": list(called), "caller": list(caller)})
            t.called, t.caller = checked.called, checked.caller
            return t

        return self.change(apply)


def _lock(conn: Connection) -> None:
    """Take the routing write lock first (SQLite: the database write lock;
    PostgreSQL: the settings row), creating the settings row if needed."""
    done = conn.execute(
        routing_settings.update().where(routing_settings.c.id == 1).values(id=routing_settings.c.id)
    ).rowcount
    if done == 0:
        conn.execute(routing_settings.insert().values(id=1, called_rules="[]", caller_rules="[]"))
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(routing_settings.c.id).where(routing_settings.c.id == 1).with_for_update())


def _load(conn: Connection) -> RoutingTable:
    settings = conn.execute(sa.select(routing_settings).where(routing_settings.c.id == 1)).first()
    data: dict[str, Any] = {
        "numbers": [
            {"number": r.number, "scenario_id": r.scenario_id, "version": r.version}
            for r in conn.execute(sa.select(routing_numbers).order_by(routing_numbers.c.position))
        ],
        "lines": [
            {
                k: v
                for k, v in {
                    "name": r.name,
                    "number": r.number,
                    "called": _rules(r.called_rules),
                    "caller": _rules(r.caller_rules),
                    "scenario_id": r.scenario_id,
                    "version": r.version,
                }.items()
                if v is not None
            }
            for r in conn.execute(sa.select(routing_lines).order_by(routing_lines.c.position))
        ],
    }
    if settings is not None:
        data["called"] = _rules(settings.called_rules) or []
        data["caller"] = _rules(settings.caller_rules) or []
        if settings.default_scenario_id is not None:
            data["default"] = {"scenario_id": settings.default_scenario_id, "version": settings.default_version}
    return parse_routing(data, "stored routing table")


def _check_references(conn: Connection, table: RoutingTable) -> None:
    problems: list[Problem] = []
    known = set(conn.execute(sa.select(scenarios.c.id)).scalars())
    for path, ref in table.scenario_refs():
        if ref.scenario_id not in known:
            problems.append(Problem(f"scenario '{ref.scenario_id}' does not exist", path=f"{path}.scenario_id", code="not_found"))
        elif ref.version is not None:
            found = conn.execute(
                sa.select(scenario_versions.c.version).where(
                    scenario_versions.c.scenario_id == ref.scenario_id, scenario_versions.c.version == ref.version
                )
            ).first()
            if found is None:
                problems.append(
                    Problem(f"scenario '{ref.scenario_id}' has no published version {ref.version}", path=f"{path}.version", code="not_found")
                )
    if problems:
        raise RoutingError(problems)


def _store(conn: Connection, table: RoutingTable) -> None:
    conn.execute(routing_numbers.delete())
    conn.execute(routing_lines.delete())
    if table.numbers:
        conn.execute(
            routing_numbers.insert(),
            [
                {"number": b.number, "scenario_id": b.scenario_id, "version": b.version, "position": i}
                for i, b in enumerate(table.numbers)
            ],
        )
    if table.lines:
        conn.execute(
            routing_lines.insert(),
            [
                {
                    "name": x.name,
                    "number": x.number,
                    "called_rules": _rules_text(x.called),
                    "caller_rules": _rules_text(x.caller),
                    "scenario_id": x.scenario_id,
                    "version": x.version,
                    "position": i,
                }
                for i, x in enumerate(table.lines)
            ],
        )
    conn.execute(
        routing_settings.update()
        .where(routing_settings.c.id == 1)
        .values(
            default_scenario_id=table.default.scenario_id if table.default else None,
            default_version=table.default.version if table.default else None,
            called_rules=_rules_text(table.called),
            caller_rules=_rules_text(table.caller),
        )
    )
