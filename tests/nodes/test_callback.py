"""The Callback component on the simulator: a request filed outside the Queue
node keeps the caller's first arrival, is rung back when an operator frees
up, and every attempt is in the queue's event stream."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from scenario_builders import AT, deadline, doc, hangup, load, node, script, start

from flowengine.acd import Centre, parse_centre
from flowengine.events import StreamEvent
from flowengine.runtime.clock import WallClock
from flowengine.runtime.engine import Engine, platform_call_ids
from flowengine.runtime.virtual_loop import run_virtual
from flowengine.scenario.compiled import Scenario
from flowengine.testing.harness import CentreSetup, attach_centre
from flowengine.testing.phones import VirtualPhone
from flowengine.testing.script import CallerScript
from telephony_adapters.sim import SimBackend

QUEUE_EXITS = ("answered", "timeout", "full", "no_operators", "callback")


@pytest.fixture(autouse=True)
def _no_hang() -> Iterator[None]:
    with deadline(20):
        yield


def centre(**queue: Any) -> Centre:
    return parse_centre({
        "operators": [{"id": "901", "extension": "901"}],
        "queues": [{"id": "q", "members": ["901"], "ring_timeout": 10, "retry": 0, **queue}],
        "dial_policy": {"allow": ["+7XXXXXXXXXX"]},
    })


def queue_then_callback(max_wait: float = 20, **callback: Any) -> Scenario:
    """queue 'q' (max wait) -> on timeout a Callback node 'cb' -> hangup."""
    return load(doc(
        [
            start("q"),
            node("q", "queue", {"queue": "q", "max_wait": max_wait}, **{**dict.fromkeys(QUEUE_EXITS, "bye"), "timeout": "cb"}),
            node("cb", "callback", {"queue": "q", "reason_variable": "WHY", **callback}, filed="bye", refused="bye"),
            hangup("bye"),
        ],
        variables={"WHY": "unset"},
    ))


def just_wait(max_wait: float = 500) -> Scenario:
    return load(doc([
        start("q"),
        node("q", "queue", {"queue": "q", "max_wait": max_wait}, **dict.fromkeys(QUEUE_EXITS, "bye")),
        hangup("bye"),
    ], scenario_id="w"))


def run(
    c: Centre,
    plan: list[tuple[float, Any]],
    *,
    until: float,
    caller_phone: VirtualPhone | None = None,
) -> tuple[list[StreamEvent], list[Any]]:
    """Calls placed and actions on the ACD at simulated times, on one engine;
    every published event (every stream) and each call's context."""
    seen: list[StreamEvent] = []

    async def main() -> list[Any]:
        loop = asyncio.get_running_loop()
        engine = Engine(clock=WallClock(AT), call_ids=platform_call_ids, keep_events=True)
        engine.add_listener(seen.append)
        backend = SimBackend(engine)
        driver = attach_centre(engine, backend, CentreSetup(c, talk_time=10, statuses={"901": "break"}))
        if caller_phone is not None:
            backend.caller_phone = caller_phone
        tasks = []
        try:
            for at, what in sorted(plan, key=lambda p: p[0]):
                await asyncio.sleep(max(0.0, at - loop.time()))
                if callable(what):
                    what(driver)
                else:
                    tasks.append(backend.place_call(what[1], what[0])[1])
            ctxs = await asyncio.gather(*tasks)
            await asyncio.sleep(max(0.0, until - loop.time()))
        finally:
            await driver.shutdown()
            await engine.shutdown()
        return list(ctxs)

    ctxs = run_virtual(main())
    return seen, ctxs


def queue_stream(events: list[StreamEvent]) -> list[tuple[float, str, str]]:
    return [
        (round(e.ts - AT.timestamp(), 3), e.name, e.to_dict()["call_id"])
        for e in events
        if e.stream == "queue" and e.stream_key == "q"
    ]


def exits(ctx: Any, node_id: str) -> list[str]:
    return [e.to_dict()["exit"] for e in ctx.events if e.name == "node_left" and e.node_id == node_id]


