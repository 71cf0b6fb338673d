"""Operators in conversation hold the caller and hand the caller on.

Real Queue and Transfer scenarios on the simulator's virtual operators,
whose phones hold and transfer as a `VirtualPhone` says (the centre file's
``sim`` section sets the same). Everything runs on the simulated clock, so
the times asserted are what a caller would live through: operators answer
3 s after being rung.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from scenario_builders import AT, check_stream, deadline, doc, hangup, load, node, script, start

from flowengine.acd import Centre, CentreError, parse_centre
from flowengine.acd.driver import AcdDriver
from flowengine.acd.handover import Destination, resolve
from flowengine.events import StreamEvent
from flowengine.reports.calls import fold_calls
from flowengine.runtime.clock import WallClock
from flowengine.runtime.engine import Engine
from flowengine.runtime.virtual_loop import run_virtual
from flowengine.scenario.compiled import Scenario
from flowengine.storage.cdr import CdrBuilder
from flowengine.testing.harness import CallTrace, CentreSetup, attach_centre, trace_of
from flowengine.testing.phones import VirtualPhone
from telephony_adapters.sim import SimBackend
from telephony_adapters.sim.call import SimCall
from telephony_adapters.sim.operators import SimLeg

QUEUE_EXITS = ("answered", "timeout", "full", "no_operators", "callback")
TRANSFER_EXITS = ("answered", "busy", "no_answer", "failed")
CENTRE = parse_centre({
    "operators": [{"id": "901", "extension": "901"}, {"id": "902", "extension": "902"},
                  {"id": "kate", "extension": "905"}],
    "queues": [{"id": "sales", "members": ["901"], "ring_timeout": 15, "wrap_up": 60},
               {"id": "support", "members": ["902"], "ring_timeout": 15, "wrap_up": 5}],
    "dial_policy": {"allow": ["+7495XXXXXXX"]},
})  # fmt: skip
OUTSIDE = "+74951112233"


@pytest.fixture(autouse=True)
def _no_hang() -> Iterator[None]:
    with deadline(20):
        yield


def queue_scenario() -> Scenario:
    return load(doc([
        start("q"),
        node("q", "queue", {"queue": "sales", "operator_variable": "OP"}, **dict.fromkeys(QUEUE_EXITS, "bye")),
        hangup("bye"),
    ], variables={"OP": ""}))  # fmt: skip


def transfer_scenario(**params: Any) -> Scenario:
    return load(doc([
        start("t"),
        node("t", "transfer", params, **dict.fromkeys(TRANSFER_EXITS, "bye")),
        hangup("bye"),
    ]))  # fmt: skip


def phone(after: float | None = 3.0, talk: float = 20.0, **acts: Any) -> VirtualPhone:
    return VirtualPhone(answer_after=after, talk_time=talk, **acts)


@dataclass
class Run:
    trace: CallTrace
    call: SimCall
    backend: SimBackend
    driver: AcdDriver
    #: every leg the simulator rang, in order
    legs: list[SimLeg]
    centre_events: list[StreamEvent] = field(default_factory=list)
    #: each operator's (status, state) when the call ended
    states: dict[str, str] = field(default_factory=dict)

    def names(self, *wanted: str) -> list[str]:
        return [e.name for e in self.trace.events if not wanted or e.name in wanted]

    def of(self, name: str) -> list[dict[str, Any]]:
        return [e.to_dict() for e in self.trace.events if e.name == name]


def run(
    scenario: Scenario,
    phones: dict[str, VirtualPhone],
    *,
    centre: Centre = CENTRE,
    statuses: dict[str, str] | None = None,
    steps: list[dict[str, Any]] | None = None,
    **script_fields: Any,
) -> Run:
    async def main() -> Run:
        engine = Engine(clock=WallClock(AT), keep_events=True)
        centre_events: list[StreamEvent] = []
        engine.add_listener(lambda e: centre_events.append(e) if e.stream != "call" else None)
        backend = SimBackend(engine)
        driver = attach_centre(engine, backend, CentreSetup(centre, phones=phones, statuses=statuses or {}))
        legs: list[SimLeg] = []
        ring = backend.ring

        def ring_and_keep(target: str, *, ring_timeout: float) -> SimLeg:
            legs.append(leg := ring(target, ring_timeout=ring_timeout))
            return leg

        backend.ring = ring_and_keep  # type: ignore[method-assign]  # the legs rung, to read their requests
        call, task = backend.place_call(script(steps, **script_fields), scenario)
        ctx = await task
        states = {op: driver.core.operator_status(op)[2] for op in driver.core.operator_ids()}
        out = Run(trace_of(ctx), call, backend, driver, legs, centre_events, states)
        # every phone is back on-hook: nothing the transfers rang stays off-hook
        for number in ("901", "902", "905"):
            assert backend.phone_state(number) == "idle", number
        await driver.shutdown()
        await engine.shutdown()
        return out

    result = run_virtual(main())
    check_stream(result.trace.events)
    return result


# ---- hold ----------------------------------------------------------------------------------
def test_an_operator_holds_the_caller_who_hears_music_meanwhile() -> None:
    r = run(queue_scenario(), {"901": phone(hold_share=1.0, hold_after=5, hold_for=7)})
    held, unheld = r.of("leg_held"), r.of("leg_unheld")
    assert [(e["t"], e["operator_id"], e["target"], e["node_id"]) for e in held] == [(8.0, "901", "901", "q")]
    assert [(e["t"], e["held_for"], e["operator_id"]) for e in unheld] == [(15.0, 7.0, "901")]
    assert held[0]["leg_id"] == unheld[0]["leg_id"] == r.of("leg_answered")[0]["leg_id"]
    # each entry is a change of what the caller hears: the queue's music from 0
    # to the answer at 3, then music on hold from 8 to 15, and nothing after
    assert r.call.music_log == [(0.0, None), (3.0, None), (8.0, None), (15.0, None)]
    assert not r.call.music_on
    # the conversation itself is whole: one bridge with the full talk
    assert [(b["talk_time"], b["ended_by"]) for b in r.of("bridge_ended")] == [(20.0, "callee")]
    # and the call's CDR keeps the hold beside the talk
    stream = [e.to_dict() for e in r.trace.events]
    cdr = CdrBuilder(stream[0]["call_id"])
    for e in stream:
        cdr.feed(e["event"], e)
    finished = cdr.finish(r.of("call_ended")[0])
    assert (finished.talk, finished.hold, finished.operator_id) == (20.0, 7.0, "901")


def test_a_leg_that_ends_while_holding_is_unheld_first() -> None:
    r = run(queue_scenario(), {"901": phone(hold_share=1.0, hold_after=5, hold_for=100)})
    assert r.names("leg_held", "leg_unheld", "leg_ended") == ["leg_held", "leg_unheld", "leg_ended"]
    # answered at 3, held at 8, the operator hung up at 23 (20 s of talk)
    assert [(e["t"], e["held_for"]) for e in r.of("leg_unheld")] == [(23.0, 15.0)]
    assert r.call.music_log == [(0.0, None), (3.0, None), (8.0, None), (23.0, None)]


def test_a_phone_without_hold_share_never_holds() -> None:
    r = run(queue_scenario(), {"901": phone(hold_share=0.0, hold_after=5, hold_for=7)})
    assert r.names("leg_held", "leg_unheld") == []


# ---- hand the caller on ----------------------------------------------------------------------
HAND_ON = ("operator_transfer_requested", "operator_transfer_refused", "operator_transfer_ended",
           "queue_connected", "queue_completed", "bridge_started", "bridge_ended")  # fmt: skip


def story(r: Run) -> list[tuple[str, float, str | None]]:
    return [(e["event"], e["t"], e.get("operator_id")) for e in map(lambda x: x.to_dict(), r.trace.events) if e["event"] in HAND_ON]


def test_operator_hands_the_caller_to_another_operator_and_goes_to_wrap_up() -> None:
    r = run(
        queue_scenario(),
        {"901": phone(transfer_share=1.0, transfer_after=5, transfer_to="902"), "902": phone(after=2, talk=20)},
    )
    assert story(r) == [
        ("queue_connected", 3.0, "901"),
        ("bridge_started", 3.0, "901"),
        ("operator_transfer_requested", 8.0, "901"),
        ("bridge_ended", 8.0, "901"),
        ("queue_completed", 8.0, "901"),
        ("queue_connected", 10.0, "902"),
        ("operator_transfer_ended", 10.0, "901"),
        ("bridge_started", 10.0, "902"),
        ("bridge_ended", 30.0, "902"),
        ("queue_completed", 30.0, "902"),
    ]
    ended = r.of("operator_transfer_ended")[0]
    assert (ended["target"], ended["kind"], ended["outcome"], ended["to_operator_id"]) == ("902", "operator", "answered", "902")
    assert r.of("bridge_ended")[0]["cause"] == "transferred"
    first = r.of("leg_ended")[0]
    assert (first["operator_id"], first["t"], first["by"], first["cause"], first["talk_time"]) == (
        "901", 8.0, "engine", "transferred", 5.0)
    # 902 was rung through the ACD (their private queue), which counted the call
    assert [e["queue_id"] for e in r.of("queue_entered")] == ["sales", "operator:902"]
    # the CDR still names the queue the caller came through, with the operator who finished the call
    (cdr,) = fold_calls(e.to_dict() for e in r.trace.events).values()
    assert (cdr.cdr_queue, cdr.cdr_operator) == ("sales", "902")
    assert [(c["operator_id"], c["talk_time"], c["by"]) for c in r.of("queue_completed")] == [
        ("901", 5.0, "agent"), ("902", 20.0, "agent")]
    # A wraps up (sales: 60 s) from the hand-over on; B's private queue has no wrap-up
    wraps = [e.to_dict() for e in r.centre_events if e.name == "operator_wrap_up_started"]
    assert [(w["operator_id"], w["queue_id"], w["ts"] - AT.timestamp()) for w in wraps] == [("901", "sales", 8.0)]
    assert (r.states["901"], r.states["902"]) == ("wrap_up", "idle")
    answered = {o["id"]: o["answered"] for o in r.driver.operator_report()}
    assert (answered["901"], answered["902"], answered["kate"]) == (1, 1, 0)
    sales = r.driver.core.queue_stats("sales")
    assert (sales.offered, sales.answered) == (1, 1)
    assert r.trace.exits[-2] == {"node": "q", "exit": "answered"}
    # what the operator's phone hears back (SIP: 202, then NOTIFY 200)
    (request,) = r.legs[0].transfers
    assert request.accepted().result() is True and request.result().result() == (True, "answered")


def test_the_operator_who_took_the_caller_may_hand_them_on_again() -> None:
    r = run(
        queue_scenario(),
        {
            "901": phone(transfer_share=1.0, transfer_after=5, transfer_to="902"),
            "902": phone(after=2, transfer_share=1.0, transfer_after=4, transfer_to="905"),  # 905: kate's extension
            "905": phone(after=1, talk=10),
        },
    )
    ends = [(e["operator_id"], e["to_operator_id"], e["t"]) for e in r.of("operator_transfer_ended")]
    assert ends == [("901", "902", 10.0), ("902", "kate", 15.0)]
    assert [(b["operator_id"], b["talk_time"]) for b in r.of("bridge_ended")] == [("901", 5.0), ("902", 4.0), ("kate", 10.0)]
    assert r.trace.duration == 25.0


def test_operator_hands_the_caller_to_a_queue() -> None:
    r = run(queue_scenario(), {"901": phone(transfer_share=1.0, transfer_after=5, transfer_to="support"),
                               "902": phone(after=4, talk=10)})
    assert [e["queue_id"] for e in r.of("queue_entered")] == ["sales", "support"]
    ended = r.of("operator_transfer_ended")[0]
    assert (ended["t"], ended["kind"], ended["outcome"], ended["to_operator_id"]) == (12.0, "queue", "answered", "902")
    # the caller waited in support with music, then talked to 902
    assert r.call.music_log == [(0.0, None), (3.0, None), (8.0, None), (12.0, None)]
    assert r.driver.core.queue_stats("support").answered == 1
    assert (r.states["901"], r.states["902"]) == ("wrap_up", "wrap_up")


def test_operator_hands_the_caller_to_a_number_the_dial_policy_allows() -> None:
    r = run(queue_scenario(), {"901": phone(transfer_share=1.0, transfer_after=5, transfer_to=OUTSIDE),
                               OUTSIDE: phone(after=6, talk=10)})
    ended = r.of("operator_transfer_ended")[0]
    assert (ended["t"], ended["kind"], ended["outcome"], ended["to_operator_id"]) == (14.0, "number", "answered", None)
    assert [(b["target"], b["talk_time"]) for b in r.of("bridge_ended")] == [("901", 5.0), (OUTSIDE, 10.0)]
    assert r.backend.phone_state(OUTSIDE) == "idle"


@pytest.mark.parametrize(
    ("target", "reason"),
    [("nobody", "unknown_target"), ("sip:evil@example.com", "unknown_target"), ("+79991234567", "dial_blocked")],
)
def test_a_refused_transfer_keeps_the_conversation(target: str, reason: str) -> None:
    r = run(queue_scenario(), {"901": phone(transfer_share=1.0, transfer_after=5, transfer_to=target)})
    assert story(r) == [
        ("queue_connected", 3.0, "901"),
        ("bridge_started", 3.0, "901"),
        ("operator_transfer_requested", 8.0, "901"),
        ("operator_transfer_refused", 8.0, "901"),
        ("bridge_ended", 23.0, "901"),  # the operator talked on and hung up after their 20 s
        ("queue_completed", 23.0, "901"),
    ]
    assert r.of("operator_transfer_refused")[0]["reason"] == reason
    assert [(b["talk_time"], b["ended_by"]) for b in r.of("bridge_ended")] == [(20.0, "callee")]
    assert r.of("leg_ended")[0]["cause"] == "normal"
    (request,) = r.legs[0].transfers
    assert (request.accepted().result(), request.refusal) == (False, reason)


def test_a_transfer_whose_target_does_not_answer_ends_the_node_as_after_a_conversation() -> None:
    r = run(queue_scenario(), {"901": phone(transfer_share=1.0, transfer_after=5, transfer_to="902"),
                               "902": phone(after=None)})
    ended = r.of("operator_transfer_ended")[0]
    # 902 rang for the hand-over's ring timeout (20 s)
    assert (ended["t"], ended["outcome"], ended["to_operator_id"]) == (28.0, "no_answer", None)
    assert r.trace.exits[-2] == {"node": "q", "exit": "answered"}
    assert r.states["901"] == "wrap_up"
    assert r.legs[0].transfers[0].result().result() == (False, "no_answer")


@pytest.mark.parametrize(("target", "kind"), [("902", "operator"), (OUTSIDE, "number")])
def test_the_centre_sets_how_long_a_hand_over_rings(target: str, kind: str) -> None:
    """`hand_over: {ring_timeout, max_wait}` in the centre file: 6 s here instead of 20 s."""
    centre = parse_centre({**CENTRE.model_dump(exclude_defaults=True), "hand_over": {"ring_timeout": 6, "max_wait": 30}})
    r = run(queue_scenario(), {"901": phone(transfer_share=1.0, transfer_after=5, transfer_to=target),
                               target: phone(after=None)}, centre=centre)  # fmt: skip
    ended = r.of("operator_transfer_ended")[0]
    # answered at 3, handed on at 8, rang out 6 s later
    assert (ended["t"], ended["kind"], ended["outcome"]) == (14.0, kind, "no_answer")


def test_hand_over_timings_must_be_positive() -> None:
    with pytest.raises(CentreError, match="hand_over.ring_timeout"):
        parse_centre({"hand_over": {"ring_timeout": 0}})


def test_a_target_on_a_break_is_busy_at_once() -> None:
    r = run(queue_scenario(), {"901": phone(transfer_share=1.0, transfer_after=5, transfer_to="902")},
            statuses={"902": "break:lunch"})
    ended = r.of("operator_transfer_ended")[0]
    assert (ended["t"], ended["outcome"], ended["to_operator_id"]) == (8.0, "busy", None)
    assert r.of("queue_no_operators")[0]["queue_id"] == "operator:902"
    (request,) = r.legs[0].transfers
    assert request.accepted().result() is True and request.result().result() == (False, "busy")


def test_the_caller_hangs_up_while_the_target_rings() -> None:
    r = run(queue_scenario(), {"901": phone(transfer_share=1.0, transfer_after=5, transfer_to="902"),
                               "902": phone(after=10)}, hangup_after=12)
    ended = r.of("operator_transfer_ended")[0]
    assert (ended["t"], ended["outcome"]) == (12.0, "hangup")
    assert r.names("operator_transfer_ended", "call_hung_up") == ["operator_transfer_ended", "call_hung_up"]
    # 902's phone stopped ringing (run() checks every phone is idle at the end)
    assert [e["outcome"] for e in r.of("leg_ended")] == ["answered", "cancelled"]


def test_an_operator_reached_by_a_transfer_node_hands_the_caller_on_too() -> None:
    sc = transfer_scenario(to="number", numbers=["901"])
    r = run(sc, {"901": phone(transfer_share=1.0, transfer_after=5, transfer_to="902"), "902": phone(after=2, talk=7)})
    ended = r.of("operator_transfer_ended")[0]
    assert (ended["operator_id"], ended["to_operator_id"], ended["t"]) == ("901", "902", 10.0)
    assert [(b["operator_id"], b["talk_time"]) for b in r.of("bridge_ended")] == [("901", 5.0), ("902", 7.0)]
    assert r.trace.exits[-2] == {"node": "t", "exit": "answered"}


def test_targets_resolve_to_operators_queues_and_allowed_numbers() -> None:
    async def main() -> None:
        engine = Engine(clock=WallClock(AT))
        driver = AcdDriver(CENTRE).attach(engine)
        assert resolve(driver, "902") == Destination("operator", "902")
        assert resolve(driver, "905") == Destination("operator", "kate")  # by extension
        assert resolve(driver, "kate") == Destination("operator", "kate")
        assert resolve(driver, "support") == Destination("queue", "support")
        assert resolve(driver, OUTSIDE) == Destination("number", OUTSIDE)
        assert resolve(driver, "+79991234567") == "dial_blocked"
        assert resolve(driver, "") == "unknown_target"
        assert resolve(None, OUTSIDE) == "dial_blocked"  # no centre: no dial policy vouches for it
        assert resolve(None, "902") == "dial_blocked"
        await driver.shutdown()
        await engine.shutdown()

    run_virtual(main())


def test_an_operator_on_a_callback_cannot_hand_it_on_and_talks_on() -> None:
    """A callback belongs to no caller's call (the caller left the line):
    the operator's request is refused and the conversation goes on."""
    centre = parse_centre({
        "operators": [{"id": "901", "extension": "901"}, {"id": "902", "extension": "902"}],
        "queues": [{"id": "sales", "members": ["901"], "callback": True}],
        "dial_policy": {"allow": ["+7XXXXXXXXXX"]},
    })  # fmt: skip
    sc = load(doc([
        start("q"),
        node("q", "queue", {"queue": "sales", "callback_digit": "9"}, **dict.fromkeys(QUEUE_EXITS, "bye")),
        hangup("bye"),
    ]))  # fmt: skip

    async def main() -> tuple[list[SimLeg], list[str]]:
        loop = asyncio.get_running_loop()
        engine = Engine(clock=WallClock(AT), keep_events=True)
        backend = SimBackend(engine)
        phones = {"901": phone(talk=30, transfer_share=1.0, transfer_after=5, transfer_to="902")}
        driver = attach_centre(engine, backend, CentreSetup(centre, phones=phones, statuses={"901": "break:lunch"},
                                                            callback_answer_after=2))
        decisions: list[str] = []
        driver.add_listener(lambda _now, x: decisions.append(type(x).__name__))
        legs: list[SimLeg] = []
        ring = backend.ring

        def ring_and_keep(target: str, *, ring_timeout: float) -> SimLeg:
            legs.append(leg := ring(target, ring_timeout=ring_timeout))
            return leg

        backend.ring = ring_and_keep  # type: ignore[method-assign]
        _call, task = backend.place_call(script([{"wait": 1}, {"press": "9"}]), sc)
        await task
        loop.call_later(10, driver.set_status, "901", "available")
        await asyncio.sleep(120)
        await driver.shutdown()
        await engine.shutdown()
        return legs, decisions

    legs, decisions = run_virtual(main())
    operator_leg, caller_leg = legs
    (request,) = operator_leg.transfers
    assert (request.accepted().result(), request.refusal) == (False, "not_supported")
    # the conversation lasted the operator's 30 s of talk (from their answer), not 5
    assert operator_leg.talk_time == 30.0 and caller_leg.talk_time == 28.0  # the caller answered 2 s in
    assert "Completed" in decisions


