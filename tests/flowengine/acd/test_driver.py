"""The asyncio ACD driver: the sans-IO core run on the (simulated) loop clock.

Real Queue scenarios on virtual operators, with the driver steered at fixed
simulated times the way a supervisor or a phone would: an operator logging
out mid-ring, a status change with a typo, an answer that arrives after the
core has already given up on that offer.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from scenario_builders import AT, deadline, doc, events, hangup, load, node, script, start

from flowengine.acd import Centre, parse_centre
from flowengine.acd import decisions as d
from flowengine.acd.driver import AcdDriver
from flowengine.errors import UsageError
from flowengine.runtime.clock import WallClock
from flowengine.runtime.engine import Engine, platform_call_ids
from flowengine.runtime.virtual_loop import run_virtual
from flowengine.scenario.compiled import Scenario
from flowengine.testing.harness import CallTrace, CentreSetup, attach_centre, trace_of
from flowengine.testing.phones import VirtualPhone
from flowengine.testing.script import CallerScript
from telephony_adapters.sim import SimBackend

OPS = ("901", "902", "903")
NEVER = VirtualPhone(answer_after=None)


@pytest.fixture(autouse=True)
def _no_hang() -> Iterator[None]:
    """A broken timer would leave the virtual clock with nothing to jump to: fail, do not hang."""
    with deadline(20):
        yield


def centre(**queue: Any) -> Centre:
    return parse_centre({
        "operators": [{"id": o, "extension": o} for o in OPS],
        "queues": [{"id": "q", "members": list(OPS), "ring_timeout": 10, "retry": 0, **queue}],
        "dial_policy": {"allow": ["+7XXXXXXXXXX"]},  # callbacks dial the caller's number
    })


def queue_scenario(**params: Any) -> Scenario:
    exits = dict.fromkeys(("answered", "timeout", "full", "no_operators", "callback"), "bye")
    return load(doc(
        [start("q"), node("q", "queue", {"queue": "q", "operator_variable": "OP", **params}, **exits), hangup("bye")],
        variables={"OP": ""},
    ))


def run(
    c: Centre,
    plan: list[tuple[float, Any]],
    *,
    until: float = 0.0,
    answer_after: float | None = 3.0,
    talk_time: float = 10.0,
    statuses: dict[str, str] | None = None,
    phones: dict[str, VirtualPhone] | None = None,
) -> tuple[list[CallTrace], AcdDriver]:
    """(t, (Scenario, CallerScript)) places a call at t, (t, action(driver)) acts
    on the driver at t; the loop runs until every call is over and `until`
    has passed. Event times come back on the centre's clock."""

    async def main() -> tuple[list[CallTrace], AcdDriver]:
        loop = asyncio.get_running_loop()
        # the backend's ids ("sim-1", ...) name the calls in the ACD too
        engine = Engine(clock=WallClock(AT), keep_events=True, call_ids=platform_call_ids)
        backend = SimBackend(engine)
        setup = CentreSetup(c, answer_after=answer_after, talk_time=talk_time, statuses=statuses or {}, phones=phones or {})
        driver = attach_centre(engine, backend, setup)
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
            await asyncio.sleep(max(0.0, until - loop.time()))
        finally:
            await driver.shutdown()
            await engine.shutdown()
        traces = [trace_of(ctx) for ctx in ctxs]
        for trace, started in zip(traces, starts, strict=True):
            trace.events = [dataclasses.replace(e, t=round(e.t + started, 6)) for e in trace.events]
        return traces, driver

    return run_virtual(main())


def a_call(**fields: Any) -> tuple[Scenario, CallerScript]:
    return queue_scenario(), script(**fields)


def qev(trace: CallTrace, kind: str | None = None) -> list[dict[str, Any]]:
    """The call's queue events (of one kind: "offered" for queue_offered...), as dicts."""
    return [
        e.to_dict() for e in trace.events
        if e.name.startswith("queue_") and (kind is None or e.name == f"queue_{kind}")
    ]


