"""Numbers with or without `+`: the Menu's table in docs/components.md, row by
row on real calls, and the routing table's example in docs/routing.md.

Each row says whether a case matches a called number written with or
without `+`; the test reads the table from the published docs and runs a
call for every row, so the docs cannot drift from what the Menu does."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml

from flowengine.errors import ScenarioError
from flowengine.scenario.loader import load_scenario_data
from flowengine.scenario.routing import parse_routing
from tests.scenario_builders import REPO, run

DOCS = REPO / "docs" / "components.md"
ROW = re.compile(r"^\| `([^`]*)` \| `(\{.*\})` \| (yes|no)\b")


def documented_rows() -> list[tuple[str, dict[str, Any], bool]]:
    text = DOCS.read_text(encoding="utf-8")
    menu = text[text.index("## menu") : text.index("## notify")]
    rows = []
    for line in menu.splitlines():
        match = ROW.match(line)
        if match:
            rows.append((match.group(1), json.loads(match.group(2)), match.group(3) == "yes"))
    return rows


def test_the_table_is_there_and_covers_every_kind_of_case() -> None:
    rows = documented_rows()
    assert len(rows) >= 8
    kinds = {next(k for k in case if k != "exit") for _, case, _ in rows}
    assert kinds == {"equals", "in", "prefix", "regex", "range"}
    assert {m for _, _, m in rows} == {True, False}


@pytest.mark.parametrize(("called", "case", "matches"), documented_rows())
def test_documented_number_comparison(called: str, case: dict[str, Any], matches: bool) -> None:
    scenario = {
        "schema": 1,
        "id": "numbers",
        "nodes": [
            {"id": "start", "type": "start", "exits": {"next": "by_number"}},
            {"id": "by_number", "type": "menu", "params": {"value": "calledid()", "cases": [case]},
             "exits": {case["exit"]: "bye", "other": "bye"}},
            {"id": "bye", "type": "hangup"},
        ],
    }
    trace = run(scenario, called=called)
    assert trace.exits[1] == {"node": "by_number", "exit": case["exit"] if matches else "other"}


def test_return_outside_a_called_subscenario_ends_the_call_like_an_unwired_exit() -> None:
    """docs/components.md, Return: the engine hangs up, then post-processing runs."""
    trace = run(
        {
            "schema": 1,
            "id": "main",
            "nodes": [
                {"id": "start", "type": "start", "exits": {"next": "done"}},
                {"id": "done", "type": "return"},
                {"id": "after", "type": "start", "params": {"entry": "after_hangup"}, "exits": {"next": "log"}},
                {"id": "log", "type": "notify", "params": {"message": "over"}},
            ],
        }
    )
    assert trace.path == ["start", "done", "after", "log"]
    hung = [e.to_dict() for e in trace.events if e.name == "call_hung_up"]
    assert [(h["by"], h["cause"], h["node_id"]) for h in hung] == [("engine", "normal", "done")]


def test_bindings_compare_numbers_as_text_until_a_rule_adds_the_plus() -> None:
    """docs/routing.md, "With or without +": its table routes all three forms alike."""
    text = (REPO / "docs" / "routing.md").read_text(encoding="utf-8")
    section = text[text.index("**With or without `+`.**") :]
    block = section[section.index("```yaml\n") + 8 : section.index("\n```", section.index("```yaml"))]
    table = parse_routing(yaml.safe_load(block), "docs/routing.md")
    for sent in ("+74951230001", "74951230001", "84951230001"):
        called, _ = table.normalise(None, sent, "")
        assert (called, table.resolve(called).scenario_id) == ("+74951230001", "sales")
    bare = parse_routing({"numbers": [{"number": "+74951230001", "scenario_id": "sales"}]}, "t")
    assert bare.resolve("74951230001").scenario_id is None  # no rule: another number


def test_a_case_exit_that_is_a_list_is_a_load_error_not_a_crash() -> None:
    """Found by the validator's property test: the reserved-exit check hashed it."""
    with pytest.raises(ScenarioError) as caught:
        load_scenario_data(
            {
                "schema": 1,
                "id": "m",
                "nodes": [
                    {"id": "start", "type": "start", "exits": {"next": "m"}},
                    {"id": "m", "type": "menu",
                     "params": {"value": "1", "cases": [{"equals": "1", "exit": ["a"]}]}},
                ],
            }
        )
    assert [p.path for p in caught.value.problems] == ["nodes[1].params.cases[0].exit"]
