"""The Transfer component: numbers rung directly, operators and departments through the ACD.

Numbers ring virtual phones from the simulator's directory; each leg's outcome
is a `dial_attempted` event. Operators and departments go through the ACD
driver on virtual operators, so their attempts are `queue_*` events. Everything
runs on the simulated clock: the times asserted are the times a caller would
wait.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from scenario_builders import AT, assign, deadline, doc, events, hangup, load, node, script, start

from flowengine.acd import Centre, parse_centre
from flowengine.errors import ScenarioError
from flowengine.runtime.clock import WallClock
from flowengine.runtime.engine import Engine
from flowengine.runtime.virtual_loop import run_virtual
from flowengine.scenario.compiled import Scenario
from flowengine.testing.harness import (
    CallTrace,
    CentreSetup,
    run_call_async,
    run_scenario,
    trace_of,
)
from flowengine.testing.phones import VirtualPhone
from telephony_adapters.sim import SimBackend

TRANSFER_EXITS = ("answered", "busy", "no_answer", "failed")
NEVER = VirtualPhone(answer_after=None)
BUSY = VirtualPhone(busy=True)
OPS = ("901", "902", "903")


@pytest.fixture(autouse=True)
def _no_hang() -> Iterator[None]:
    """A broken timer would leave the virtual clock with nothing to jump to: fail, do not hang."""
    with deadline(20):
        yield


def answers(after: float, talk: float = 20.0) -> VirtualPhone:
    return VirtualPhone(answer_after=after, talk_time=talk)


def transfer_scenario(*, before: list[dict[str, Any]] | None = None, **params: Any) -> Scenario:
    """start -> [before...] -> transfer node 't' (every exit -> hangup 'bye', "error" -> 'failed')."""
    first = before[0]["id"] if before else "t"
    nodes = [
        start(first),
        *(before or []),
        node("t", "transfer", {"operator_variable": "WHO", **params}, **dict.fromkeys(TRANSFER_EXITS, "bye"), error="failed"),
        hangup("bye"),
        hangup("failed"),
    ]
    return load(doc(nodes, variables={"WHO": "", "MANAGER": ""}))


def dial(sc: Scenario, phones: dict[str, VirtualPhone], **script_fields: Any) -> CallTrace:
    return run_scenario(sc, script(**script_fields), at=AT, directory=dict(phones))


def attempts(trace: CallTrace) -> list[tuple[float, str, str]]:
    return [(e["t"], e["target"], e["outcome"]) for e in events(trace, "dial_attempted")]


def exit_of(trace: CallTrace, node_id: str = "t") -> str:
    return [x["exit"] for x in trace.exits if x["node"] == node_id][-1]


# ---- to a number ---------------------------------------------------------------------------
def test_ring_all_numbers_connects_the_first_to_answer() -> None:
    sc = transfer_scenario(numbers=["200", "201", "202"], strategy="all")
    trace = dial(sc, {"200": NEVER, "201": answers(4), "202": answers(2)})
    assert exit_of(trace) == "answered"
    assert attempts(trace) == [(2.0, "202", "answered")]  # the others were cancelled
    assert trace.variables["WHO"] == "202"
    assert trace.duration == 22.0  # answered at 2, talked 20 s


def on_phones(
    sc: Scenario, phones: dict[str, VirtualPhone], at: float, **script_fields: Any
) -> tuple[CallTrace, dict[str, str]]:
    """Run one call, and read every phone's line state at simulated time `at`."""

    async def main() -> tuple[CallTrace, dict[str, str]]:
        engine = Engine(clock=WallClock(AT), keep_events=True)
        backend = SimBackend(engine, directory=dict(phones))
        try:
            _call, task = backend.place_call(script(**script_fields), sc)
            await asyncio.sleep(at)
            states = {number: backend.phone_state(number) for number in phones}
            return trace_of(await task), states
        finally:
            await engine.shutdown()

    return run_virtual(main())


