"""`flowengine run`: one simulated call, its trace as text or JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from scenario_builders import PER_NUMBER_IVR, REPO

from flowengine.cli import main

NUMBERS = {
    "+74951230001": ("moscow_menu", "moscow_sales", "Московский офис"),
    "+78125550002": ("spb_menu", "spb_sales", "Офис в Санкт-Петербурге"),
    "+78005553535": ("hotline_menu", "hotline_orders", "Federal hotline"),
}
HEAD = ["start", "remember_number", "log_number", "menu_by_number"]


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["run", str(PER_NUMBER_IVR), *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_example_declares_the_three_numbers() -> None:
    data = json.loads(PER_NUMBER_IVR.read_text(encoding="utf-8"))
    assert sorted(data["numbers"]) == sorted(NUMBERS)


@pytest.mark.parametrize("number", sorted(NUMBERS))
def test_each_number_reaches_its_own_menu(capsys: pytest.CaptureFixture[str], number: str) -> None:
    menu, chosen, greeting = NUMBERS[number]
    out = run_json(capsys, "--called", number, "--input", "1")
    assert {"path", "exits", "prompts", "variables", "hangup_cause"} <= set(out)
    assert out["path"] == [*HEAD, menu, chosen, "goodbye"]
    assert {"node": "menu_by_number", "exit": menu.split("_")[0]} in out["exits"]
    assert out["prompts"][0].startswith(greeting)
    assert out["variables"] == {"CALLEDID": number, "CHOICE": "1"}
    assert out["hangup_cause"] == "normal"


def test_unknown_number_takes_the_other_branch(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_json(capsys, "--called", "+70000000000", "--input", "1")
    assert out["path"] == [*HEAD, "not_in_service", "goodbye"]
    assert {"node": "menu_by_number", "exit": "other"} in out["exits"]
    assert out["prompts"] == ["Номер +70000000000 не обслуживается. The number you dialled is not in service."]
    assert out["variables"]["CALLEDID"] == "+70000000000"


def test_called_defaults_to_the_first_number(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_json(capsys, "--input", "2")
    assert out["variables"]["CALLEDID"] == "+74951230001"
    assert out["path"][-2] == "moscow_service"


def test_second_option_and_silence(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_json(capsys, "--called", "+78125550002", "--input", "2")
    assert out["path"][-2] == "spb_delivery"
    silent = run_json(capsys, "--called", "+78125550002")
    assert silent["path"] == [*HEAD, "spb_menu", "goodbye"]
    assert silent["prompts"][1] == "Мы не услышали ваш выбор."
    assert {"node": "spb_menu", "exit": "timeout"} in silent["exits"]


def test_json_with_events_carries_the_full_stream(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_json(capsys, "--called", "+78005553535", "--input", "2", "--events", "--at", "2026-11-23T10:00+03:00")
    kinds = [e["event"] for e in out["events"]]
    assert kinds[0] == "call_started" and kinds[-1] == "call_ended"
    assert out["events"][0]["wall"] == "2026-11-23T10:00:00+03:00"
    assert any(e["event"] == "notified" and "+78005553535" in e["message"] for e in out["events"])


def test_text_trace(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(PER_NUMBER_IVR), "--called", "+74951230001", "--input", "2"]) == 0
    text = capsys.readouterr().out
    assert "moscow_service (say)" in text and "digits: \"2\"" in text
    assert "ended: normal" in text


def test_broken_file_exits_1_with_the_place(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"schema": 1, "id": "b", "nodes": [{"id": "s", "type": "start", "exits": {"next": "x"}},'
                      ' {"id": "x", "type": "say", "params": {"text": "{1 +}"}}]}', encoding="utf-8")
    assert main(["run", str(broken), "--json"]) == 1
    err = capsys.readouterr().err
    assert "nodes[1].params.text" in err and "node 'x'" in err and "column" in err


def test_module_entry_point_runs_as_a_program() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "flowengine.cli", "run", str(PER_NUMBER_IVR), "--called", "+78005553535", "--input", "2", "--json"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["path"][-2:] == ["hotline_complaints", "goodbye"]


# ---- hostile input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--input", "x"], "argument --input: 'x' is not DTMF digits"),
        (["--input", ""], "argument --input"),
        (["--hangup-after", "nan"], "argument --hangup-after: 'nan' is not a finite number"),
        (["--hangup-after", "-1"], "argument --hangup-after: -1 is out of range"),
        (["--hangup-after", "1e300"], "argument --hangup-after"),
        (["--hangup-after", "soon"], "argument --hangup-after: 'soon' is not a number"),
        (["--at", "9999-12-31T23:59:59-05:00"], "argument --at: '9999-12-31T23:59:59-05:00' is out of range"),
        (["--at", "9999-12-31T23:59:59+00:00"], "argument --at"),
        (["--talk", "inf"], "argument --talk"),
    ],
)
def test_bad_options_are_clear_errors_naming_the_option(
    capsys: pytest.CaptureFixture[str], args: list[str], words: str
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["run", str(PER_NUMBER_IVR), *args])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def write_scenario(path: Any, nodes: list[dict[str, Any]], **extra: Any) -> Any:
    path.write_text(json.dumps({"schema": 1, "id": "t", "nodes": nodes, **extra}), encoding="utf-8")
    return path


def test_a_300_character_time_zone_is_a_load_error(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    file = write_scenario(
        tmp_path / "tz.json",
        [{"id": "s", "type": "start", "exits": {"next": "bye"}}, {"id": "bye", "type": "hangup"}],
        timezone="Europe/" + "x" * 300,
    )
    assert main(["run", str(file)]) == 1
    err = capsys.readouterr().err
    assert "unknown time zone" in err and "timezone" in err and len(err) < 400


def test_events_out_creates_its_directory_or_says_why_not(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "new" / "dir" / "events.jsonl"
    assert main(["run", str(PER_NUMBER_IVR), "--events-out", str(target)]) == 0
    assert target.read_text(encoding="utf-8").count("\n") > 5
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["run", str(PER_NUMBER_IVR), "--events-out", str(blocker / "events.jsonl")]) == 1
    assert "--events-out: cannot write" in capsys.readouterr().err


def test_run_exits_1_when_the_call_ends_on_an_unhandled_error(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    file = write_scenario(
        tmp_path / "fails.json",
        [
            {"id": "s", "type": "start", "exits": {"next": "a"}},
            {"id": "a", "type": "assign", "params": {"assignments": [{"variable": "X", "value": "1 / 0"}]}},
        ],
        variables=[{"name": "X", "default": 0}],
    )
    assert main(["run", str(file), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["hangup_cause"] == "error"


def test_lone_surrogates_never_crash_the_output_nor_cut_the_event_file(tmp_path: Any) -> None:
    # Documents with lone surrogates are refused when they load; at run time
    # they still arrive from outside: here a --say argument that is not UTF-8
    # (Python decodes argv with surrogateescape), heard by Recognize.
    file = write_scenario(
        tmp_path / "odd.json",
        [
            {"id": "s", "type": "start", "exits": {"next": "listen"}},
            {"id": "listen", "type": "recognize", "params": {"variable": "ODD", "retries": 0},
             "exits": {"done": "say", "timeout": "bye"}},
            {"id": "say", "type": "say", "params": {"text": "odd {ODD}"}, "exits": {"next": "bye"}},
            {"id": "bye", "type": "hangup"},
        ],
        variables=[{"name": "ODD", "default": ""}],
    )
    events_file = tmp_path / "events.jsonl"
    for extra in ([], [b"--json", b"--events"]):
        done = subprocess.run(
            [sys.executable.encode(), b"-m", b"flowengine.cli", b"run", str(file).encode(), b"--say", b"a\xffb",
             b"--events-out", str(events_file).encode(), *extra],
            capture_output=True,
            cwd=REPO,
            timeout=60,
            env={**__import__("os").environ, "PYTHONIOENCODING": "utf-8:strict"},
        )
        assert done.returncode == 0, done.stderr.decode()
        out = done.stdout.decode("utf-8")  # valid UTF-8
        assert "Traceback" not in done.stderr.decode()
        if extra:
            assert json.loads(out)["variables"]["ODD"] == "a\udcffb"
        else:
            assert "odd a\\udcffb" in out
    lines = events_file.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["event"] for line in lines].count("call_ended") == 2


def test_a_tests_file_with_a_lone_surrogate_is_a_clean_load_error(tmp_path: Any) -> None:
    write_scenario(
        tmp_path / "odd.json",
        [{"id": "s", "type": "start", "exits": {"next": "bye"}}, {"id": "bye", "type": "hangup"}],
    )
    (tmp_path / "odd.tests.json").write_text(
        json.dumps({"scenario": "odd.json", "cases": [{"name": "odd \ud800 case", "expect": {}}]}),
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "flowengine.cli", "test", str(tmp_path)],
        capture_output=True,
        cwd=REPO,
        timeout=60,
        env={**__import__("os").environ, "PYTHONIOENCODING": "utf-8:strict"},
    )
    out, err = done.stdout.decode("utf-8"), done.stderr.decode("utf-8")
    assert done.returncode == 1 and "Traceback" not in err, err
    assert "cases[0].name" in out and "surrogate" in out and "0 passed, 1 failed" in out


@pytest.mark.parametrize(
    "command",
    [
        ["schema", "--output"],
        ["export", "queue-log", str(REPO / "tests" / "data" / "events" / "v1_calls.jsonl"), "--output"],
        ["run", str(PER_NUMBER_IVR), "--events-out"],
    ],
    ids=["schema", "export", "run"],
)
def test_output_into_a_missing_directory_is_created_and_a_bad_one_named(
    tmp_path: Any, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    target = tmp_path / "not" / "yet" / "out.txt"
    assert main([*command, str(target)]) == 0
    assert target.stat().st_size > 0
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for bad, why in ((blocker / "out.txt", "is a file, not a folder"), (tmp_path, "Is a directory")):
        assert main([*command, str(bad)]) == 1
        err = capsys.readouterr().err
        assert "cannot write" in err and why in err and "Traceback" not in err


@pytest.mark.parametrize("at", ["9999-12-31T23:59:59-05:00", "9999-12-31T23:59:59+00:00", "1900-01-01T00:00:00+00:00"])
def test_a_tests_file_starting_calls_at_year_9999_is_a_clear_error(
    tmp_path: Any, capsys: pytest.CaptureFixture[str], at: str
) -> None:
    """The clock of a call that starts near year 9999 would overflow mid-call
    (hour() and schedules fail with Python's OverflowError): refused up front."""
    write_scenario(
        tmp_path / "late.json",
        [
            {"id": "s", "type": "start", "exits": {"next": "a"}},
            {"id": "a", "type": "say", "params": {"text": "hour {hour()}"}, "exits": {"next": "bye"}},
            {"id": "bye", "type": "hangup"},
        ],
    )
    tests = tmp_path / "late.tests.yaml"
    tests.write_text(f'scenario: late.json\ncases:\n  - name: late\n    at: "{at}"\n    expect: {{path_includes: [bye]}}\n')
    assert main(["test", str(tests)]) == 1
    err = capsys.readouterr().err
    assert "out of range" in err and "1970..2999" in err and "Overflow" not in err
