"""Scenario drafts and published versions, as the API manages them.

A draft is the editable document of a scenario id, with a `revision` that
every save must name (optimistic concurrency: a stale revision changes
nothing and is reported). Publishing loads and validates the draft and hands
it to the engine's version store, which numbers it; the version's document,
author, comment and time are kept in the database and reloaded into the
engine's store on start, so calls route to the same versions after a
restart. Calls in flight keep the compiled version they started on.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flowengine.api.compare import compare_documents
from flowengine.api.localdb import LocalDB
from flowengine.api.problems import ApiProblem, FieldProblem, conflict, from_problems, not_found
from flowengine.errors import Problem, ScenarioError
from flowengine.runtime.engine import Engine
from flowengine.scenario.compiled import Scenario
from flowengine.scenario.loader import load_scenario_data
from flowengine.scenario.store import InMemoryScenarioStore, content_digest
from flowengine.validation.checks import validate

DRAFT = "draft"


@dataclass(frozen=True, slots=True)
class VersionMeta:
    scenario_id: str
    version: int
    published_at: float
    author: str
    comment: str
    digest: str
    document: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Draft:
    scenario_id: str
    revision: int
    document: dict[str, Any]
    updated_at: float
    updated_by: str


class Catalog:
    """Drafts and versions over `LocalDB`, kept in step with `engine.store`.

    `known()` gives the names the validator checks references against (the
    centre's queues and operators, the scenario ids)."""

    def __init__(self, db: LocalDB, engine: Engine) -> None:
        self.db = db
        self.engine = engine
        self.versions: dict[str, list[VersionMeta]] = {}
        self.known_extra: dict[str, set[str]] = {}
        self.dial_policy: Any = None

    def load(self) -> None:
        """Publish every stored version into the engine's store, in order."""
        store = InMemoryScenarioStore(now=self.engine.clock.now)
        self.versions = {}
        for sid, version, published_at, author, comment, digest, body in self.db.all_versions():
            scenario = load_scenario_data(body, source=f"{sid} v{version}")
            store.publish(scenario, comment=comment, author=author)
            self.versions.setdefault(sid, []).append(
                VersionMeta(sid, version, published_at, author, comment, digest, body)
            )
        self.engine.store = store

    # ---- drafts -------------------------------------------------------------------------
    def draft(self, sid: str) -> Draft:
        doc = self.db.get_doc(DRAFT, sid)
        if doc is None:
            raise not_found(f"scenario '{sid}'")
        return Draft(sid, doc.revision, doc.body, doc.updated_at, doc.updated_by)

    def drafts(self) -> list[Draft]:
        return [Draft(d.key, d.revision, d.body, d.updated_at, d.updated_by) for d in self.db.list_docs(DRAFT)]

    def exists(self, sid: str) -> bool:
        return self.db.get_doc(DRAFT, sid) is not None or sid in self.versions

    def save_draft(self, sid: str, document: dict[str, Any], *, revision: int | None, by: str) -> Draft:
        """`revision` None creates the draft (409 if it exists); otherwise it
        must be the revision the editor read (409 if someone saved since)."""
        _check_id(sid, document, "document.id")
        new = self.db.put_doc(DRAFT, sid, document, expect=revision, by=by)
        if new is None:
            current = self.db.get_doc(DRAFT, sid)
            if revision is None:
                raise conflict(f"scenario '{sid}' exists already (revision {current.revision if current else '?'}); "
                               "update it with its revision", "document.id")
            if current is None:
                raise not_found(f"scenario '{sid}'")
            raise conflict(
                f"draft '{sid}' is at revision {current.revision}, the update was based on revision {revision}: "
                "reload it and apply your change again",
                "revision",
            )
        return self.draft(sid)

    # ---- checks ----------------------------------------------------------------------------
    def compile(self, document: Any, prefix: str = "document") -> Scenario:
        try:
            return load_scenario_data(document)
        except ScenarioError as exc:
            raise from_problems(exc.problems, prefix) from None

    def findings(self, document: Any, library: Mapping[str, Scenario] | None = None) -> list[Problem]:
        """Every load or validation finding about `document`."""
        try:
            scenario = load_scenario_data(document)
        except ScenarioError as exc:
            return list(exc.problems)
        lib = dict(library if library is not None else self.engine.store.latest())
        lib.setdefault(scenario.id, scenario)
        known = {**self.known_extra, "scenario": set(lib) | {d.key for d in self.db.list_docs(DRAFT)}}
        return validate(scenario, known=known, library=lib, dial_policy=self.dial_policy)

    def _checked(self, document: Any, prefix: str, library: Mapping[str, Scenario] | None = None) -> Scenario:
        scenario = self.compile(document, prefix)
        errors = [p for p in self.findings(document, library) if p.severity == "error"]
        if errors:
            raise from_problems(errors, prefix)
        return scenario

    # ---- publication ------------------------------------------------------------------------
    def publish(self, sid: str, *, comment: str, author: str, revision: int | None = None) -> VersionMeta:
        draft = self.draft(sid)
        if revision is not None and revision != draft.revision:
            raise conflict(
                f"draft '{sid}' is at revision {draft.revision}, not {revision}: publish what you have seen",
                "revision",
            )
        scenario = self._checked(draft.document, "document")
        return self._publish(scenario, draft.document, comment=comment, author=author)

    def _publish(self, scenario: Scenario, document: dict[str, Any], *, comment: str, author: str) -> VersionMeta:
        result = self.engine.publish(scenario, comment=comment, author=author)
        if not result.changed:
            raise conflict(result.message)
        meta = VersionMeta(
            result.scenario_id, result.version, time.time(), author, comment, content_digest(scenario.doc), document
        )
        self.db.add_version(
            meta.scenario_id, meta.version, meta.published_at, author, comment, meta.digest, document
        )
        self.versions.setdefault(meta.scenario_id, []).append(meta)
        return meta

    def rollback(self, sid: str, version: int, *, comment: str, author: str) -> VersionMeta:
        """Publish an earlier version's content as a new version."""
        old = self.version(sid, version)
        latest = self.versions[sid][-1]
        if latest.digest == old.digest:
            raise conflict(f"version {latest.version} of '{sid}' already has the content of version {version}", "version")
        scenario = self.compile(old.document)
        return self._publish(scenario, old.document, comment=comment or f"rollback to version {version}", author=author)

    def version(self, sid: str, version: int) -> VersionMeta:
        history = self.versions.get(sid)
        if not history:
            raise not_found(f"published scenario '{sid}'")
        if not 1 <= version <= len(history):
            raise ApiProblem(
                404, f"scenario '{sid}' has no version {version} (published: 1 to {len(history)})"
            )
        return history[version - 1]

    def compare(self, sid: str, a: int, b: int) -> dict[str, Any]:
        return compare_documents(self.version(sid, a).document, self.version(sid, b).document)

    # ---- import ------------------------------------------------------------------------------
    def import_bundle(
        self, documents: Sequence[Any], *, publish: bool, comment: str, author: str
    ) -> list[tuple[Draft, VersionMeta | None]]:
        """All or nothing: every document is loaded and (when publishing)
        validated against the others first; one problem anywhere imports none."""
        problems: list[FieldProblem] = []
        compiled: list[tuple[str, dict[str, Any], Scenario]] = []
        seen: dict[str, int] = {}
        for i, document in enumerate(documents):
            prefix = f"scenarios[{i}]"
            if not isinstance(document, dict):
                problems.append(FieldProblem(path=prefix, message="a scenario must be a JSON object"))
                continue
            try:
                scenario = self.compile(document, prefix)
            except ApiProblem as exc:
                problems.extend(exc.errors)
                continue
            if scenario.id in seen:
                problems.append(FieldProblem(path=f"{prefix}.id", message=f"'{scenario.id}' is also scenarios[{seen[scenario.id]}]"))
                continue
            seen[scenario.id] = i
            compiled.append((prefix, document, scenario))
        if not problems and publish:
            library = dict(self.engine.store.latest())
            library.update({s.id: s for _p, _d, s in compiled})
            for prefix, document, _s in compiled:
                errors = [p for p in self.findings(document, library) if p.severity == "error"]
                problems.extend(from_problems(errors, prefix).errors if errors else [])
        if problems:
            raise ApiProblem(422, f"nothing imported: {len(problems)} problem(s), first: "
                             f"{problems[0].path}: {problems[0].message}", errors=problems)
        out: list[tuple[Draft, VersionMeta | None]] = []
        with self.db.transaction():
            for _prefix, document, scenario in compiled:
                self.db.put_doc(DRAFT, scenario.id, document, expect=-1, by=author)
        for _prefix, document, scenario in compiled:
            meta = None
            if publish:
                latest = self.versions.get(scenario.id)
                if latest and latest[-1].digest == content_digest(scenario.doc):
                    meta = latest[-1]
                else:
                    meta = self._publish(scenario, document, comment=comment, author=author)
            out.append((self.draft(scenario.id), meta))
        return out

    # ---- deletion ----------------------------------------------------------------------------
    def delete(self, sid: str) -> None:
        if not self.exists(sid):
            raise not_found(f"scenario '{sid}'")
        bound = [where for where, ref in self.engine.routing.scenario_refs() if ref.scenario_id == sid]
        if bound:
            raise conflict(
                f"scenario '{sid}' is bound ({', '.join(bound)}): unbind it first", bound[0]
            )
        with self.db.transaction():
            self.db.delete_doc(DRAFT, sid)
            self.db.delete_versions(sid)
        self.versions.pop(sid, None)
        store = InMemoryScenarioStore(now=self.engine.clock.now)
        for history in self.versions.values():
            for meta in history:
                store.publish(load_scenario_data(meta.document), comment=meta.comment, author=meta.author)
        self.engine.store = store


def _check_id(sid: str, document: dict[str, Any], path: str) -> None:
    found = document.get("id")
    if found != sid:
        raise ApiProblem(
            422,
            f"{path}: the document's id is {found!r}, the URL names '{sid}'",
            errors=[FieldProblem(path=path, message=f"must be '{sid}', as in the URL")],
        )