def test_numbers_answering_in_the_same_instant_leave_only_the_winners_phone_off_hook() -> None:
    sc = transfer_scenario(numbers=["200", "201", "202"], strategy="all")
    trace, states = on_phones(sc, {"200": answers(2), "201": answers(2), "202": NEVER}, at=3)
    assert trace.variables["WHO"] == "200"  # a tie goes to the number rung first
    assert states == {"200": "on_call", "201": "idle", "202": "idle"}
    ended = {e["target"]: (e["t"], e["outcome"], e["by"], e["cause"]) for e in events(trace, "leg_ended")}
    assert ended == {
        "201": (2.0, "answered", "engine", "answered_elsewhere"),  # picked up too: hung up
        "202": (2.0, "cancelled", "engine", "answered_elsewhere"),  # still ringing: cancelled
        "200": (22.0, "answered", "callee", "normal"),
    }
    [bridged] = events(trace, "bridge_ended")
    assert (bridged["t"], bridged["target"], bridged["talk_time"], bridged["ended_by"]) == (22.0, "200", 20.0, "callee")


def test_a_phone_answering_as_it_is_cancelled_is_hung_up() -> None:
    # 201 picks up at 2.5, after 200 won at 2 but before our CANCEL reaches it (1 s lag)
    sc = transfer_scenario(numbers=["200", "201"], strategy="all")
    slow = VirtualPhone(answer_after=2.5, talk_time=60, cancel_lag=1)
    trace, states = on_phones(sc, {"200": answers(2), "201": slow}, at=2.75)
    assert states == {"200": "on_call", "201": "idle"}
    assert trace.variables["WHO"] == "200"


def test_a_caller_hanging_up_mid_conversation_releases_the_number() -> None:
    sc = transfer_scenario(numbers=["200"])
    trace, states = on_phones(sc, {"200": answers(2, talk=60)}, at=10, hangup_after=8)
    assert states == {"200": "idle"}  # read at 10 s: the caller left at 8
    [bridged] = events(trace, "bridge_ended")
    assert (bridged["t"], bridged["talk_time"], bridged["ended_by"]) == (8.0, 6.0, "caller")
    [ended] = events(trace, "leg_ended")
    assert (ended["t"], ended["by"], ended["talk_time"]) == (8.0, "caller", 6.0)


@pytest.mark.parametrize(("strategy", "phones", "exit", "expected"), [
    ("all", {"200": BUSY, "201": BUSY}, "busy", [(0.5, "200", "busy"), (0.5, "201", "busy")]),
    ("all", {"200": NEVER, "201": NEVER}, "no_answer", [(10.0, "200", "no_answer"), (10.0, "201", "no_answer")]),
    ("all", {"200": BUSY, "201": NEVER}, "no_answer", [(0.5, "200", "busy"), (10.0, "201", "no_answer")]),
    ("all", {}, "failed", [(0.0, "200", "failed"), (0.0, "201", "failed")]),  # nobody has these numbers
    ("sequential", {"200": BUSY, "201": BUSY}, "busy", [(0.5, "200", "busy"), (1.0, "201", "busy")]),
    ("sequential", {"200": NEVER}, "no_answer", [(10.0, "200", "no_answer"), (10.0, "201", "failed")]),
])
def test_when_nobody_takes_the_call_the_exit_says_why(
    strategy: str, phones: dict[str, VirtualPhone], exit: str, expected: list[tuple[float, str, str]]
) -> None:
    trace = dial(transfer_scenario(numbers=["200", "201"], strategy=strategy, ring_timeout=10), phones)
    assert exit_of(trace) == exit
    assert sorted(attempts(trace)) == expected
    assert "WHO" not in {e["variable"] for e in events(trace, "variable_changed")}


def test_sequential_rings_one_number_after_another() -> None:
    sc = transfer_scenario(numbers=["200", "201", "202"], strategy="sequential", ring_timeout=5)
    trace = dial(sc, {"200": NEVER, "201": BUSY, "202": answers(2)})
    assert attempts(trace) == [(5.0, "200", "no_answer"), (5.5, "201", "busy"), (7.5, "202", "answered")]
    assert trace.variables["WHO"] == "202"


