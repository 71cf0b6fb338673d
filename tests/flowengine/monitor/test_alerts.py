"""Alerts: raised once, cleared when the condition ends; sent to a real local webhook."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import httpx
import pytest
import yaml
from local_http import Reply, serving
from pydantic import ValidationError

from flowengine.events import (
    CallStarted,
    QueueAbandoned,
    QueueConnected,
    QueueEntered,
)
from flowengine.monitor import QueueInfo, Wallboard
from flowengine.monitor.alerts import AlertSettings, AlertWatch, WebhookNotifier

MOSCOW = dt.timezone(dt.timedelta(hours=3))
#: Monday 2026-11-23 09:00 in Moscow
NINE = dt.datetime(2026, 11, 23, 9, 0, tzinfo=MOSCOW).timestamp()

SETTINGS = """
lines:
  - line: trunk-1
    silent_minutes: 30
    hours: {days: [mon, tue, wed, thu, fri], from: "09:00", to: "18:00"}
service_level: {window_minutes: 15, min_calls: 3}
long_wait: {seconds: 120}
"""


def started(seq: int, ts: float, line: str) -> CallStarted:
    return CallStarted(call_id=f"c{seq}", seq=1, ts=ts, t=0.0, wall="", caller="+79160000000", called="100",
                       scenario_id="s", scenario_version=1, backend="sim", platform_id=None, line=line)


def watch() -> tuple[AlertWatch, Wallboard]:
    board = Wallboard({"sales": QueueInfo(threshold=20, target=0.8)}, tz="Europe/Moscow")
    settings = AlertSettings.model_validate(yaml.safe_load(SETTINGS))
    return AlertWatch(settings, board, tz="Europe/Moscow", started=NINE), board


def test_a_silent_line_raises_once_and_clears_when_a_call_arrives() -> None:
    w, _ = watch()
    assert w.check(NINE + 29 * 60) == []
    raised = w.check(NINE + 31 * 60)
    assert [(a["id"], a["state"]) for a in raised] == [("line_silent:trunk-1", "raised")]
    assert w.check(NINE + 45 * 60) == []  # still silent: not raised again
    w.observe(started(1, NINE + 46 * 60, "trunk-1"))
    cleared = w.check(NINE + 46 * 60 + 1)
    assert [(a["id"], a["state"]) for a in cleared] == [("line_silent:trunk-1", "cleared")]
    # a call on another line does not count
    w.observe(started(2, NINE + 60 * 60, "trunk-2"))
    assert [a["state"] for a in w.check(NINE + 77 * 60)] == ["raised"]


def test_a_silent_line_outside_its_hours_raises_nothing() -> None:
    w, _ = watch()
    evening = dt.datetime(2026, 11, 23, 19, 0, tzinfo=MOSCOW).timestamp()
    assert w.check(evening) == []
    saturday = dt.datetime(2026, 11, 28, 12, 0, tzinfo=MOSCOW).timestamp()
    assert w.check(saturday) == []


def queue_event(cls: type, seq: int, ts: float, **fields: Any) -> Any:
    return cls(call_id=f"q{seq}", seq=seq, ts=ts, t=0.0, scenario_id="s", scenario_version=1, node_id="q",
               queue_id="sales", **fields)


def test_service_level_below_target_over_the_window_raises_and_clears() -> None:
    w, board = watch()
    w.observe(started(1, NINE, "trunk-1"))
    t = NINE + 60
    for i, wait in enumerate((5.0, 50.0, 60.0)):  # one of three in time: 33% < 80%
        w.observe(queue_event(QueueConnected, i, t + i, operator_id="901", wait=wait, ring_time=2.0))
    raised = w.check(t + 10)
    assert [(a["id"], a["state"]) for a in raised] == [("service_level:sales", "raised")]
    assert raised[0]["level"] == pytest.approx(1 / 3, abs=1e-3)
    # 15 minutes later the slow answers have left the window; fast ones came in
    later = t + 16 * 60
    for i in range(3):
        w.observe(queue_event(QueueConnected, 10 + i, later + i, operator_id="901", wait=3.0, ring_time=2.0))
    cleared = w.check(later + 10)
    assert [(a["id"], a["state"]) for a in cleared] == [("service_level:sales", "cleared")]


def test_too_few_calls_in_the_window_raise_no_service_level_alert() -> None:
    w, _ = watch()
    w.observe(started(1, NINE, "trunk-1"))
    w.observe(queue_event(QueueAbandoned, 1, NINE + 5, position=1, orig_position=1, wait=5.0))
    assert w.check(NINE + 10) == []


def test_a_long_wait_raises_and_clears_when_the_caller_leaves() -> None:
    w, board = watch()
    w.observe(started(1, NINE, "trunk-1"))
    board.apply(queue_event(QueueEntered, 1, NINE, position=1))
    assert w.check(NINE + 100) == []
    raised = w.check(NINE + 121)
    assert [(a["id"], a["state"]) for a in raised] == [("long_wait:sales", "raised")]
    board.apply(queue_event(QueueAbandoned, 1, NINE + 130, position=1, orig_position=1, wait=130.0))
    assert [a["state"] for a in w.check(NINE + 131)] == ["cleared"]


def test_bad_alert_settings_name_the_field() -> None:
    with pytest.raises(ValidationError) as info:
        AlertSettings.model_validate({"lines": [{"line": "t", "silent_minutes": 5, "hours": {"from": "25:00"}}]})
    text = str(info.value)
    assert "lines.0.hours.from" in text
    assert "'25:00' is not a time HH:MM" in text


def test_alert_changes_reach_a_real_webhook_and_a_dead_one_is_only_counted() -> None:
    alert = {"id": "line_silent:trunk-1", "state": "raised", "kind": "line_silent"}

    async def send(url: str) -> tuple[bool, WebhookNotifier]:
        from flowengine.monitor.alerts import WebhookSettings

        async with httpx.AsyncClient() as client:
            notifier = WebhookNotifier(WebhookSettings(url=url, timeout=1.0), client.post)
            return await notifier.send(alert), notifier

    with serving(lambda request: Reply(204)) as server:
        ok, notifier = asyncio.run(send(server.base + "/alerts"))
        assert ok and notifier.sent == 1
        assert server.requests[0]["json"] == alert
    with serving(lambda request: Reply(200, delay=3.0)) as slow:
        ok, notifier = asyncio.run(send(slow.base + "/alerts"))
        assert not ok and notifier.failed == 1


def test_a_silent_simulated_line_alerts_the_wallboard_viewers_then_clears() -> None:
    from scenario_builders import AT, deadline, doc, hangup, load, script, start

    from flowengine.monitor import MonitorHub
    from flowengine.monitor.alerts import watch_alerts
    from flowengine.runtime.clock import WallClock
    from flowengine.runtime.engine import Engine
    from flowengine.runtime.virtual_loop import run_virtual
    from telephony_adapters.sim import SimBackend

    scenario = load(doc([start("bye"), hangup("bye")]))

    async def main() -> list[dict[str, Any]]:
        loop = asyncio.get_running_loop()
        engine = Engine(clock=WallClock(AT))
        now = lambda: engine.clock.epoch_offset() + loop.time()  # noqa: E731
        board = Wallboard({}, tz="Europe/Moscow")
        hub = MonitorHub(board)
        settings = AlertSettings.model_validate(yaml.safe_load(SETTINGS))
        w = AlertWatch(settings, board, tz="Europe/Moscow", started=now())
        engine.add_listener(hub.publish)
        engine.add_listener(w.observe)
        viewer = hub.subscribe()
        checking = loop.create_task(watch_alerts(w, now, hub.alert, interval=60))
        backend = SimBackend(engine)
        await asyncio.sleep(40 * 60)
        _, task = backend.place_call(script(line="trunk-1"), scenario)
        await task
        await asyncio.sleep(120)
        checking.cancel()
        await engine.shutdown()
        got = []
        while viewer.pending():
            got.append(await viewer.get())
        return [m["alert"] for m in got if m["type"] == "alert"]

    with deadline(20):
        alerts = run_virtual(main())
    assert [(a["id"], a["state"]) for a in alerts] == [
        ("line_silent:trunk-1", "raised"),
        ("line_silent:trunk-1", "cleared"),
    ]
    raised_at = alerts[0]["at"] - AT.timestamp()
    assert 30 * 60 <= raised_at <= 31 * 60


def test_the_documented_alert_settings_load() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[3] / "docs" / "monitor.md").read_text()
    block = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    settings = AlertSettings.model_validate(yaml.safe_load(block))
    assert settings.lines[0].silent_minutes == 30
    assert settings.webhook is not None and settings.webhook.timeout == 5


def test_the_centre_file_carries_the_alerts_and_names_a_bad_one() -> None:
    from flowengine.acd import CentreError, parse_centre

    centre = parse_centre({
        "timezone": "Europe/Moscow",
        "operators": [{"id": "901", "extension": "901"}],
        "queues": [{"id": "sales", "members": ["901"], "service_level": 30}],
        "alerts": yaml.safe_load(SETTINGS),
    })
    assert centre.alerts.long_wait is not None and centre.alerts.long_wait.seconds == 120
    board = Wallboard.for_centre(centre)
    snap = board.snapshot()
    assert [o["id"] for o in snap["operators"]] == ["901"]
    assert snap["queues"][0]["threshold"] == 30
    with pytest.raises(CentreError) as info:
        parse_centre({"alerts": {"lines": [{"line": "t1", "silent_minutes": -5}]}})
    assert "alerts.lines[0].silent_minutes: -5 should be greater than 0" in str(info.value)