def test_a_test_scripts_the_operator_through_the_phone_they_talk_on() -> None:
    """`SimBackend.answered_leg` is the phone's line: a test holds and
    transfers with it at the moments it chooses, as the operator would."""

    async def main() -> CallTrace:
        loop = asyncio.get_running_loop()
        engine = Engine(clock=WallClock(AT), keep_events=True)
        backend = SimBackend(engine)
        driver = attach_centre(engine, backend, CentreSetup(CENTRE, phones={"901": phone(talk=60)}))
        del backend.directory["905"]  # kate's phone does not exist here

        def operator(held: bool | None = None, to: str | None = None) -> None:
            leg = backend.answered_leg("901")
            assert leg is not None
            if held is not None:
                leg.hold_received(held)
            if to is not None:
                leg.transfer_received(to)

        assert backend.answered_leg("901") is None
        loop.call_later(6, operator, True)
        loop.call_later(9, operator, False)
        loop.call_later(12, operator, None, "905")  # kate, by extension: not a phone in this test
        _call, task = backend.place_call(script(), queue_scenario())
        ctx = await task
        await driver.shutdown()
        await engine.shutdown()
        return trace_of(ctx)

    trace = run_virtual(main())
    seen = [(e.name, e.t) for e in trace.events if e.name.startswith(("leg_held", "leg_unheld", "operator_transfer"))]
    assert seen == [
        ("leg_held", 6.0), ("leg_unheld", 9.0),
        # kate's extension 905 has no phone here: she is rung, the call fails (404), the node ends
        ("operator_transfer_requested", 12.0), ("operator_transfer_ended", 12.0),
    ]  # fmt: skip
    ended = [e.to_dict() for e in trace.events if e.name == "operator_transfer_ended"][0]
    assert (ended["to_operator_id"], ended["outcome"]) == (None, "failed")
    assert [e.to_dict()["held_for"] for e in trace.events if e.name == "leg_unheld"] == [3.0]