def test_total_timeout_bounds_sequential_ringing() -> None:
    sc = transfer_scenario(numbers=["200", "201", "202", "203"], strategy="sequential", ring_timeout=10, total_timeout=25)
    trace = dial(sc, dict.fromkeys(("200", "201", "202", "203"), NEVER))
    # the third number gets only the 5 s left; the fourth is never rung
    assert attempts(trace) == [(10.0, "200", "no_answer"), (20.0, "201", "no_answer"), (25.0, "202", "no_answer")]
    assert exit_of(trace) == "no_answer"
    assert trace.duration == 25.0


@pytest.mark.parametrize(("strategy", "expected"), [
    ("all", [(3.0, "202", "answered")]),  # all three ring from 0
    ("cumulative", [(13.0, "202", "answered")]),  # 202 joins at 10; 201 (joined at 5) would answer at 14
    ("sequential", [(20.0, "200", "no_answer"), (29.0, "201", "answered")]),
])
def test_ring_strategies_differ_in_when_each_number_starts_ringing(strategy: str, expected: list[tuple[float, str, str]]) -> None:
    sc = transfer_scenario(numbers=["200", "201", "202"], strategy=strategy, ring_timeout=20, interval=5)
    trace = dial(sc, {"200": NEVER, "201": answers(9), "202": answers(3)})
    assert attempts(trace) == expected


def test_cumulative_keeps_the_earlier_numbers_ringing() -> None:
    sc = transfer_scenario(numbers=["200", "201", "202"], strategy="cumulative", ring_timeout=20, interval=5)
    # 200 answers 12 s after it started: it must still be ringing after 202 joined at 10
    trace = dial(sc, {"200": answers(12), "201": NEVER, "202": answers(3)})
    assert attempts(trace) == [(12.0, "200", "answered")]


def random_transfer(call_id: str) -> CallTrace:
    numbers = ["200", "201", "202", "203", "204"]
    sc = transfer_scenario(numbers=numbers, strategy="random", ring_timeout=4)

    async def main() -> CallTrace:
        engine = Engine(clock=WallClock(AT), keep_events=True)
        try:
            return await run_call_async(engine, script(), sc, directory=dict.fromkeys(numbers, NEVER), call_id=call_id)
        finally:
            await engine.shutdown()

    return run_virtual(main())


def test_random_rings_one_random_number_per_attempt_reproducibly() -> None:
    first = random_transfer("call-a")
    assert [t for t, _n, _o in attempts(first)] == [4.0, 8.0, 12.0, 16.0, 20.0]
    order = [n for _t, n, _o in attempts(first)]
    assert sorted(order) == ["200", "201", "202", "203", "204"]
    assert attempts(random_transfer("call-a")) == attempts(first)
    others = {tuple(n for _t, n, _o in attempts(random_transfer(f"call-{i}"))) for i in range(6)}
    assert len(others | {tuple(order)}) > 1, "every call drew the same order"


def test_a_number_can_come_from_a_variable() -> None:
    before = [assign("set", "t", MANAGER="'300'")]
    # a computed number is dialled only if a dial policy allows it: here the node's own
    trace = dial(transfer_scenario(before=before, numbers=["{MANAGER}"], allow=["3XX"]), {"300": answers(1)})
    assert attempts(trace) == [(1.0, "300", "answered")]
    assert trace.variables["WHO"] == "300"
    # an empty number is not dialled at all
    empty = dial(transfer_scenario(numbers=["{MANAGER}"], allow=["3XX"]), {"300": answers(1)})
    assert exit_of(empty) == "failed"
    assert attempts(empty) == []


