"""The API as an integrator uses it: import, bind, publish, roll back,
compare, test calls with traces and CDRs, statuses with each role's token."""

from __future__ import annotations

import copy
import time
from typing import Any

V1 = "/api/v1"


def hello(text: str = "Привет") -> dict[str, Any]:
    return {
        "schema": 1, "id": "hello", "name": "Hello", "timezone": "Europe/Moscow", "language": "ru",
        "nodes": [
            {"id": "start", "type": "start", "exits": {"next": "hi"}},
            {"id": "hi", "type": "say", "params": {"text": text}, "exits": {"next": "bye"}},
            {"id": "bye", "type": "hangup"},
        ],
    }


def with_thanks() -> dict[str, Any]:
    doc = hello()
    doc["nodes"][1]["exits"] = {"next": "thanks"}
    doc["nodes"].insert(2, {"id": "thanks", "type": "say", "params": {"text": "Спасибо"}, "exits": {"next": "bye"}})
    return doc


def wait_ended(api: Any, call_id: str, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = api.call("GET", f"{V1}/calls/{call_id}", role="supervisor").json()
        if not body["live"] and body["hangup_cause"]:
            return dict(body)
        time.sleep(0.1)
    raise AssertionError(f"call {call_id} did not end within {timeout} s")


def test_scenario_lifecycle_routing_and_test_call(api: Any) -> None:
    lifecycle(api)


def test_scenario_lifecycle_on_postgresql(api_pg: Any) -> None:
    lifecycle(api_pg)


def lifecycle(api: Any) -> None:
    # import one scenario as a draft (not published yet)
    r = api.call("POST", f"{V1}/scenarios/import", json={"scenarios": [hello()], "publish": False})
    assert r.status_code == 200, r.text
    assert r.json()["scenarios"] == [{"id": "hello", "revision": 1, "version": None}]

    # a number cannot be bound to a scenario that was never published
    r = api.call("PUT", f"{V1}/routing/numbers/+74950000001", json={"scenario_id": "hello"})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["path"] == "body.scenario_id"

    r = api.call("POST", f"{V1}/scenarios/hello/publish", json={"comment": "first"})
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 1 and r.json()["author"] == "admin"

    # the draft moves on; a save based on an old revision is refused and changes nothing
    r = api.call("PUT", f"{V1}/scenarios/hello", json={"revision": 1, "document": with_thanks()})
    assert r.status_code == 200 and r.json()["revision"] == 2
    r = api.call("PUT", f"{V1}/scenarios/hello", json={"revision": 1, "document": hello("lost update")})
    assert r.status_code == 409
    assert r.json()["errors"][0]["path"] == "body.revision"
    assert api.call("GET", f"{V1}/scenarios/hello").json()["document"] == with_thanks()

    r = api.call("POST", f"{V1}/scenarios/hello/publish", json={"comment": "thanks node", "revision": 2})
    assert r.json()["version"] == 2

    diff = api.call("GET", f"{V1}/scenarios/hello/compare", params={"from": 1, "to": 2}).json()
    assert diff["nodes_added"] == ["thanks"] and diff["nodes_removed"] == []
    assert diff["exits_changed"] == [{"node_id": "hi", "exit": "next", "from": "bye", "to": "thanks"}]
    assert {"node_id": "thanks", "exit": "next", "to": "bye", "from": None} in diff["exits_added"]

    r = api.call("POST", f"{V1}/scenarios/hello/rollback", json={"version": 1, "comment": "back"})
    assert r.status_code == 201 and r.json()["version"] == 3
    versions = api.call("GET", f"{V1}/scenarios/hello/versions").json()
    assert [(v["version"], v["comment"]) for v in versions] == [(1, "first"), (2, "thanks node"), (3, "back")]
    v3 = api.call("GET", f"{V1}/scenarios/hello/versions/3").json()["document"]
    assert [(n["id"], n.get("exits")) for n in v3["nodes"]] == [(n["id"], n.get("exits")) for n in hello()["nodes"]]

    # bind a number and a line that sends national numbers
    r = api.call("PUT", f"{V1}/routing/numbers/+74950000001", json={"scenario_id": "hello"})
    assert r.status_code == 200, r.text
    r = api.call("PUT", f"{V1}/routing/lines/trunk-9", json={"called": ["8XXXXXXXXXX -> +7XXXXXXXXXX"]})
    assert r.status_code == 200, r.text
    where = api.call("GET", f"{V1}/routing/resolve", params={"called": "84950000001", "line": "trunk-9"}).json()
    assert where["called_normalised"] == "+74950000001"
    assert (where["scenario_id"], where["version"], where["via"]) == ("hello", 3, "number")
    assert "bound to 'hello'" in where["reason"]

    # a test call on that line runs version 3 (v1's content: no "thanks")
    r = api.call("POST", f"{V1}/calls", role="supervisor", json={"called": "84950000001", "line": "trunk-9"})
    assert r.status_code == 201, r.text
    call_id = r.json()["call_id"]
    assert r.json()["scenario_version"] == 3
    ended = wait_ended(api, call_id)
    assert ended["hangup_cause"] == "normal"
    trace = api.call("GET", f"{V1}/calls/{call_id}/events", role="supervisor").json()
    names = [e["event"] for e in trace["events"]]
    assert names[0] == "call_started" and names[-1] == "call_ended" and trace["ended"]
    prompts = [e["text"] for e in trace["events"] if e["event"] == "prompt_played"]
    assert prompts == ["Привет"]
    # resumable: only what follows the seq given
    later = api.call("GET", f"{V1}/calls/{call_id}/events", role="supervisor", params={"from_seq": 3}).json()
    assert [e["seq"] for e in later["events"]] == [e["seq"] for e in trace["events"] if e["seq"] > 3]

    cdr = api.call("GET", f"{V1}/calls/{call_id}/cdr", role="supervisor").json()
    assert (cdr["scenario_id"], cdr["scenario_version"], cdr["called"]) == ("hello", 3, "+74950000001")
    assert cdr["hangup_cause"] == "normal" and cdr["duration"] > 0 and cdr["events"] == len(names)
    assert call_id in [c["call_id"] for c in api.call("GET", f"{V1}/cdrs", role="supervisor").json()]

    # deleting a bound scenario is refused; unbound, it goes
    r = api.call("DELETE", f"{V1}/scenarios/hello")
    assert r.status_code == 409 and "unbind" in r.json()["detail"]
    assert api.call("DELETE", f"{V1}/routing/numbers/+74950000001").status_code == 204
    assert api.call("DELETE", f"{V1}/scenarios/hello").status_code == 204
    assert api.call("GET", f"{V1}/scenarios/hello").status_code == 404


def test_test_call_driven_by_digits_and_hangup(api: Any) -> None:
    """The example per-number IVR: the Moscow menu takes a digit from the API."""
    r = api.call("POST", f"{V1}/calls", role="supervisor", json={"called": "+74951230001"})
    call_id = r.json()["call_id"]
    assert r.json()["scenario_id"] == "per_number_ivr"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # the menu's prompt is being played
        events = api.call("GET", f"{V1}/calls/{call_id}/events", role="supervisor").json()["events"]
        if any(e["event"] == "prompt_played" for e in events):
            break
        time.sleep(0.05)
    assert api.call("POST", f"{V1}/calls/{call_id}/digits", role="supervisor", json={"digits": "1"}).status_code == 200
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        events = api.call("GET", f"{V1}/calls/{call_id}/events", role="supervisor").json()["events"]
        if any(e["event"] == "digits_received" for e in events):
            break
        time.sleep(0.05)
    digits = [e["digits"] for e in events if e["event"] == "digits_received"]
    assert digits == ["1"]
    live = api.call("GET", f"{V1}/calls", role="supervisor").json()
    if any(c["call_id"] == call_id for c in live):
        api.call("POST", f"{V1}/calls/{call_id}/hangup", role="supervisor")
    ended = wait_ended(api, call_id)
    assert ended["hangup_cause"] is not None
    # an ended call takes no more digits
    r = api.call("POST", f"{V1}/calls/{call_id}/digits", role="supervisor", json={"digits": "2"})
    assert r.status_code == 409


def test_bundle_import_is_all_or_nothing(api: Any) -> None:
    good = copy.deepcopy(hello())
    good["id"] = "good_one"
    broken = copy.deepcopy(hello())
    broken["id"] = "broken_one"
    broken["nodes"][1]["exits"] = {"next": "nowhere"}
    r = api.call("POST", f"{V1}/scenarios/import", json={"scenarios": [good, broken]})
    assert r.status_code == 422
    body = r.json()
    assert body["status"] == 422 and body["detail"].startswith("nothing imported")
    assert any(e["path"].startswith("body.scenarios[1].nodes[1]") and e["node_id"] == "hi" for e in body["errors"])
    assert api.call("GET", f"{V1}/scenarios/good_one").status_code == 404
    # export a bundle and import it again: nothing changes, no new versions
    bundle = api.call("GET", f"{V1}/scenarios/export", params={"ids": ["per_number_ivr"]}).json()
    r = api.call("POST", f"{V1}/scenarios/import", json={"scenarios": bundle["scenarios"]})
    assert r.status_code == 200 and r.json()["scenarios"][0]["version"] == 1


def test_validation_findings_name_json_paths(api: Any) -> None:
    doc = hello()
    doc["nodes"][1]["exits"] = {"next": "nowhere"}
    assert api.call("POST", f"{V1}/scenarios", json={"document": doc}).status_code == 201
    report = api.call("POST", f"{V1}/scenarios/hello/validate", role="supervisor").json()
    assert report["valid"] is False and report["errors"] >= 1
    assert any(f["path"] == "nodes[1].exits.next" and f["node_id"] == "hi" for f in report["findings"])
    r = api.call("POST", f"{V1}/scenarios/hello/publish", json={})
    assert r.status_code == 422
    assert any(e["path"] == "document.nodes[1].exits.next" for e in r.json()["errors"])
    assert api.call("GET", f"{V1}/scenarios/hello/versions").json() == []
