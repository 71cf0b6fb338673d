"""Loading scenario documents: lossless round trip, and errors that name the place."""

from __future__ import annotations

import copy
import json

import pytest
from scenario_builders import PER_NUMBER_IVR, doc, hangup, load, node, run, say, start

from flowengine.errors import Problem, ScenarioError
from flowengine.scenario.loader import load_scenario_data, load_scenario_file, load_scenario_text


def problems(data: object) -> list[Problem]:
    with pytest.raises(ScenarioError) as info:
        load_scenario_data(data)
    return info.value.problems


def one(found: list[Problem], **where: object) -> Problem:
    """The single problem whose fields match `where`."""
    hits = [p for p in found if all(getattr(p, k) == v for k, v in where.items())]
    assert len(hits) == 1, f"expected one problem with {where}, got {[str(p) for p in found]}"
    return hits[0]


# ---- round trip ---------------------------------------------------------------------


def test_example_round_trips_losslessly() -> None:
    original = json.loads(PER_NUMBER_IVR.read_text(encoding="utf-8"))
    first = load_scenario_file(PER_NUMBER_IVR).doc.dump()
    assert first == original  # nothing added, nothing lost, keys as written
    second = load_scenario_data(json.loads(json.dumps(first))).doc.dump()
    assert second == first


def test_round_trip_keeps_ui_positions_and_extra_ui_keys() -> None:
    data = json.loads(PER_NUMBER_IVR.read_text(encoding="utf-8"))
    data["nodes"][3]["ui"] = {"x": 580.5, "y": -20, "color": "#ffcc00", "collapsed": True, "size": [160, 80]}
    data["nodes"][0]["title"] = "Вход"
    dumped = load_scenario_data(copy.deepcopy(data)).doc.dump()
    assert dumped["nodes"][3]["ui"] == {"x": 580.5, "y": -20, "color": "#ffcc00", "collapsed": True, "size": [160, 80]}
    assert dumped["nodes"][0]["title"] == "Вход"
    assert load_scenario_data(dumped).doc.dump() == dumped == data


def test_round_trip_does_not_invent_defaults() -> None:
    data = doc([start("bye"), hangup()])
    dumped = load(data).doc.dump()
    assert dumped == data
    assert "settings" not in dumped and "params" not in dumped["nodes"][1]


# ---- malformed text -------------------------------------------------------------------


def test_malformed_json_gives_line_and_column() -> None:
    text = '{\n  "schema": 1,\n  "id": "x",\n  "nodes": [ {"id": "a",, "type": "start"} ]\n}'
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(text, source="broken.json")
    (p,) = info.value.problems
    assert (p.line, p.column, p.code) == (4, 25, "syntax")  # the second comma
    assert "broken.json" in str(info.value) and "line 4, column 25" in str(info.value)


