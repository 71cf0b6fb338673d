"""The editor's test console over the API: a test call at a chosen time of
day, driven by hand, then saved as a scenario test case that `flowengine
test` replays to the same path."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import yaml

from flowengine.testing.cases import run_case_file

V1 = "/api/v1"


def events_until(api: Any, call_id: str, name: str, timeout: float = 30) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = api.call("GET", f"{V1}/calls/{call_id}/events", role="supervisor").json()["events"]
        if any(e["event"] == name for e in events):
            return list(events)
        time.sleep(0.05)
    raise AssertionError(f"no {name} in call {call_id}")


def path_of(events: list[dict[str, Any]]) -> list[str]:
    return [e["node_id"] for e in events if e["event"] == "node_entered"]


def replay(api: Any, tmp_path: Path, call_id: str, name: str | None = None) -> tuple[dict[str, Any], list[Any]]:
    """Saves the call as a test case beside its scenario and runs the case."""
    body = {"name": name} if name else {}
    r = api.call("POST", f"{V1}/calls/{call_id}/test-case", role="supervisor", json=body)
    assert r.status_code == 200, r.text
    case = r.json()
    scenario = api.call("GET", f"{V1}/scenarios/{case['scenario_id']}/export").json()
    (tmp_path / f"{case['scenario_id']}.json").write_text(json.dumps(scenario, ensure_ascii=False), encoding="utf-8")
    tests = tmp_path / case["file_name"]
    tests.write_text(case["content"], encoding="utf-8")
    assert yaml.safe_load(case["content"]) == case["case_file"]
    return case, run_case_file(tests)


def test_a_call_at_night_finds_the_office_closed_and_replays_as_a_case(api: Any, tmp_path: Path) -> None:
    # Monday 22:00 without an offset: the time zone of the scenario it routes to (Moscow)
    r = api.call("POST", f"{V1}/calls", role="supervisor",
                 json={"called": "+74957770000", "caller": "+79031112233", "at": "2026-11-23T22:00:00"})
    assert r.status_code == 201, r.text
    call_id = r.json()["call_id"]
    events = events_until(api, call_id, "prompt_played")
    assert path_of(events)[:3] == ["start", "hours", "closed_message"]
    assert api.call("POST", f"{V1}/calls/{call_id}/test-case", role="supervisor", json={}).status_code == 409
    api.call("POST", f"{V1}/calls/{call_id}/hangup", role="supervisor")
    events = events_until(api, call_id, "call_ended")

    case, results = replay(api, tmp_path, call_id, name="closed at night")
    written = case["case_file"]["cases"][0]
    assert written["name"] == "closed at night"
    assert written["at"] == "2026-11-23T22:00:00+03:00"
    assert written["steps"][-1] == {"hangup": True}
    assert written["expect"]["path"] == path_of(events)
    assert [r.failures for r in results] == [[]] and results[0].error is None


def test_keys_pressed_during_a_prompt_replay_to_the_same_path(api: Any, tmp_path: Path) -> None:
    r = api.call("POST", f"{V1}/calls", role="supervisor", json={"called": "+74951230001"})
    call_id = r.json()["call_id"]
    events_until(api, call_id, "prompt_played")  # the Moscow menu is speaking: barge in
    api.call("POST", f"{V1}/calls/{call_id}/digits", role="supervisor", json={"digits": "2"})
    events = events_until(api, call_id, "call_ended")
    assert "moscow_service" in path_of(events)

    case, results = replay(api, tmp_path, call_id)
    steps = case["case_file"]["cases"][0]["steps"]
    assert [s for s in steps if "press" in s] == [{"press": "2"}]
    assert results[0].passed, (results[0].failures, results[0].error)

    # the replay really checks: a different key fails the saved expectations
    tests = tmp_path / case["file_name"]
    tests.write_text(case["content"].replace("press: '2'", "press: '1'"), encoding="utf-8")
    assert not run_case_file(tests)[0].passed


def test_a_refused_call_or_an_unknown_one_is_no_test_case(api: Any) -> None:
    r = api.call("PUT", f"{V1}/routing/default", json={"scenario_id": None})
    assert r.status_code == 200, r.text
    call_id = api.call("POST", f"{V1}/calls", role="supervisor", json={"called": "+10000000000"}).json()["call_id"]
    events_until(api, call_id, "call_ended")
    r = api.call("POST", f"{V1}/calls/{call_id}/test-case", role="supervisor", json={})
    assert r.status_code == 409 and "no scenario" in r.json()["detail"]
    assert api.call("POST", f"{V1}/calls/nope-1/test-case", role="supervisor", json={}).status_code == 404
    assert api.call("POST", f"{V1}/calls/{call_id}/test-case", role="operator", json={}).status_code == 403


def test_a_time_out_of_range_names_the_field(api: Any) -> None:
    r = api.call("POST", f"{V1}/calls", role="supervisor", json={"called": "+74957770000", "at": "0001-01-01T00:00:00+00:00"})
    assert r.status_code == 422
    assert any(e.get("path") == "body.at" for e in r.json()["errors"])
