"""Versions while calls run, two editors at once, and schedules."""

from __future__ import annotations

import threading
import time
from typing import Any

V1 = "/api/v1"


def waiting_scenario(prompt: str) -> dict[str, Any]:
    """Answers, says `prompt`, then waits up to a minute for a digit."""
    return {
        "schema": 1, "id": "slow", "timezone": "Europe/Moscow", "language": "ru",
        "nodes": [
            {"id": "start", "type": "start", "exits": {"next": "ask"}},
            {"id": "ask", "type": "gather",
             "params": {"prompt": prompt, "options": [{"digits": "1", "exit": "one"}], "first_timeout": 60, "retries": 0},
             "exits": {"one": "bye", "timeout": "bye", "invalid": "bye"}},
            {"id": "bye", "type": "hangup"},
        ],
    }


def trace(api: Any, call_id: str) -> list[dict[str, Any]]:
    return list(api.call("GET", f"{V1}/calls/{call_id}/events", role="supervisor").json()["events"])


def wait_for(api: Any, call_id: str, name: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        events = trace(api, call_id)
        if any(e["event"] == name for e in events):
            return events
        time.sleep(0.05)
    raise AssertionError(f"no {name} in call {call_id}")


def test_calls_in_flight_keep_their_version(api: Any) -> None:
    r = api.call("POST", f"{V1}/scenarios/import", json={"scenarios": [waiting_scenario("один")]})
    assert r.status_code == 200, r.text
    api.call("PUT", f"{V1}/routing/numbers/+74950000777", json={"scenario_id": "slow"})
    first = api.call("POST", f"{V1}/calls", role="supervisor", json={"called": "+74950000777"}).json()["call_id"]
    wait_for(api, first, "prompt_played")
    draft = api.call("GET", f"{V1}/scenarios/slow").json()
    api.call("PUT", f"{V1}/scenarios/slow", json={"revision": draft["revision"], "document": waiting_scenario("два")})
    assert api.call("POST", f"{V1}/scenarios/slow/publish", json={}).json()["version"] == 2
    second = api.call("POST", f"{V1}/calls", role="supervisor", json={"called": "+74950000777"}).json()["call_id"]
    wait_for(api, second, "prompt_played")
    for call_id in (first, second):
        api.call("POST", f"{V1}/calls/{call_id}/digits", role="supervisor", json={"digits": "1"})
    ended = [wait_for(api, c, "call_ended") for c in (first, second)]
    assert [e[0]["scenario_version"] for e in ended] == [1, 2]
    prompts = [[x["text"] for x in e if x["event"] == "prompt_played"] for e in ended]
    assert prompts == [["один"], ["два"]]


def test_two_editors_saving_one_revision_one_wins(api: Any) -> None:
    api.call("POST", f"{V1}/scenarios", json={"document": waiting_scenario("v1")})
    results: list[int] = []

    def save(text: str) -> None:
        r = api.call("PUT", f"{V1}/scenarios/slow", json={"revision": 1, "document": waiting_scenario(text)})
        results.append(r.status_code)

    threads = [threading.Thread(target=save, args=(f"editor {i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 409]
    stored = api.call("GET", f"{V1}/scenarios/slow").json()
    assert stored["revision"] == 2
    assert stored["document"]["nodes"][1]["params"]["prompt"] in ("editor 0", "editor 1")


def test_schedules_are_checked_stored_and_listed(api: Any) -> None:
    spec = {"timezone": "Europe/Moscow", "weekly": {"mon": ["09:00-18:00"]}, "holidays": ["2026-05-09"]}
    r = api.call("PUT", f"{V1}/schedules/office", json={"name": "Офис", "spec": spec})
    assert r.status_code == 200, r.text
    assert r.json()["spec"]["weekly"] == {"mon": ["09:00-18:00"]}
    assert [s["id"] for s in api.call("GET", f"{V1}/schedules", role="operator").json()] == ["office"]
    r = api.call("PUT", f"{V1}/schedules/bad", json={"spec": {"timezone": "Mars/Olympus"}})
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "body.spec.timezone"
    assert api.call("PUT", f"{V1}/schedules/x", role="supervisor", json={"spec": spec}).status_code == 403
    assert api.call("DELETE", f"{V1}/schedules/office").status_code == 204
    assert api.call("GET", f"{V1}/schedules/office").status_code == 404