def test_a_blind_transfer_hands_the_call_over_once_the_target_takes_it() -> None:
    trace = dial(transfer_scenario(numbers=["300"], blind=True), {"300": answers(3)})
    assert exit_of(trace) == "answered"
    assert [(e.name, e.t) for e in trace.events if e.name.startswith("transfer_")] == [
        ("transfer_accepted", 0.0), ("transfer_completed", 3.0)]
    assert events(trace, "transfer_completed")[0]["sip_status"] == 200
    assert attempts(trace) == []  # a blind transfer is not a leg the engine answers
    assert trace.hangup_cause == "transferred"
    # the call is gone: the scenario does not walk on to 'bye' talking to nobody
    assert trace.path == ["start", "t"]
    assert [e["by"] for e in events(trace, "call_hung_up")] == ["engine"]


@pytest.mark.parametrize(("phones", "reason", "status", "t"), [
    ({"300": BUSY}, "failed", 486, 0.5),
    ({"300": VirtualPhone(reject=True)}, "failed", 603, 0.5),
    ({}, "failed", 404, 0.0),  # nobody has this number
    ({"300": NEVER}, "timeout", None, 15.0),  # no final word within total_timeout
])
def test_a_blind_transfer_that_fails_keeps_the_caller(
    phones: dict[str, VirtualPhone], reason: str, status: int | None, t: float
) -> None:
    trace = dial(transfer_scenario(numbers=["300"], blind=True, total_timeout=15), phones)
    assert exit_of(trace) == "failed"
    [accepted] = events(trace, "transfer_accepted")
    [failed] = events(trace, "transfer_failed")
    assert (accepted["t"], failed["t"], failed["reason"], failed["sip_status"]) == (0.0, t, reason, status)
    # still ours: the scenario goes on along the "failed" exit
    assert trace.path == ["start", "t", "bye"]
    assert trace.hangup_cause == "normal"


# ---- the dial policy (toll fraud) ---------------------------------------------------------------
def caller_dials(numbers: tuple[str, ...] = ("{EXT}",), **params: Any) -> Scenario:
    """"Enter the extension, then #": Gather 'ask' fills EXT, Transfer 't' rings {EXT}."""
    ask = node("ask", "gather", {"max_digits": 20, "variable": "EXT"}, done="t", timeout="bye")
    return transfer_scenario(before=[ask], numbers=list(numbers), **params)


def blocked(trace: CallTrace) -> list[tuple[str, str, str, str | None]]:
    return [(e["number"], e["reason"], e["policy"], e["rule"]) for e in events(trace, "dial_blocked")]


def failure(trace: CallTrace) -> tuple[str, str]:
    [failed] = events(trace, "node_failed")
    return failed["node_id"], failed["code"]


EVERY_NUMBER = {n: answers(1) for n in ("900", "0011234", "*72", "200", "300", "901", "+74951112233")}


def test_a_caller_dials_what_the_node_allows() -> None:
    trace = dial(caller_dials(allow=["9XX"]), EVERY_NUMBER, steps=[{"input": "900#"}])
    assert [(n, o) for _t, n, o in attempts(trace)] == [("900", "answered")]
    assert exit_of(trace) == "answered"
    assert blocked(trace) == []


@pytest.mark.parametrize("digits", ["0011234", "*72", "9000", "90"])
def test_a_caller_cannot_dial_outside_the_allowed_patterns(digits: str) -> None:
    trace = dial(caller_dials(allow=["9XX"]), EVERY_NUMBER, steps=[{"input": digits + "#"}])
    assert blocked(trace) == [(digits, "not_allowed", "node", None)]
    assert failure(trace) == ("t", "dial_blocked")
    assert exit_of(trace) == "error"
    assert attempts(trace) == []
    assert trace.path[-1] == "failed"  # followed the error exit


