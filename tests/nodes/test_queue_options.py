"""The Queue component with the queue and operator options beside app_queue and
mod_callcenter (docs/acd.md): what the caller hears (periodic message,
"more than N callers ahead", estimated wait once or never), which exit a
caller leaves by when nobody is there, a caller who calls back getting their
place, and an operator available on demand.

Real scenarios on the simulator's virtual clock, the asyncio ACD driver and
virtual phones; what is checked is what the caller hears, the exits and the
call's queue events.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from scenario_builders import AT, deadline, doc, hangup, load, node, script, start

from flowengine.acd import Centre, parse_centre
from flowengine.acd import decisions as d
from flowengine.acd.driver import AcdDriver
from flowengine.events import StreamEvent
from flowengine.runtime.clock import WallClock
from flowengine.runtime.engine import Engine
from flowengine.runtime.virtual_loop import run_virtual
from flowengine.scenario.compiled import Scenario
from flowengine.testing.harness import CallTrace, CentreSetup, attach_centre, run_scenario, trace_of
from flowengine.testing.phones import VirtualPhone
from flowengine.testing.script import CallerScript
from telephony_adapters.sim import SimBackend

OPS = ("901", "902")
EXITS = ("answered", "timeout", "full", "no_operators", "callback")
AWAY = dict.fromkeys(OPS, "break")
NEVER = VirtualPhone(answer_after=None)


@pytest.fixture(autouse=True)
def _no_hang() -> Iterator[None]:
    with deadline(20):
        yield


def centre(**queue: Any) -> Centre:
    ops = [{"id": o, "extension": o} for o in OPS]
    q = {"id": "q", "members": list(OPS), "ring_timeout": 10, "retry": 0, **queue}
    return parse_centre({"operators": ops, "queues": [q]})


def scenario(language: str = "en", **params: Any) -> Scenario:
    nodes = [
        start("q"),
        node("q", "queue", {"queue": "q", **params}, **dict.fromkeys(EXITS, "bye"), error="failed"),
        hangup("bye"),
        hangup("failed"),
    ]
    return load(doc(nodes, scenario_id="t", language=language))


def one_call(sc: Scenario, c: Centre, *, statuses: dict[str, str] | None = None, **fields: Any) -> CallTrace:
    setup = CentreSetup(c, statuses=statuses or {})
    return run_scenario(sc, script(**fields), at=AT, centre=setup)


def calls(
    c: Centre,
    plan: list[tuple[float, Any]],
    *,
    statuses: dict[str, str] | None = None,
    talk_time: float = 10.0,
    phones: dict[str, VirtualPhone] | None = None,
    seen: list[StreamEvent] | None = None,
) -> tuple[list[CallTrace], AcdDriver]:
    """Several calls in one centre: (t, (scenario, caller script)) places a
    call, (t, action(driver)) acts on the ACD; event times on the centre's clock."""

    async def main() -> tuple[list[CallTrace], AcdDriver]:
        loop = asyncio.get_running_loop()
        engine = Engine(clock=WallClock(AT), keep_events=True)
        if seen is not None:
            engine.add_listener(seen.append)  # every stream: calls, operators, queues
        backend = SimBackend(engine)
        driver = attach_centre(engine, backend, CentreSetup(c, talk_time=talk_time, statuses=statuses or {}, phones=phones or {}))
        tasks, starts = [], []
        try:
            for at, what in sorted(plan, key=lambda p: p[0]):
                if at > loop.time():
                    await asyncio.sleep(at - loop.time())
                if callable(what):
                    what(driver)
                else:
                    _call, task = backend.place_call(what[1], what[0])
                    tasks.append(task)
                    starts.append(loop.time())
            ctxs = await asyncio.gather(*tasks)
        finally:
            await driver.shutdown()
            await engine.shutdown()
        traces = [trace_of(ctx) for ctx in ctxs]
        for trace, started in zip(traces, starts, strict=True):
            trace.events = [dataclasses.replace(e, t=round(e.t + started, 6)) for e in trace.events]
        return traces, driver

    return run_virtual(main())


