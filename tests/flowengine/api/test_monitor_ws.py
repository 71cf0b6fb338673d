"""The wallboard and call traces over WebSocket, with the service's own tokens."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.websockets import WebSocketDisconnect

V1 = "/api/v1"


def board_rows(message: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    rows = {("operator", o["id"]): o for o in message["board"]["operators"]}
    rows.update({("queue", q["id"]): q for q in message["board"]["queues"]})
    return rows


def test_a_supervisor_sees_a_status_change_arrive_as_a_delta(api: Any) -> None:
    token = api.tokens["supervisor"]
    with api.client.websocket_connect(f"{V1}/monitor/wallboard?token={token}") as ws:
        first = ws.receive_json()
        assert first["type"] == "snapshot"
        rows = board_rows(first)
        assert rows[("operator", "902")]["status"] in ("available", None)
        assert ("queue", "sales") in rows and rows[("queue", "sales")]["threshold"] > 0
        r = api.call("PUT", f"{V1}/operators/902/status", json={"status": "break", "reason": "lunch"})
        assert r.status_code == 200, r.text
        delta = ws.receive_json()
        assert delta["type"] == "delta" and delta["version"] > first["version"]
        changed = {(c["kind"], c["id"]): c["data"] for c in delta["changes"]}
        assert changed[("operator", "902")]["status"] == "break"
        assert changed[("operator", "902")]["reason"] == "lunch"


def test_an_operator_sees_only_their_own_row(api: Any) -> None:
    with api.client.websocket_connect(f"{V1}/monitor/wallboard?token={api.tokens['operator']}") as ws:
        first = ws.receive_json()
        assert [o["id"] for o in first["board"]["operators"]] == ["901"]
        assert first["board"]["queues"] == []
        # another operator's change is not sent; their own is
        assert api.call("PUT", f"{V1}/operators/902/status", json={"status": "break"}).status_code == 200
        assert api.call("PUT", f"{V1}/operators/901/status", json={"status": "break"}, role="operator").status_code == 200
        delta = ws.receive_json()
        assert {(c["kind"], c["id"]) for c in delta["changes"]} == {("operator", "901")}


def test_no_token_or_a_bad_one_is_refused_before_any_message(api: Any) -> None:
    for url in (f"{V1}/monitor/wallboard", f"{V1}/monitor/wallboard?token=nonsense"):
        with pytest.raises(WebSocketDisconnect) as info, api.client.websocket_connect(url) as ws:
            ws.receive_json()
        assert info.value.code == 4401
    url = f"{V1}/monitor/calls/x/trace?token={api.tokens['operator']}"
    with pytest.raises(WebSocketDisconnect) as info, api.client.websocket_connect(url) as ws:
        ws.receive_json()
    assert info.value.code == 4403


def test_a_test_calls_trace_streams_its_events_from_a_seq(api: Any) -> None:
    r = api.call("POST", f"{V1}/calls", json={"caller": "+79160000001", "called": "+74951230001"})
    assert r.status_code == 201, r.text
    call_id = r.json()["call_id"]
    url = f"{V1}/monitor/calls/{call_id}/trace?token={api.tokens['supervisor']}&from_seq=1"
    with api.client.websocket_connect(url) as ws:
        first = ws.receive_json()
        assert first["call_id"] == call_id and first["seq"] == 2  # resumed after seq 1
        assert api.call("POST", f"{V1}/calls/{call_id}/hangup").status_code in (200, 202, 204)
        names = [first["event"]]
        while names[-1] != "call_ended":
            names.append(ws.receive_json()["event"])
    assert "node_entered" in names and "call_hung_up" in names


def test_todays_counts_survive_a_restart(tmp_path: Any) -> None:
    import time

    from fastapi.testclient import TestClient

    from flowengine.api import create_app
    from flowengine.events import (
        CallEnded,
        CallStarted,
        QueueCompleted,
        QueueConnected,
        QueueEntered,
    )

    from .conftest import settings

    now = time.time()
    common = {"t": 0.0, "scenario_id": "call_centre", "scenario_version": 1}

    def queue(cls: type, call_id: str, seq: int, **fields: Any) -> Any:
        return cls(call_id=call_id, seq=seq, ts=now, node_id="sales_queue", queue_id="sales", **common, **fields)

    with TestClient(create_app(settings(tmp_path / "data"))) as client:
        service = client.app.state.service  # type: ignore[attr-defined]
        for cid in ("c1", "c2"):
            service.engine.publish_event(CallStarted(call_id=cid, seq=1, ts=now, wall="", caller=f"+7916{cid}",
                                                     called="+74957654321", backend="sim", platform_id=cid, **common))
            service.engine.publish_event(queue(QueueEntered, cid, 2, position=1))
        service.engine.publish_event(queue(QueueConnected, "c1", 3, operator_id="901", wait=4.0, ring_time=2.0))
        service.engine.publish_event(queue(QueueCompleted, "c1", 4, operator_id="901", wait=4.0, talk_time=30.0,
                                           orig_position=1, by="caller"))
        service.engine.publish_event(CallEnded(call_id="c1", seq=5, ts=now, t=40.0, duration=40.0, steps=3,
                                               hangup_cause="normal"))
        sales = {q["id"]: q for q in service.monitor.board.snapshot()["queues"]}["sales"]
        assert (sales["offered"], sales["answered"], len(sales["waiting"])) == (2, 1, 1)
    # c2 was still waiting when the service stopped: the restart closes it and keeps today's counts
    with TestClient(create_app(settings(tmp_path / "data"))) as client:
        service = client.app.state.service  # type: ignore[attr-defined]
        assert "c2" in service.recovered_calls
        sales = {q["id"]: q for q in service.monitor.board.snapshot()["queues"]}["sales"]
        assert (sales["offered"], sales["answered"], sales["waiting"]) == (2, 1, [])
        assert sales["avg_talk"] == 30.0