def test_speech_cannot_smuggle_a_sip_uri() -> None:
    listen = node("listen", "recognize", {"variable": "SPOKEN"}, done="t", timeout="bye")
    sc = transfer_scenario(before=[listen], numbers=["{SPOKEN}"], allow=["9XX"])
    trace = dial(sc, EVERY_NUMBER, steps=[{"say": "sip:900@evil.example;transport=tcp"}])
    assert blocked(trace) == [("sip:900@evil.example;transport=tcp", "uri", "number", None)]
    assert failure(trace) == ("t", "dial_blocked")
    [failed] = events(trace, "node_failed")
    assert "a URI, not a phone number" in failed["message"]
    assert attempts(trace) == []


def test_a_computed_number_with_no_policy_at_all_is_refused() -> None:
    before = [assign("set", "t", MANAGER="'300'")]
    trace = dial(transfer_scenario(before=before, numbers=["{MANAGER}"]), EVERY_NUMBER)
    assert blocked(trace) == [("300", "no_policy", "none", None)]
    assert failure(trace) == ("t", "dial_blocked")
    assert attempts(trace) == []


def test_numbers_written_in_the_scenario_are_trusted() -> None:
    # the node's patterns narrow computed numbers only: the administrator listed this one
    trace = dial(transfer_scenario(numbers=["+74951112233"], allow=["9XX"]), EVERY_NUMBER)
    assert attempts(trace) == [(1.0, "+74951112233", "answered")]


def test_one_refused_number_means_nothing_rings() -> None:
    sc = caller_dials(("200", "{EXT}"), allow=["9XX"], strategy="sequential")
    trace = dial(sc, EVERY_NUMBER, steps=[{"input": "*72#"}])
    assert blocked(trace) == [("*72", "not_allowed", "node", None)]
    assert attempts(trace) == []  # not even the literal 200


def test_a_blind_transfer_is_checked_too() -> None:
    trace = dial(caller_dials(allow=["9XX"], blind=True), EVERY_NUMBER, steps=[{"input": "0011234#"}])
    assert failure(trace) == ("t", "dial_blocked")
    assert attempts(trace) == []
    assert trace.hangup_cause != "transferred"


def policy_centre(**policy: Any) -> Centre:
    return parse_centre({
        "operators": [{"id": "anna", "extension": "901"}],
        "queues": [{"id": "q", "members": ["anna"]}],
        "dial_policy": policy,
    })


@pytest.mark.parametrize(("policy", "node_allow", "number", "verdict"), [
    ({}, [], "901", None),  # an operator's extension: always allowed by a centre
    ({}, [], "300", ("300", "not_allowed", "centre", None)),
    ({"allow": ["3XX"]}, [], "300", None),
    ({"allow": ["3XX"], "deny": ["30X"]}, [], "300", ("300", "denied", "centre", "30X")),
    ({"allow": ["3XX"]}, ["9XX"], "300", ("300", "not_allowed", "node", None)),  # the node narrows the centre
    ({}, ["3XX"], "300", ("300", "not_allowed", "centre", None)),  # ... and cannot widen it
])
def test_the_centre_policy_and_the_node_patterns_both_apply(
    policy: dict[str, Any], node_allow: list[str], number: str, verdict: tuple[str, str, str, str | None] | None
) -> None:
    before = [assign("set", "t", MANAGER=f"'{number}'")]
    sc = transfer_scenario(before=before, numbers=["{MANAGER}"], **({"allow": node_allow} if node_allow else {}))
    setup = CentreSetup(policy_centre(**policy), answer_after=1, talk_time=5, phones=EVERY_NUMBER)
    trace = run_scenario(sc, script(), at=AT, centre=setup)
    if verdict is None:
        assert attempts(trace) == [(1.0, number, "answered")]
    else:
        assert blocked(trace) == [verdict]
        assert failure(trace) == ("t", "dial_blocked")
        assert attempts(trace) == []


def test_literal_numbers_that_cannot_be_dialled_are_refused_when_the_scenario_loads() -> None:
    with pytest.raises(ScenarioError) as err:
        transfer_scenario(numbers=["sip:boss@pbx", "+7 495 111-22-33", "{EXT}"], allow=["9XX", "9Q"])
    assert [(p.path, p.node_id) for p in err.value.problems] == [
        ("nodes[1].params.numbers[0]", "t"),
        ("nodes[1].params.numbers[1]", "t"),
        ("nodes[1].params.allow[1]", "t"),
    ]
    assert "a URI, not a phone number" in err.value.problems[0].message