def offers(trace: CallTrace) -> list[tuple[float, str]]:
    return [(e["t"], e["operator_id"]) for e in qev(trace, "offered")]


def history(driver: AcdDriver, kind: type[d.Decision]) -> list[tuple[float, Any]]:
    return [(h.at, h.decision) for h in driver.history if isinstance(h.decision, kind)]


# ---- an operator disappears -------------------------------------------------------------------
def test_an_operator_removed_mid_ring_is_stopped_and_the_next_one_gets_the_call() -> None:
    # 901 would answer at 8, but logs out at 4 while their phone rings
    c = centre(strategy="linear")
    [trace], driver = run(c, [(0, a_call()), (4, lambda drv: drv.remove_operator("901"))],
                          phones={"901": VirtualPhone(answer_after=8)})
    assert offers(trace) == [(0.0, "901"), (4.0, "902")]
    assert [(e["t"], e["operator_id"]) for e in qev(trace, "connected")] == [(7.0, "902")]
    assert trace.variables["OP"] == "902"
    stops = [(t, x.operator_id, x.reason) for t, x in history(driver, d.StopRinging)]
    assert (4.0, "901", "operator_gone") in stops
    assert driver.core.operator_status("901") == ("not_available", "removed", "idle")
    assert qev(trace, "offer_missed") == []  # leaving is not a missed call


def test_a_call_whose_only_free_operator_is_removed_stays_queued_until_another_comes() -> None:
    c = centre(strategy="ring_all", members=["901", "902"])
    states: list[str | None] = []
    plan: list[tuple[float, Any]] = [
        (0, a_call()),
        (4, lambda drv: drv.remove_operator("901")),
        (4, lambda drv: drv.remove_operator("901")),  # twice: harmless
        (10, lambda drv: states.append(drv.core.call_state("sim-1"))),  # the first call of a fresh backend
        (20, lambda drv: drv.set_status("902", "available")),
    ]
    [trace], _ = run(c, plan, statuses={"902": "break"}, phones={"901": VirtualPhone(answer_after=8)})
    assert states == ["waiting"]
    assert offers(trace) == [(0.0, "901"), (20.0, "902")]
    assert [(e["t"], e["operator_id"]) for e in qev(trace, "connected")] == [(23.0, "902")]


def test_an_operator_removed_while_talking_finishes_the_conversation() -> None:
    [trace], driver = run(centre(strategy="linear"), [(0, a_call()), (5, lambda drv: drv.remove_operator("901"))])
    assert [(e["t"], e["operator_id"], e["talk_time"]) for e in qev(trace, "completed")] == [(13.0, "901", 10.0)]
    assert driver.core.operator_status("901")[0] == "not_available"


# ---- bad input ------------------------------------------------------------------------------
def test_status_changes_for_unknown_operators_or_statuses_are_clear_errors() -> None:
    async def main() -> list[tuple[str, str | None, str]]:
        driver = AcdDriver(centre())
        with pytest.raises(UsageError, match="unknown operator '999'"):
            driver.set_status("999", "available")
        with pytest.raises(UsageError, match=r"unknown status 'lunch' \(known: available, available_on_demand, break, not_available\)"):
            driver.set_status("901", "lunch")
        with pytest.raises(UsageError, match="unknown operator '999'"):
            driver.remove_operator("999")
        # nothing was half-applied, and the driver goes on working
        unchanged = driver.core.operator_status("901")
        driver.set_status("901", "break", "lunch")
        await driver.shutdown()
        return [unchanged, driver.core.operator_status("901")]

    assert run_virtual(main()) == [("available", None, "idle"), ("break", "lunch", "idle")]


