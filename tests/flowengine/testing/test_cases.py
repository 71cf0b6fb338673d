"""`flowengine test`: tests files written from docs/testing-scenarios.md.

Declared HTTP answers (status, JSON, delay, connection error) and the
undeclared request that fails its case; nested `events_include`; who hung
up; the meaning of `prompts_include`; load errors that name the tests file
and the case; old files that keep working."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from flowengine.errors import ScenarioError
from flowengine.testing.cases import contains, load_case_file, run_case_file
from tests.scenario_builders import REPO

CRM = {
    "schema": 1,
    "id": "crm",
    "variables": [{"name": "CLIENT_NAME", "default": ""}],
    "nodes": [
        {"id": "start", "type": "start", "exits": {"next": "lookup"}},
        {"id": "lookup", "type": "http",
         "params": {"url": "https://crm.example.com/api/clients/{callerid()}", "timeout": 3,
                    "response": {"CLIENT_NAME": "client.name", "CLIENT": "client"}},
         "exits": {"ok": "hello", "timeout": "hello", "error": "hello"}},
        {"id": "hello", "type": "say", "params": {"text": "Hello, {CLIENT_NAME}"}, "exits": {"next": "note"}},
        {"id": "note", "type": "notify",
         "params": {"channel": "webhook", "url": "https://hooks.example.com/calls", "message": "done"},
         "exits": {"next": "bye"}},
        {"id": "bye", "type": "hangup"},
    ],
}


def write_case_file(tmp_path: Path, body: str, scenario: dict[str, Any] | None = None) -> Path:
    (tmp_path / "crm.json").write_text(json.dumps(scenario or CRM))
    path = tmp_path / "crm.tests.yaml"
    path.write_text("scenario: crm.json\ndefaults: {caller: '+79161234567'}\n" + body)
    return path


def outcome(path: Path) -> dict[str, list[str]]:
    """case name -> its failures (an empty list: passed)."""
    return {r.name: ([r.error] if r.error else r.failures) for r in run_case_file(path)}


WEBHOOK = "  - {url: 'https://hooks.example.com/calls', method: POST, status: 204}\n"


# ---- declared answers -------------------------------------------------------------------


def test_declared_json_answer_fills_the_variables(tmp_path: Path) -> None:
    path = write_case_file(
        tmp_path,
        "http:\n" + WEBHOOK + """cases:
  - name: known
    http:
      - url: "https://crm.example.com/api/clients/%2B79161234567"
        json: {client: {name: Anna}}
    expect:
      prompts: ["Hello, Anna"]
      variables: {CLIENT_NAME: Anna}
      exits: {lookup: ok}
      events_include: [{event: notified, channel: webhook, status: 204, ok: true}]
  - name: the same answer, a wrong expectation
    http: [{url: "https://crm.example.com/*", json: {client: {name: Anna}}}]
    expect:
      prompts: ["Hello, Boris"]
""",
    )
    result = outcome(path)
    assert result["known"] == []
    assert result["the same answer, a wrong expectation"] == [
        "prompts: expected ['Hello, Boris'], got ['Hello, Anna']"
    ]


def test_status_delay_and_connection_error(tmp_path: Path) -> None:
    path = write_case_file(
        tmp_path,
        "http:\n" + WEBHOOK + """cases:
  - name: down
    http: [{url: "https://crm.example.com/*", status: 503, body: "maintenance"}]
    expect:
      exits: {lookup: error}
      events_include: [{event: http_requested, status: 503, outcome: bad_status}]
  - name: slow
    http: [{url: "https://crm.example.com/*", delay: 10, json: {client: {name: Late}}}]
    expect:
      exits: {lookup: timeout}
      variables: {CLIENT_NAME: null}
  - name: quick enough
    http: [{url: "https://crm.example.com/*", delay: 2, json: {client: {name: Anna}}}]
    expect:
      exits: {lookup: ok}
  - name: refused
    http: [{url: "https://crm.example.com/*", error: connection}]
    expect:
      exits: {lookup: error}
      events_include: [{event: http_requested, outcome: connection, status: null}]
""",
    )
    assert outcome(path) == {"down": [], "slow": [], "quick enough": [], "refused": []}


def test_an_undeclared_request_fails_the_case_naming_the_url(tmp_path: Path) -> None:
    path = write_case_file(
        tmp_path,
        """cases:
  - name: nothing declared
    expect:
      exits: {lookup: error}
