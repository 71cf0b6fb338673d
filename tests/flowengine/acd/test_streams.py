"""What the ACD driver writes to the streams: the operator stream (status
with reasons, every state move, wrap-up, auto-break, numbered per operator),
the queue stream of callbacks after the caller left, and a bounded history."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from scenario_builders import AT, deadline, doc, hangup, load, node, script, start

from flowengine.acd import Centre, parse_centre
from flowengine.acd import decisions as d
from flowengine.acd.analysis.export import queue_log_lines
from flowengine.acd.driver import AcdDriver
from flowengine.events import StreamEvent
from flowengine.runtime.clock import WallClock
from flowengine.runtime.engine import Engine, platform_call_ids
from flowengine.runtime.virtual_loop import run_virtual
from flowengine.scenario.compiled import Scenario
from flowengine.testing.harness import CentreSetup, attach_centre
from flowengine.testing.phones import VirtualPhone, virtual_operators
from telephony_adapters.sim import SimBackend

NEVER = VirtualPhone(answer_after=None)


@pytest.fixture(autouse=True)
def _no_hang() -> Iterator[None]:
    with deadline(20):
        yield


def centre(members: tuple[str, ...] = ("901", "902"), **queue: Any) -> Centre:
    return parse_centre({
        "operators": [{"id": o, "extension": o} for o in members],
        "queues": [{"id": "q", "members": list(members), "ring_timeout": 10, "retry": 0, **queue}],
        "dial_policy": {"allow": ["+7XXXXXXXXXX"]},  # callbacks dial the caller's number
    })


def queue_scenario(**params: Any) -> Scenario:
    exits = dict.fromkeys(("answered", "timeout", "full", "no_operators", "callback"), "bye")
    return load(doc([start("q"), node("q", "queue", {"queue": "q", **params}, **exits), hangup("bye")]))


def run(
    c: Centre,
    plan: list[tuple[float, Any]],
    *,
    until: float,
    statuses: dict[str, str] | None = None,
    phones: dict[str, VirtualPhone] | None = None,
    talk_time: float = 10.0,
    driver_options: dict[str, Any] | None = None,
) -> tuple[list[StreamEvent], AcdDriver]:
    """(t, (Scenario, CallerScript)) places a call at t, (t, action(driver))
    acts on the ACD at t, all on one engine; returns every event of every
    stream as the engine published them, until `until` and every call is over."""
    seen: list[StreamEvent] = []

    async def main() -> AcdDriver:
        loop = asyncio.get_running_loop()
        engine = Engine(clock=WallClock(AT), call_ids=platform_call_ids)
        engine.add_listener(seen.append)
        backend = SimBackend(engine)
        setup = CentreSetup(c, answer_after=3, talk_time=talk_time, statuses=statuses or {}, phones=phones or {})
        if driver_options:
            driver = AcdDriver(c, **driver_options).attach(engine)
            backend.directory.update(virtual_operators(c, answer_after=3, talk_time=talk_time))
        else:
            driver = attach_centre(engine, backend, setup)
        try:
            for at, what in sorted(plan, key=lambda p: p[0]):
                await asyncio.sleep(max(0.0, at - loop.time()))
                if callable(what):
                    what(driver)
                else:
                    backend.place_call(what[1], what[0])
            await asyncio.sleep(max(0.0, until - loop.time()))
            await engine.drain()
        finally:
            await driver.shutdown()
            await engine.shutdown()
        return driver

    driver = run_virtual(main())
    return seen, driver


def of(events: list[StreamEvent], stream: str, key: str) -> list[dict[str, Any]]:
    return [e.to_dict() for e in events if e.stream == stream and e.stream_key == key]


def brief(event: dict[str, Any]) -> tuple[Any, ...]:
    name = event["event"].removeprefix("operator_")
    t = round(event["ts"] - AT.timestamp(), 3)
    if name == "status_changed":
        return (t, name, event["status"], event["reason"], event["by"])
    if name == "state_changed":
        return (t, name, event["previous"], event["state"], event["call_id"])
    if name.startswith("wrap_up"):
        return (t, name, event["call_id"], event["duration"])
    return (t, name, event["misses"], event["reason"])


def test_status_changes_carry_their_reason_and_who_made_them() -> None:
    c = centre(("901",), wrap_up=5)
    plan: list[tuple[float, Any]] = [
        (10, lambda drv: drv.set_status("901", "available", "back from lunch")),
        (20, (queue_scenario(), script())),
    ]
    events, _ = run(c, plan, until=40, statuses={"901": "break:lunch"})
    stream = of(events, "operator", "901")
    assert [e["seq"] for e in stream] == list(range(1, len(stream) + 1))
    assert [brief(e) for e in stream][:3] == [
        (0.0, "status_changed", "available", None, "start"),
        (0.0, "status_changed", "break", "lunch", "operator"),
        (10.0, "status_changed", "available", "back from lunch", "operator"),
    ]
    assert [(e["previous"], e["available"]) for e in stream[:3]] == [
        (None, True), ("available", False), ("break", True),
    ]
    # the call at 20 s found them available
    assert brief(stream[3]) == (20.0, "state_changed", "idle", "ringing", "sim-1")


def test_an_answered_call_moves_the_operator_through_every_state() -> None:
    c = centre(("901",), wrap_up=5)
    events, _ = run(c, [(0, (queue_scenario(), script()))], until=40)
    assert [brief(e) for e in of(events, "operator", "901")] == [
        (0.0, "status_changed", "available", None, "start"),
        (0.0, "state_changed", "idle", "ringing", "sim-1"),
        (3.0, "state_changed", "ringing", "talking", "sim-1"),
        (13.0, "state_changed", "talking", "wrap_up", "sim-1"),
        (13.0, "wrap_up_started", "sim-1", 5.0),
        (18.0, "state_changed", "wrap_up", "idle", "sim-1"),
        (18.0, "wrap_up_ended", "sim-1", 5.0),
    ]
    [started] = [e for e in of(events, "operator", "901") if e["event"] == "operator_wrap_up_started"]
    assert started["queue_id"] == "q"


def test_missed_calls_put_the_operator_on_an_auto_break_with_the_reason() -> None:
    c = centre(("901", "902"), auto_break_after=1, strategy="linear")
    events, _ = run(c, [(0, (queue_scenario(), script()))], until=30, phones={"901": NEVER})
    assert [brief(e) for e in of(events, "operator", "901")] == [
        (0.0, "status_changed", "available", None, "start"),
        (0.0, "state_changed", "idle", "ringing", "sim-1"),
        (10.0, "state_changed", "ringing", "idle", "sim-1"),
        (10.0, "auto_break", 1, "auto_break: missed 1 calls"),
        (10.0, "status_changed", "break", "auto_break: missed 1 calls", "acd"),
    ]
    [status] = [e for e in of(events, "operator", "901") if e["seq"] == 5]
    assert (status["previous"], status["available"]) == ("available", False)
    # 902 took the call; their stream is numbered on its own
    assert [brief(e)[1:4] for e in of(events, "operator", "902")] == [
        ("status_changed", "available", None),
        ("state_changed", "idle", "ringing"),
        ("state_changed", "ringing", "talking"),
        ("state_changed", "talking", "idle"),
    ]
    assert [e["seq"] for e in of(events, "operator", "902")] == [1, 2, 3, 4]


def test_a_pending_callback_is_rung_back_and_recorded_in_the_queue_stream() -> None:
    c = centre(("901",), callback=True)
    scenario = queue_scenario(callback_digit="1")
    caller = script(steps=[{"wait": 2}, {"press": "1"}])
    seen: list[StreamEvent] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        engine = Engine(clock=WallClock(AT), call_ids=platform_call_ids)
        engine.add_listener(seen.append)
        backend = SimBackend(engine)
        driver = attach_centre(engine, backend, CentreSetup(c, talk_time=10, statuses={"901": "break"}))
        try:
            _call, task = backend.place_call(caller, scenario)
            await task
            await asyncio.sleep(30 - loop.time())
            driver.set_status("901", "available")  # the caller is rung back (answers after 5 s)
            await asyncio.sleep(60)
        finally:
            await driver.shutdown()
            await engine.shutdown()

    run_virtual(main())
    queue = of(seen, "queue", "q")
    assert [(e["seq"], e["event"], round(e["ts"] - AT.timestamp(), 3)) for e in queue] == [
        (1, "callback_attempted", 30.0),
        (2, "callback_connected", 38.0),  # 901 answers at 33, then the caller after 5 s
        (3, "callback_completed", 43.0),  # 901 talks 10 s from their answer
    ]
    assert {e["call_id"] for e in queue} == {"sim-1"} and queue[0]["operator_id"] == "901"
    # the call's own stream ended long before, with the request as its queue fact
    call = [e for e in seen if e.stream == "call"]
    assert call[-1].name == "call_ended" and call[-1].ts < queue[0]["ts"]
    lines = list(queue_log_lines(e.to_dict() for e in seen))
    assert [line.split("|")[4] for line in lines] == [
        "PAUSEALL", "ENTERQUEUE", "CALLBACK", "UNPAUSEALL", "CONNECT", "COMPLETEAGENT",
    ]


def test_driver_history_is_a_bounded_ring_buffer() -> None:
    c = centre(("901", "902"))
    calls: list[tuple[float, Any]] = [(i * 30.0, (queue_scenario(), script())) for i in range(5)]
    _, capped = run(c, calls, until=200, driver_options={"history_limit": 7})
    assert len(capped.history) == 7
    assert isinstance(capped.history[-1].decision, d.Decision)
    _, none = run(c, calls[:1], until=30, driver_options={"keep_history": False})
    assert len(none.history) == 0 and not none.keep_history
