"""Centre changes reach the running ACD without a restart; a call through a
new queue is answered by a new operator and its CDR says so; metrics."""

from __future__ import annotations

import time
from typing import Any

V1 = "/api/v1"


def queue_scenario() -> dict[str, Any]:
    return {
        "schema": 1, "id": "helpdesk", "timezone": "Europe/Moscow", "language": "ru",
        "nodes": [
            {"id": "start", "type": "start", "exits": {"next": "q"}},
            {"id": "q", "type": "queue", "params": {"queue": "helpdesk"},
             "exits": {"answered": "bye", "timeout": "bye", "full": "bye", "no_operators": "bye", "callback": "bye"}},
            {"id": "bye", "type": "hangup"},
        ],
    }


def test_new_queue_and_operator_take_calls_without_restart(api: Any) -> None:
    # a scenario naming an unknown queue does not publish
    api.call("POST", f"{V1}/scenarios", json={"document": queue_scenario()})
    r = api.call("POST", f"{V1}/scenarios/helpdesk/publish", json={})
    assert r.status_code == 422 and "helpdesk" in r.json()["detail"] and r.json()["errors"][0]["path"] == "document.nodes[1].params"

    r = api.call("PUT", f"{V1}/operators/920", json={"name": "Олег", "extension": "920", "skills": {"it": 7}})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["skills"]) == ("available", {"it": 7})
    r = api.call("PUT", f"{V1}/queues/helpdesk", json={"name": "Helpdesk", "strategy": "ring_all", "members": ["920"]})
    assert r.status_code == 200, r.text
    assert (r.json()["id"], r.json()["available"]) == ("helpdesk", 1)
    # a bad queue names the field; nothing changes
    r = api.call("PUT", f"{V1}/queues/broken", json={"strategy": "no_such_strategy"})
    assert r.status_code == 422 and r.json()["errors"]
    assert "broken" not in [q["id"] for q in api.call("GET", f"{V1}/queues").json()]

    r = api.call("POST", f"{V1}/scenarios/helpdesk/publish", json={})
    assert r.status_code == 201, r.text
    assert api.call("PUT", f"{V1}/routing/numbers/+74950000920", json={"scenario_id": "helpdesk"}).status_code == 200
    call_id = api.call("POST", f"{V1}/calls", role="supervisor", json={"called": "+74950000920"}).json()["call_id"]
    deadline = time.monotonic() + 30
    cdr = None
    while time.monotonic() < deadline:
        r = api.call("GET", f"{V1}/calls/{call_id}/cdr", role="supervisor")
        if r.status_code == 200:
            cdr = r.json()
            break
        time.sleep(0.1)
    assert cdr is not None, "the call did not end"
    assert (cdr["queue_id"], cdr["operator_id"]) == ("helpdesk", "920")
    # the operator's stream shows the call
    history = api.call("GET", f"{V1}/operators/920/history", role="supervisor").json()
    assert any(e["event"] == "operator_state_changed" and e["state"] == "talking" for e in history)

    metrics = api.client.get("/metrics").text
    assert 'flowengine_queue_waiting{queue="helpdesk"} 0.0' in metrics
    assert "flowengine_calls_started_total" in metrics and "flowengine_events_written_total" in metrics
    assert 'flowengine_http_request_duration_seconds_count{method="POST",route="/api/v1/calls",status="201"} 1.0' in metrics


def test_centre_revision_guards_whole_replacement(api: Any) -> None:
    current = api.call("GET", f"{V1}/centre", role="supervisor").json()
    stale = current["revision"] - 1 if current["revision"] > 0 else 99
    r = api.call("PUT", f"{V1}/centre", json={"revision": stale, "centre": current["centre"]})
    assert r.status_code == 409
    r = api.call("PUT", f"{V1}/centre", json={"revision": current["revision"], "centre": {**current["centre"], "ring_in_use": True}})
    assert r.status_code == 200 and r.json()["revision"] == current["revision"] + 1
    assert r.json()["centre"]["ring_in_use"] is True
    r = api.call("PUT", f"{V1}/centre", json={"centre": {"operators": [{"id": "1", "bogus": 1}]}})
    assert r.status_code == 422 and r.json()["errors"][0]["path"].startswith("body.operators[0]")


def test_retention_purges_old_cdrs_and_keeps_recent_ones(tmp_path: Any) -> None:
    import time as _time

    from fastapi.testclient import TestClient

    from flowengine.api import create_app
    from flowengine.storage.schema import cdrs

    from .conftest import make_api, settings

    app = create_app(settings(tmp_path / "data", event_retention_days=7))
    with TestClient(app) as client:
        api = make_api(client)
        service = app.state.service
        old = {"call_id": "old-call", "started_at": _time.time() - 30 * 86400, "ended_at": _time.time() - 30 * 86400 + 60,
               "duration": 60.0, "result": "completed", "scenario_id": "x", "events": 0}
        with service.db.begin() as conn:
            conn.execute(cdrs.insert().values(**old))
        call_id = api.call("POST", f"{V1}/calls", role="supervisor", json={"called": "+74951230001"}).json()["call_id"]
        api.call("POST", f"{V1}/calls/{call_id}/hangup", role="supervisor")
        ids = [c["call_id"] for c in api.call("GET", f"{V1}/cdrs", role="supervisor").json()]
        assert "old-call" in ids and call_id in ids
        client.portal.call(service.purge_once)  # type: ignore[union-attr]
        ids = [c["call_id"] for c in api.call("GET", f"{V1}/cdrs", role="supervisor").json()]
        assert "old-call" not in ids and call_id in ids
        assert api.call("GET", f"{V1}/calls/{call_id}/events", role="supervisor").json()["events"]


def test_every_example_beside_the_example_centre_is_imported_on_first_start(api: Any) -> None:
    import json
    from pathlib import Path

    examples = Path(__file__).resolve().parents[3] / "examples"
    expected = {json.loads(p.read_text(encoding="utf-8"))["id"] for p in examples.glob("*.json")}
    listed = api.call("GET", f"{V1}/scenarios").json()
    assert {s["id"] for s in listed} == expected
