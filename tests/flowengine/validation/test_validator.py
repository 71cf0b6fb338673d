"""The static validator: one focused test per finding, then files and scale."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, ClassVar

import pytest

from flowengine.components.node import NodeType, ParamsModel
from flowengine.components.registry import NodeRegistry, builtin_registry
from flowengine.errors import Problem, ScenarioError
from flowengine.scenario.compiled import Scenario
from flowengine.scenario.loader import load_scenario_data, load_scenario_file
from flowengine.validation import CODES, format_problem, validate, validate_files

DATA = Path(__file__).resolve().parents[2] / "data"
BROKEN = DATA / "broken"
VALID = DATA / "valid"


# ---- helpers ----------------------------------------------------------------------------


def node(
    node_id: str, type_: str, exits: dict[str, str] | None = None, **params: Any
) -> dict[str, Any]:
    return {"id": node_id, "type": type_, "params": params, "exits": exits or {}}


def start(target: str, node_id: str = "start", entry: str = "main") -> dict[str, Any]:
    return node(node_id, "start", {"next": target}, entry=entry)


def assign(node_id: str, target: str | None, **values: str) -> dict[str, Any]:
    assignments = [{"variable": k, "value": v} for k, v in values.items()]
    return node(node_id, "assign", {"next": target} if target else {}, assignments=assignments)


def say(node_id: str, text: str, target: str | None = "bye", **exits: str) -> dict[str, Any]:
    wired = {"next": target} if target else {}
    return node(node_id, "say", {**wired, **exits}, text=text)


def hangup(node_id: str = "bye") -> dict[str, Any]:
    return node(node_id, "hangup")


def scenario(*nodes: dict[str, Any], **doc: Any) -> Scenario:
    data = {"schema": 1, "id": doc.pop("id", "main"), "nodes": list(nodes), **doc}
    return load_scenario_data(data)


def found(problems: list[Problem], code: str) -> list[Problem]:
    return [p for p in problems if p.code == code]


def codes(problems: list[Problem]) -> list[tuple[str, str | None]]:
    return [(p.code, p.node_id) for p in problems]


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


# ---- a clean scenario ---------------------------------------------------------------------


def test_valid_scenario_has_no_findings() -> None:
    sc = scenario(
        start("set"),
        assign("set", "by_number", CALLEDID="calledid()"),
        node(
            "by_number",
            "menu",
            {"a": "menu_a", "other": "bye"},
            value="CALLEDID",
            cases=[{"equals": "100", "exit": "a"}],
        ),
        node(
            "menu_a",
            "gather",
            {"one": "say_a", "again": "menu_a", "timeout": "bye", "invalid": "bye"},
            prompt="Press 1",
            options=[{"digits": "1", "exit": "one"}, {"digits": "2", "exit": "again"}],
            variable="CHOICE",
        ),
        say("say_a", "You pressed {CHOICE} on {CALLEDID}"),
        hangup(),
    )
    assert validate(sc) == []


def test_valid_fixture_files_have_no_findings() -> None:
    report = validate_files([VALID / "main.json", VALID / "billing.json"])
    assert report == {str(VALID / "main.json"): [], str(VALID / "billing.json"): []}


# ---- one test per finding ---------------------------------------------------------------------


def test_dangling_exit_names_exit_and_missing_node() -> None:
    sc = scenario(
        start("menu1"),
        node(
            "menu1",
            "menu",
            {"sales": "salez", "other": "bye"},
            value="calledid()",
            cases=[{"equals": "1", "exit": "sales"}],
        ),
        say("sales", "Sales"),
        hangup(),
    )
    [problem] = found(validate(sc), "dangling_exit")
    assert problem.node_id == "menu1"
    assert problem.severity == "error"
    assert problem.path == "nodes[1].exits.sales"
    assert problem.message.startswith("exit 'sales' leads to missing node 'salez'")
    assert "did you mean 'sales'" in problem.message
    assert format_problem("examples/x.json", problem).startswith(
        "examples/x.json: error [dangling_exit] node 'menu1' (nodes[1].exits.sales): "
        "exit 'sales' leads to missing node 'salez'"
    )


def test_unwired_exit_but_not_error_optional_or_terminal() -> None:
    sc = scenario(
        start("check"),
        node("check", "if", {"true": "bye", "error": "bye"}, condition="callerid() = '1'"),
        hangup(),
    )
    problems = validate(sc)
    assert codes(problems) == [("unwired_exit", "check")]
    assert problems[0].path == "nodes[1].exits.false"
    assert "'false'" in problems[0].message


def test_unwired_optional_exit_is_not_reported() -> None:
    reg = NodeRegistry()
    for _name, cls in builtin_registry().items():
        reg.register(cls)

    class Lookup(NodeType):
        type_name = "lookup_probe"
        title_en = title_ru = "Lookup"
        exits = ("found", "busy")
        optional_exits: ClassVar[frozenset[str]] = frozenset({"busy"})

    reg.register(Lookup)
    data = {
        "schema": 1,
        "id": "main",
        "nodes": [start("l"), node("l", "lookup_probe", {"found": "bye"}), hangup()],
    }
    assert validate(load_scenario_data(data, reg)) == []


def test_no_default_on_menu() -> None:
    sc = scenario(
        start("m1"),
        node("m1", "menu", {"a": "bye"}, value="calledid()", cases=[{"equals": "1", "exit": "a"}]),
        hangup(),
    )
    problems = validate(sc)
    assert codes(problems) == [("no_default", "m1")]
    assert problems[0].message == "Menu 'm1' has no 'other' branch"
    assert problems[0].severity == "error"


def test_no_default_on_gather_names_each_missing_default_once() -> None:
    sc = scenario(
        start("g1"),
        node(
            "g1", "gather", {"one": "g2", "invalid": "g2"}, options=[{"digits": "1", "exit": "one"}]
        ),
        node("g2", "gather", {"done": "g3"}, max_digits=8),
        node("g3", "gather", {"one": "bye"}, options=[{"digits": "1", "exit": "one"}]),
        hangup(),
    )
    problems = validate(sc)
    assert codes(problems) == [("no_default", "g1"), ("no_default", "g2"), ("no_default", "g3")]
    assert [p.message for p in problems] == [
        "Gather 'g1' has no 'timeout' branch",
        "Gather 'g2' has no 'timeout' branch",
        "Gather 'g3' has no 'timeout' or 'invalid' branch",
    ]


def test_unreachable_is_a_warning_and_all_entries_count() -> None:
    sc = scenario(
        start("bye"),
        hangup(),
        say("island", "Nobody comes here"),
        say("handler", "Something failed"),
        start("note", node_id="after", entry="after_hangup"),
        assign("note", "end", DONE="1"),
        hangup("end"),
        settings={"error_handler": "handler"},
    )
    problems = validate(sc)
    assert codes(problems) == [("unreachable", "island")]
    assert problems[0].severity == "warning"
    assert problems[0].path == "nodes[2]"


def test_no_end_reports_the_trap_once_with_its_nodes() -> None:
    gather_options = [{"digits": "1", "exit": "one"}]
    sc = scenario(
        start("intro"),
        say("intro", "Welcome", target="g1"),
        node(
            "g1", "gather", {"one": "g2", "timeout": "g2", "invalid": "g2"}, options=gather_options
        ),
        node(
            "g2", "gather", {"one": "g1", "timeout": "g1", "invalid": "g1"}, options=gather_options
        ),
    )
    problems = validate(sc)
    assert codes(problems) == [("no_end", "g1")]
    message = problems[0].message
    assert "g1 → g2 → g1" in message
    assert message.endswith("; 'start', 'intro' lead only into it")
    assert not found(problems, "endless_loop")  # the loop waits for the caller


def test_subscenario_jump_and_unwired_exits_end_the_call_but_unwired_error_does_not() -> None:
    jump = scenario(
        start("go"),
        node("go", "subscenario", {"error": "bye"}, scenario="other", mode="jump"),
        hangup(),
    )
    assert validate(jump) == []

    # an "if" that loops on itself on "true" and fails on "false" cannot end normally
    sc = scenario(
        start("spin"), node("spin", "if", {"true": "spin", "false": "spin"}, condition="1 / 0 = 1")
    )
    assert {p.code for p in validate(sc)} == {"no_end", "endless_loop"}


def test_endless_loop_names_the_cycle_in_order() -> None:
    sc = scenario(
        start("count"),
        assign("count", "check", N="N + 1"),
        node("check", "if", {"true": "count", "false": "bye"}, condition="N < 10"),
        hangup(),
        variables=[{"name": "N", "default": 0}],
    )
    problems = validate(sc)
    assert codes(problems) == [("endless_loop", "count")]
    assert "count → check → count" in problems[0].message
    assert problems[0].severity == "error"


def test_endless_loop_self_loop_and_inner_loop_inside_a_waiting_loop() -> None:
    sc = scenario(
        start("ask"),
        node(
            "ask",
            "gather",
            {"one": "a", "timeout": "bye", "invalid": "bye"},
            options=[{"digits": "1", "exit": "one"}],
        ),
        node("a", "if", {"true": "b", "false": "ask"}, condition="digits() = '1'"),
        node("b", "if", {"true": "a", "false": "c"}, condition="digits() = '2'"),
        node("c", "if", {"true": "c", "false": "bye"}, condition="digits() = '3'"),
        hangup(),
    )
    problems = found(validate(sc), "endless_loop")
    assert [(p.node_id, p.message.split(":")[1].split(" runs")[0].strip()) for p in problems] == [
        ("a", "a → b → a"),
        ("c", "c → c"),
    ]


def test_loop_through_a_waiting_node_is_fine() -> None:
    sc = scenario(
        start("ask"),
        node(
            "ask",
            "gather",
            {"one": "bye", "timeout": "ask", "invalid": "sorry"},
            options=[{"digits": "1", "exit": "one"}],
        ),
        say("sorry", "No such option", target="ask"),
        hangup(),
    )
    assert validate(sc) == []


def test_variable_never_assigned_is_an_error() -> None:
    sc = scenario(
        start("greet"),
        say("greet", "You called {CALLEDDID}"),
        hangup(),
        variables=[{"name": "CALLEDID"}],
    )
    [problem] = validate(sc)
    assert (problem.code, problem.node_id, problem.severity) == (
        "unassigned_variable",
        "greet",
        "error",
    )
    assert problem.message.startswith("variable 'CALLEDDID' is never assigned")
    assert "did you mean 'CALLEDID'" in problem.message
    assert problem.path == "nodes[1].params.text"


def test_variable_assigned_on_one_branch_only_is_an_error_with_path() -> None:
    """The run fails on the branch that skips the assignment ('unknown variable')."""
    sc = scenario(
        start("vip"),
        node("vip", "if", {"true": "name", "false": "greet"}, condition="callerid() = '1'"),
        assign("name", "greet", NAME="'friend'"),
        say("greet", "Hello {NAME}", target="again"),
        say("again", "Bye {NAME}"),
        hangup(),
    )
    problems = validate(sc)
    assert [(p.code, p.node_id, p.severity) for p in problems] == [
        ("unassigned_variable", "greet", "error"),
        ("unassigned_variable", "again", "error"),
    ]
    assert problems[0].message.startswith(
        "variable 'NAME' may be read before it is assigned (path: start → vip → greet): "
        "on that path the call fails with 'unknown variable'"
    )
    assert "(path: start → vip → greet → again)" in problems[1].message


def test_declared_and_earlier_assignments_count_as_assigned() -> None:
    sc = scenario(
        start("set"),
        assign("set", "check", A="LANG + 'x'", B="A + '!'"),
        node("check", "if", {"true": "loop", "false": "bye"}, condition="B = ''"),
        node(
            "loop",
            "gather",
            {"one": "check", "timeout": "bye", "invalid": "bye"},
            options=[{"digits": "1", "exit": "one"}],
        ),
        hangup(),
        variables=[{"name": "LANG", "default": "ru"}],
    )
    assert validate(sc) == []


def test_error_exit_carries_the_state_before_the_failed_node() -> None:
    sc = scenario(
        start("set"),
        node(
            "set",
            "assign",
            {"next": "ok", "error": "failed"},
            assignments=[{"variable": "X", "value": "1 / 0"}],
        ),
        say("ok", "X is {X}"),
        say("failed", "X was {X}"),
        hangup(),
    )
    problems = validate(sc)
    assert codes(problems) == [("unassigned_variable", "failed")]
    assert problems[0].severity == "error"
    assert "(path: start → set (error) → failed)" in problems[0].message


def test_error_exit_and_normal_exit_to_the_same_node() -> None:
    sc = scenario(
        start("set"),
        node(
            "set",
            "assign",
            {"next": "show", "error": "show"},
            assignments=[{"variable": "X", "value": "1 / 0"}],
        ),
        say("show", "X is {X}"),
        hangup(),
    )
    assert codes(validate(sc)) == [("unassigned_variable", "show")]


def test_after_hangup_entry_starts_with_declared_variables_only() -> None:
    sc = scenario(
        start("set"),
        assign("set", "bye", CALLEDID="calledid()"),
        hangup(),
        start("note", node_id="after", entry="after_hangup"),
        assign("note", "end", LOG="CALLEDID + ' ' + LANG"),
        hangup("end"),
        variables=[{"name": "LANG", "default": "en"}],
    )
    problems = validate(sc)
    assert codes(problems) == [("unassigned_variable", "note")]
    assert problems[0].message.startswith(
        "variable 'CALLEDID' may be read before it is assigned (path: after → note)"
    )
    assert problems[0].severity == "error"


def test_error_handler_starts_with_declared_variables_only() -> None:
    sc = scenario(
        start("set"),
        assign("set", "bye", CALLEDID="calledid()"),
        hangup(),
        say("handler", "Sorry, {CALLEDID}"),
        settings={"error_handler": "handler"},
    )
    assert codes(validate(sc)) == [("unassigned_variable", "handler")]


def test_media_after_hangup_only_is_an_error() -> None:
    sc = scenario(
        start("bye"),
        hangup(),
        start("thanks", node_id="after", entry="after_hangup"),
        say("thanks", "Thank you", target="end"),
        hangup("end"),
    )
    problems = validate(sc)
    assert [(p.code, p.node_id, p.severity) for p in problems] == [
        ("media_after_hangup", "thanks", "error")
    ]
    assert "so it will always fail" in problems[0].message


def test_media_node_shared_by_the_main_flow_and_post_processing_is_a_warning() -> None:
    """It works in the main flow and fails only on the after-hangup path."""
    sc = scenario(
        start("thanks"),
        say("thanks", "Thank you", target="end"),
        hangup("end"),
        start("thanks", node_id="after", entry="after_hangup"),
    )
    problems = validate(sc)
    assert [(p.code, p.node_id, p.severity) for p in problems] == [
        ("media_after_hangup", "thanks", "warning")
    ]


def test_unknown_subscenario() -> None:
    sc = scenario(
        start("pay"),
        node("pay", "subscenario", {"next": "bye"}, scenario="billng"),
        hangup(),
    )
    problems = validate(sc, known={"scenario": {"billing", "main"}})
    assert codes(problems) == [("unknown_reference", "pay")]
    assert problems[0].message == (
        "subscenario 'billng' is not a known scenario (did you mean 'billing'?)"
    )
    assert validate(sc) == []  # nothing known: nothing to check against
    assert validate(sc, known={"queue": {"sales"}}) == []  # other kinds only


def test_unknown_reference_is_generic_over_kinds() -> None:
    reg = NodeRegistry()
    for _name, cls in builtin_registry().items():
        reg.register(cls)

    class QueueProbeParams(ParamsModel):
        queue: str

    class QueueProbe(NodeType):
        type_name = "queue_probe"
        title_en = title_ru = "Queue"
        Params = QueueProbeParams

        def references(self) -> dict[str, set[str]]:
            return {"queue": {self.params.queue}}  # type: ignore[attr-defined]

    reg.register(QueueProbe)
    data = {
        "schema": 1,
        "id": "main",
        "nodes": [start("q"), node("q", "queue_probe", {"next": "bye"}, queue="sale"), hangup()],
    }
    problems = validate(load_scenario_data(data, reg), known={"queue": {"sales", "support"}})
    assert [(p.code, p.node_id, p.message) for p in problems] == [
        (
            "unknown_reference",
            "q",
            "queue_probe 'sale' is not a known queue (did you mean 'sales'?)",
        )
    ]


def test_called_subscenario_assignments_count_after_the_call() -> None:
    main = scenario(
        start("pay"),
        node("pay", "subscenario", {"next": "tell"}, scenario="billing"),
        say("tell", "Balance {BALANCE}, tariff {TARIFF}"),
        hangup(),
    )
    billing = scenario(
        start("vip"),
        node("vip", "if", {"true": "both", "false": "one"}, condition="callerid() = '1'"),
        assign("both", "done", BALANCE="1", TARIFF="'gold'"),
        assign("one", "done", BALANCE="2"),
        node("done", "return"),
        id="billing",
    )
    problems = validate(main, library={"billing": billing})
    assert [(p.node_id, p.severity, p.message.split(" may")[0]) for p in problems] == [
        ("tell", "error", "variable 'TARIFF'")
    ]
    # Without the billing scenario, nothing is known about what it sets: warnings only.
    problems = validate(main)
    assert {p.severity for p in problems} == {"warning"}
    assert "unless subscenario 'billing'" in problems[0].message


def test_several_problems_are_reported_together_in_document_order() -> None:
    sc = scenario(
        start("m1"),
        node("m1", "menu", {"a": "nowhere"}, value="X", cases=[{"equals": "1", "exit": "a"}]),
        say("lost", "Hello {Y}"),
        hangup(),
    )
    problems = validate(sc)
    assert codes(problems) == [
        ("dangling_exit", "m1"),
        ("no_default", "m1"),
        ("unassigned_variable", "m1"),
        ("unreachable", "lost"),
        ("unassigned_variable", "lost"),
        ("unreachable", "bye"),
    ]
    assert validate(sc) == problems  # deterministic
    assert all(p.code in CODES for p in problems)


def test_terminal_nodes_do_not_follow_their_error_exit() -> None:
    sc = scenario(
        start("bye"), node("bye", "hangup", {"error": "after_error"}), say("after_error", "x")
    )
    problems = validate(sc)
    assert codes(problems) == [("unreachable", "after_error")]


# ---- scale ----------------------------------------------------------------------------------


def test_large_generated_scenario() -> None:
    """2,000 menus in a chain, each with a side branch; one variable set on one branch only."""
    size = 2000
    nodes = [start("set"), assign("set", "m0", BASE="calledid()")]
    for i in range(size):
        nxt = f"m{i + 1}" if i + 1 < size else "last"
        nodes.append(
            node(
                f"m{i}",
                "menu",
                {"a": nxt, "b": f"s{i}", "other": "fallback"},
                value="BASE",
                cases=[{"equals": str(i), "exit": "a"}, {"prefix": str(i), "exit": "b"}],
            )
        )
        if i == 700:
            nodes.append(assign(f"s{i}", nxt, RARE="'x'"))
        else:
            nodes.append(say(f"s{i}", "Step {BASE}", target=nxt))
    nodes += [say("last", "Done {BASE} {RARE}"), say("fallback", "Sorry"), hangup()]
    sc = scenario(*nodes)
    assert len(sc.nodes) == 2 * size + 5
    problems = validate(sc)
    assert codes(problems) == [("unassigned_variable", "last")]
    assert problems[0].message.startswith("variable 'RARE' may be read before it is assigned")
    assert "start → set → m0 → m1" in problems[0].message  # shortest route, elided in the middle
    assert "→ m1999 → last)" in problems[0].message


def test_large_generated_loop_converges() -> None:
    """A long cycle through a Gather: the fixed point must still be reached (and be right)."""
    size = 1500
    nodes = [start("ask")]
    nodes.append(
        node(
            "ask",
            "gather",
            {"one": "a0", "timeout": "bye", "invalid": "bye"},
            options=[{"digits": "1", "exit": "one"}],
        )
    )
    for i in range(size):
        nxt = f"a{i + 1}" if i + 1 < size else "ask"
        if i == size // 2:
            nodes.append(assign(f"a{i}", nxt, SEEN="1"))
        else:
            nodes.append(say(f"a{i}", "Step", target=nxt))
    nodes[-1] = say(f"a{size - 1}", "Seen {SEEN}", target="ask")
    nodes.append(hangup())
    assert validate(scenario(*nodes)) == []


# ---- files --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "dangling_exit.json",
            [("error", "dangling_exit", "menu1"), ("warning", "unreachable", "sales")],
        ),
        ("missing_other.json", [("error", "no_default", "by_number")]),
        ("endless_loop.json", [("error", "endless_loop", "count")]),
        (
            "unassigned_variable.json",
            [
                ("error", "unassigned_variable", "greet"),
                ("error", "unassigned_variable", "greet"),
            ],
        ),
        (
            "dial_unrestricted.json",
            [("error", "dial_unrestricted", "connect"), ("error", "dial_unrestricted", "callback")],
        ),
        ("bad_expression.json", [("error", "expression", "set_called")]),
        ("unknown_type.json", [("error", "unknown_type", "to_sales")]),
        ("malformed.json", [("error", "syntax", None)]),
        (
            "schema_violation.json",
            [
                ("error", "missing", None),
                ("error", "string_type", "greet"),
                ("error", "float_parsing", "bye"),
            ],
        ),
    ],
)
def test_validate_files_on_broken_fixtures(
    name: str, expected: list[tuple[str, str, str | None]]
) -> None:
    path = BROKEN / name
    report = validate_files([path])
    assert list(report) == [str(path)]
    problems = report[str(path)]
    assert [(p.severity, p.code, p.node_id) for p in problems] == expected
    for p in problems:
        line = format_problem(path, p)
        assert line.startswith(f"{path}: {p.severity} [{p.code}]")
        assert line.endswith(p.message)


def test_bad_expression_has_node_id_and_column() -> None:
    path = BROKEN / "bad_expression.json"
    [problem] = validate_files([path])[str(path)]
    assert problem.column == 12
    assert problem.path == "nodes[1].params.assignments[0].value"
    assert format_problem("bad.json", problem).startswith(
        "bad.json: error [expression] node 'set_called' (nodes[1].params.assignments[0].value), column 12: "
        "expression 'CALLEDID = = 1':"
    )


def test_malformed_json_has_line_and_column() -> None:
    path = BROKEN / "malformed.json"
    [problem] = validate_files([path])[str(path)]
    assert (problem.line, problem.column) == (5, 37)
    assert format_problem("x.json", problem) == (
        "x.json: error [syntax] line 5, column 37: malformed JSON: Expecting ',' delimiter"
    )


def test_schema_violation_reports_every_path() -> None:
    path = BROKEN / "schema_violation.json"
    problems = validate_files([path])[str(path)]
    assert [p.path for p in problems] == ["nodes[1].id", "nodes[2].exits.next", "nodes[3].ui.x"]


def test_known_scenarios_come_from_the_files_and_the_library_only(tmp_path: Path) -> None:
    shutil.copy(VALID / "main.json", tmp_path / "main.json")
    # billing.json beside main.json is not read unless it is named or in --lib
    shutil.copy(VALID / "billing.json", tmp_path / "billing.json")
    os.mkfifo(tmp_path / "pipe.json")  # would block a reader forever
    problems = validate_files([tmp_path / "main.json"])[str(tmp_path / "main.json")]
    assert [(p.code, p.node_id) for p in errors(problems)] == [
        ("unknown_reference", "billing_call")
    ]
    assert validate_files([tmp_path / "main.json", tmp_path / "billing.json"])[str(tmp_path / "main.json")] == []
    assert validate_files([tmp_path / "main.json"], library=[tmp_path / "billing.json"]) == {
        str(tmp_path / "main.json"): []
    }

    library = tmp_path / "lib"
    library.mkdir()
    shutil.copy(VALID / "billing.json", library / "billing.json")
    (library / "cases.json").write_text(json.dumps({"cases": []}))  # not a scenario: ignored
    os.mkfifo(library / "pipe.json")  # not a regular file: skipped
    assert validate_files([tmp_path / "main.json"], library=[library]) == {
        str(tmp_path / "main.json"): []
    }
    with pytest.raises(ScenarioError, match="library is not a file or folder"):
        validate_files([tmp_path / "main.json"], library=[tmp_path / "nowhere"])


def test_cli_validate_takes_lib_and_refuses_a_fifo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from flowengine.cli import main

    shutil.copy(VALID / "main.json", tmp_path / "main.json")
    assert main(["validate", str(tmp_path / "main.json")]) == 1
    assert main(["validate", str(tmp_path / "main.json"), "--lib", str(VALID / "billing.json")]) == 0
    assert main(["validate", str(tmp_path / "main.json"), "--lib", str(VALID)]) == 0
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    capsys.readouterr()
    assert main(["validate", str(fifo)]) == 1
    out = capsys.readouterr().out
    assert f"{fifo}: error [io]: not a regular file" in out


def test_a_given_file_that_fails_to_load_still_counts_as_known(tmp_path: Path) -> None:
    shutil.copy(VALID / "main.json", tmp_path / "main.json")
    broken = json.loads((VALID / "billing.json").read_text())
    broken["nodes"][1]["params"]["assignments"][0]["value"] = "1 +"
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "billing.json").write_text(json.dumps(broken))
    report = validate_files([tmp_path / "main.json", tmp_path / "other" / "billing.json"])
    assert not found(report[str(tmp_path / "main.json")], "unknown_reference")
    assert codes(report[str(tmp_path / "other" / "billing.json")]) == [("expression", "lookup")]


def test_validate_with_known_and_library_on_loaded_fixtures() -> None:
    sc = load_scenario_file(VALID / "main.json")
    assert (
        validate(
            sc,
            known={"scenario": {"main", "billing"}},
            library={"billing": load_scenario_file(VALID / "billing.json")},
        )
        == []
    )


def test_queue_functions_are_known_and_their_queue_names_checked_against_the_centre() -> None:
    sc = scenario(
        start("ask"),
        assign("ask", "bye", W="queue_waiting('sales') + Queue_Busy(\"salse\")", N="queue_available(NAME)"),
        hangup(),
        variables=[{"name": "W", "default": 0}, {"name": "N", "default": 0}, {"name": "NAME", "default": "sales"}],
    )
    assert validate(sc) == []  # the functions exist; without a centre no names to check
    problems = validate(sc, known={"queue": {"sales", "support"}})
    assert [(p.code, p.node_id, p.message) for p in problems] == [
        ("unknown_reference", "ask", "'salse' in an expression is not a known queue (did you mean 'sales'?)")
    ]
    assert problems[0].path.endswith(".params.assignments[0].value")


# ---- subscenario cycles ---------------------------------------------------------------------


def calling(me: str, other: str, mode: str = "call") -> Scenario:
    exits = {"next": "bye"} if mode == "call" else {}
    return scenario(
        start("sub"), node("sub", "subscenario", exits, scenario=other, mode=mode), hangup(), id=me
    )


def test_call_cycle_across_scenarios_is_an_error_on_the_call_node() -> None:
    a, b, c = calling("a", "b"), calling("b", "c"), calling("c", "a", mode="jump")
    library = {s.id: s for s in (a, b, c)}
    (problem,) = found(validate(a, library=library), "subscenario_cycle")
    assert (problem.severity, problem.node_id, problem.path) == ("error", "sub", "nodes[1].params.scenario")
    assert "a → b → c → a" in problem.message
    # c only jumps: the cycle is reported where the nesting happens (a and b), not on c
    assert found(validate(b, library=library), "subscenario_cycle")
    assert not found(validate(c, library=library), "subscenario_cycle")


def test_a_scenario_calling_itself_is_a_cycle_but_jumping_to_itself_is_not() -> None:
    (problem,) = found(validate(calling("a", "a")), "subscenario_cycle")
    assert "a → a" in problem.message
    assert not found(validate(calling("a", "a", mode="jump")), "subscenario_cycle")


def test_calls_without_a_way_back_are_fine() -> None:
    a, b = calling("a", "b"), scenario(start("bye"), hangup(), id="b")
    assert not found(validate(a, library={"b": b}), "subscenario_cycle")


def test_validate_files_reports_cycles_among_the_files(tmp_path: Path) -> None:
    for me, other in (("a", "b"), ("b", "a")):
        data = {
            "schema": 1,
            "id": me,
            "nodes": [start("sub"), node("sub", "subscenario", {"next": "bye"}, scenario=other), hangup()],
        }
        (tmp_path / f"{me}.json").write_text(json.dumps(data))
    report = validate_files([tmp_path / "a.json"], library=[tmp_path / "b.json"])
    assert [p.code for p in report[str(tmp_path / "a.json")]] == ["subscenario_cycle"]
