"""The scenario store numbers versions itself: N+1 per change, nothing for an
unchanged document, a rollback is a new version."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from scenario_builders import doc, hangup, load, say, start

from flowengine.scenario.model import ScenarioDoc
from flowengine.scenario.store import InMemoryScenarioStore, ScenarioNotFound, ScenarioStore


def greeting(text: str, **extra: Any) -> dict[str, Any]:
    return doc([start("hello"), say("hello", text, "bye"), hangup()], scenario_id="sales", **extra)


def test_versions_are_numbered_by_the_store_not_by_the_document() -> None:
    store: ScenarioStore = InMemoryScenarioStore()
    first = store.publish(load(greeting("Hello", version=7)), comment="first", author="anna")
    assert (first.version, first.changed) == (1, True)
    assert first.scenario.version == 1 and first.scenario.doc.dump()["version"] == 1
    assert "the document's own 'version: 7' is not used" in first.message
    second = store.publish(load(greeting("Hello again", version=7)))
    assert (second.version, second.changed) == (2, True)
    assert second.message.startswith("scenario 'sales' published as version 2")
    assert store.latest_version("sales") == 2
    assert store.get("sales").version == 2 and store.get("sales", 1).version == 1
    info = store.versions("sales")
    assert [(v.version, v.author, v.comment) for v in info] == [(1, "anna", "first"), (2, "", "")]
    assert store.scenario_ids() == ["sales"]


def test_an_unchanged_document_changes_nothing_and_says_so() -> None:
    store = InMemoryScenarioStore()
    store.publish(load(greeting("Hello")))
    # the same content: an explicit default and another `version` do not count as changes
    same = greeting("Hello", version=5, settings={"max_steps": 1000})
    result = store.publish(ScenarioDoc.model_validate(same))
    assert (result.version, result.changed) == (1, False)
    assert result.message == "scenario 'sales' unchanged: same as version 1, nothing published"
    assert store.latest_version("sales") == 1 and len(store.versions("sales")) == 1


def test_republishing_an_old_document_is_a_new_version() -> None:
    store = InMemoryScenarioStore()
    store.publish(load(greeting("One")))
    store.publish(load(greeting("Two")))
    rollback = store.publish(load(greeting("One", version=1)))
    assert (rollback.version, rollback.changed) == (3, True)
    assert "the content of version 1: a rollback" in rollback.message
    assert store.get("sales").version == 3
    assert store.get("sales").doc.nodes[1].params["text"] == "One"


def test_snapshots_do_not_change_when_a_new_version_is_published() -> None:
    store = InMemoryScenarioStore(now=lambda: dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    store.publish(load(greeting("One")))
    snapshot = store.latest()
    store.publish(load(greeting("Two")))
    assert snapshot["sales"].version == 1 and store.latest()["sales"].version == 2
    assert store.versions("sales")[0].published_at == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def test_missing_scenarios_and_versions_are_named() -> None:
    store = InMemoryScenarioStore()
    with pytest.raises(ScenarioNotFound, match=r"scenario 'sales' is not published \(published: none\)"):
        store.get("sales")
    store.publish(load(greeting("One")))
    with pytest.raises(ScenarioNotFound, match=r"scenario 'sales' has no version 4 \(published: 1 to 1\)"):
        store.get("sales", 4)
    assert store.find("sales", 4) is None and store.find("other") is None
    assert store.latest_version("other") is None and store.versions("other") == []
