"""The validator's dial-policy check: caller input must not reach a dialled number unrestricted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flowengine.cli import main
from flowengine.errors import Problem
from flowengine.scenario.compiled import Scenario
from flowengine.scenario.loader import load_scenario_data
from flowengine.telephony.dialpolicy import DialPolicy
from flowengine.validation import validate, validate_files

BROKEN = Path(__file__).resolve().parents[2] / "data" / "broken"
TRANSFER_EXITS = ("answered", "busy", "no_answer", "failed")


def node(node_id: str, type_: str, exits: dict[str, str] | None = None, **params: Any) -> dict[str, Any]:
    return {"id": node_id, "type": type_, "params": params, "exits": exits or {}}


def start(target: str, node_id: str = "start", entry: str = "main") -> dict[str, Any]:
    return node(node_id, "start", {"next": target}, entry=entry)


def gather(node_id: str, target: str, variable: str = "EXT") -> dict[str, Any]:
    return node(node_id, "gather", {"done": target, "timeout": "bye"}, max_digits=20, variable=variable)


def assign(node_id: str, target: str, **values: str) -> dict[str, Any]:
    return node(node_id, "assign", {"next": target}, assignments=[{"variable": k, "value": v} for k, v in values.items()])


def transfer(node_id: str = "t", *numbers: str, **params: Any) -> dict[str, Any]:
    return node(node_id, "transfer", dict.fromkeys(TRANSFER_EXITS, "bye"), numbers=list(numbers or ["{EXT}"]), **params)


def hangup(node_id: str = "bye") -> dict[str, Any]:
    return node(node_id, "hangup")


def scenario(*nodes: dict[str, Any], scenario_id: str = "main", **doc: Any) -> Scenario:
    return load_scenario_data({"schema": 1, "id": scenario_id, "nodes": list(nodes), **doc})


def dial_findings(problems: list[Problem]) -> list[tuple[str, str, str | None, str]]:
    return [(p.severity, p.code, p.node_id, p.path) for p in problems if p.code.startswith("dial_")]


def test_digits_from_a_gather_dialled_without_allow_is_an_error() -> None:
    sc = scenario(start("ask"), gather("ask", "t"), transfer(), hangup())
    problems = validate(sc)
    assert dial_findings(problems) == [("error", "dial_unrestricted", "t", "nodes[2].params.numbers[0]")]
    [p] = problems
    assert "Transfer 't' dials '{EXT}', a number the caller chooses, and it has no 'allow' patterns" in p.message
    assert "EXT comes from the digits the caller entered at 'ask'" in p.message
    assert 'add "allow" patterns' in p.message


def test_allow_patterns_on_the_node_settle_it() -> None:
    sc = scenario(start("ask"), gather("ask", "t"), transfer(allow=["9XX"]), hangup())
    assert validate(sc) == []


def test_patterns_that_restrict_nothing_do_not_count() -> None:
    sc = scenario(start("ask"), gather("ask", "t"), transfer(allow=["9XX", "X."]), hangup())
    [p] = validate(sc)
    assert p.code == "dial_unrestricted"
    assert "its 'allow' patterns ('9XX', 'X.') restrict nothing" in p.message


@pytest.mark.parametrize(("number", "source"), [
    ("9{digits()}", "digits() is the digits the caller last entered"),
    ("{callerid()}", "callerid() is the caller's number, which the calling side sets"),
    ("8{substr(calledid(), 1)}", "calledid() is the dialled number, which the calling side sets"),
])
def test_caller_controlled_functions_in_the_number(number: str, source: str) -> None:
    sc = scenario(start("t"), transfer("t", number), hangup())
    [p] = validate(sc)
    assert (p.code, p.path) == ("dial_unrestricted", "nodes[1].params.numbers[0]")
    assert source in p.message


def test_speech_is_caller_input() -> None:
    listen = node("listen", "recognize", {"done": "t", "timeout": "bye"}, variable="SPOKEN")
    sc = scenario(start("listen"), listen, transfer("t", "{SPOKEN}"), hangup())
    [p] = validate(sc)
    assert "SPOKEN comes from what the caller said at 'listen'" in p.message


def test_caller_input_flows_through_assignments_and_stops_at_a_constant() -> None:
    tainted = scenario(
        start("ask"), gather("ask", "set", "RAW"),
        assign("set", "t", PREFIX="'8'", EXT="PREFIX + substr(RAW, 0, 3)", BACK="callerid()"),
        transfer("t", "{EXT}", "{BACK}"), hangup(),
    )
    problems = validate(tainted)
    assert [p.path for p in problems] == ["nodes[3].params.numbers[0]", "nodes[3].params.numbers[1]"]
    assert "EXT comes from the digits the caller entered at 'ask'" in problems[0].message
    assert "BACK comes from callerid() at 'set'" in problems[1].message

    overwritten = scenario(start("ask"), gather("ask", "set"), assign("set", "t", EXT="'900'"), transfer(), hangup())
    assert dial_findings(validate(overwritten)) == [("warning", "dial_no_policy", "t", "nodes[3].params.numbers[0]")]


def test_taint_on_one_branch_is_enough() -> None:
    menu = node("m", "menu", {"vip": "set", "other": "ask"}, value="callerid()", cases=[{"equals": "1", "exit": "vip"}])
    sc = scenario(start("m"), menu, assign("set", "t", EXT="'900'"), gather("ask", "t"), transfer(), hangup())
    [p] = validate(sc)
    assert (p.code, p.node_id) == ("dial_unrestricted", "t")


def test_crm_data_is_not_caller_input() -> None:
    crm = node("crm", "http", {"ok": "t", "timeout": "bye", "error": "bye"},
               url="https://crm.example/clients/{callerid()}", response={"MANAGER": "manager.phone"})
    sc = scenario(start("crm"), crm, transfer("t", "{MANAGER}"), hangup())
    # computed, so it needs a policy to be dialled at all, but no caller chose it
    assert dial_findings(validate(sc)) == [("warning", "dial_no_policy", "t", "nodes[2].params.numbers[0]")]
    p = validate(sc)[0]
    assert "never without a centre" in p.message
    # the centre's policy vouches for it; one that allows nothing does not
    assert validate(sc, dial_policy=DialPolicy(["+7."], name="centre")) == []
    assert "allows no computed number" in validate(sc, dial_policy=DialPolicy(name="centre"))[0].message


def test_a_centre_policy_does_not_excuse_caller_input() -> None:
    sc = scenario(start("ask"), gather("ask", "t"), transfer(), hangup())
    centre = DialPolicy(["9XX"], exact=["901"], name="centre")
    assert dial_findings(validate(sc, dial_policy=centre)) == [
        ("error", "dial_unrestricted", "t", "nodes[2].params.numbers[0]")
    ]


def test_literal_numbers_and_acd_targets_are_fine() -> None:
    sc = scenario(
        start("ask"), gather("ask", "t"),
        transfer("t", "+74951112233", "900"),
        hangup(),
    )
    assert validate(sc) == []


def test_the_error_handler_sees_input_gathered_anywhere() -> None:
    sc = scenario(
        start("ask"), gather("ask", "say"),
        node("say", "say", {"next": "bye"}, text="You entered {EXT}"),
        transfer("sorry", "{EXT}"),
        hangup(),
        settings={"error_handler": "sorry"},
        variables=[{"name": "EXT", "default": ""}],
    )
    assert dial_findings(validate(sc)) == [("error", "dial_unrestricted", "sorry", "nodes[3].params.numbers[0]")]


def test_caller_input_is_followed_into_and_out_of_subscenarios() -> None:
    asks = scenario(start("ask"), gather("ask", "back"), node("back", "return"), scenario_id="ask_extension")
    dials = scenario(start("t"), transfer("t", "{EXT}"), hangup(), scenario_id="dialler")
    # the input comes back from a called scenario
    sc = scenario(start("sub"), node("sub", "subscenario", {"next": "t"}, scenario="ask_extension"), transfer(), hangup())
    [p] = validate(sc, library={"ask_extension": asks})
    assert (p.code, p.node_id, p.path) == ("dial_unrestricted", "t", "nodes[2].params.numbers[0]")
    assert "EXT comes from the digits the caller entered at 'ask' in scenario 'ask_extension'" in p.message
    # the input is dialled in a scenario this one jumps to: reported where it leaves
    sc = scenario(start("ask"), gather("ask", "go"), node("go", "subscenario", scenario="dialler", mode="jump"), hangup())
    [p] = [p for p in validate(sc, library={"dialler": dials}) if p.code == "dial_unrestricted"]
    assert (p.node_id, p.path) == ("go", "nodes[2].params.scenario")
    assert p.message.startswith("Subscenario 'go' leads to scenario 'dialler', where Transfer 't' dials '{EXT}'")
    # on its own the dialler dials a computed number nobody vouches for
    assert dial_findings(validate(dials)) == [("warning", "dial_no_policy", "t", "nodes[1].params.numbers[0]")]


def test_a_scenario_calling_itself_is_analysed_once() -> None:
    sc = scenario(
        start("ask"), gather("ask", "again"),
        node("again", "subscenario", {"next": "t"}, scenario="main"),
        transfer(), hangup(),
    )
    assert dial_findings(validate(sc, library={})) == [
        ("error", "dial_unrestricted", "t", "nodes[3].params.numbers[0]")
    ]


# ---- files and the command line -------------------------------------------------------------


def test_the_broken_fixture_is_rejected_by_validate(capsys: pytest.CaptureFixture[str]) -> None:
    path = BROKEN / "dial_unrestricted.json"
    problems = validate_files([path])[str(path)]
    assert [(p.severity, p.code, p.node_id, p.path) for p in problems] == [
        ("error", "dial_unrestricted", "connect", "nodes[2].params.numbers[0]"),
        ("error", "dial_unrestricted", "callback", "nodes[3].params.numbers[0]"),
    ]
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert "error [dial_unrestricted] node 'connect' (nodes[2].params.numbers[0])" in out


def test_validate_passes_once_the_node_restricts_the_number(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads((BROKEN / "dial_unrestricted.json").read_text(encoding="utf-8"))
    for n in data["nodes"]:
        if n["type"] == "transfer":
            n["params"]["allow"] = ["9XX"]
    fixed = tmp_path / "fixed.json"
    fixed.write_text(json.dumps(data), encoding="utf-8")
    assert main(["validate", str(fixed)]) == 0
    assert f"{fixed}: ok" in capsys.readouterr().out


def test_validate_with_a_centre_checks_computed_numbers_against_its_policy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    crm = node("crm", "http", {"ok": "t", "timeout": "bye", "error": "bye"},
               url="https://crm.example/x", response={"MANAGER": "manager"})
    doc = {"schema": 1, "id": "crm", "nodes": [start("crm"), crm, transfer("t", "{MANAGER}"), hangup()]}
    path = tmp_path / "crm.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    centre = tmp_path / "centre.yaml"
    centre.write_text("dial_policy:\n  allow: ['+7.']\n", encoding="utf-8")
    assert main(["validate", str(path)]) == 0  # a warning only
    assert "warning [dial_no_policy]" in capsys.readouterr().out
    assert main(["validate", "--centre", str(centre), str(path)]) == 0
    assert "dial_no_policy" not in capsys.readouterr().out