# ---- to an operator or a department (through the ACD) -------------------------------------------
def centre(**queue: Any) -> Centre:
    ops = [{"id": o, "extension": o} for o in (*OPS, "909")]
    return parse_centre({
        "operators": ops,
        "queues": [{"id": "q", "strategy": "linear", "members": list(OPS), "ring_timeout": 30, "retry": 0, **queue}],
    })


def via_acd(sc: Scenario, *, statuses: dict[str, str] | None = None, phones: dict[str, VirtualPhone] | None = None,
            answer_after: float | None = 3.0, c: Centre | None = None) -> CallTrace:
    setup = CentreSetup(c or centre(), answer_after=answer_after, talk_time=20, statuses=statuses or {}, phones=phones or {})
    return run_scenario(sc, script(), at=AT, centre=setup)


def qev(trace: CallTrace, kind: str) -> list[dict[str, Any]]:
    return [e.to_dict() for e in trace.events if e.name == f"queue_{kind}"]


def offers(trace: CallTrace) -> list[tuple[float, str]]:
    return [(e["t"], e["operator_id"]) for e in qev(trace, "offered")]


def test_to_operator_rings_only_that_operator() -> None:
    trace = via_acd(transfer_scenario(to="operator", operator="902"))
    assert offers(trace) == [(0.0, "902")]
    assert exit_of(trace) == "answered"
    assert trace.variables["WHO"] == "902"
    assert [(e["t"], e["operator_id"]) for e in qev(trace, "completed")] == [(23.0, "902")]


@pytest.mark.parametrize("operator", ["909", "902"])  # in no queue / a member of q
def test_to_any_operator_of_the_centre_counts_in_no_queue(operator: str) -> None:
    trace = via_acd(transfer_scenario(to="operator", operator=operator))
    assert exit_of(trace) == "answered"
    assert offers(trace) == [(0.0, operator)]
    assert trace.variables["WHO"] == operator
    # the operator's private queue, not queue q: q's statistics do not see it
    assert {e["queue_id"] for e in qev(trace, "entered") + qev(trace, "completed")} == {f"operator:{operator}"}


@pytest.mark.parametrize("status", ["break:lunch", "not_available"])
def test_to_operator_who_does_not_take_calls_is_busy(status: str) -> None:
    trace = via_acd(transfer_scenario(to="operator", operator="902"), statuses={"902": status})
    assert exit_of(trace) == "busy"
    assert offers(trace) == []
    assert trace.duration == 0.0


def test_to_operator_who_does_not_answer_is_no_answer_after_the_ring_timeout() -> None:
    trace = via_acd(transfer_scenario(to="operator", operator="902", ring_timeout=7), phones={"902": NEVER})
    assert exit_of(trace) == "no_answer"
    assert offers(trace) == [(0.0, "902")]
    assert [e["t"] for e in qev(trace, "offer_missed")] == [7.0]


def test_to_an_unknown_operator_follows_the_error_exit() -> None:
    trace = via_acd(transfer_scenario(to="operator", operator="999"))
    [failed] = events(trace, "node_failed")
    assert (failed["code"], exit_of(trace)) == ("unknown_operator", "error")
    assert "unknown operator '999'" in failed["message"]


def test_to_an_unknown_department_follows_the_error_exit() -> None:
    trace = via_acd(transfer_scenario(to="department", department="nope"))
    [failed] = events(trace, "node_failed")
    assert (failed["code"], exit_of(trace)) == ("unknown_queue", "error")