# ---- late answers ------------------------------------------------------------------------------
def test_a_late_answer_after_the_core_gave_up_does_not_cancel_the_next_offer() -> None:
    # The personal manager 901 is rung for 8 s and answers after exactly 8 s:
    # the core times the offer out first and, with nobody else in the queue,
    # rings 901 again at once (20 s this time). The old leg had answered in
    # that same instant: it is hung up (not merely "cancelled", which would
    # leave the phone off-hook and make the new ring busy), without touching
    # the new ring, which 901 answers 8 s later.
    c = parse_centre({
        "operators": [{"id": "901", "extension": "901"}],
        "queues": [{
            "id": "q", "members": ["901"], "ring_timeout": 20, "retry": 0, "max_wait": 100,
            "strategy": "personal_manager",
            "strategy_params": {"fallback": "linear", "fallback_after": 8},
            "personal_managers": {"79160000000": "901"},
        }],
    })
    [trace], driver = run(c, [(0, a_call())], answer_after=8)
    assert [(t, x.reason) for t, x in history(driver, d.StopRinging)] == [(8.0, "no_answer")]
    assert offers(trace) == [(0.0, "901"), (8.0, "901")]
    assert [e["t"] for e in qev(trace, "offer_missed")] == [8.0]
    assert [(e["t"], e["operator_id"]) for e in qev(trace, "connected")] == [(16.0, "901")]
    first, second = [e for e in events(trace, "leg_ended") if e["operator_id"] == "901"]
    assert (first["t"], first["outcome"], first["by"], first["cause"], first["talk_time"]) == (
        8.0, "answered", "engine", "cancelled", 0.0)
    assert (second["t"], second["by"], second["talk_time"]) == (26.0, "callee", 10.0)


def test_a_callback_answer_reported_twice_is_harmless() -> None:
    c = centre(members=["901"], callback=True)
    dues: list[d.CallbackDue] = []
    seen: list[tuple[str, str | None, str]] = []

    def answer_again(drv: AcdDriver) -> None:
        [(_t, due)] = history(drv, d.CallbackDue)
        dues.append(due)
        drv.callback_answered(due)  # the dialer reports the same answer again, long after
        seen.append(drv.core.operator_status("901"))

    plan: list[tuple[float, Any]] = [
        (0, (queue_scenario(callback_digit="1"), script(steps=[{"wait": 2}, {"press": "1"}]))),
        (5, lambda drv: drv.set_status("901", "available")),
        (60, answer_again),
    ]
    [trace], driver = run(c, plan, statuses={"901": "break"}, until=70)
    assert [q["event"] for q in qev(trace)][-1] == "queue_callback_requested"
    # due at 5: 901 answers at 8, the caller at 13; 901 talks 10 s from their answer and hangs up
    assert [(t, x.call_id) for t, x in history(driver, d.Completed)] == [(18.0, trace.call_id)]
    assert [(t, x.reason) for t, x in history(driver, d.StopRinging)] == [(60.0, "not_offered")]
    assert len(history(driver, d.Connected)) == 1
    assert seen == [("available", None, "idle")]  # not "talking" to a call that is over


# ---- the event stream ----------------------------------------------------------------------------
def test_queue_events_reach_the_call_stream_in_order() -> None:
    c = centre(strategy="linear", members=["901", "902"])
    got: list[tuple[float, str]] = []
    [trace], driver = run(c, [(0, a_call()), (0, lambda drv: drv.add_listener(lambda t, x: got.append((t, type(x).__name__))))],
                          phones={"901": NEVER})
    stream = [(e["t"], e["event"], e.get("operator_id")) for e in qev(trace)]
    assert stream == [
        (0.0, "queue_entered", None),
        (0.0, "queue_offered", "901"),
        (10.0, "queue_offer_missed", "901"),
        (10.0, "queue_offered", "902"),
        (13.0, "queue_connected", "902"),
        (23.0, "queue_completed", "902"),
    ]
    assert {e["node_id"] for e in qev(trace)} == {"q"}
    assert {e["queue_id"] for e in qev(trace)} == {"q"}
    # queue events sit between entering and leaving the Queue node
    names = [e.name for e in trace.events]
    queue = [i for i, name in enumerate(names) if name.startswith("queue_")]
    first_q, last_q = queue[0], queue[-1]
    assert names[first_q - 1] == "node_entered" and names[last_q + 1] == "node_left"
    # the driver's history and its listeners saw the same decisions, at the same times
    assert [(h.at, type(h.decision).__name__) for h in driver.history
            if isinstance(h.decision, d.Queued | d.Ring | d.Connected | d.Completed)] == [
        (0.0, "Queued"), (0.0, "Ring"), (10.0, "Ring"), (13.0, "Connected"), (23.0, "Completed")]
    assert got == [(h.at, type(h.decision).__name__) for h in driver.history]


