"""The routing table stored: bindings, default, rules; takeovers refused;
references checked; a bound scenario cannot be deleted."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from scenario_builders import doc, hangup, load, say, start

from flowengine.scenario.routing import LineConfig, RoutingError
from flowengine.storage import Database, Refused, SqlScenarioStore
from flowengine.storage.routing import RoutingRepository

ROOT = Path(__file__).resolve().parents[3]


def publish(db: Database, *ids: str) -> SqlScenarioStore:
    store = SqlScenarioStore(db)
    for sid in ids:
        store.publish(load(doc([start("hi"), say("hi", sid, "bye"), hangup()], scenario_id=sid)))
    return store


def test_the_example_routing_file_round_trips(db: Database) -> None:
    publish(db, "per_number_ivr")
    data = yaml.safe_load((ROOT / "examples" / "routing.yaml").read_text(encoding="utf-8"))
    repo = RoutingRepository(db)
    saved = repo.save(data)
    loaded = repo.load()
    assert loaded.model_dump() == saved.model_dump()
    assert loaded.normalise("trunk-1", "84951230001", "89161234567") == ("+74951230001", "+79161234567")
    where = repo.resolve("", line="analog-2")
    assert (where.scenario_id, where.via) == ("per_number_ivr", "default")
    assert where.called == "+78125550002"


def test_bindings_pinned_or_latest_and_takeover_refused(db: Database) -> None:
    store = publish(db, "sales", "support")
    store.publish(load(doc([start("hi"), say("hi", "v2", "bye"), hangup()], scenario_id="sales")))
    repo = RoutingRepository(db)
    repo.bind_number("+74951230001", "sales", 1)
    repo.bind_number("+74951230002", "support")
    with pytest.raises(RoutingError, match="bound to 'sales'.*replace=True"):
        repo.bind_number("+74951230001", "support")
    assert repo.load().number_binding("+74951230001").scenario_id == "sales"  # type: ignore[union-attr]
    repo.bind_number("+74951230001", "support", replace=True)
    repo.bind_line("trunk-1", "sales")
    repo.set_default("support")
    table = repo.load()
    assert [(b.number, b.scenario_id, b.version) for b in table.numbers] == [
        ("+74951230002", "support", None),
        ("+74951230001", "support", None),
    ]
    assert repo.resolve("+70000000000", line="trunk-1").reason == (
        "number +70000000000 not bound; line trunk-1 bound to 'sales' (latest)"
    )
    assert repo.resolve("+70000000000").via == "default"
    assert repo.unbind_number("+74951230002") is not None
    assert repo.load().number_binding("+74951230002") is None


def test_references_must_exist(db: Database) -> None:
    publish(db, "sales")
    repo = RoutingRepository(db)
    with pytest.raises(RoutingError, match="numbers\\[0\\].scenario_id: scenario 'ghost' does not exist"):
        repo.bind_number("+71", "ghost")
    with pytest.raises(RoutingError, match="no published version 7"):
        repo.bind_number("+71", "sales", 7)
    with pytest.raises(RoutingError, match="default.scenario_id"):
        repo.set_default("ghost")
    assert repo.load().numbers == [] and repo.load().default is None


def test_line_rules_and_table_rules_are_stored(db: Database) -> None:
    publish(db, "sales")
    repo = RoutingRepository(db)
    repo.configure_line(LineConfig.model_validate({"name": "gw", "called": ["8XXXXXXXXXX -> +7XXXXXXXXXX"]}))
    repo.set_rules(called=["XXX -> +7495XXX"], caller=[{"regex": "00(\\d+)", "to": "+\\1"}])
    table = repo.load()
    assert table.normalise("gw", "84951230001", "") == ("+74951230001", "")
    assert table.normalise(None, "123", "0049301234") == ("+7495123", "+49301234")
    with pytest.raises(RoutingError, match="called"):
        repo.set_rules(called=["8Q -> 1"], caller=[])
    assert repo.remove_line("gw") is not None
    assert repo.load().lines == []


def test_a_bound_scenario_cannot_be_deleted(db: Database) -> None:
    store = publish(db, "sales", "support")
    repo = RoutingRepository(db)
    repo.bind_number("+74951230001", "sales")
    repo.bind_line("trunk-1", "sales")
    with pytest.raises(Refused, match="number \\+74951230001, line trunk-1"):
        store.delete("sales")
    assert store.find("sales") is not None
    repo.set_default("support")
    with pytest.raises(Refused, match="the default route"):
        store.delete("support")
    repo.unbind_number("+74951230001")
    repo.unbind_line("trunk-1")
    store.delete("sales")
    assert store.find("sales") is None