@pytest.mark.parametrize(("strategy", "expected"), [
    ("all", [(0.0, "901"), (0.0, "902"), (0.0, "903")]),
    ("sequential", [(0.0, "901"), (5.0, "902"), (10.0, "903")]),
    ("cumulative", [(0.0, "901"), (4.0, "902"), (8.0, "903")]),
])
def test_to_department_with_each_ring_strategy(strategy: str, expected: list[tuple[float, str]]) -> None:
    sc = transfer_scenario(to="department", department="q", strategy=strategy, ring_timeout=5, interval=4)
    trace = via_acd(sc, answer_after=None)
    assert offers(trace) == expected
    assert exit_of(trace) == "no_answer"  # one pass over the members, then give up


def test_to_department_random_rings_one_member_per_attempt() -> None:
    sc = transfer_scenario(to="department", department="q", strategy="random", ring_timeout=5)
    trace = via_acd(sc, answer_after=None)
    assert [t for t, _op in offers(trace)] == [0.0, 5.0, 10.0]
    assert sorted(op for _t, op in offers(trace)) == list(OPS)
    assert exit_of(trace) == "no_answer"


def test_to_department_connects_the_member_who_answers() -> None:
    sc = transfer_scenario(to="department", department="q", strategy="sequential", ring_timeout=5)
    trace = via_acd(sc, phones={"901": NEVER})
    assert offers(trace) == [(0.0, "901"), (5.0, "902")]
    assert trace.variables["WHO"] == "902"
    assert exit_of(trace) == "answered"


def test_to_department_total_timeout_bounds_the_ringing() -> None:
    sc = transfer_scenario(to="department", department="q", strategy="sequential", ring_timeout=5, total_timeout=12)
    trace = via_acd(sc, answer_after=None)
    assert offers(trace) == [(0.0, "901"), (5.0, "902"), (10.0, "903")]
    assert exit_of(trace) == "no_answer"
    assert trace.duration == 12.0


def test_to_department_where_nobody_is_free_is_busy() -> None:
    sc = transfer_scenario(to="department", department="q")
    trace = via_acd(sc, statuses={"901": "break", "902": "not_available", "903": "break"})
    assert exit_of(trace) == "busy"
    assert offers(trace) == []


@pytest.mark.parametrize(("phones", "reasons", "exit"), [
    (dict.fromkeys(OPS, BUSY), ["busy", "busy", "busy"], "busy"),
    ({"901": BUSY, "902": NEVER, "903": BUSY}, ["busy", "busy", "no_answer"], "no_answer"),
    # declining is the person's choice, reported as such (and its own retry delay applies)
    (dict.fromkeys(OPS, VirtualPhone(reject=True)), ["rejected", "rejected", "rejected"], "busy"),
])
def test_to_department_where_every_member_misses_the_exit_says_why(
    phones: dict[str, VirtualPhone], reasons: list[str], exit: str
) -> None:
    sc = transfer_scenario(to="department", department="q", strategy="all", ring_timeout=5)
    trace = via_acd(sc, phones=phones)
    assert [e["reason"] for e in qev(trace, "offer_missed")] == reasons
    assert exit_of(trace) == exit


def test_to_department_without_a_strategy_rings_as_the_department_does() -> None:
    # the department hunts linearly (one member at a time): the node that names no strategy follows it
    sc = transfer_scenario(to="department", department="q", ring_timeout=5)
    trace = via_acd(sc, answer_after=None)
    assert offers(trace) == [(0.0, "901"), (5.0, "902"), (10.0, "903")]
    assert exit_of(trace) == "no_answer"


def test_to_department_a_named_strategy_still_overrides_the_departments() -> None:
    sc = transfer_scenario(to="department", department="q", strategy="all", ring_timeout=5)
    trace = via_acd(sc, answer_after=None)
    assert offers(trace) == [(0.0, "901"), (0.0, "902"), (0.0, "903")]


def test_numbers_without_a_strategy_ring_all_at_once() -> None:
    trace = dial(transfer_scenario(numbers=["200", "201"], ring_timeout=5), {"200": NEVER, "201": NEVER})
    assert attempts(trace) == [(5.0, "200", "no_answer"), (5.0, "201", "no_answer")]