def caller(**fields: Any) -> CallerScript:
    return script(**fields)


def qev(trace: CallTrace, kind: str) -> list[dict[str, Any]]:
    return [e.to_dict() for e in trace.events if e.name == f"queue_{kind}"]


def exit_of(trace: CallTrace) -> str:
    return [x["exit"] for x in trace.exits if x["node"] == "q"][-1]


# ---- what the caller hears -------------------------------------------------------------
def test_a_periodic_message_plays_on_its_own_clock_in_the_scenarios_language() -> None:
    c = centre(announce={"period": 30, "periodic": 20}, max_wait=45)
    trace = one_call(scenario(), c, statuses=AWAY)
    assert [(e["t"], e["announcement"]) for e in qev(trace, "announced")] == [
        (20.0, "periodic"), (30.0, "position"), (40.0, "periodic")]
    thanks = "Thank you for waiting. Your call is important to us, please stay on the line."
    assert trace.prompts == [thanks, "You are number 1 in the queue.", thanks]
    ru = one_call(scenario(language="ru"), c, statuses=AWAY)
    assert ru.prompts[0] == "Спасибо за ожидание. Ваш звонок очень важен для нас, пожалуйста, оставайтесь на линии."
    own = one_call(scenario(periodic_prompt="Наши операторы скоро освободятся."), c, statuses=AWAY)
    assert own.prompts[0] == own.prompts[2] == "Наши операторы скоро освободятся."
    # a node that does not announce keeps the caller on music; the stream still has it
    silent = one_call(scenario(announce=False), c, statuses=AWAY)
    assert silent.prompts == []
    assert [e["announcement"] for e in qev(silent, "announced")] == ["periodic", "position", "periodic"]
    # without the setting nothing but the position is said
    plain = one_call(scenario(), centre(announce={"period": 30}, max_wait=45), statuses=AWAY)
    assert plain.prompts == ["You are number 1 in the queue."]


def test_beyond_the_ahead_limit_callers_hear_more_than_n_ahead_and_the_wait_as_the_queue_says() -> None:
    c = centre(
        members=["901"], announce={"period": 30, "ahead_limit": 1, "hold_time": "off"}, expected_handle_time=180
    )
    sc = scenario()
    plan: list[tuple[float, Any]] = [(0, (sc, caller()))] + [
        (i, (sc, caller(hangup_after=40))) for i in (1, 2, 3)
    ]
    (_busy, first, second, third), _ = calls(c, plan, talk_time=600)
    assert first.prompts == ["You are number 1 in the queue."]
    assert second.prompts == ["You are number 2 in the queue."]  # one ahead: not more than 1
    assert third.prompts == ["There are more than 1 callers ahead of you."]
    assert [e["position"] for e in qev(third, "announced")] == [3]  # the stream keeps the place


@pytest.mark.parametrize(
    ("hold_time", "expected"),
    [
        ("on", ["You are number 1 in the queue. Your estimated waiting time is 3 minutes."] * 2),
        ("once", ["You are number 1 in the queue. Your estimated waiting time is 3 minutes.",
                  "You are number 1 in the queue."]),
        ("off", ["You are number 1 in the queue."] * 2),
    ],
)
def test_the_estimated_wait_is_told_every_time_once_or_never(hold_time: str, expected: list[str]) -> None:
    c = centre(members=["901"], announce={"period": 30, "hold_time": hold_time}, expected_handle_time=180)
    sc = scenario()
    (_busy, waiting), _ = calls(c, [(0, (sc, caller())), (1, (sc, caller(hangup_after=70)))], talk_time=600)
    assert waiting.prompts == expected


# ---- nobody there ------------------------------------------------------------------------
def test_join_empty_refuses_a_caller_at_the_door() -> None:
    trace = one_call(scenario(), centre(join_empty="paused,unavailable"), statuses=AWAY)
    assert exit_of(trace) == "no_operators"
    assert [(e["t"], e["reason"], e["position"]) for e in qev(trace, "no_operators")] == [(0.0, "join_empty", 0)]
    assert qev(trace, "entered") == []