""",
    )
    [failures] = outcome(path).values()
    assert failures == [
        "undeclared HTTP request: GET https://crm.example.com/api/clients/%2B79161234567 "
        "(a test never reaches the network: give its answer under 'http:')",
        "undeclared HTTP request: POST https://hooks.example.com/calls "
        "(a test never reaches the network: give its answer under 'http:')",
    ]


def test_a_method_given_must_match(tmp_path: Path) -> None:
    path = write_case_file(
        tmp_path,
        "http:\n" + WEBHOOK + """cases:
  - name: a POST answer does not answer a GET
    http: [{url: "https://crm.example.com/*", method: post, json: {}}]
""",
    )
    [failures] = outcome(path).values()
    assert len(failures) == 1 and "undeclared HTTP request: GET https://crm.example.com/" in failures[0]


def test_the_case_answers_come_before_the_files(tmp_path: Path) -> None:
    path = write_case_file(
        tmp_path,
        "http:\n" + WEBHOOK + """  - {url: "https://crm.example.com/*", json: {client: {name: File}}}
cases:
  - name: file
    expect: {variables: {CLIENT_NAME: File}}
  - name: case
    http: [{url: "https://crm.example.com/*", json: {client: {name: Case}}}]
    expect: {variables: {CLIENT_NAME: Case}}
""",
    )
    assert outcome(path) == {"file": [], "case": []}


# ---- events_include into nested fields ----------------------------------------------------


def test_events_include_matches_into_objects_and_lists(tmp_path: Path) -> None:
    """The CRM's `client` object is stored as JSON text; the expectation
    matches a part of it, and list items in order."""
    path = write_case_file(
        tmp_path,
        "http:\n" + WEBHOOK + """  - url: "https://crm.example.com/*"
    json: {client: {name: Anna, vip: true, phones: ["+79161234567", "+74951112233"], address: {city: Moscow}}}
cases:
  - name: part of the object
    expect:
      events_include:
        - {event: variable_changed, variable: CLIENT, value: {vip: true, address: {city: Moscow}}}
        - {event: variable_changed, variable: CLIENT, value: {phones: ["+74951112233"]}}
  - name: a wrong nested value
    expect:
      events_include:
        - {event: variable_changed, variable: CLIENT, value: {address: {city: Kazan}}}
  - name: list items out of order
    expect:
      events_include:
        - {event: variable_changed, variable: CLIENT, value: {phones: ["+74951112233", "+79161234567"]}}
""",
    )
    result = outcome(path)
    assert result["part of the object"] == []
    assert result["a wrong nested value"] == [
        "events: none matches {'event': 'variable_changed', 'variable': 'CLIENT', "
        "'value': {'address': {'city': 'Kazan'}}}"
    ]
    assert len(result["list items out of order"]) == 1


@pytest.mark.parametrize(
    ("got", "wanted", "matches"),
    [
        ({"a": 1, "b": {"c": [1, 2, 3]}}, {"b": {"c": [1, 3]}}, True),
        ({"a": 1, "b": {"c": [1, 2, 3]}}, {"b": {"c": [3, 1]}}, False),
        ({"a": [1, 1]}, {"a": [1, 1, 1]}, False),
        ({"a": True}, {"a": 1}, False),
        ({"a": 5}, {"a": 5.0}, True),
        ({"a": "5"}, {"a": 5}, False),
        ({"a": None}, {"a": None}, True),
        ({"a": '{"x": [1, {"y": 2}]}'}, {"a": {"x": [{"y": 2}]}}, True),
        ({"a": "not json"}, {"a": {}}, False),
        ({}, {"a": None}, False),
    ],
)
def test_contains(got: Any, wanted: Any, matches: bool) -> None:
    assert contains(got, wanted) is matches


# ---- who hung up -----------------------------------------------------------------------------


def test_expected_hangup_says_who_hung_up(tmp_path: Path) -> None:
    path = write_case_file(
        tmp_path,
        "http:\n" + WEBHOOK + """  - {url: "https://crm.example.com/*", delay: 2, json: {}}
cases:
  - name: the scenario hangs up
    expect: {hangup_by: engine, hangup_cause: normal}
  - name: the caller hangs up
    steps: [{hangup: true}]
    expect: {hangup_by: caller}
  - name: wrong party
    steps: [{hangup: true}]
    expect: {hangup_by: engine}
""",
    )
    result = outcome(path)
    assert result["the scenario hangs up"] == []
    assert result["the caller hangs up"] == []
    assert result["wrong party"] == ["hung up by: expected 'engine', got 'caller'"]


def test_an_unknown_party_is_a_load_error_naming_the_case(tmp_path: Path) -> None:
    path = write_case_file(
        tmp_path,
        """cases:
  - name: first
  - name: Typo in who hung up
    expect: {hangup_by: operator}
