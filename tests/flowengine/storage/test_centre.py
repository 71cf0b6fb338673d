"""The centre stored faithfully, changed per entity, validated as a whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowengine.acd.model import CentreError, load_centre
from flowengine.storage import Database, NotFound
from flowengine.storage.centre import CentreRepository

ROOT = Path(__file__).resolve().parents[3]


def test_the_example_centre_round_trips(db: Database) -> None:
    centre = load_centre(ROOT / "examples" / "centre.yaml")
    repo = CentreRepository(db)
    assert repo.load().operators == ()  # nothing stored yet
    repo.save(centre)
    assert repo.load() == centre
    assert repo.revision() == 1
    # a mobile target the user wrote stays; a derived one stays implicit
    stored = repo.document()
    by_id = {op["id"]: op for op in stored["operators"]}
    assert "targets" not in by_id["901"] and len(by_id["904"]["targets"]) == 2


def test_operators_are_added_changed_and_removed_one_by_one(db: Database) -> None:
    repo = CentreRepository(db)
    repo.save(load_centre(ROOT / "examples" / "centre.yaml"))
    before = [op.id for op in repo.operators()]
    repo.put_operator({"id": "950", "name": "Новый оператор", "extension": "950", "skills": {"sales": 3}})
    assert [op.id for op in repo.operators()] == [*before, "950"]
    repo.put_operator({"id": "901", "name": "Анна", "extension": "901", "skills": {"english": 10}})
    assert repo.get_operator("901").skills == {"english": 10}
    assert [op.id for op in repo.operators()][0] == "901"  # kept its place
    repo.delete_operator("950")
    assert "950" not in [op.id for op in repo.operators()]
    with pytest.raises(NotFound):
        repo.get_operator("950")
    assert repo.revision() == 4


def test_a_change_that_breaks_the_centre_is_refused_and_changes_nothing(db: Database) -> None:
    repo = CentreRepository(db)
    repo.save(load_centre(ROOT / "examples" / "centre.yaml"))
    queue = repo.queues()[0]
    member = queue.members[0].operator
    before = repo.load()
    with pytest.raises(CentreError, match=f"unknown operator '{member}'"):
        repo.delete_operator(member)
    with pytest.raises(CentreError, match="operators\\[0\\]"):
        repo.put_operator({"id": "901"})  # no extension and no target
    with pytest.raises(CentreError, match="ring_timeout"):
        repo.put_queue({**queue.model_dump(mode="json", exclude_unset=True), "ring_timeout": -1})
    assert repo.load() == before


def test_queues_keep_their_acd_settings(db: Database) -> None:
    repo = CentreRepository(db)
    repo.put_operator({"id": "1", "extension": "101"})
    repo.put_queue({"id": "vip", "strategy": "ring_all", "members": ["1"], "wrap_up": 15, "max_wait": 120,
                    "callback": True, "announce": {"period": 30}, "service_level": 15})  # fmt: skip
    q = repo.get_queue("vip")
    assert (q.wrap_up, q.max_wait, q.service_level, q.announce.period) == (15, 120, 15, 30)
    assert q.callback is not None and q.callback.attempts == 3
    repo.put_settings({"statuses": [{"id": "training", "available": False}], "ring_in_use": True})
    centre = repo.load()
    assert centre.ring_in_use and centre.status_table()["training"] is False
    repo.delete_queue("vip")
    assert repo.queues() == []
    with pytest.raises(CentreError, match="'bogus' is not a centre setting"):
        repo.put_settings({"bogus": 1})


def test_schedules_with_holidays(db: Database) -> None:
    repo = CentreRepository(db)
    spec = {"timezone": "Europe/Moscow", "weekly": {"mon": ["09:00-18:00"]},
            "holidays": ["2026-05-09", {"date": "--01-01", "name": "Новый год"}]}  # fmt: skip
    repo.put_schedule("office", spec, name="Офис")
    got = repo.get_schedule("office")
    assert (got.name, got.spec) == ("Офис", spec)
    repo.put_schedule("office", {**spec, "holidays": []}, name="Офис")
    assert repo.get_schedule("office").spec["holidays"] == []
    assert [s.schedule_id for s in repo.schedules()] == ["office"]
    repo.delete_schedule("office")
    with pytest.raises(NotFound):
        repo.get_schedule("office")