def test_leave_when_empty_sends_the_caller_out_when_the_last_operator_goes() -> None:
    c = centre(leave_when_empty=["paused"], max_wait=100)
    plan: list[tuple[float, Any]] = [
        (0, (scenario(), caller())),  # rings 901 and 902, who do not answer
        (1, lambda drv: drv.set_status("901", "break")),
        (8, lambda drv: drv.set_status("902", "break")),
    ]
    [trace], _ = calls(c, plan, phones=dict.fromkeys(OPS, NEVER))
    assert exit_of(trace) == "no_operators"
    assert [(e["t"], e["reason"], e["wait"]) for e in qev(trace, "no_operators")] == [(8.0, "leave_empty", 8.0)]
    # without the setting the caller waits on (max wait)
    [waited], _ = calls(centre(max_wait=100), plan, phones=dict.fromkeys(OPS, NEVER))
    assert exit_of(waited) == "timeout"


def test_a_caller_leaves_after_n_seconds_with_no_operator_logged_in() -> None:
    c = centre(max_wait_no_operator=25, max_wait=100)
    trace = one_call(scenario(), c, statuses=AWAY)
    assert exit_of(trace) == "no_operators"
    assert [(e["t"], e["reason"], e["wait"]) for e in qev(trace, "no_operators")] == [
        (25.0, "no_operator_timeout", 25.0)]


# ---- a caller calling back -----------------------------------------------------------------
def test_a_caller_who_hangs_up_and_calls_again_soon_gets_their_place_back() -> None:
    c = centre(abandoned_resume=60)
    sc = scenario()
    plan: list[tuple[float, Any]] = [
        (0, (sc, caller(caller="+79160000001", hangup_after=10))),
        (5, (sc, caller(caller="+79160000002"))),
        (20, (sc, caller(caller="+79160000001"))),
        (30, lambda drv: drv.set_status("901", "available")),
    ]
    (gone, other, back), driver = calls(c, plan, statuses=AWAY)
    [entered] = qev(back, "entered")
    assert (entered["position"], entered["resumed_from"]) == (1, gone.call_id)
    assert [e["resumed_from"] for e in qev(other, "entered")] == [None]
    served = [x.call_id for _t, x in ((h.at, h.decision) for h in driver.history) if isinstance(x, d.Connected)]
    assert served[0] == back.call_id  # ahead of the caller who came in between


# ---- an operator available on demand -------------------------------------------------------
def test_an_operator_available_on_demand_takes_one_call_and_the_operator_stream_says_so() -> None:
    c = centre(members=["901"], wrap_up=5)
    sc = scenario()
    seen: list[StreamEvent] = []
    plan: list[tuple[float, Any]] = [
        (0, (sc, caller())),  # 901 answers at 3, talks 10 s
        (1, (sc, caller(hangup_after=60))),
        (40, lambda drv: drv.set_status("901", "available_on_demand")),
    ]
    (first, second), _ = calls(c, plan, statuses={"901": "available_on_demand"}, seen=seen)
    assert exit_of(first) == "answered"
    # 901 is not offered the second caller until they are on demand again at 40
    assert [(e["t"], e["operator_id"]) for e in qev(second, "offered")] == [(40.0, "901")]
    statuses = [
        (round(e.ts - AT.timestamp(), 3), e.status, e.reason, e.by)  # type: ignore[attr-defined]
        for e in seen
        if e.name == "operator_status_changed" and e.stream_key == "901"
    ]
    assert statuses == [
        (0.0, "available", None, "start"),
        (0.0, "available_on_demand", None, "operator"),
        (13.0, "not_available", "on_demand", "acd"),
        (40.0, "available_on_demand", None, "operator"),
        (53.0, "not_available", "on_demand", "acd"),  # after the second call
    ]
