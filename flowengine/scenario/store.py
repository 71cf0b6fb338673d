"""Published scenario versions, numbered by the store.

A document's own `version` field used to decide which version was current,
so re-publishing an old file made it current again. Now the store numbers
versions: publishing creates version N+1 of the scenario id; publishing a
document identical to the latest version (compared as canonical JSON, without
its `version` field) creates nothing and says so; publishing an older
version's content again creates N+1 with that content — a rollback is a new
version, never an old number made current again. The compiled `Scenario` the
store hands out carries the store's number (`scenario.version`), so call
events name the version that actually ran.

`ScenarioStore` is the protocol the engine uses; `InMemoryScenarioStore` is
the implementation for tests, the CLI and single-process use. A SQL store
implements the same protocol.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from flowengine.components.registry import NodeRegistry, builtin_registry
from flowengine.errors import UsageError
from flowengine.scenario.compiled import Scenario
from flowengine.scenario.loader import build_scenario
from flowengine.scenario.model import ScenarioDoc


class ScenarioNotFound(UsageError):
    """The scenario id, or the version of it, was never published."""


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """One published version: when, by whom, why, and its content digest."""

    scenario_id: str
    version: int
    published_at: dt.datetime
    author: str
    comment: str
    digest: str


@dataclass(frozen=True, slots=True)
class PublishResult:
    """What a publish did: `changed` False means nothing new was stored.

    `scenario` is the stored version (new, or the unchanged latest one);
    `message` says what happened in words fit for a CLI or an API response;
    `warnings` are what the publisher could not do on the side (the engine
    reports document numbers that stay with another scenario here).
    """

    scenario_id: str
    version: int
    changed: bool
    message: str
    scenario: Scenario
    warnings: tuple[str, ...] = ()


class ScenarioStore(Protocol):
    """Published versions of scenarios, numbered 1, 2, 3... per scenario id."""

    def publish(self, scenario: Scenario | ScenarioDoc, *, comment: str = "", author: str = "") -> PublishResult:
        """Store a new version N+1, unless the content equals the latest version."""
        ...

    def get(self, scenario_id: str, version: int | None = None) -> Scenario:
        """That version (None: the latest); `ScenarioNotFound` naming what exists."""
        ...

    def find(self, scenario_id: str, version: int | None = None) -> Scenario | None:
        """Like `get`, but None when it does not exist."""
        ...

    def latest_version(self, scenario_id: str) -> int | None: ...

    def versions(self, scenario_id: str) -> list[VersionInfo]:
        """Every version of the scenario, oldest first (empty if never published)."""
        ...

    def scenario_ids(self) -> list[str]: ...

    def latest(self) -> Mapping[str, Scenario]:
        """The latest version of every scenario, as a snapshot that later
        publications do not change: a call keeps it for its Subscenario targets."""
        ...


def content_digest(doc: ScenarioDoc) -> str:
    """SHA-256 of the document's canonical JSON without `version`.

    Defaults are written out, so a document that spells out a default and one
    that leaves it out are the same content.
    """
    data = doc.model_dump(mode="json", by_alias=True, exclude={"version"})
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()  # lone surrogates too


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class InMemoryScenarioStore:
    """`ScenarioStore` in process memory.

    Stored `Scenario` objects are never changed; the `latest()` map is replaced,
    not mutated, on every publication, so snapshots handed to calls stay valid.
    """

    def __init__(
        self, *, registry: NodeRegistry | None = None, now: Callable[[], dt.datetime] | None = None
    ) -> None:
        self._registry = registry
        self._now = now or _utc_now
        self._versions: dict[str, list[tuple[VersionInfo, Scenario]]] = {}
        self._latest: dict[str, Scenario] = {}

    def publish(self, scenario: Scenario | ScenarioDoc, *, comment: str = "", author: str = "") -> PublishResult:
        if isinstance(scenario, ScenarioDoc):
            scenario = build_scenario(scenario, self._registry or builtin_registry())
        doc = scenario.doc
        sid = doc.id
        digest = content_digest(doc)
        history = self._versions.get(sid, [])
        if history and history[-1][0].digest == digest:
            info, stored = history[-1]
            return PublishResult(
                sid, info.version, False, f"scenario '{sid}' unchanged: same as version {info.version}, nothing published", stored
            )
        version = len(history) + 1
        stored = dataclasses.replace(scenario, doc=doc.model_copy(update={"version": version}))
        info = VersionInfo(sid, version, self._now(), author, comment, digest)
        self._versions[sid] = [*history, (info, stored)]
        self._latest = {**self._latest, sid: stored}
        message = f"scenario '{sid}' published as version {version}"
        same = [i.version for i, _s in history if i.digest == digest]
        if same:
            message += f" (the content of version {same[-1]}: a rollback)"
        if "version" in doc.model_fields_set and doc.version != version:
            message += f"; the document's own 'version: {doc.version}' is not used, the store numbers versions"
        return PublishResult(sid, version, True, message, stored)

    def get(self, scenario_id: str, version: int | None = None) -> Scenario:
        history = self._versions.get(scenario_id)
        if not history:
            known = ", ".join(sorted(self._versions)) or "none"
            raise ScenarioNotFound(f"scenario '{scenario_id}' is not published (published: {known})")
        if version is None:
            return history[-1][1]
        if not 1 <= version <= len(history):
            raise ScenarioNotFound(
                f"scenario '{scenario_id}' has no version {version} (published: 1 to {len(history)})"
            )
        return history[version - 1][1]

    def find(self, scenario_id: str, version: int | None = None) -> Scenario | None:
        history = self._versions.get(scenario_id)
        if not history:
            return None
        if version is None:
            return history[-1][1]
        return history[version - 1][1] if 1 <= version <= len(history) else None

    def latest_version(self, scenario_id: str) -> int | None:
        history = self._versions.get(scenario_id)
        return len(history) if history else None

    def versions(self, scenario_id: str) -> list[VersionInfo]:
        return [info for info, _s in self._versions.get(scenario_id, [])]

    def scenario_ids(self) -> list[str]:
        return sorted(self._versions)

    def latest(self) -> Mapping[str, Scenario]:
        return self._latest
