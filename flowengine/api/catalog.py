"""Scenario drafts and published versions, as the API manages them.

The storage's `SqlScenarioStore` keeps drafts (with a `revision` every save
must name: a stale one changes nothing) and numbered, immutable versions;
it is also the engine's version store, so a published version routes calls
at once and calls in flight keep the version they started on. This module
adds what the API needs on top: validation with the centre's names and the
other scenarios, publication only of a draft without errors, all-or-nothing
bundle imports, and the comparison of two versions. Storage errors become
problem responses (`problems.install`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from flowengine.api.compare import compare_documents
from flowengine.api.problems import ApiProblem, FieldProblem, conflict, from_problems, not_found
from flowengine.errors import Problem, ScenarioError
from flowengine.runtime.engine import Engine
from flowengine.scenario.compiled import Scenario
from flowengine.scenario.loader import load_scenario_data
from flowengine.scenario.store import PublishResult, VersionInfo, content_digest
from flowengine.storage import Conflict, Draft, NotFound, SqlScenarioStore
from flowengine.validation.checks import validate

#: how long a draft read is reused (changes through this process drop it at once)
DRAFT_CACHE_SECONDS = 2.0


class Catalog:
    """`known_extra` and `dial_policy` come from the centre (set by the service)."""

    def __init__(self, store: SqlScenarioStore, engine: Engine, *, cache_seconds: float = DRAFT_CACHE_SECONDS) -> None:
        self.store = store
        self.engine = engine
        self.known_extra: dict[str, set[str]] = {}
        self.dial_policy: Any = None
        self.cache_seconds = cache_seconds
        #: scenario id -> (its draft, when it was read): reads are the API's hot path
        self._drafts: dict[str, tuple[Draft, float]] = {}

    # ---- drafts -------------------------------------------------------------------------
    def draft(self, sid: str) -> Draft:
        """The draft as stored. A read is reused for `cache_seconds`; every
        change made through this process drops it at once (saves always go
        to the database with their revision, so the cache never decides a
        conflict)."""
        now = time.monotonic()
        cached = self._drafts.get(sid)
        if cached is not None and now - cached[1] < self.cache_seconds:
            return cached[0]
        draft = self.store.get_draft(sid)
        if len(self._drafts) > 10_000:
            self._drafts.clear()
        self._drafts[sid] = (draft, now)
        return draft

    def forget(self, sid: str | None = None) -> None:
        """Drop cached drafts (one, or all) after a change."""
        if sid is None:
            self._drafts.clear()
        else:
            self._drafts.pop(sid, None)

    def drafts(self) -> list[Draft]:
        return self.store.list_drafts()

    def exists(self, sid: str) -> bool:
        try:
            self.store.get_draft(sid)
        except NotFound:
            return False
        return True

    def save_draft(self, sid: str, document: dict[str, Any], *, revision: int | None, by: str) -> Draft:
        """`revision` None creates the draft (409 if it exists); otherwise it
        must be the revision the editor read (409 if someone saved since)."""
        _check_id(sid, document, "body.document.id")
        self.forget(sid)
        try:
            if revision is None:
                return self.store.create_draft(document, author=by)
            return self.store.save_draft(sid, document, revision=revision, author=by)
        except Conflict as exc:
            raise conflict(str(exc), "body.document.id" if revision is None else "body.revision") from None

    # ---- checks ----------------------------------------------------------------------------
    def compile(self, document: Any, prefix: str = "body.document") -> Scenario:
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
        lib = dict(library if library is not None else self.store.latest())
        lib.setdefault(scenario.id, scenario)
        known = {**self.known_extra, "scenario": set(lib) | {d.scenario_id for d in self.drafts()}}
        return validate(scenario, known=known, library=lib, dial_policy=self.dial_policy)

    def _checked(self, document: Any, prefix: str) -> Scenario:
        scenario = self.compile(document, prefix)
        errors = [p for p in self.findings(document) if p.severity == "error"]
        if errors:
            raise from_problems(errors, prefix)
        return scenario

    # ---- publication ------------------------------------------------------------------------
    def publish(self, sid: str, *, comment: str, author: str, revision: int | None = None) -> VersionInfo:
        draft = self.store.get_draft(sid)  # fresh: publish what is stored now
        if revision is not None and revision != draft.revision:
            raise conflict(
                f"draft '{sid}' is at revision {draft.revision}, not {revision}: publish what you have seen",
                "body.revision",
            )
        scenario = self._checked(draft.document, "document")
        return self._publish(scenario, comment=comment, author=author)

    def _publish(self, scenario: Scenario, *, comment: str, author: str) -> VersionInfo:
        self.forget(scenario.id)  # its latest_version changes
        result: PublishResult = self.engine.publish(scenario, comment=comment, author=author)
        if not result.changed:
            raise conflict(result.message)
        return self.version(result.scenario_id, result.version)

    def rollback(self, sid: str, version: int, *, comment: str, author: str) -> VersionInfo:
        """Publish an earlier version's content as a new version."""
        old = self.version(sid, version)
        history = self.store.versions(sid)
        if history[-1].digest == old.digest:
            raise conflict(f"version {history[-1].version} of '{sid}' already has the content of version {version}", "body.version")
        return self._publish(self.store.get(sid, version), comment=comment or f"rollback to version {version}", author=author)

    def versions(self, sid: str) -> list[VersionInfo]:
        if not self.exists(sid) and not self.store.versions(sid):
            raise not_found(f"scenario '{sid}'")
        return self.store.versions(sid)

    def version(self, sid: str, version: int) -> VersionInfo:
        history = self.store.versions(sid)
        if not history:
            raise not_found(f"published scenario '{sid}'")
        if not 1 <= version <= len(history):
            raise ApiProblem(404, f"scenario '{sid}' has no version {version} (published: 1 to {len(history)})")
        return history[version - 1]

    def document(self, sid: str, version: int) -> dict[str, Any]:
        self.version(sid, version)
        return self.store.get(sid, version).doc.dump()

    def latest_document(self, sid: str) -> dict[str, Any]:
        """The latest published version's document, or the draft if none."""
        found = self.store.find(sid)
        return found.doc.dump() if found is not None else self.draft(sid).document

    def compare(self, sid: str, a: int, b: int) -> dict[str, Any]:
        return compare_documents(self.document(sid, a), self.document(sid, b))

    # ---- import ------------------------------------------------------------------------------
    def import_bundle(
        self, documents: Sequence[Any], *, publish: bool, comment: str, author: str
    ) -> list[tuple[Draft, VersionInfo | None]]:
        """All or nothing: every document is loaded and (when publishing)
        validated against the others first; one problem anywhere imports none."""
        problems: list[FieldProblem] = []
        compiled: list[tuple[str, dict[str, Any], Scenario]] = []
        seen: dict[str, int] = {}
        for i, document in enumerate(documents):
            prefix = f"body.scenarios[{i}]"
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
            library = dict(self.store.latest())
            library.update({s.id: s for _p, _d, s in compiled})
            for prefix, document, _s in compiled:
                errors = [p for p in self.findings(document, library) if p.severity == "error"]
                problems.extend(from_problems(errors, prefix).errors if errors else [])
        if problems:
            raise ApiProblem(422, f"nothing imported: {len(problems)} problem(s), first: "
                             f"{problems[0].path}: {problems[0].message}", errors=problems)
        out: list[tuple[Draft, VersionInfo | None]] = []
        self.forget()
        for _prefix, document, scenario in compiled:
            try:
                current = self.store.get_draft(scenario.id)
            except NotFound:
                self.store.create_draft(document, author=author)
            else:
                if current.document != document:
                    self.store.save_draft(scenario.id, document, revision=current.revision, author=author)
            meta = None
            if publish:
                history = self.store.versions(scenario.id)
                if history and history[-1].digest == content_digest(scenario.doc):
                    meta = history[-1]
                else:
                    meta = self._publish(scenario, comment=comment, author=author)
            out.append((self.draft(scenario.id), meta))
        return out

    # ---- deletion ----------------------------------------------------------------------------
    def delete(self, sid: str) -> None:
        """Refused (409) while a number, a line or the default routes to it."""
        self.forget(sid)
        self.store.delete(sid)


def _check_id(sid: str, document: dict[str, Any], path: str) -> None:
    found = document.get("id")
    if found != sid:
        raise ApiProblem(
            422,
            f"{path}: the document's id is {str(found)[:80]!r}, the URL names '{sid}'",
            errors=[FieldProblem(path=path, message=f"must be '{sid}', as in the URL")],
        )
