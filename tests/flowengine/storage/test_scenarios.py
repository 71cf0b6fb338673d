"""Drafts with optimistic concurrency, numbered immutable versions, rollback,
delete refused while routed, and the engine running calls from the store."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from scenario_builders import doc, hangup, say, start

from flowengine.errors import ScenarioError
from flowengine.scenario.store import ScenarioNotFound
from flowengine.storage import (
    Conflict,
    Database,
    NotFound,
    Refused,
    SqlScenarioStore,
    open_database,
)

ROOT = Path(__file__).resolve().parents[3]


def greeting(text: str, scenario_id: str = "ivr") -> dict:
    return doc([start("hello"), say("hello", text, "bye"), hangup()], scenario_id=scenario_id)


def test_publish_numbers_versions_and_unchanged_content_publishes_nothing(db: Database) -> None:
    store = SqlScenarioStore(db)
    store.create_draft(greeting("Hello"), author="anna")
    first = store.publish_draft("ivr", comment="first", author="anna")
    assert (first.version, first.changed) == (1, True)
    again = store.publish_draft("ivr", comment="again", author="boris")
    assert (again.version, again.changed) == (1, False)
    assert "unchanged" in again.message
    draft = store.get_draft("ivr")
    store.save_draft("ivr", greeting("Hello again"), revision=draft.revision, author="boris")
    second = store.publish_draft("ivr", comment="new text", author="boris")
    assert (second.version, second.changed) == (2, True)
    infos = store.versions("ivr")
    assert [(i.version, i.comment, i.author) for i in infos] == [(1, "first", "anna"), (2, "new text", "boris")]
    assert infos[0].published_at.tzinfo is not None
    assert store.get("ivr").version == 2
    assert store.get("ivr", 1).nodes["hello"].params.text == "Hello"  # type: ignore[attr-defined]


def test_versions_survive_reopening_the_database(db_url: str) -> None:
    db = open_database(db_url)
    store = SqlScenarioStore(db)
    store.publish(_compiled(greeting("One")), comment="c1")
    store.publish(_compiled(greeting("Two")), comment="c2")
    db.close()
    db2 = open_database(db_url)
    try:
        reopened = SqlScenarioStore(db2)
        assert reopened.latest_version("ivr") == 2
        assert set(reopened.latest()) == {"ivr"}
        assert reopened.latest()["ivr"].version == 2
        assert [v.comment for v in reopened.versions("ivr")] == ["c1", "c2"]
    finally:
        db2.close()


def _compiled(data: dict):  # type: ignore[no-untyped-def]
    from scenario_builders import load

    return load(data)


def test_rollback_publishes_old_content_as_a_new_version(db: Database) -> None:
    store = SqlScenarioStore(db)
    store.publish(_compiled(greeting("One")))
    store.publish(_compiled(greeting("Two")))
    result = store.rollback("ivr", 1, author="anna")
    assert (result.version, result.changed) == (3, True)
    assert "rollback" in result.message
    assert store.get("ivr").nodes["hello"].params.text == "One"  # type: ignore[attr-defined]
    assert store.versions("ivr")[-1].comment == "rollback to version 1"
    assert store.get("ivr", 2).nodes["hello"].params.text == "Two"  # type: ignore[attr-defined]
    with pytest.raises(ScenarioNotFound, match="no version 9"):
        store.rollback("ivr", 9)


def test_stale_revision_is_a_conflict_and_overwrites_nothing(db: Database) -> None:
    store = SqlScenarioStore(db)
    store.create_draft(greeting("Base"))
    store.save_draft("ivr", greeting("Anna's"), revision=1, author="anna")
    with pytest.raises(Conflict, match="revision 2") as caught:
        store.save_draft("ivr", greeting("Boris's"), revision=1, author="boris")
    assert caught.value.current == 2
    draft = store.get_draft("ivr")
    assert draft.revision == 2 and draft.updated_by == "anna"
    assert draft.document["nodes"][1]["params"]["text"] == "Anna's"


def test_two_editors_saving_at_once_one_wins(db_url: str) -> None:
    db = open_database(db_url)
    try:
        store = SqlScenarioStore(db)
        store.create_draft(greeting("Base"))
        outcomes: list[str] = []
        barrier = threading.Barrier(2)

        def edit(who: str) -> None:
            other = SqlScenarioStore(db)
            barrier.wait()
            try:
                other.save_draft("ivr", greeting(who), revision=1, author=who)
                outcomes.append("saved " + who)
            except Conflict:
                outcomes.append("conflict")

        threads = [threading.Thread(target=edit, args=(w,)) for w in ("anna", "boris")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(o.split()[0] for o in outcomes) == ["conflict", "saved"]
        draft = store.get_draft("ivr")
        assert draft.revision == 2
        winner = next(o for o in outcomes if o.startswith("saved")).split()[1]
        assert draft.document["nodes"][1]["params"]["text"] == winner
    finally:
        db.close()


def test_invalid_draft_is_saved_but_not_published(db: Database) -> None:
    store = SqlScenarioStore(db)
    broken = doc([start("nowhere"), {"id": "x", "type": "no_such_type"}], scenario_id="bad")
    store.create_draft(broken)
    with pytest.raises(ScenarioError, match="no_such_type"):
        store.publish_draft("bad")
    assert store.versions("bad") == []
    assert store.get_draft("bad").document == broken


def test_drafts_need_an_id_that_matches(db: Database) -> None:
    store = SqlScenarioStore(db)
    with pytest.raises(Refused, match="'id'"):
        store.create_draft({"nodes": []})
    store.create_draft(greeting("x"))
    with pytest.raises(Refused, match="saved as scenario 'ivr'"):
        store.save_draft("ivr", greeting("x", scenario_id="other"), revision=1)
    with pytest.raises(Conflict, match="already exists"):
        store.create_draft(greeting("y"))
    with pytest.raises(NotFound):
        store.save_draft("missing", greeting("x", scenario_id="missing"), revision=1)


def test_delete_removes_drafts_and_versions(db: Database) -> None:
    store = SqlScenarioStore(db)
    store.publish(_compiled(greeting("One")))
    store.delete("ivr")
    assert store.find("ivr") is None
    assert store.scenario_ids() == []
    with pytest.raises(NotFound):
        store.get_draft("ivr")
    with pytest.raises(NotFound):
        store.delete("ivr")


def test_engine_runs_calls_from_the_database(db: Database) -> None:
    from scenario_builders import AT, script

    from flowengine.testing.harness import run_scenario

    store = SqlScenarioStore(db)
    data = json.loads((ROOT / "examples" / "per_number_ivr.json").read_text(encoding="utf-8"))
    store.publish(_compiled(data), comment="example")
    scenario = SqlScenarioStore(db).get("per_number_ivr")  # compiled back from the stored JSON
    trace = run_scenario(scenario, script([{"input": "1"}], called="+74951230001"), at=AT)
    started = [e for e in trace.events if e.name == "call_started"][0]
    assert started.scenario_version == 1  # type: ignore[attr-defined]
    assert trace.variables["CHOICE"] == "1"


def test_an_engine_on_the_database_routes_calls_and_keeps_their_version(db: Database) -> None:
    """Engine(store=SqlScenarioStore, routing=RoutingRepository.load()): a call
    started on v1 finishes on v1 while v2 is published; the next call gets v2;
    every event and the CDRs land in the same database."""
    import asyncio

    from scenario_builders import AT, script

    from flowengine.runtime.clock import WallClock
    from flowengine.runtime.engine import Engine
    from flowengine.runtime.virtual_loop import run_virtual
    from flowengine.storage import EventStore, SqlEventSink
    from flowengine.storage.routing import RoutingRepository
    from telephony_adapters.sim import SimBackend

    store = SqlScenarioStore(db)
    store.publish(_compiled(greeting("Version one")))
    RoutingRepository(db).bind_number("100", "ivr")

    async def main() -> list[int]:
        engine = Engine(clock=WallClock(AT), store=SqlScenarioStore(db), routing=RoutingRepository(db).load())
        engine.add_sink(SqlEventSink(db))
        backend = SimBackend(engine)
        _call, first = backend.place_call(script(called="100"))
        await asyncio.sleep(0)  # the first call has started on v1
        engine.publish(_compiled(greeting("Version two")))
        _call2, second = backend.place_call(script(called="100"))
        done = await asyncio.gather(first, second)
        await engine.shutdown()
        return [ctx.scenario.version for ctx in done]

    assert run_virtual(main()) == [1, 2]
    assert store.latest_version("ivr") == 2
    cdrs = EventStore(db).cdrs()
    assert sorted(c.scenario_version for c in cdrs) == [1, 2]
    for c in cdrs:
        texts = [e["text"] for e in EventStore(db).call_events(c.call_id) if e["event"] == "prompt_played"]
        assert texts == [f"Version {'one' if c.scenario_version == 1 else 'two'}"]


def test_concurrent_publishers_get_consecutive_versions(db_url: str) -> None:
    db = open_database(db_url)
    try:
        errors: list[BaseException] = []
        results: list[int] = []
        barrier = threading.Barrier(4)

        def publisher(n: int) -> None:
            store = SqlScenarioStore(db)
            barrier.wait()
            try:
                for i in range(5):
                    results.append(store.publish(_compiled(greeting(f"publisher {n} text {i}"))).version)
            except BaseException as exc:  # noqa: BLE001 (reported below)
                errors.append(exc)

        threads = [threading.Thread(target=publisher, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert errors == []
        assert sorted(results) == list(range(1, 21))
        assert [v.version for v in SqlScenarioStore(db).versions("ivr")] == list(range(1, 21))
    finally:
        db.close()
