"""The desk's hold and transfer buttons: a real service (SQLite file, the
simulator), a caller talking with operator 901 (anna), who holds the caller
and hands them on; each operator acts only on their own call."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from flowengine.api import create_app
from tests.flowengine.api.conftest import Api, make_api, settings
from tests.flowengine.api.test_operator_desk import CALLER, NUMBER, desk_scenario, talking, wait_for

V1 = "/api/v1"
DESK = f"{V1}/operators/901/call"


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Api]:
    """Operators answer at once and talk for minutes; only 901 takes sales calls."""
    s = settings(tmp_path / "data")
    s.operator_talk_time = 300.0
    with TestClient(create_app(s)) as client:
        api = make_api(client)
        assert api.call("POST", f"{V1}/scenarios", json={"document": desk_scenario()}).status_code == 201
        assert api.call("POST", f"{V1}/scenarios/desk_test/publish", json={}).status_code == 201
        assert api.call("PUT", f"{V1}/routing/numbers/{NUMBER}", json={"scenario_id": "desk_test"}).status_code == 200
        for op in ("902", "903", "904", "905", "906", "907"):
            assert api.call("PUT", f"{V1}/operators/{op}/status", json={"status": "not_available"}).status_code == 200
        yield api


def call_in(api: Api) -> str:
    call_id = api.call("POST", f"{V1}/calls", role="supervisor", json={"called": NUMBER, "caller": CALLER}).json()["call_id"]
    wait_for(lambda: talking(api), "901 to talk")
    return str(call_id)


def events(api: Api, call_id: str, *names: str) -> list[dict[str, Any]]:
    got = api.call("GET", f"{V1}/calls/{call_id}/events", role="supervisor").json()["events"]
    return [e for e in got if e["event"] in names]


def state_of(api: Api, operator: str) -> str:
    return str(api.call("GET", f"{V1}/operators/{operator}/call", role="supervisor").json()["state"])


def test_the_operator_holds_the_caller_and_takes_them_off(desk: Api) -> None:
    api = desk
    call_id = call_in(api)
    r = api.call("POST", f"{DESK}/hold", role="operator", json={"held": True})
    assert r.status_code == 202, r.text
    assert r.json() == {"operator_id": "901", "call_id": call_id, "held": True}
    assert api.call("GET", DESK, role="operator").json()["held"] is True  # the panel shows it after a reload
    r = api.call("POST", f"{DESK}/hold", role="operator", json={"held": False})
    assert r.status_code == 202 and r.json()["held"] is False
    held = wait_for(lambda: (lambda e: e if len(e) == 2 else None)(events(api, call_id, "leg_held", "leg_unheld")), "both")
    assert [(e["event"], e["operator_id"]) for e in held] == [("leg_held", "901"), ("leg_unheld", "901")]
    assert held[1]["held_for"] >= 0
    assert state_of(api, "901") == "talking"  # the conversation goes on
    api.call("POST", f"{V1}/calls/{call_id}/hangup", role="supervisor")


def test_refused_targets_name_the_reason_and_keep_the_conversation(desk: Api) -> None:
    api = desk
    call_id = call_in(api)
    r = api.call("POST", f"{DESK}/transfer", role="operator", json={"target": "nobody"})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"] == [{"path": "body.target", "message": "is no operator, queue or number of this centre",
                                   "node_id": None, "code": "unknown_target"}]  # fmt: skip
    r = api.call("POST", f"{DESK}/transfer", role="operator", json={"target": "+78091234567"})  # premium: denied
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "dial_blocked"
    assert api.call("POST", f"{DESK}/transfer", role="operator", json={"target": ""}).status_code == 422
    assert state_of(api, "901") == "talking"
    refused = wait_for(lambda: (lambda e: e if len(e) == 2 else None)(events(api, call_id, "operator_transfer_refused")), "refusals")
    assert [e["reason"] for e in refused] == ["unknown_target", "dial_blocked"]
    api.call("POST", f"{V1}/calls/{call_id}/hangup", role="supervisor")


def test_the_operator_hands_the_caller_to_another_operator(desk: Api) -> None:
    api = desk
    call_id = call_in(api)
    assert api.call("PUT", f"{V1}/operators/902/status", json={"status": "available"}).status_code == 200
    r = api.call("POST", f"{DESK}/transfer", role="operator", json={"target": "902"})
    assert r.status_code == 202, r.text
    assert r.json() == {"operator_id": "901", "call_id": call_id, "target": "902", "kind": "operator", "state": "accepted"}
    wait_for(lambda: state_of(api, "902") == "talking", "902 to talk")
    # 902's desk shows where the caller came from (sales), not 902's private queue
    assert api.call("GET", f"{V1}/operators/902/call", role="supervisor").json()["call"]["queue_id"] == "sales"
    assert state_of(api, "901") == "wrap_up"  # sales has 10 s of wrap-up
    ended = wait_for(lambda: events(api, call_id, "operator_transfer_ended"), "the transfer's end")
    assert [(e["operator_id"], e["kind"], e["outcome"], e["to_operator_id"]) for e in ended] == [
        ("901", "operator", "answered", "902")]
    # 901 is off the call: their desk has nothing to act on; 902 (via a supervisor) has
    r = api.call("POST", f"{DESK}/hold", role="operator", json={"held": True})
    assert r.status_code == 409 and r.json()["errors"][0]["code"] == "no_call"
    r = api.call("POST", f"{V1}/operators/902/call/hold", role="supervisor", json={"held": True})
    assert r.status_code == 202 and r.json() == {"operator_id": "902", "call_id": call_id, "held": True}
    api.call("POST", f"{V1}/calls/{call_id}/hangup", role="supervisor")


def test_an_operator_acts_only_on_their_own_call(desk: Api) -> None:
    api = desk
    call_id = call_in(api)
    r = api.call("POST", f"{V1}/operators/902/call/hold", role="operator", json={"held": True})
    assert r.status_code == 403 and "act only on their own call" in r.json()["detail"]
    r = api.call("POST", f"{V1}/operators/902/call/transfer", role="operator", json={"target": "903"})
    assert r.status_code == 403
    # a supervisor may, but 902 is on no call
    r = api.call("POST", f"{V1}/operators/902/call/transfer", role="supervisor", json={"target": "903"})
    assert r.status_code == 409 and r.json()["errors"][0]["code"] == "no_call"
    assert api.call("POST", f"{V1}/operators/999/call/hold", role="supervisor", json={"held": True}).status_code == 404
    assert api.call("POST", f"{DESK}/hold", role=None, json={"held": True}).status_code == 401
    r = api.call("POST", f"{DESK}/hold", role="operator", json={"held": "maybe"})
    assert r.status_code == 422
    assert state_of(api, "901") == "talking"
    api.call("POST", f"{V1}/calls/{call_id}/hangup", role="supervisor")
