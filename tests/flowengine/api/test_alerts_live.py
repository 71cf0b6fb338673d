"""Alerts in a running service: a silent simulated line raises an alert that
reaches the wallboard viewers, /metrics and a real webhook on 127.0.0.1, and
clears on all three when a call arrives on the line."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from local_http import Reply, serving

V1 = "/api/v1"
ALERT = 'flowengine_alert_active{alert="line_silent:trunk-1",kind="line_silent",line="trunk-1",queue=""} 1.0'


def wait_for(what: str, check: Callable[[], Any], seconds: float = 20.0) -> Any:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"still waiting after {seconds} s for {what}")


def next_alert(ws: Any) -> dict[str, Any]:
    """The next alert message (deltas in between are skipped); only called
    once the alert is known to have been sent, so it never waits for ever."""
    while True:
        message = ws.receive_json()
        if message["type"] == "alert":
            return dict(message["alert"])


def test_a_silent_line_alerts_viewers_metrics_and_the_webhook_then_clears(serve: Any) -> None:
    with serving(lambda request: Reply(204)) as hook:
        api = serve(alert_interval=0.2)
        client = api.client
        centre = api.call("GET", f"{V1}/centre").json()
        centre["centre"]["alerts"] = {
            "lines": [{"line": "trunk-1", "silent_minutes": 0.03}],  # 1.8 s of silence
            "webhook": {"url": hook.base + "/alerts", "timeout": 2},
        }
        r = api.call("PUT", f"{V1}/centre", json=centre)
        assert r.status_code == 200, r.text
        with client.websocket_connect(f"{V1}/monitor/wallboard?token={api.tokens['supervisor']}") as ws:
            assert ws.receive_json()["type"] == "snapshot"
            wait_for("the alert on /metrics", lambda: ALERT in client.get("/metrics").text)
            raised = next_alert(ws)
            assert (raised["id"], raised["state"], raised["line"]) == ("line_silent:trunk-1", "raised", "trunk-1")
            posted = wait_for("the webhook's POST", lambda: list(hook.requests))
            assert posted[0]["method"] == "POST" and posted[0]["path"] == "/alerts"
            assert posted[0]["json"]["id"] == "line_silent:trunk-1" and posted[0]["json"]["state"] == "raised"
            # a viewer connecting now finds it in the snapshot
            with client.websocket_connect(f"{V1}/monitor/wallboard?token={api.tokens['admin']}") as late:
                assert [a["id"] for a in late.receive_json()["board"]["alerts"]] == ["line_silent:trunk-1"]

            r = api.call("POST", f"{V1}/calls", json={"called": "84951230001", "line": "trunk-1"})
            assert r.status_code == 201, r.text
            wait_for("the alert to leave /metrics", lambda: "flowengine_alert_active{" not in client.get("/metrics").text)
            cleared = next_alert(ws)
            assert (cleared["id"], cleared["state"]) == ("line_silent:trunk-1", "cleared")
            states = wait_for("the clear at the webhook", lambda: [q["json"]["state"] for q in hook.requests][1:] and
                              [q["json"]["state"] for q in hook.requests])
            assert states == ["raised", "cleared"]
        metrics = client.get("/metrics").text
        assert 'flowengine_alert_webhook_total{outcome="sent"} 2.0' in metrics
        # an operator's own-row view never carries centre alerts
        with client.websocket_connect(f"{V1}/monitor/wallboard?token={api.tokens['operator']}") as mine:
            assert "alerts" not in mine.receive_json()["board"]


def test_a_dead_webhook_is_counted_and_the_alert_still_reaches_the_viewers(serve: Any) -> None:
    with serving(lambda request: Reply(500)) as hook:
        api = serve(alert_interval=0.2)
        client = api.client
        centre = api.call("GET", f"{V1}/centre").json()
        centre["centre"]["alerts"] = {
            "lines": [{"line": "analog-2", "silent_minutes": 0.01}],
            "webhook": {"url": hook.base + "/alerts", "timeout": 1},
        }
        assert api.call("PUT", f"{V1}/centre", json=centre).status_code == 200
        wait_for("the failed POST to be counted",
                 lambda: 'flowengine_alert_webhook_total{outcome="failed"} 1.0' in client.get("/metrics").text)
        assert 'alert="line_silent:analog-2"' in client.get("/metrics").text
        assert client.get("/readyz").status_code == 200
