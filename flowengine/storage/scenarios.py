"""Scenarios in the database: editable drafts and immutable numbered versions.

`SqlScenarioStore` implements `flowengine.scenario.store.ScenarioStore`, so an
`Engine(store=...)` runs calls from the database, with the same rules as the
in-memory store: publishing makes version N+1 (with a comment and who
published it); content equal to the latest version publishes nothing and
says so; a rollback publishes an earlier version's content as a new number.

Drafts are what the editor saves: any JSON object (a draft may be invalid;
publishing is where it must compile), with a `revision` that goes up by one
on every save. Saving against a stale revision raises `Conflict` and writes
nothing, so of two editors saving the same draft one wins and the other is
told to reload. Deleting a scenario that a number, a line or the default
route still points at is `Refused`.

Versions never change once written, so compiled versions are cached per
process; `latest()` is a snapshot the store replaces (never mutates) when
this process publishes. A second process publishing into the same database
is seen after `refresh()`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError

from flowengine.components.registry import NodeRegistry
from flowengine.scenario.compiled import Scenario
from flowengine.scenario.loader import build_scenario, load_scenario_data
from flowengine.scenario.model import NODE_ID_PATTERN, ScenarioDoc
from flowengine.scenario.store import PublishResult, ScenarioNotFound, VersionInfo, content_digest
from flowengine.storage.database import Database
from flowengine.storage.errors import Conflict, NotFound, Refused
from flowengine.storage.schema import (
    routing_lines,
    routing_numbers,
    routing_settings,
    scenario_versions,
    scenarios,
)

__all__ = ["Draft", "SqlScenarioStore"]


@dataclass(frozen=True, slots=True)
class Draft:
    """A scenario's draft as stored: the document and its revision."""

    scenario_id: str
    document: dict[str, Any]
    revision: int
    created_at: dt.datetime
    updated_at: dt.datetime
    updated_by: str
    latest_version: int | None


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(value: dt.datetime) -> dt.datetime:
    """SQLite hands datetimes back without their zone; they were written in UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


class SqlScenarioStore:
    """`ScenarioStore` on a `Database`, plus drafts, rollback and delete."""

    def __init__(
        self,
        db: Database,
        *,
        registry: NodeRegistry | None = None,
        now: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.db = db
        self._registry = registry
        self._now = now or _utc_now
        #: (scenario id, version) -> compiled; versions never change
        self._compiled: dict[tuple[str, int], Scenario] = {}
        self._latest: dict[str, Scenario] = {}
        self._latest_numbers: dict[str, int] = {}
        self.refresh()

    # ---- the ScenarioStore protocol ------------------------------------------------------
    def publish(
        self, scenario: Scenario | ScenarioDoc, *, comment: str = "", author: str = ""
    ) -> PublishResult:
        """Store version N+1 unless the content equals the latest version.

        The scenario's row (and draft) is created if it has none; an existing
        draft is left as it is."""
        if isinstance(scenario, ScenarioDoc):
            scenario = build_scenario(scenario, self._reg())
        doc = scenario.doc
        digest = content_digest(doc)
        for attempt in range(5):  # a concurrent publisher took our number: count again
            try:
                with self.db.begin() as conn:
                    return self._publish(conn, scenario, digest, comment, author)
            except (IntegrityError, OperationalError):
                if attempt == 4:
                    raise
        raise AssertionError("unreachable")

    def _publish(
        self, conn: Connection, scenario: Scenario, digest: str, comment: str, author: str
    ) -> PublishResult:
        doc = scenario.doc
        sid = doc.id
        now = self._now()
        insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(scenarios)
        conn.execute(
            insert.values(
                id=sid, draft=_dumps(doc.dump()), revision=1, created_at=now, updated_at=now, updated_by=author
            ).on_conflict_do_nothing()
        )
        if conn.dialect.name == "postgresql":  # SQLite: BEGIN IMMEDIATE already serialises publishers
            conn.execute(sa.select(scenarios.c.id).where(scenarios.c.id == sid).with_for_update())
        rows = conn.execute(
            sa.select(scenario_versions.c.version, scenario_versions.c.digest)
            .where(scenario_versions.c.scenario_id == sid)
            .order_by(scenario_versions.c.version)
        ).all()
        if rows and rows[-1].digest == digest:
            last = rows[-1].version
            return PublishResult(
                sid, last, False, f"scenario '{sid}' unchanged: same as version {last}, nothing published",
                self.get(sid, last),
            )
        version = len(rows) + 1
        stored_doc = doc.model_copy(update={"version": version})
        conn.execute(
            scenario_versions.insert().values(
                scenario_id=sid,
                version=version,
                content=_dumps(stored_doc.model_dump(mode="json", by_alias=True)),
                digest=digest,
                comment=comment,
                published_by=author,
                published_at=now,
            )
        )
        stored = dataclasses.replace(scenario, doc=stored_doc)
        self._compiled[(sid, version)] = stored
        self._latest = {**self._latest, sid: stored}
        self._latest_numbers[sid] = version
        message = f"scenario '{sid}' published as version {version}"
        same = [r.version for r in rows if r.digest == digest]
        if same:
            message += f" (the content of version {same[-1]}: a rollback)"
        if "version" in doc.model_fields_set and doc.version != version:
            message += f"; the document's own 'version: {doc.version}' is not used, the store numbers versions"
        return PublishResult(sid, version, True, message, stored)

    def get(self, scenario_id: str, version: int | None = None) -> Scenario:
        found = self.find(scenario_id, version)
        if found is not None:
            return found
        latest = self.latest_version(scenario_id)
        if latest is None:
            known = ", ".join(self.scenario_ids()) or "none"
            raise ScenarioNotFound(f"scenario '{scenario_id}' is not published (published: {known})")
        raise ScenarioNotFound(f"scenario '{scenario_id}' has no version {version} (published: 1 to {latest})")

    def find(self, scenario_id: str, version: int | None = None) -> Scenario | None:
        if version is None:
            cached = self._latest.get(scenario_id)
            if cached is not None:
                return cached
            version = self.latest_version(scenario_id)
            if version is None:
                return None
        key = (scenario_id, version)
        cached = self._compiled.get(key)
        if cached is not None:
            return cached
        with self.db.connect() as conn:
            content = conn.execute(
                sa.select(scenario_versions.c.content).where(
                    scenario_versions.c.scenario_id == scenario_id, scenario_versions.c.version == version
                )
            ).scalar()
        if content is None:
            return None
        compiled = load_scenario_data(json.loads(content), self._reg(), source=f"{scenario_id} v{version}")
        self._compiled[key] = compiled
        return compiled

    def latest_version(self, scenario_id: str) -> int | None:
        with self.db.connect() as conn:
            return conn.execute(
                sa.select(sa.func.max(scenario_versions.c.version)).where(scenario_versions.c.scenario_id == scenario_id)
            ).scalar()

    def versions(self, scenario_id: str) -> list[VersionInfo]:
        with self.db.connect() as conn:
            rows = conn.execute(
                sa.select(scenario_versions)
                .where(scenario_versions.c.scenario_id == scenario_id)
                .order_by(scenario_versions.c.version)
            ).all()
        return [
            VersionInfo(r.scenario_id, r.version, _aware(r.published_at), r.published_by, r.comment, r.digest)
            for r in rows
        ]

    def scenario_ids(self) -> list[str]:
        """Ids of the scenarios with at least one published version."""
        with self.db.connect() as conn:
            return list(
                conn.execute(
                    sa.select(scenario_versions.c.scenario_id).distinct().order_by(scenario_versions.c.scenario_id)
                ).scalars()
            )

    def latest(self) -> Mapping[str, Scenario]:
        return self._latest

    def refresh(self) -> None:
        """Re-read which version is the latest of each scenario (another process
        may have published); compiles only what changed."""
        with self.db.connect() as conn:
            rows = conn.execute(
                sa.select(scenario_versions.c.scenario_id, sa.func.max(scenario_versions.c.version)).group_by(
                    scenario_versions.c.scenario_id
                )
            ).all()
        numbers = {sid: version for sid, version in rows}
        if numbers == self._latest_numbers and set(numbers) == set(self._latest):
            return
        latest: dict[str, Scenario] = {}
        for sid, version in numbers.items():
            compiled = self.find(sid, version)
            if compiled is not None:
                latest[sid] = compiled
        self._latest_numbers = numbers
        self._latest = latest

    # ---- rollback --------------------------------------------------------------------------
    def rollback(self, scenario_id: str, version: int, *, comment: str = "", author: str = "") -> PublishResult:
        """Publish version `version`'s content again, as the next number."""
        old = self.find(scenario_id, version)
        if old is None:
            self.get(scenario_id, version)  # raises, naming what exists
        assert old is not None
        return self.publish(old, comment=comment or f"rollback to version {version}", author=author)

    # ---- drafts ------------------------------------------------------------------------------
    def create_draft(self, document: Mapping[str, Any], *, author: str = "") -> Draft:
        """A new scenario with `document` as its draft (revision 1); `Conflict`
        if the id is taken."""
        sid = _draft_id(document)
        now = self._now()
        try:
            with self.db.begin() as conn:
                conn.execute(
                    scenarios.insert().values(
                        id=sid, draft=_dumps(dict(document)), revision=1, created_at=now, updated_at=now, updated_by=author
                    )
                )
        except IntegrityError:
            raise Conflict(f"scenario '{sid}' already exists", current=self._revision(sid)) from None
        return self.get_draft(sid)

    def save_draft(
        self, scenario_id: str, document: Mapping[str, Any], *, revision: int, author: str = ""
    ) -> Draft:
        """Replace the draft if it is still at `revision`; the new one is
        `revision + 1`. A stale revision raises `Conflict` and changes nothing."""
        sid = _draft_id(document, scenario_id)
        with self.db.begin() as conn:
            done = conn.execute(
                scenarios.update()
                .where(scenarios.c.id == sid, scenarios.c.revision == revision)
                .values(draft=_dumps(dict(document)), revision=revision + 1, updated_at=self._now(), updated_by=author)
            ).rowcount
        if done != 1:
            current = self._revision(sid)
            if current is None:
                raise NotFound(f"scenario '{sid}' does not exist")
            raise Conflict(
                f"scenario '{sid}' was saved by someone else: its draft is at revision {current}, "
                f"this change was made on revision {revision}; reload it and apply the change again",
                current=current,
            )
        return self.get_draft(sid)

    def get_draft(self, scenario_id: str) -> Draft:
        with self.db.connect() as conn:
            row = conn.execute(sa.select(scenarios).where(scenarios.c.id == scenario_id)).first()
            latest = conn.execute(
                sa.select(sa.func.max(scenario_versions.c.version)).where(scenario_versions.c.scenario_id == scenario_id)
            ).scalar()
        if row is None:
            raise NotFound(f"scenario '{scenario_id}' does not exist")
        return Draft(
            row.id, json.loads(row.draft), row.revision, _aware(row.created_at), _aware(row.updated_at),
            row.updated_by, latest,
        )

    def list_drafts(self) -> list[Draft]:
        with self.db.connect() as conn:
            latest: dict[str, int] = {
                sid: version
                for sid, version in conn.execute(
                    sa.select(scenario_versions.c.scenario_id, sa.func.max(scenario_versions.c.version)).group_by(
                        scenario_versions.c.scenario_id
                    )
                ).all()
            }
            rows = conn.execute(sa.select(scenarios).order_by(scenarios.c.id)).all()
        return [
            Draft(r.id, json.loads(r.draft), r.revision, _aware(r.created_at), _aware(r.updated_at), r.updated_by,
                  latest.get(r.id))
            for r in rows
        ]

    def publish_draft(
        self, scenario_id: str, *, comment: str = "", author: str = "", revision: int | None = None
    ) -> PublishResult:
        """Compile the draft and publish it. With `revision`, only if the draft
        is still at it (the editor publishes what it shows). An invalid draft
        raises the loader's `ScenarioError` with every problem."""
        draft = self.get_draft(scenario_id)
        if revision is not None and draft.revision != revision:
            raise Conflict(
                f"scenario '{scenario_id}' draft is at revision {draft.revision}, not {revision}; reload it",
                current=draft.revision,
            )
        compiled = load_scenario_data(draft.document, self._reg(), source=f"{scenario_id} draft")
        return self.publish(compiled, comment=comment, author=author)

    def delete(self, scenario_id: str) -> None:
        """Delete the scenario with its draft and versions; `Refused` while a
        number, a line or the default route points at it."""
        with self.db.begin() as conn:
            users = _bindings(conn, scenario_id)
            if users:
                raise Refused(
                    f"scenario '{scenario_id}' is still routed to by {', '.join(users)}; unbind it first"
                )
            conn.execute(scenario_versions.delete().where(scenario_versions.c.scenario_id == scenario_id))
            gone = conn.execute(scenarios.delete().where(scenarios.c.id == scenario_id)).rowcount
        if gone != 1:
            raise NotFound(f"scenario '{scenario_id}' does not exist")
        self._compiled = {k: v for k, v in self._compiled.items() if k[0] != scenario_id}
        self._latest = {k: v for k, v in self._latest.items() if k != scenario_id}
        self._latest_numbers.pop(scenario_id, None)

    # ---- helpers ---------------------------------------------------------------------------------
    def _reg(self) -> NodeRegistry:
        if self._registry is None:
            from flowengine.components.registry import builtin_registry

            self._registry = builtin_registry()
        return self._registry

    def _revision(self, scenario_id: str) -> int | None:
        with self.db.connect() as conn:
            return conn.execute(sa.select(scenarios.c.revision).where(scenarios.c.id == scenario_id)).scalar()