# ---- releasing operators' phones ---------------------------------------------------------------
def phones(drv: AcdDriver) -> dict[str, str]:
    backend = drv.engine.router.default if drv.engine is not None else None
    assert isinstance(backend, SimBackend)
    return {op: backend.phone_state(op) for op in OPS}


def test_when_two_operators_answer_in_the_same_instant_the_losers_phone_is_released() -> None:
    seen: list[dict[str, str]] = []
    [trace], _ = run(centre(strategy="ring_all"), [(0, a_call()), (4, lambda drv: seen.append(phones(drv)))],
                     answer_after=3)
    [(t, winner)] = [(e["t"], e["operator_id"]) for e in qev(trace, "connected")]
    assert t == 3.0
    # one phone is on the call; the two that picked up in the same instant were hung up
    assert seen == [{op: "on_call" if op == winner else "idle" for op in OPS}]
    losers = [(e["t"], e["operator_id"], e["outcome"], e["by"], e["cause"])
              for e in events(trace, "leg_ended") if e["operator_id"] != winner]
    assert sorted(losers) == [(3.0, op, "answered", "engine", "answered_elsewhere") for op in OPS if op != winner]


def test_a_caller_who_hangs_up_as_the_operator_answers_frees_the_operators_phone() -> None:
    # The caller hangs up in the very step the ACD connects them, before the
    # Queue node can bridge: the answered leg must be hung up when the node leaves.
    async def main() -> tuple[CallTrace, dict[str, str], AcdDriver]:
        engine = Engine(clock=WallClock(AT), keep_events=True)
        backend = SimBackend(engine)
        driver = attach_centre(engine, backend, CentreSetup(centre(strategy="linear"), answer_after=3, talk_time=10))
        call, task = backend.place_call(script(), queue_scenario())

        def hang_up_on_connect(_t: float, x: d.Decision) -> None:
            if isinstance(x, d.Connected):
                call.remote_hangup("normal")

        driver.add_listener(hang_up_on_connect)
        try:
            ctx = await task
            return trace_of(ctx), phones(driver), driver
        finally:
            await driver.shutdown()
            await engine.shutdown()

    trace, after, driver = run_virtual(main())
    assert [(t, x.operator_id, x.by) for t, x in history(driver, d.Completed)] == [(3.0, "901", "caller")]
    assert after == dict.fromkeys(OPS, "idle")
    [ended] = events(trace, "leg_ended")
    assert (ended["t"], ended["operator_id"], ended["outcome"], ended["by"]) == (3.0, "901", "answered", "caller")
    assert events(trace, "bridge_started") == []


def test_legs_the_acd_rings_are_in_the_callers_stream() -> None:
    [trace], _ = run(centre(strategy="linear"), [(0, a_call())], phones={"901": NEVER})
    legs = [(e.name, e.t, getattr(e, "operator_id", None)) for e in trace.events
            if e.name.startswith(("leg_", "bridge_"))]
    assert legs == [
        ("leg_dialing", 0.0, "901"), ("leg_ringing", 0.0, "901"),
        ("leg_ended", 10.0, "901"),  # the ACD's ring timeout: cancelled as no_answer
        ("leg_dialing", 10.0, "902"), ("leg_ringing", 10.0, "902"),
        ("leg_answered", 13.0, "902"), ("bridge_started", 13.0, "902"),
        ("leg_ended", 23.0, "902"), ("bridge_ended", 23.0, "902"),
    ]
    first, second = events(trace, "leg_ended")
    assert (first["outcome"], first["by"], first["cause"], first["sip_status"], first["q850"]) == (
        "no_answer", "engine", "no_answer", 487, 19)
    assert (second["outcome"], second["by"], second["ring_time"], second["talk_time"]) == ("answered", "callee", 3.0, 10.0)
    [bridged] = events(trace, "bridge_ended")
    assert (bridged["talk_time"], bridged["ended_by"], bridged["cause"]) == (10.0, "callee", "normal")


