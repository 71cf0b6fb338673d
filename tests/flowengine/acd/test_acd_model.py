"""The centre file: loading, and errors that name the place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowengine.acd.model import Centre, CentreError, load_centre, parse_centre

EXAMPLE = Path(__file__).parents[3] / "examples" / "centre.yaml"


def base() -> dict:
    return {
        "operators": [{"id": "901", "extension": "901"}, {"id": "902", "extension": "902"}],
        "queues": [{"id": "sales", "members": ["901", "902"]}],
    }


def test_example_centre_loads():
    c = load_centre(EXAMPLE)
    assert [q.id for q in c.queues] == ["sales", "support", "vip"]
    sales = c.queue("sales")
    assert sales.name.get("ru") == "Отдел продаж" and sales.name.get("en") == "Sales"
    assert sales.strategy == "sequential" and sales.overflow and sales.overflow.to == "support"
    assert c.queue("support").strategy == "longest_idle"
    assert c.queue("vip").strategy == "personal_manager"
    op = c.operator("904")
    assert [(t.number, t.after) for t in op.targets] == [("904", 0), ("+79161234904", 15)]
    assert c.status_table()["backoffice"] is True


def test_unknown_operator_is_reported_with_its_path(tmp_path):
    data = base()
    data["queues"].append({"id": "support", "members": ["901", "ivanov"]})
    f = tmp_path / "centre.json"
    f.write_text(json.dumps(data))
    with pytest.raises(CentreError) as e:
        load_centre(f)
    assert str(e.value) == f"{f}: queues[1].members[1].operator: unknown operator 'ivanov'"


def test_every_problem_is_reported_at_once():
    data = base()
    data["operators"][1]["status"] = "holiday"
    data["queues"] = [
        {"id": "sales", "members": ["ivanov"], "strategy": "round_robbin"},
        {"id": "sales", "members": ["901", "901"], "overflow": {"after": 10, "to": "nowhere"}},
    ]
    with pytest.raises(CentreError) as e:
        parse_centre(data, "c.yaml")
    places = [p.path for p in e.value.problems]
    assert places == [
        "operators[1].status",
        "queues[1].id",
        "queues[0].members[0].operator",
        "queues[0].strategy",
        "queues[1].members[1].operator",
        "queues[1].overflow.to",
    ]
    msg = str(e.value)
    assert msg.startswith("c.yaml: 6 problems in centre file")
    assert "unknown strategy 'round_robbin' (known: cumulative, fewest_calls" in msg
    assert "duplicate queue 'sales'" in msg
    assert "unknown queue 'nowhere'" in msg


def test_strategy_parameters_are_validated_in_place():
    data = base()
    data["queues"][0].update(
        strategy="sequential", strategy_params={"steps": [["901"], ["908"]], "step_timout": 3}
    )
    with pytest.raises(CentreError) as e:
        parse_centre(data)
    assert [str(p) for p in e.value.problems] == [
        "queues[0].strategy_params.step_timout: Extra inputs are not permitted"
    ]
    data["queues"][0]["strategy_params"] = {"steps": [["901"], ["908"]]}
    with pytest.raises(CentreError) as e:
        parse_centre(data)
    assert [str(p) for p in e.value.problems] == [
        "queues[0].strategy_params.steps[1][0]: '908' is not a member of queue 'sales'"
    ]


def test_personal_manager_checks():
    data = base()
    data["operators"].append({"id": "903", "extension": "903"})
    data["queues"][0].update(
        strategy="personal_manager",
        strategy_params={"fallback": "personal_manager"},
        personal_managers={"7916*": "903", "7495*": "nobody"},
    )
    with pytest.raises(CentreError) as e:
        parse_centre(data)
    assert [p.path for p in e.value.problems] == [
        "queues[0].personal_managers.7916*",
        "queues[0].personal_managers.7495*",
        "queues[0].strategy_params.fallback",
    ]
    assert "not a member of queue 'sales'" in e.value.problems[0].message


def test_field_errors_have_paths_too():
    data = base()
    data["operators"][0]["skills"] = {"english": 11}
    data["operators"].append({"id": "x"})
    data["queues"][0]["ring_timeout"] = 0
    with pytest.raises(CentreError) as e:
        parse_centre(data)
    got = {(p.path, p.message) for p in e.value.problems}
    assert ("operators[0].skills.english", "11 should be less than or equal to 10") in got
    assert ("operators[2]", "an operator needs an extension or at least one target") in got
    assert ("queues[0].ring_timeout", "0 should be greater than 0") in got


def test_custom_statuses_cannot_shadow_built_ins_or_states():
    data = base()
    data["statuses"] = [{"id": "break"}, {"id": "talking"}, {"id": "lunch"}]
    with pytest.raises(CentreError) as e:
        parse_centre(data)
    assert [p.path for p in e.value.problems] == ["statuses[0].id", "statuses[1].id"]


def test_yaml_syntax_errors_have_line_and_column(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("operators:\n  - id: 901\n    extension: [901\n")
    with pytest.raises(CentreError) as e:
        load_centre(f)
    (p,) = e.value.problems
    assert p.line == 4 and p.column is not None and "malformed YAML" in p.message


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CentreError, match="cannot read file"):
        load_centre(tmp_path / "nope.yaml")


def test_yaml_numbers_become_ids_and_departments_is_an_alias():
    c = Centre.model_validate(
        {
            "operators": [{"id": 901, "extension": 901}],
            "departments": [{"id": "d", "members": [901], "personal_managers": {79161234567: 901}}],
        }
    )
    assert c.queues[0].member_ids == ["901"]
    assert c.queues[0].personal_managers == {"79161234567": "901"}
    assert c.operator("901").targets[0].number == "901"


def test_skill_steps_must_increase():
    data = base()
    data["queues"][0]["skills"] = [
        {"after": 30, "required": {"x": 1}},
        {"after": 10, "required": {}},
    ]
    with pytest.raises(CentreError, match="strictly increasing"):
        parse_centre(data)