""",
    )
    with pytest.raises(ScenarioError) as caught:
        load_case_file(path)
    [problem] = caught.value.problems
    assert problem.path == "cases[1].expect.hangup_by"
    assert problem.message.startswith("case 'Typo in who hung up': \"operator\" should be 'caller'")
    assert str(caught.value).startswith(f"{path}: cases[1].expect.hangup_by: case 'Typo in who hung up'")


# ---- prompts_include ---------------------------------------------------------------------

MENU = {
    "schema": 1,
    "id": "menu",
    "nodes": [
        {"id": "start", "type": "start", "exits": {"next": "one"}},
        {"id": "one", "type": "say", "params": {"text": "Welcome to the shop"}, "exits": {"next": "two"}},
        {"id": "two", "type": "say", "params": {"text": "Press 1 for sales"}, "exits": {"next": "three"}},
        {"id": "three", "type": "say", "params": {"text": "Goodbye"}, "exits": {"next": "bye"}},
        {"id": "bye", "type": "hangup"},
    ],
}


@pytest.mark.parametrize(
    ("wanted", "passes"),
    [
        (["Welcome", "Goodbye"], True),  # others may come between
        (["shop", "sales"], True),  # a part of a prompt is enough
        (["Goodbye", "Welcome"], False),  # in the order played
        (["Welcome", "shop"], False),  # each prompt counts once
        (["welcome"], False),  # letter case counts
        (["Press 1 for sales and more"], False),  # the text must lie within one prompt
        ([], True),
    ],
)
def test_prompts_include_means_substrings_of_distinct_prompts_in_order(
    tmp_path: Path, wanted: list[str], passes: bool
) -> None:
    path = write_case_file(
        tmp_path, f"cases:\n  - name: c\n    expect: {{prompts_include: {json.dumps(wanted)}}}\n", MENU
    )
    [failures] = outcome(path).values()
    assert (failures == []) is passes
    if not passes:
        assert failures == [
            f"prompts: expected to include {wanted} in order, got "
            "['Welcome to the shop', 'Press 1 for sales', 'Goodbye']"
        ]


# ---- load errors and old files -------------------------------------------------------------


def test_load_errors_name_the_tests_file_and_every_case(tmp_path: Path) -> None:
    path = write_case_file(
        tmp_path,
        """cases:
  - name: Moscow number
    expect: {path_include: [start]}
  - name: Bad answer
    http: [{url: "https://crm.example.com/*", status: 999}]
""",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "flowengine.cli", "test", str(path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr + proc.stdout
    out = proc.stdout
    assert f"{path}: 2 problems in tests file" in out
    assert "cases[0].expect.path_include: case 'Moscow number': unknown field" in out
    assert "cases[1].http[0].status: case 'Bad answer': 999 should be less than or equal to 599" in out


def test_a_tests_file_from_before_the_additions_still_runs(tmp_path: Path) -> None:
    """No `http`, no `hangup_by`, flat events_include: as the examples were written."""
    path = write_case_file(
        tmp_path,
        """cases:
  - name: old style
    steps: [{wait: 1}]
    expect:
      path_includes: [start, hello]
      events_include: [{event: call_hung_up, by: engine}]
""",
        {
            "schema": 1,
            "id": "hi",
            "nodes": [
                {"id": "start", "type": "start", "exits": {"next": "hello"}},
                {"id": "hello", "type": "say", "params": {"text": "Hi"}, "exits": {"next": "bye"}},
                {"id": "bye", "type": "hangup"},
            ],
        },
    )
    assert outcome(path) == {"old style": []}
    examples = sorted((REPO / "examples").glob("*.tests.yaml"))
    assert examples
    for case_file in examples:
        assert all(r.passed for r in run_case_file(case_file)), case_file


def test_the_http_example_in_the_docs_runs_and_passes(tmp_path: Path) -> None:
    text = (REPO / "docs" / "testing-scenarios.md").read_text(encoding="utf-8")
    section = text[text.index("## HTTP requests and webhooks") :]
    block = section[section.index("```yaml\n") + 8 : section.index("\n```", section.index("```yaml"))]
    (tmp_path / "crm_lookup.json").write_text((REPO / "examples" / "crm_lookup.json").read_text())
    path = tmp_path / "crm_lookup.tests.yaml"
    path.write_text(block + "\n")
    results = run_case_file(path)
    assert [r.name for r in results] == [
        "A known client is greeted by name",
        "The CRM is down",
        "The CRM is slow",
        "The CRM refuses the connection",
    ]
    assert [(r.name, r.failures, r.error) for r in results if not r.passed] == []