def test_an_operators_other_phone_stops_ringing_when_one_of_them_answers() -> None:
    # 904's desk phone rings at once, the mobile joins at 15 s; the desk answers
    # at 18 s. The mobile must stop ringing then, not ring on through the talk.
    c = parse_centre({
        "operators": [{"id": "904", "targets": [{"number": "904", "after": 0}, {"number": "+79161234904", "after": 15}]}],
        "queues": [{"id": "q", "members": ["904"], "ring_timeout": 30, "retry": 0}],
    })
    seen: list[tuple[str, str]] = []

    def look(drv: AcdDriver) -> None:
        backend = drv.engine.router.default if drv.engine is not None else None
        assert isinstance(backend, SimBackend)
        seen.append((backend.phone_state("904"), backend.phone_state("+79161234904")))

    phones = {"904": VirtualPhone(answer_after=18, talk_time=60), "+79161234904": VirtualPhone(answer_after=10)}
    [trace], _ = run(c, [(0, a_call()), (16, look), (20, look), (30, look)], phones=phones)
    assert [(e["t"], e["operator_id"]) for e in qev(trace, "connected")] == [(18.0, "904")]
    assert seen == [("ringing", "ringing"), ("on_call", "idle"), ("on_call", "idle")]
    mobile = [e for e in events(trace, "leg_ended") if e["target"] == "+79161234904"]
    assert [(e["t"], e["outcome"], e["cause"]) for e in mobile] == [(18.0, "cancelled", "answered_elsewhere")]


# ---- callbacks after overflow --------------------------------------------------------------------
def test_the_callback_digit_after_overflow_into_a_queue_without_callbacks_is_ignored() -> None:
    c = parse_centre({
        "operators": [{"id": o, "extension": o} for o in OPS],
        "queues": [
            {"id": "q", "members": ["902"], "callback": True, "overflow": {"after": 5, "to": "q2"}},
            {"id": "q2", "members": ["901"], "ring_timeout": 10, "auto_break_after": 1},
        ],
        "dial_policy": {"allow": ["+7XXXXXXXXXX"]},
    })
    plan: list[tuple[float, Any]] = [
        (0, (queue_scenario(callback_digit="1"), script(steps=[{"wait": 8}, {"press": "1"}]))),
        (20, lambda drv: drv.set_status("901", "available")),
    ]
    [trace], driver = run(c, plan, statuses={"901": "break", "902": "break"})
    assert "queue_callback_requested" not in [q["event"] for q in qev(trace)]
    # the caller kept waiting in q2 and was answered there
    assert [(e["t"], e["queue_id"], e["operator_id"]) for e in qev(trace, "connected")] == [(23.0, "q2", "901")]
    assert history(driver, d.OperatorAutoBreak) == []
    assert driver.core.queue_stats("q2").answered == 1


def test_a_call_with_nobody_on_the_line_is_abandoned_not_rung() -> None:
    c = centre(members=["901"], auto_break_after=1)
    plan: list[tuple[float, Any]] = [
        # a call the ACD knows of, but no node waits for it (its caller is gone)
        (1, lambda drv: drv._feed(lambda now: drv.core.call_arrived(now, "ghost", "q"))),
    ]
    _traces, driver = run(c, plan, until=30)
    assert [type(x).__name__ for _t, x in history(driver, d.Decision) if getattr(x, "call_id", None) == "ghost"][-2:] == [
        "StopRinging", "Abandoned"]
    assert history(driver, d.OperatorAutoBreak) == []
    assert history(driver, d.OfferMissed) == []
    assert driver.core.operator_status("901")[0] == "available"
