"""The examples run as they are: they validate cleanly and their test cases pass."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowengine.cli import main
from flowengine.scenario.loader import load_scenario_file
from flowengine.validation import validate_files

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
#: examples beside the example centre, and in folders of their own with their own centre
SCENARIOS = sorted(p for p in EXAMPLES.rglob("*.json"))


def test_there_are_examples() -> None:
    names = {p.name for p in SCENARIOS}
    assert {"per_number_ivr.json", "office_hours.json"} <= names


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_example_validates_without_findings(path: Path) -> None:
    problems = validate_files([path])[str(path)]
    assert problems == []


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_example_round_trips(path: Path) -> None:
    first = load_scenario_file(path).doc.dump()
    assert first == json.loads(path.read_text(encoding="utf-8"))


def test_example_test_cases_pass(capsys: pytest.CaptureFixture[str]) -> None:
    folders = [EXAMPLES, *sorted(p for p in EXAMPLES.iterdir() if p.is_dir())]
    assert main(["test", *map(str, folders)]) == 0
    out = capsys.readouterr().out
    assert " 0 failed" in out
    assert "FAILED" not in out


def test_a_wrong_expectation_fails_the_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = tmp_path / "ivr.tests.yaml"
    (tmp_path / "ivr.json").write_text((EXAMPLES / "per_number_ivr.json").read_text(encoding="utf-8"), encoding="utf-8")
    cases.write_text(
        "scenario: ivr.json\n"
        "cases:\n"
        "  - name: Moscow goes to St Petersburg (wrong on purpose)\n"
        "    called: '+74951230001'\n"
        "    steps: [{input: '1'}]\n"
        "    expect: {exits: {menu_by_number: spb}, variables: {CHOICE: '2'}}\n",
        encoding="utf-8",
    )
    assert main(["test", str(cases)]) == 1
    out = capsys.readouterr().out
    assert "0 passed, 1 failed" in out
    assert "exit of 'menu_by_number': expected 'spb', got 'moscow'" in out
    assert "variable CHOICE: expected '2', got '1'" in out


def test_validate_says_when_queue_names_went_unchecked(capsys: pytest.CaptureFixture[str]) -> None:
    call_centre = str(EXAMPLES / "call_centre.json")
    assert main(["validate", call_centre]) == 0
    assert "pass --centre FILE" in capsys.readouterr().out
    assert main(["validate", "--centre", str(EXAMPLES / "centre.yaml"), call_centre]) == 0
    assert "pass --centre" not in capsys.readouterr().out


def test_run_with_a_centre_reports_each_operators_time_in_status_and_state(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(
        ["run", str(EXAMPLES / "call_centre.json"), "--centre", str(EXAMPLES / "centre.yaml"),
         "--input", "1", "--status", "902=break:lunch", "--talk", "45", "--json"]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    ops = {op["id"]: op for op in data["operators"]}
    took = data["variables"]["OPERATOR"]
    assert ops[took]["answered"] == 1 and ops[took]["time"]["talking"] == 45
    assert ops[took]["state"] == "wrap_up"  # sales has 10 s of wrap-up after each call
    assert (ops["902"]["status"], ops["902"]["reason"]) == ("break", "lunch")
    assert ops["902"]["time"]["break"] == pytest.approx(data["duration"])
    assert "talking" not in ops["902"]["time"]