def _bindings(conn: Connection, scenario_id: str) -> list[str]:
    """What routes to `scenario_id`: 'number N', 'line L', 'the default route'."""
    found = [
        f"number {n}"
        for n in conn.execute(
            sa.select(routing_numbers.c.number).where(routing_numbers.c.scenario_id == scenario_id).order_by(
                routing_numbers.c.position
            )
        ).scalars()
    ]
    found += [
        f"line {n}"
        for n in conn.execute(
            sa.select(routing_lines.c.name).where(routing_lines.c.scenario_id == scenario_id).order_by(
                routing_lines.c.position
            )
        ).scalars()
    ]
    if conn.execute(
        sa.select(routing_settings.c.id).where(routing_settings.c.default_scenario_id == scenario_id)
    ).first():
        found.append("the default route")
    return found


def _draft_id(document: Mapping[str, Any], expected: str | None = None) -> str:
    sid = document.get("id") if isinstance(document, Mapping) else None
    if not isinstance(sid, str) or not sid:
        raise Refused("id: a scenario draft needs an 'id' (text)")
    if not re.fullmatch(NODE_ID_PATTERN, sid):
        raise Refused(f"id: '{sid[:80]}' is not a valid scenario id (pattern {NODE_ID_PATTERN})")
    if expected is not None and sid != expected:
        raise Refused(f"id: the draft says '{sid[:80]}' but is saved as scenario '{expected}'")
    return sid

