"""The Queue component on virtual operators and the simulated clock.

Every test runs a real scenario through the engine, the asyncio ACD driver and
the simulator's virtual phones, and reads what a supervisor would see in the
call's event stream: who was offered the call and when, who got it, which exit
the caller left by. Single calls go through `run_scenario`; several calls in
one centre share one engine, backend and ACD (`calls_in_one_centre`), placed
and steered at fixed simulated times.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from scenario_builders import AT, assign, deadline, doc, events, hangup, load, node, script, start

from flowengine.acd import Centre, parse_centre
from flowengine.acd import decisions as d
from flowengine.acd.driver import AcdDriver
from flowengine.runtime.clock import WallClock
from flowengine.runtime.engine import Engine
from flowengine.runtime.virtual_loop import run_virtual
from flowengine.scenario.compiled import Scenario
from flowengine.telephony import Prompt
from flowengine.testing.harness import CallTrace, CentreSetup, attach_centre, run_scenario, trace_of
from flowengine.testing.phones import VirtualPhone
from flowengine.testing.script import CallerScript
from telephony_adapters.sim import SimBackend
from telephony_adapters.sim.call import prompt_seconds

OPS = ("901", "902", "903")
QUEUE_EXITS = ("answered", "timeout", "full", "no_operators", "callback")
NEVER = VirtualPhone(answer_after=None)


@pytest.fixture(autouse=True)
def _no_hang() -> Iterator[None]:
    """A broken timer would leave the virtual clock with nothing to jump to: fail, do not hang."""
    with deadline(20):
        yield


# ---- builders -----------------------------------------------------------------------
def centre(
    *queues: dict[str, Any],
    operators: tuple[Any, ...] = OPS,
    statuses: list[dict[str, Any]] | None = None,
    dial_allow: tuple[str, ...] = ("+7XXXXXXXXXX",),
) -> Centre:
    """Operators (ids or dicts) and queues; a queue defaults to id 'q', every
    operator a member, 10 s ring timeout and no pause between rounds. The dial
    policy lets callbacks ring Russian numbers (the test callers')."""
    ops = [o if isinstance(o, dict) else {"id": o, "extension": o} for o in operators]
    qs = [{"id": "q", "members": [o["id"] for o in ops], "ring_timeout": 10, "retry": 0, **q} for q in queues or ({},)]
    return parse_centre(
        {"operators": ops, "queues": qs, "statuses": statuses or [], "dial_policy": {"allow": list(dial_allow)}}
    )


def queue_scenario(queue: str = "q", *, scenario_id: str = "t", language: str = "en", after_hangup: bool = False, **params: Any) -> Scenario:
    """start -> queue node 'q' (every exit and "error" -> hangup 'bye')."""
    exits = dict.fromkeys(QUEUE_EXITS, "bye")
    nodes = [
        start("q"),
        node("q", "queue", {"queue": queue, "operator_variable": "OP", **params}, **exits, error="failed"),
        hangup("bye"),
        hangup("failed"),
    ]
    if after_hangup:
        nodes += [start("note", entry="after_hangup"), assign("note", None, NOTE="'after hangup ran'")]
    return load(doc(nodes, scenario_id=scenario_id, variables={"OP": "", "NOTE": ""}, language=language))


def one_call(
    sc: Scenario,
    c: Centre,
    *,
    answer_after: float | None = 3.0,
    talk_time: float = 30.0,
    statuses: dict[str, str] | None = None,
    phones: dict[str, VirtualPhone] | None = None,
    seed: int = 1,
    **script_fields: Any,
) -> CallTrace:
    setup = CentreSetup(c, answer_after=answer_after, talk_time=talk_time, statuses=statuses or {}, phones=phones or {}, seed=seed)
    return run_scenario(sc, script(**script_fields), at=AT, centre=setup)


def calls_in_one_centre(
    c: Centre,
    plan: list[tuple[float, Any]],
    *,
    answer_after: float | None = 3.0,
    talk_time: float = 10.0,
    statuses: dict[str, str] | None = None,
    phones: dict[str, VirtualPhone] | None = None,
) -> tuple[list[CallTrace], AcdDriver]:
    """Several calls through one engine and one ACD, as `run_call_async` wires
    a single one. `plan` holds (t, (Scenario, CallerScript)) to place a call
    and (t, action(driver)) to act on the ACD at simulated time t. Traces come
    back in the order the calls were placed, their event times moved from
    "since this call started" to the centre's clock, like the driver's history."""

    async def main() -> tuple[list[CallTrace], AcdDriver]:
        loop = asyncio.get_running_loop()
        engine = Engine(clock=WallClock(AT), keep_events=True)
        backend = SimBackend(engine)
        setup = CentreSetup(c, answer_after=answer_after, talk_time=talk_time, statuses=statuses or {}, phones=phones or {})
        driver = attach_centre(engine, backend, setup)
        tasks = []
        starts = []
        try:
            for at, what in sorted(plan, key=lambda p: p[0]):
                if at > loop.time():
                    await asyncio.sleep(at - loop.time())
                if callable(what):
                    what(driver)
                else:
                    scenario, caller = what
                    _call, task = backend.place_call(caller, scenario)
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


# ---- reading traces ---------------------------------------------------------------------
def qev(trace: CallTrace, kind: str | None = None) -> list[dict[str, Any]]:
    """The call's queue events (of one kind: "offered" for queue_offered...), as dicts."""
    return [
        e.to_dict() for e in trace.events
        if e.name.startswith("queue_") and (kind is None or e.name == f"queue_{kind}")
    ]


def offers(trace: CallTrace) -> list[tuple[float, str]]:
    return [(e["t"], e["operator_id"]) for e in qev(trace, "offered")]


def connected(trace: CallTrace) -> tuple[float, str] | None:
    found = [(e["t"], e["operator_id"]) for e in qev(trace, "connected")]
    assert len(found) <= 1, found
    return found[0] if found else None


def exit_of(trace: CallTrace, node_id: str = "q") -> str:
    return [x["exit"] for x in trace.exits if x["node"] == node_id][-1]


def history(driver: AcdDriver, kind: type[d.Decision]) -> list[tuple[float, Any]]:
    return [(h.at, h.decision) for h in driver.history if isinstance(h.decision, kind)]


# ---- strategies ---------------------------------------------------------------------------
def test_ring_all_rings_every_member_at_once_and_the_first_to_answer_gets_the_call() -> None:
    c = centre({"strategy": "ring_all"})
    trace = one_call(
        queue_scenario(), c,
        phones={"901": NEVER, "902": VirtualPhone(answer_after=6), "903": VirtualPhone(answer_after=4, talk_time=30)},
    )
    assert offers(trace) == [(0.0, "901"), (0.0, "902"), (0.0, "903")]
    assert connected(trace) == (4.0, "903")
    assert trace.variables["OP"] == "903"
    assert exit_of(trace) == "answered"
    [done] = qev(trace, "completed")
    assert (done["t"], done["operator_id"], done["talk_time"], done["by"]) == (34.0, "903", 30.0, "agent")


def test_operators_whose_status_does_not_take_calls_are_never_offered_one() -> None:
    c = centre(
        {"strategy": "ring_all", "max_wait": 25, "ring_timeout": 4},
        operators=("901", "902", "903", "904", "905"),
        statuses=[{"id": "training", "available": False}, {"id": "backoffice", "available": True}],
    )
    trace = one_call(
        queue_scenario(), c, answer_after=None,
        statuses={"901": "break:lunch", "902": "not_available", "903": "training", "904": "backoffice"},
    )
    rung = offers(trace)
    assert len(rung) >= 10  # round after round for 25 s ...
    assert {op for _t, op in rung} == {"904", "905"}  # ... and only these two, ever
    assert exit_of(trace) == "timeout"


def test_sequential_rings_one_group_then_the_next() -> None:
    c = centre({"strategy": "sequential", "strategy_params": {"steps": [["901", "902"], ["903"]], "step_timeout": 5}})
    trace = one_call(queue_scenario(), c, phones={"901": NEVER, "902": NEVER})
    assert offers(trace) == [(0.0, "901"), (0.0, "902"), (5.0, "903")]
    assert [(e["t"], e["operator_id"]) for e in qev(trace, "offer_missed")] == [(5.0, "901"), (5.0, "902")]
    assert connected(trace) == (8.0, "903")


def test_cumulative_adds_an_operator_every_interval_and_keeps_the_first_ringing() -> None:
    c = centre({"strategy": "cumulative", "strategy_params": {"interval": 5}, "ring_timeout": 10})
    # 903 would answer at 13 (added at 10, answers 3 s later); 901 was rung at 0
    # and answers after 12 s: only possible if nobody stopped its phone meanwhile.
    trace = one_call(queue_scenario(), c, phones={"901": VirtualPhone(answer_after=12), "902": NEVER})
    assert offers(trace) == [(0.0, "901"), (5.0, "902"), (10.0, "903")]
    assert qev(trace, "offer_missed") == []
    assert connected(trace) == (12.0, "901")

    late_first = one_call(queue_scenario(), c, phones={"901": NEVER, "902": NEVER})
    assert connected(late_first) == (13.0, "903")


def random_order(seed: int) -> list[tuple[float, str]]:
    c = centre(
        {"strategy": "random", "strategy_params": {"attempt_timeout": 4}, "ring_timeout": 10, "max_wait": 22},
        operators=("901", "902", "903", "904", "905"),
    )
    trace = one_call(queue_scenario(), c, answer_after=None, seed=seed)
    missed = [(e["t"], e["operator_id"]) for e in qev(trace, "offer_missed")][:5]
    rung = offers(trace)[:5]
    # each attempt rings one operator for the attempt timer (4 s), not the queue's 10 s
    assert [t for t, _ in rung] == [0.0, 4.0, 8.0, 12.0, 16.0]
    assert [(t + 4.0, op) for t, op in rung] == missed
    assert exit_of(trace) == "timeout"
    return rung


def test_random_draws_another_operator_per_attempt_reproducibly_from_the_seed() -> None:
    first = random_order(seed=1)
    assert sorted(op for _t, op in first) == ["901", "902", "903", "904", "905"]  # nobody twice in a round
    assert random_order(seed=1) == first
    orders = {tuple(op for _t, op in random_order(seed)) for seed in range(2, 7)} | {tuple(op for _t, op in first)}
    assert len(orders) > 1, "different seeds always drew the same order"


@pytest.mark.parametrize(("strategy", "expected"), [("fewest_calls", "903"), ("longest_idle", "901")])
def test_fewest_calls_and_longest_idle_disagree_on_who_worked_more(strategy: str, expected: str) -> None:
    # 901 takes two calls early, 903 one call later; then both are free.
    # Fewest calls picks 903 (1 call < 2); longest idle picks 901 (idle since 33 s, 903 since 63 s).
    c = centre({"strategy": strategy, "members": ["901", "903"]})
    sc = queue_scenario()
    plan: list[tuple[float, Any]] = [
        (0, (sc, caller())),
        (20, (sc, caller())),
        (40, lambda drv: (drv.set_status("903", "available"), drv.set_status("901", "break"))),
        (50, (sc, caller())),
        (70, lambda drv: drv.set_status("901", "available")),
        (80, (sc, caller())),
    ]
    traces, _ = calls_in_one_centre(c, plan, statuses={"903": "break"})
    assert [connected(t) for t in traces] == [(3.0, "901"), (23.0, "901"), (53.0, "903"), (83.0, expected)]


def test_priority_offers_the_highest_rank_first_and_breaks_ties_by_longest_idle() -> None:
    c = centre({"strategy": "priority", "members": [
        {"operator": "903", "rank": 1}, {"operator": "901", "rank": 5}, {"operator": "902", "rank": 5}]})
    sc = queue_scenario()
    plan: list[tuple[float, Any]] = [
        (0, (sc, caller())),  # 902 on a break: 901 (rank 5) beats 903 (rank 1, listed first)
        (20, lambda drv: drv.set_status("902", "available")),
        (30, (sc, caller())),  # 901 and 902 tie on rank; 902 never had a call
        (60, (sc, caller())),  # tie again; 901 has been idle since 13 s, 902 since 43 s
    ]
    traces, _ = calls_in_one_centre(c, plan, statuses={"902": "break"})
    assert [connected(t) for t in traces] == [(3.0, "901"), (33.0, "902"), (63.0, "901")]
    assert all(op != "903" for t in traces for _t, op in offers(t))


@pytest.mark.parametrize(("strategy", "expected"), [
    ("round_robin", ["901", "902", "903", "901"]),
    ("linear", ["901", "901", "901", "901"]),
])
def test_round_robin_remembers_who_had_the_last_call_and_linear_does_not(strategy: str, expected: list[str]) -> None:
    c = centre({"strategy": strategy})
    sc = queue_scenario()
    traces, _ = calls_in_one_centre(c, [(t, (sc, caller())) for t in (0, 50, 100, 150)])
    assert [(connected(t) or (0, ""))[1] for t in traces] == expected
    assert all(len(offers(t)) == 1 for t in traces)


def test_linear_hunts_down_the_list_and_starts_every_call_from_the_top() -> None:
    c = centre({"strategy": "linear"})
    sc = queue_scenario()
    traces, _ = calls_in_one_centre(c, [(0, (sc, caller())), (60, (sc, caller()))], phones={"901": NEVER})
    assert offers(traces[0]) == [(0.0, "901"), (10.0, "902")]
    assert offers(traces[1]) == [(60.0, "901"), (70.0, "902")]  # round robin would start at 903
    assert connected(traces[1]) == (73.0, "902")


SKILLED = (
    {"id": "901", "extension": "901", "skills": {"english": 9}},
    {"id": "902", "extension": "902", "skills": {"english": 6}},
    {"id": "903", "extension": "903", "skills": {"english": 3}},
)
WIDENING = [{"after": 0, "required": {"english": 8}}, {"after": 20, "required": {"english": 5}}, {"after": 40, "required": {}}]


@pytest.mark.parametrize(("away", "expected"), [
    ({}, (0.0, "901")),
    ({"901": "break"}, (20.0, "902")),
    ({"901": "break", "902": "break"}, (40.0, "903")),
])
def test_skills_requirements_widen_as_the_caller_waits(away: dict[str, str], expected: tuple[float, str]) -> None:
    c = centre({"strategy": "skills", "skills": WIDENING}, operators=SKILLED)
    trace = one_call(queue_scenario(), c, statuses=away)
    assert offers(trace) == [expected]
    assert connected(trace) == (expected[0] + 3.0, expected[1])


def test_the_skills_strategy_prefers_the_best_skilled_and_a_node_can_set_its_own_requirement() -> None:
    c = centre({"strategy": "skills", "skills": WIDENING}, operators=SKILLED)
    # the node's own requirement replaces the queue's steps: level 5 from the start
    trace = one_call(queue_scenario(skills={"english": 5}), c, statuses={"901": "break"})
    assert offers(trace) == [(0.0, "902")]
    # nobody answers: the best skilled first, then the next (903 never qualifies)
    hunt = one_call(queue_scenario(skills={"english": 5}, max_wait=25), c, answer_after=None)
    assert [op for _t, op in offers(hunt)][:2] == ["901", "902"]
    assert "903" not in {op for _t, op in offers(hunt)}


PM = {
    "strategy": "personal_manager",
    "strategy_params": {"fallback": "linear", "fallback_after": 8},
    "personal_managers": {"79160000000": "903"},
}


def test_personal_manager_gets_their_client_first() -> None:
    trace = one_call(queue_scenario(), centre(PM), caller="+7 (916) 000-00-00")
    assert offers(trace) == [(0.0, "903")]
    assert trace.variables["OP"] == "903"


def test_personal_manager_who_does_not_answer_falls_back_to_the_queue() -> None:
    trace = one_call(queue_scenario(), centre(PM), phones={"903": NEVER})
    assert offers(trace) == [(0.0, "903"), (8.0, "901")]
    assert [(e["t"], e["operator_id"]) for e in qev(trace, "offer_missed")] == [(8.0, "903")]
    assert connected(trace) == (11.0, "901")


def test_personal_manager_other_callers_and_managers_from_an_expression() -> None:
    stranger = one_call(queue_scenario(), centre(PM), caller="+79035550000")
    assert offers(stranger) == [(0.0, "901")]
    chosen = one_call(queue_scenario(manager="'902'"), centre(PM))
    assert offers(chosen)[0] == (0.0, "902")


# ---- operator behaviour -----------------------------------------------------------------------
def test_an_operator_in_wrap_up_is_not_offered_the_next_call_until_it_ends() -> None:
    c = centre({"strategy": "ring_all", "members": ["901"], "wrap_up": 20})
    sc = queue_scenario()
    traces, driver = calls_in_one_centre(c, [(0, (sc, caller())), (15, (sc, caller()))])
    # first call: answered at 3, talks 10 s, wrap-up 13..33
    assert [e["t"] for e in qev(traces[0], "completed")] == [13.0]
    assert offers(traces[1]) == [(33.0, "901")]
    assert [t for t, _ in history(driver, d.WrapUpEnded)] == [33.0]


def test_an_operator_missing_calls_in_a_row_is_put_on_a_break() -> None:
    c = centre({"strategy": "linear", "members": ["901", "902"], "ring_timeout": 5, "auto_break_after": 2})
    sc = queue_scenario()
    seen: list[tuple[str, str | None, str]] = []
    plan: list[tuple[float, Any]] = [
        (0, (sc, caller())),
        (60, (sc, caller())),
        (110, lambda drv: seen.append(drv.core.operator_status("901"))),
        (120, (sc, caller())),
    ]
    traces, driver = calls_in_one_centre(c, plan, phones={"901": NEVER})
    assert offers(traces[0]) == [(0.0, "901"), (5.0, "902")]
    assert offers(traces[1]) == [(60.0, "901"), (65.0, "902")]
    [(at, brk)] = history(driver, d.OperatorAutoBreak)
    assert (at, brk.operator_id, brk.misses) == (65.0, "901", 2)
    assert seen == [("break", "auto_break: missed 2 calls", "idle")]
    assert offers(traces[2]) == [(120.0, "902")]  # 901 is on a break now


@pytest.mark.parametrize(("phone", "delays", "expected"), [
    (NEVER, {}, [0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 35.0, 40.0, 45.0]),
    (NEVER, {"no_answer": 30}, [0.0, 35.0]),  # missed at 5, rung again 30 s later
    (VirtualPhone(busy=True), {"busy": 20}, [0.0, 20.5, 41.0]),  # busy at 0.5
])
def test_retry_delays_keep_an_operator_who_missed_a_call_from_being_rung_again(
    phone: VirtualPhone, delays: dict[str, float], expected: list[float]
) -> None:
    c = centre({"strategy": "ring_all", "members": ["901"], "ring_timeout": 5, "max_wait": 50, "retry_delays": delays})
    trace = one_call(queue_scenario(), c, phones={"901": phone})
    assert [t for t, _ in offers(trace)] == expected
    assert exit_of(trace) == "timeout"


# ---- limits and exits -----------------------------------------------------------------------------
def test_max_wait_sends_the_caller_to_the_timeout_exit() -> None:
    c = centre({"max_wait": 30})
    trace = one_call(queue_scenario(), c, statuses=dict.fromkeys(OPS, "break"))
    assert exit_of(trace) == "timeout"
    [timeout] = qev(trace, "timeout")
    assert (timeout["t"], timeout["wait"]) == (30.0, 30.0)
    # the node may shorten it for this call
    short = one_call(queue_scenario(max_wait=12), c, statuses=dict.fromkeys(OPS, "break"))
    assert [e["t"] for e in qev(short, "timeout")] == [12.0]


def test_max_total_wait_bounds_the_wait_across_an_overflow() -> None:
    # q: 30 s max wait, overflow at 20 s to q2 (no max wait of its own)
    c = centre({"max_wait": 30, "overflow": {"after": 20, "to": "q2"}}, {"id": "q2"})
    away = dict.fromkeys(OPS, "break")
    endless = one_call(queue_scenario(), c, statuses=away, hangup_after=200)
    assert qev(endless, "timeout") == []  # max wait is per queue: q2 has none
    bounded = one_call(queue_scenario(max_total_wait=45), c, statuses=away)
    assert exit_of(bounded) == "timeout"
    [timeout] = qev(bounded, "timeout")
    assert (timeout["t"], timeout["queue_id"], timeout["wait"]) == (45.0, "q2", 45.0)


def test_max_length_refuses_a_caller_when_the_queue_is_full() -> None:
    c = centre({"max_length": 1})
    sc = queue_scenario()
    traces, _ = calls_in_one_centre(
        c, [(0, (sc, caller(hangup_after=40))), (5, (sc, caller()))], statuses=dict.fromkeys(OPS, "break")
    )
    first, second = traces
    assert exit_of(second) == "full"
    assert [e["t"] for e in qev(second, "full")] == [5.0]
    assert [e["event"] for e in qev(second)] == ["queue_full"]  # never entered
    assert [(e["t"], e["wait"]) for e in qev(first, "abandoned")] == [(40.0, 40.0)]


def test_no_operators_unavailable_refuses_callers_when_nobody_is_logged_in() -> None:
    c = centre({"no_operators": "unavailable", "max_wait": 60})
    trace = one_call(queue_scenario(), c, statuses=dict.fromkeys(OPS, "break"))
    assert exit_of(trace) == "no_operators"
    assert [(e["t"], e["reason"]) for e in qev(trace, "no_operators")] == [(0.0, "unavailable")]


def test_no_operators_unavailable_empties_the_queue_when_the_last_operator_leaves() -> None:
    sc = queue_scenario()
    plan: list[tuple[float, Any]] = [(0, (sc, caller())), (10, lambda drv: drv.set_status("901", "break"))]
    refuse = centre({"members": ["901"], "no_operators": "unavailable", "max_wait": 60})
    [trace], _ = calls_in_one_centre(refuse, plan, phones={"901": NEVER})
    assert exit_of(trace) == "no_operators"
    assert [e["t"] for e in qev(trace, "no_operators")] == [10.0]
    # the default policy waits for somebody to come back
    wait = centre({"members": ["901"], "max_wait": 60})
    [waited], _ = calls_in_one_centre(wait, plan, phones={"901": NEVER})
    assert exit_of(waited) == "timeout"
    assert [e["t"] for e in qev(waited, "timeout")] == [60.0]


def test_a_callback_keeps_the_callers_place_ahead_of_later_callers() -> None:
    c = centre({"members": ["901"], "callback": True})
    sc = queue_scenario(callback_digit="1")
    plan: list[tuple[float, Any]] = [
        (0, (sc, caller(steps=[{"wait": 5}, {"press": "1"}]))),
        (10, (sc, caller(caller="+79035550000"))),
        (20, lambda drv: drv.set_status("901", "available")),
    ]
    (first, second), driver = calls_in_one_centre(c, plan, statuses={"901": "break"}, talk_time=30)
    assert exit_of(first) == "callback"
    assert [(e["t"], e["event"], e["position"]) for e in qev(first)][-1:] == [(5.0, "queue_callback_requested", 1)]
    # the operator frees up at 20: the callback is due first, although the
    # second caller is the only one still on the line
    [(due_at, due)] = history(driver, d.CallbackDue)
    assert (due_at, due.call_id, due.operator_id) == (20.0, first.call_id, "901")
    [(conn_at, conn)] = [(t, x) for t, x in history(driver, d.Connected) if x.callback]
    # 901's phone answers after 3 s (23), then the caller is rung and picks up after 5 s
    assert (conn_at, conn.call_id) == (28.0, first.call_id)
    # 901 talks 30 s from their answer: the callback ends at 53; only then is the second caller offered
    assert offers(second) == [(53.0, "901")]


def test_overflow_moves_the_caller_to_another_queue_after_n_seconds() -> None:
    c = centre(
        {"id": "sales", "members": ["901"], "overflow": {"after": 30, "to": "support"}, "max_wait": 100},
        {"id": "support", "members": ["902"]},
    )
    trace = one_call(queue_scenario("sales"), c, statuses={"901": "break"})
    [overflow] = qev(trace, "overflow")
    assert (overflow["t"], overflow["queue_id"], overflow["to_queue"]) == (30.0, "sales", "support")
    [offer] = qev(trace, "offered")
    assert (offer["t"], offer["queue_id"], offer["operator_id"]) == (30.0, "support", "902")
    assert connected(trace) == (33.0, "902")
    assert exit_of(trace) == "answered"


def test_a_later_caller_with_higher_priority_is_served_first_across_queues() -> None:
    c = centre({"id": "qa", "members": ["901"]}, {"id": "qb", "members": ["901"]})
    plain = queue_scenario("qa", scenario_id="a")
    vip = queue_scenario("qb", scenario_id="b", priority="if(callerid() == '+79990000001', 10, 0)")
    plan: list[tuple[float, Any]] = [
        (0, (plain, caller(caller="+79990000000"))),
        (5, (vip, caller(caller="+79990000001"))),
        (6, (plain, caller(caller="+79990000002"))),
        (10, lambda drv: drv.set_status("901", "available")),
    ]
    traces, driver = calls_in_one_centre(c, plan, statuses={"901": "break"})
    assert [e["priority"] for t in traces for e in qev(t, "entered")] == [0, 10, 0]
    served = [x.call_id for _t, x in history(driver, d.Connected)]
    assert served == [traces[1].call_id, traces[0].call_id, traces[2].call_id]
    assert [connected(t) for t in traces] == [(26.0, "901"), (13.0, "901"), (39.0, "901")]


# ---- announcements -------------------------------------------------------------------------
def test_announcements_tell_position_and_estimated_wait_at_the_period() -> None:
    c = centre({"members": ["901"], "announce": {"period": 30}, "expected_handle_time": 180})
    sc = queue_scenario()
    plan: list[tuple[float, Any]] = [
        (0, (sc, caller())),  # takes 901 for 600 s
        (1, (sc, caller(hangup_after=70))),
        (2, (sc, caller(hangup_after=70))),
    ]
    (_busy, second, third), _ = calls_in_one_centre(c, plan, talk_time=600)
    assert [(e["t"], e["position"], e["estimated_wait"]) for e in qev(second, "announced")] == [
        (31.0, 1, 180.0), (61.0, 1, 180.0)]
    assert second.prompts == ["You are number 1 in the queue. Your estimated waiting time is 3 minutes."] * 2
    assert third.prompts == ["You are number 2 in the queue. Your estimated waiting time is 6 minutes."] * 2


def test_announcements_without_staff_give_no_estimate_and_may_offer_a_callback() -> None:
    c = centre({"announce": {"period": 20, "on_entry": True}, "callback": True, "max_wait": 50})
    trace = one_call(queue_scenario(callback_digit="9"), c, statuses=dict.fromkeys(OPS, "break"))
    assert [e["t"] for e in qev(trace, "announced")] == [0.0, 20.0, 40.0]
    assert set(trace.prompts) == {"You are number 1 in the queue. To be called back without losing your place, press 9."}


@pytest.mark.parametrize(("caller_number", "offered"), [
    ("+79161234567", True),   # a Russian mobile: the centre may dial it
    ("+88213456789", False),  # an international premium number: it may not
    ("sip:x@evil", False),    # not even a number
])
def test_a_callback_is_offered_only_to_numbers_the_dial_policy_lets_the_centre_ring(
    caller_number: str, offered: bool
) -> None:
    c = centre({"announce": {"period": 20, "on_entry": True}, "callback": True, "max_wait": 30})
    trace = one_call(
        queue_scenario(callback_digit="9"), c, statuses=dict.fromkeys(OPS, "break"),
        caller=caller_number, steps=[{"wait": 5}, {"press": "9"}],
    )
    offer = "To be called back without losing your place, press 9."
    assert any(offer in p for p in trace.prompts) is offered
    assert exit_of(trace) == ("callback" if offered else "timeout")  # the 9 means nothing when not offered
    blocked = events(trace, "dial_blocked")
    assert [(b["number"], b["policy"]) for b in blocked] == ([] if offered else [(caller_number, blocked[0]["policy"])])


def test_announcements_speak_russian_and_short_waits() -> None:
    c = centre({"members": ["901"], "announce": {"period": 30}, "expected_handle_time": 40})
    sc = queue_scenario(language="ru")
    (_busy, waiting), _ = calls_in_one_centre(c, [(0, (sc, caller())), (1, (sc, caller(hangup_after=40)))], talk_time=600)
    assert waiting.prompts == ["Ваш номер в очереди: 1. Примерное время ожидания: меньше минуты."]


def test_announce_false_keeps_the_caller_on_music() -> None:
    c = centre({"announce": {"period": 10}, "max_wait": 35})
    trace = one_call(queue_scenario(announce=False), c, statuses=dict.fromkeys(OPS, "break"))
    assert [e["t"] for e in qev(trace, "announced")] == [10.0, 20.0, 30.0]  # still recorded
    assert trace.prompts == []


# ---- the caller leaves ------------------------------------------------------------------------
def test_a_caller_who_hangs_up_is_abandoned_and_the_after_hangup_entry_runs() -> None:
    trace = one_call(queue_scenario(after_hangup=True), centre(), statuses=dict.fromkeys(OPS, "break"), hangup_after=15)
    [abandoned] = qev(trace, "abandoned")
    assert (abandoned["t"], abandoned["wait"], abandoned["position"]) == (15.0, 15.0, 1)
    assert exit_of(trace) == "hangup"
    assert trace.path[-1] == "note"
    assert trace.variables["NOTE"] == "after hangup ran"


def test_caller_patience_on_hold_ends_in_an_abandon() -> None:
    # the greeting (0.5 s) is not hold: patience counts from entering the queue
    sc = queue_scenario(greeting="Hello")
    trace = one_call(sc, centre(), statuses=dict.fromkeys(OPS, "break"), patience=12)
    [abandoned] = qev(trace, "abandoned")
    assert (abandoned["t"], abandoned["wait"]) == (12.5, 12.0)
    assert trace.hangup_cause == "normal"
    # an operator who answers in time cancels the patience: the talk goes past it
    served = one_call(sc, centre(), patience=12)
    assert qev(served, "abandoned") == []
    assert [e["t"] for e in qev(served, "completed")] == [33.5]


def test_a_caller_hanging_up_mid_conversation_completes_the_call_by_the_caller() -> None:
    trace = one_call(queue_scenario(after_hangup=True), centre(), hangup_after=20)
    [done] = qev(trace, "completed")
    assert (done["t"], done["operator_id"], done["by"], done["talk_time"]) == (20.0, "901", "caller", 17.0)
    assert qev(trace, "abandoned") == []
    assert trace.variables["NOTE"] == "after hangup ran"


# ---- errors --------------------------------------------------------------------------------------
def test_an_unknown_queue_follows_the_error_exit() -> None:
    trace = one_call(queue_scenario("nope"), centre())
    [failed] = events(trace, "node_failed")
    assert (failed["node_id"], failed["code"]) == ("q", "unknown_queue")
    assert "nope" in failed["message"] and "q" in failed["message"]
    assert exit_of(trace) == "error"
    assert trace.path == ["start", "q", "failed"]


def test_a_scenario_run_without_a_centre_fails_the_queue_node_with_no_centre() -> None:
    trace = run_scenario(queue_scenario(), script(), at=AT)
    [failed] = events(trace, "node_failed")
    assert (failed["node_id"], failed["code"]) == ("q", "no_centre")
    assert "--centre" in failed["message"]
    assert exit_of(trace) == "error"


# ---- music on hold ---------------------------------------------------------------------------
def test_music_plays_while_waiting_stops_for_announcements_and_ends_when_an_operator_answers() -> None:
    c = centre({"members": ["901"], "announce": {"period": 20}})
    sc = queue_scenario(music="moh/default.wav", greeting="Hello")

    async def main() -> tuple[list[tuple[float, str | None]], bool]:
        engine = Engine(clock=WallClock(AT))
        backend = SimBackend(engine)
        driver = attach_centre(engine, backend, CentreSetup(c, talk_time=10, statuses={"901": "break"}))
        try:
            call, task = backend.place_call(caller(), sc)
            await asyncio.sleep(45)
            driver.set_status("901", "available")
            await task
            return [(round(t, 6), s) for t, s in call.music_log or []], call.held
        finally:
            await driver.shutdown()
            await engine.shutdown()

    log, held = run_virtual(main())
    announcement = prompt_seconds(Prompt("say", "You are number 1 in the queue."))
    entered = prompt_seconds(Prompt("say", "Hello"))  # music starts after the greeting
    assert log == [
        (entered, "moh/default.wav"),
        (entered + 20, None), (round(entered + 20 + announcement, 6), "moh/default.wav"),
        (entered + 40, None), (round(entered + 40 + announcement, 6), "moh/default.wav"),
        (48.0, None),  # 901 is back at 45 and answers 3 s later: connected, the music stops
    ]
    assert held is False  # waiting is music, never hold: the caller's keypad still works


# ---- an operator on a call the engine bridged outside the ACD --------------------------------
def direct_transfer(number: str) -> Scenario:
    """start -> Transfer straight to `number` (not through the ACD) -> hangup."""
    exits = dict.fromkeys(("answered", "busy", "no_answer", "failed"), "bye")
    nodes = [start("t"), node("t", "transfer", {"numbers": [number]}, **exits, error="bye"), hangup("bye")]
    return load(doc(nodes, scenario_id="direct"))


@pytest.mark.parametrize(("ring_in_use", "offered_at"), [
    (None, 13.0),   # default: busy while the direct call (answered at 3, 10 s of talk) lasts
    (False, 13.0),
    (True, 5.0),    # the centre lets the ACD ring an operator who is on another call
])
def test_an_operator_on_a_direct_transfer_call_is_not_offered_queue_calls(
    ring_in_use: bool | None, offered_at: float
) -> None:
    c = centre({"members": ["901"]}, operators=("901",))
    if ring_in_use is not None:
        c = c.model_copy(update={"ring_in_use": ring_in_use})
    (direct, queued), _driver = calls_in_one_centre(
        c, [(0, (direct_transfer("901"), caller())), (5, (queue_scenario(), caller()))], talk_time=10
    )
    assert [x["exit"] for x in direct.exits if x["node"] == "t"] == ["answered"]
    assert offers(queued)[0] == (offered_at, "901")
    assert exit_of(queued) == "answered"


# ---- ties: operators answering at the same instant --------------------------------------------
TWELVE = tuple(str(901 + i) for i in range(12))
MOBILE_901 = {"id": "901", "extension": "901", "targets": [{"number": "901"}, {"number": "+79160000901", "after": 2}]}


@pytest.mark.parametrize(("queue", "operators", "answer_after", "winner"), [
    # rung together: 901 (listed first) answers on the mobile that joined at 2 s, 902 on the desk
    ({"strategy": "ring_all"}, (MOBILE_901, "902", "903"), {"+79160000901": 1, "902": 3}, (3.0, "901")),
    # the second step (907-912 from 5 s): four of them answer at 8 s
    ({"strategy": "sequential", "strategy_params": {"steps": [TWELVE[:6], TWELVE[6:]], "step_timeout": 5}},
     TWELVE, {"907": 9, "908": 3, "909": 9, "910": 3, "911": 3, "912": 3}, (8.0, "908")),
    # one more every second: 901 (rung at 0), 905 (at 4) and 908 (at 7) all answer at 8 s
    ({"strategy": "cumulative", "strategy_params": {"interval": 1, "total": 30}},
     TWELVE[:8], {"901": 8, "905": 4, "908": 1}, (8.0, "901")),
])
def test_of_operators_answering_at_the_same_instant_the_one_rung_first_wins(
    queue: dict[str, Any], operators: tuple[Any, ...], answer_after: dict[str, float], winner: tuple[float, str]
) -> None:
    c = centre({**queue, "ring_timeout": 30}, operators=operators)
    phones = {number: VirtualPhone(answer_after=after, talk_time=5) for number, after in answer_after.items()}
    trace = one_call(queue_scenario(), c, answer_after=None, phones=phones)
    assert [(e["t"], e["operator_id"]) for e in qev(trace, "connected")] == [winner]
    assert exit_of(trace) == "answered"


# ---- queue functions in expressions -----------------------------------------------------------
FACTS = {"W": "waiting", "E": "estimated_wait", "A": "available", "L": "logged_in", "B": "busy",
         "LW": "longest_wait", "SL": "service_level"}


def asks_about(queue: str) -> Scenario:
    """start -> 'ask' assigns every queue_*(queue) fact to a variable -> hangup ('error' -> 'failed')."""
    ask = assign("ask", "bye", **{var: f"queue_{fact}('{queue}')" for var, fact in FACTS.items()})
    ask["exits"]["error"] = "failed"
    nodes = [start("ask"), ask, hangup("bye"), hangup("failed")]
    return load(doc(nodes, scenario_id="ask", variables=dict.fromkeys(FACTS, "")))


def test_a_scenario_reads_a_queue_as_callers_find_it() -> None:
    # 901 on a break; A (at 0) rings 902 and 903, who answer at 3; B (at 1) waits; C asks at 2:
    # both are in the queue (a call being offered still waits), A for 2 s
    c = centre({"strategy": "ring_all"})
    (_a, _b, ask), _driver = calls_in_one_centre(
        c, [(0, (queue_scenario(), caller())), (1, (queue_scenario(), caller())), (2, (asks_about("q"), caller()))],
        statuses={"901": "break"},
    )
    facts = {FACTS[k]: v for k, v in ask.variables.items() if k in FACTS}
    assert facts == {"waiting": 2, "estimated_wait": facts["estimated_wait"], "available": 0, "logged_in": 3,
                     "busy": 2, "longest_wait": 2.0, "service_level": None}
    assert facts["estimated_wait"] > 0


def test_service_level_and_the_menu_example_after_calls_were_answered() -> None:
    c = centre({"strategy": "linear", "service_level": 20})
    menu = node("m", "if", {"condition": "queue_waiting('q') > 0 or queue_service_level('q') < 80"},
                true="busy", false="ok")
    sc = load(doc([start("m"), menu, assign("busy", None, R="'offer a callback'"), assign("ok", None, R="'queue'")],
                  scenario_id="menu", variables={"R": ""}))
    (_a, ask, check), _driver = calls_in_one_centre(
        c, [(0, (queue_scenario(), caller())), (5, (asks_about("q"), caller())), (6, (sc, caller()))]
    )
    assert (ask.variables["SL"], ask.variables["W"], ask.variables["B"]) == (100.0, 0, 1)
    assert check.variables["R"] == "queue"


@pytest.mark.parametrize(("c", "code", "message"), [
    (None, "no_centre", "no call centre is configured to ask about queue 'nope'"),
    (centre(), "expression", "unknown queue 'nope'"),
])
def test_asking_about_a_queue_that_is_not_there_follows_the_error_exit(c: Centre | None, code: str, message: str) -> None:
    sc = asks_about("nope")
    trace = run_scenario(sc, script(), at=AT, centre=CentreSetup(c) if c is not None else None)
    [failed] = events(trace, "node_failed")
    assert (failed["node_id"], failed["code"]) == ("ask", code)
    assert message in failed["message"]


def test_the_menu_example_of_docs_expressions_offers_a_callback_when_more_than_10_wait() -> None:
    """docs/expressions.md, "Queues": the same Menu, on 11 and on 10 callers waiting in sales."""
    c = centre({"id": "sales", "max_wait": 60})
    menu = node("load", "menu", {"value": "queue_waiting('sales')", "cases": [{"range": [11, 1e9], "exit": "offer_callback"}]},
                offer_callback="callback_menu", other="sales_queue")
    sc = load(doc([start("load"), menu, assign("callback_menu", None, R="'callback'"), assign("sales_queue", None, R="'queue'")],
                  scenario_id="menu", variables={"R": ""}))
    for waiting, expected in ((11, "callback"), (10, "queue")):
        plan: list[tuple[float, Any]] = [(i, (queue_scenario("sales"), caller())) for i in range(waiting)]
        traces, _driver = calls_in_one_centre(c, [*plan, (20, (sc, caller()))], statuses=dict.fromkeys(OPS, "break"))
        assert traces[-1].variables["R"] == expected