def caller(number: str = "+79160000001", **kw: Any) -> CallerScript:
    return script(caller=number, **kw)


def test_filed_after_max_wait_it_keeps_the_first_arrival_and_is_rung_back_first() -> None:
    c = centre()
    plan: list[tuple[float, Any]] = [
        (0, (queue_then_callback(max_wait=20), caller("+79160000001"))),
        (10, (just_wait(), caller("+79160000002"))),  # still on the line
        (60, lambda drv: drv.set_status("901", "available")),
    ]
    events, (first, second) = run(c, plan, until=120)
    assert exits(first, "q") == ["timeout"] and exits(first, "cb") == ["filed"]
    assert first.variables["WHY"] == ""
    [requested] = [e.to_dict() for e in first.events if e.name == "queue_callback_requested"]
    assert (requested["node_id"], requested["position"]) == ("cb", 1)  # ahead of the caller from t=10
    # at 60 the operator frees up: the callback (first arrival 0) before the caller on the line (10).
    # 901's phone rings first and answers after 3 s; then the caller is rung, answers after 5 s;
    # 901 talks 10 s from their answer
    assert queue_stream(events) == [
        (60.0, "callback_attempted", first.call_id),
        (68.0, "callback_connected", first.call_id),
        (73.0, "callback_completed", first.call_id),
    ]
    [connected] = [e.to_dict() for e in events if e.stream == "queue" and e.name == "callback_connected"]
    assert connected["wait"] == 68.0  # from the first arrival, not from the filing at 20
    [offered] = [e.to_dict() for e in second.events if e.name == "queue_offered"]
    assert round(offered["t"] + 10, 3) == 73.0  # the second call started at 10


def test_every_attempt_is_an_event_and_the_acd_gives_up_after_the_nodes_attempts() -> None:
    c = centre(callback={"attempts": 5, "interval": 100})
    plan: list[tuple[float, Any]] = [
        (0, (queue_then_callback(max_wait=5, attempts=2, interval=30), caller())),
        (10, lambda drv: drv.set_status("901", "available")),
    ]
    events, _ = run(c, plan, until=200, caller_phone=VirtualPhone(answer_after=None))
    assert [(t, name) for t, name, _ in queue_stream(events)] == [
        (10.0, "callback_attempted"),  # 901 answers at 13, then the caller is rung
        (23.0, "callback_missed"),  # the caller's ring timeout, 10 s
        (53.0, "callback_attempted"),  # the node's interval, not the queue's
        (66.0, "callback_missed"),
        (66.0, "callback_given_up"),
    ]
    operator = [e.to_dict() for e in events if e.stream == "operator" and e.name == "operator_status_changed"]
    assert operator[-1]["status"] == "available"  # the caller's misses are not the operator's


@pytest.mark.parametrize(("number", "why"), [("+88213456789", "policy"), ("+79160000001", "")])
def test_refused_when_the_dial_policy_does_not_let_the_centre_ring_the_number(number: str, why: str) -> None:
    events, (ctx,) = run(centre(), [(0, (queue_then_callback(max_wait=5), caller(number)))], until=10)
    assert exits(ctx, "cb") == ["refused" if why else "filed"]
    assert ctx.variables["WHY"] == why
    assert bool([e for e in ctx.events if e.name == "dial_blocked"]) == bool(why)


def test_a_second_request_for_the_same_caller_is_refused_as_duplicate() -> None:
    twice = load(doc(
        [
            start("cb1"),
            node("cb1", "callback", {"queue": "q"}, filed="cb2", refused="bye"),
            node("cb2", "callback", {"queue": "q", "reason_variable": "WHY"}, filed="bye", refused="bye"),
            hangup("bye"),
        ],
        variables={"WHY": "unset"},
    ))
    _, (ctx,) = run(centre(), [(0, (twice, caller()))], until=5)
    assert exits(ctx, "cb1") == ["filed"] and exits(ctx, "cb2") == ["refused"]
    assert ctx.variables["WHY"] == "duplicate"
