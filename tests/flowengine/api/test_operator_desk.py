"""The operator's desk: the call an operator is on, with its screen pop (the
scenario's variables, Notify screen messages, the caller's earlier calls),
the calls of the day, and the statuses to choose from; each operator sees
only their own."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from flowengine.api import create_app
from tests.flowengine.api.conftest import Api, make_api, settings

V1 = "/api/v1"
NUMBER = "+74950000777"
CALLER = "+79990001122"


def desk_scenario() -> dict[str, Any]:
    """Straight into the sales queue, with a variable and a screen pop on the way."""
    return {
        "schema": 1, "id": "desk_test", "timezone": "Europe/Moscow", "language": "ru",
        "variables": [{"name": "CLIENT", "default": ""}],
        "nodes": [
            {"id": "start", "type": "start", "exits": {"next": "who"}},
            {"id": "who", "type": "assign",
             "params": {"assignments": [{"variable": "CLIENT", "value": "'Ромашка ' + callerid()"}]},
             "exits": {"next": "pop"}},
            {"id": "pop", "type": "notify", "params": {"channel": "screen", "message": "Клиент {CLIENT}", "target": "sales"},
             "exits": {"next": "q"}},
            {"id": "q", "type": "queue", "params": {"queue": "sales"},
             "exits": {"answered": "bye", "timeout": "bye", "full": "bye", "no_operators": "bye", "callback": "bye"}},
            {"id": "bye", "type": "hangup"},
        ],
    }


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Api]:
    """Operators answer at once and talk long, so a call stays on the desk."""
    s = settings(tmp_path / "data")
    s.operator_talk_time = 60.0
    with TestClient(create_app(s)) as client:
        api = make_api(client)
        assert api.call("POST", f"{V1}/scenarios", json={"document": desk_scenario()}).status_code == 201
        assert api.call("POST", f"{V1}/scenarios/desk_test/publish", json={}).status_code == 201
        assert api.call("PUT", f"{V1}/routing/numbers/{NUMBER}", json={"scenario_id": "desk_test"}).status_code == 200
        # only 901 (anna) takes sales calls
        for op in ("902", "903", "904", "905", "906", "907"):
            assert api.call("PUT", f"{V1}/operators/{op}/status", json={"status": "not_available"}).status_code == 200
        yield api


def wait_for(check: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def talking(api: Api) -> dict[str, Any] | None:
    r = api.call("GET", f"{V1}/operators/901/call", role="operator")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body if body["state"] == "talking" and body["call"] else None


def test_the_operator_sees_the_call_with_its_screen_pop_and_the_callers_history(desk: Api) -> None:
    api = desk
    idle = api.call("GET", f"{V1}/operators/901/call", role="operator").json()
    assert idle["state"] == "idle" and idle["call"] is None

    first = api.call("POST", f"{V1}/calls", role="supervisor", json={"called": NUMBER, "caller": CALLER}).json()["call_id"]
    on = wait_for(lambda: talking(api), "901 to talk")
    call = on["call"]
    assert call["call_id"] == first
    assert (call["caller"], call["called"], call["queue_id"]) == (CALLER, NUMBER, "sales")
    assert call["variables"]["CLIENT"] == f"Ромашка {CALLER}"
    assert call["screen"] == [{"message": f"Клиент Ромашка {CALLER}", "target": "sales", "node_id": "pop"}]
    assert call["history"] == []  # the first call of this number
    assert call["wait"] is not None and call["wait"] >= 0

    api.call("POST", f"{V1}/calls/{first}/hangup", role="supervisor")
    wait_for(lambda: api.call("GET", f"{V1}/calls/{first}/cdr", role="supervisor").status_code == 200, "the CDR")

    # the calls of the day list it
    day = api.call("GET", f"{V1}/operators/901/calls", role="operator").json()
    assert [c["call_id"] for c in day] == [first]
    assert day[0]["operator_id"] == "901" and day[0]["result"] == "operator"

    # wrap-up over, the same caller calls again: the pop shows the first call
    second = api.call("POST", f"{V1}/calls", role="supervisor", json={"called": NUMBER, "caller": CALLER}).json()["call_id"]
    on = wait_for(lambda: (lambda b: b if b and b["call"]["call_id"] == second else None)(talking(api)), "the second call", 40)
    assert [h["call_id"] for h in on["call"]["history"]] == [first]
    api.call("POST", f"{V1}/calls/{second}/hangup", role="supervisor")


def test_an_operator_reads_only_their_own_desk(desk: Api) -> None:
    api = desk
    r = api.call("GET", f"{V1}/operators/902/call", role="operator")
    assert r.status_code == 403 and "901" in r.json()["detail"]
    assert api.call("GET", f"{V1}/operators/902/calls", role="operator").status_code == 403
    # supervisors read anyone's
    assert api.call("GET", f"{V1}/operators/902/call", role="supervisor").json()["state"] == "idle"
    assert api.call("GET", f"{V1}/operators/999/call", role="supervisor").status_code == 404
    r = api.call("GET", f"{V1}/operators/901/calls?day=yesterday", role="operator")
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "query.day"
    assert api.call("GET", f"{V1}/operators/901/call", role=None).status_code == 401


def test_statuses_to_choose_include_the_centres_own(desk: Api) -> None:
    statuses = {s["id"]: s for s in desk.call("GET", f"{V1}/statuses", role="operator").json()}
    assert {"available", "not_available", "break", "training", "backoffice"} <= set(statuses)
    assert statuses["break"]["name_ru"] == "Перерыв" and statuses["break"]["available"] is False
    assert statuses["training"]["name_ru"] == "Обучение" and statuses["training"]["builtin"] is False
    assert statuses["backoffice"]["available"] is True