def test_malformed_json_file_names_the_file(tmp_path) -> None:
    path = tmp_path / "ivr.json"
    path.write_text('{"schema": 1, "id": "x", "nodes": [}', encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario_file(path)
    assert info.value.source == str(path)
    assert info.value.problems[0].line == 1 and info.value.problems[0].column == 36  # the "}"


def test_missing_file_is_a_scenario_error(tmp_path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario_file(tmp_path / "nope.json")
    assert info.value.problems[0].code == "io"


def test_top_level_must_be_an_object() -> None:
    (p,) = problems([1, 2, 3])
    assert "JSON object" in p.message


# ---- envelope (schema) violations --------------------------------------------------------


def test_schema_violations_give_json_paths_and_are_all_reported() -> None:
    data = doc(
        [
            start("a"),
            say("a", "hello", "bye"),
            {"id": "bye", "type": "hangup", "exits": "start"},
            {"id": "bad id!", "type": "hangup"},
            {"type": "hangup"},
        ],
        settings={"max_steps": 0},
        colour="blue",
    )
    found = problems(data)
    assert len(found) == 5, [str(p) for p in found]
    exits = one(found, path="nodes[2].exits")
    assert exits.node_id == "bye"
    assert one(found, path="nodes[3].id").node_id == "bad id!"
    assert one(found, path="nodes[4].id").message == "required field is missing"
    assert one(found, path="settings.max_steps").code == "greater_than_equal"
    assert one(found, path="colour").message == "unknown field (not part of the format)"


def test_variable_names_are_checked() -> None:
    found = problems(doc([start("bye"), hangup()], variables={"1st": 1}))
    assert one(found, path="variables[0].name").code == "string_pattern_mismatch"


@pytest.mark.parametrize(
    ("default", "words"),
    [("x" * 100_001, "too long"), (10**19, "out of range"), (float("inf"), "out of range"), (float("nan"), "out of range")],
)
def test_variable_defaults_obey_the_expression_limits(default: object, words: str) -> None:
    found = problems(doc([start("bye"), hangup()], variables={"ok": "x" * 100_000, "bad": default}))
    assert words in one(found, path="variables[1].default").message


# ---- node level ----------------------------------------------------------------------------


def test_unknown_node_type_names_the_node() -> None:
    found = problems(doc([start("x"), node("x", "frobnicate", next="y"), node("y", "teleport")]))
    first = one(found, node_id="x")
    assert first.code == "unknown_type" and first.path == "nodes[1].type"
    assert "frobnicate" in first.message and "say" in first.message  # lists the known types
    assert one(found, node_id="y").path == "nodes[2].type"


def test_bad_params_give_params_path_and_node_id() -> None:
    found = problems(
        doc(
            [
                start("s"),
                node("s", "say", {"text": "hi", "volume": 11}, next="g"),
                node("g", "gather", {"max_digits": "many", "first_timeout": -1}, next="bye"),
                node("bye", "hangup", {"cause": "Not A Cause"}),
            ]
        )
    )
    assert len(found) == 4, [str(p) for p in found]
    assert one(found, path="nodes[1].params.volume").node_id == "s"
    assert one(found, path="nodes[2].params.max_digits").node_id == "g"
    assert one(found, path="nodes[2].params.first_timeout").node_id == "g"
    assert one(found, path="nodes[3].params.cause").node_id == "bye"
    assert "node 's'" in str(one(found, path="nodes[1].params.volume"))


def test_union_errors_collapse_to_one_problem_at_a_real_path() -> None:
    cases = [{"equals": [1, 2], "exit": "a"}, {"equals": {"x": 1}, "exit": "b"}, {"in": [1]}]
    found = problems(doc([start("m"), node("m", "menu", {"value": "1", "cases": cases})]))
    assert [p.path for p in found] == [
        "nodes[1].params.cases[0].equals",
        "nodes[1].params.cases[1].equals",
        "nodes[1].params.cases[2].exit",
    ]
    assert "valid string" in found[0].message and "valid number" in found[0].message
    assert found[2].message == "required field is missing"


def test_missing_required_param() -> None:
    (p,) = problems(doc([start("i"), node("i", "if", {})]))
    assert (p.path, p.node_id, p.message) == ("nodes[1].params.condition", "i", "required field is missing")


def test_bad_expression_gives_node_id_path_and_column() -> None:
    found = problems(
        doc(
            [
                start("i"),
                node("i", "if", {"condition": "CALLS > > 3"}, true="s", false="s"),
                say("s", "Your balance is {BALANCE +}", "a"),
                node("a", "assign", {"assignments": [{"variable": "X", "value": "1"}, {"variable": "Y", "value": "len("}]}),
            ]
        )
    )
    cond = one(found, node_id="i")
    assert (cond.path, cond.column, cond.code) == ("nodes[1].params.condition", 9, "expression")
    text = one(found, node_id="s")
    assert text.path == "nodes[2].params.text"
    assert text.column == 27  # counted in the template text, not inside the hole
    value = one(found, node_id="a")
    assert value.path == "nodes[3].params.assignments[1].value" and value.column is not None
    assert "column 9" in str(cond)


def test_duplicate_node_ids() -> None:
    found = problems(doc([start("a"), say("a", "one", "bye"), say("a", "two"), hangup()]))
    p = one(found, code="duplicate_id")
    assert (p.path, p.node_id) == ("nodes[2].id", "a")


def test_unknown_exit_name() -> None:
    found = problems(doc([start("a"), say("a", "hi", "bye", nowhere="bye", error="bye"), hangup()]))
    p = one(found, code="unknown_exit")
    assert p.path == "nodes[1].exits.nowhere" and p.node_id == "a"
    assert "next" in p.message  # says which exits the type has


def test_missing_main_start() -> None:
    found = problems(doc([start("bye", entry="after_hangup"), hangup()]))
    assert one(found, code="no_entry").path == "nodes"


def test_two_main_starts() -> None:
    found = problems(doc([start("bye"), start("bye", node_id="start2"), hangup()]))
    p = one(found, code="duplicate_entry")
    assert p.node_id == "start2" and "start" in p.message


def test_error_handler_must_be_a_node() -> None:
    found = problems(doc([start("bye"), hangup()], settings={"error_handler": "nope"}))
    assert one(found, path="settings.error_handler")


def test_unknown_time_zone() -> None:
    found = problems(doc([start("bye"), hangup()], timezone="Mars/Olympus"))
    assert "Mars/Olympus" in one(found, path="timezone").message


def test_node_level_problems_of_different_kinds_are_reported_together() -> None:
    found = problems(
        doc(
            [
                start("a"),
                node("a", "teleport"),
                node("b", "say", {"txt": "x"}),
                node("c", "if", {"condition": "1 +"}),
                say("d", "ok", nope="a"),
                say("d", "dup"),
            ]
        )
    )
    assert {p.code for p in found} >= {"unknown_type", "extra_forbidden", "expression", "unknown_exit", "duplicate_id"}
    assert {p.node_id for p in found} >= {"a", "b", "c", "d"}


# ---- versions ------------------------------------------------------------------------------


def test_schema_newer_than_supported() -> None:
    (p,) = problems({"schema": 99, "id": "x", "nodes": []})
    assert p.path == "schema" and "newer" in p.message and "upgrade" in p.message


@pytest.mark.parametrize("value", [None, "1", 0, True])
def test_schema_must_be_a_positive_integer(value: object) -> None:
    data: dict[str, object] = {"id": "x", "nodes": []}
    if value is not None:
        data["schema"] = value
    (p,) = problems(data)
    assert p.path == "schema"


# ---- YAML -----------------------------------------------------------------------------------

YAML_SCENARIO = """\
schema: 1
id: yaml_ivr
numbers: ["100"]
variables:
  - {name: GREETING, default: Hello}
nodes:
  - id: start
    type: start
    exits: {next: greet}
  - id: greet
    type: say
    params: {text: "{GREETING} from YAML"}
    exits: {next: bye}
    ui: {x: 10, y: 20, note: kept}
  - id: bye
    type: hangup
"""


def test_yaml_scenario_file_loads_and_runs(tmp_path) -> None:
    path = tmp_path / "ivr.yaml"
    path.write_text(YAML_SCENARIO, encoding="utf-8")
    scenario = load_scenario_file(path)
    assert scenario.id == "yaml_ivr"
    assert scenario.doc.dump()["nodes"][1]["ui"] == {"x": 10, "y": 20, "note": "kept"}
    trace = run(scenario)
    assert trace.path == ["start", "greet", "bye"]
    assert trace.prompts == ["Hello from YAML"]


def test_malformed_yaml_gives_line(tmp_path) -> None:
    path = tmp_path / "broken.yml"
    path.write_text("schema: 1\nid: x\nnodes:\n  - id: a\n   type: start\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario_file(path)
    (p,) = info.value.problems
    assert p.code == "syntax" and p.line == 5
