"""The sans-IO core: statuses, wrap-up, misses, limits, callbacks, ordering, timers."""

from __future__ import annotations

import pytest

from flowengine.acd import decisions as d
from flowengine.acd.core import ACD
from flowengine.acd.testing import Behaviour, VirtualCentre
from flowengine.errors import UsageError

NEVER = Behaviour(answer_after=None)
QUICK = Behaviour(answer_after=1, talk=10)


def kinds(out: list[d.Decision]) -> list[str]:
    return [type(x).__name__ for x in out]


# ------------------------------------------------------------- who is offered
@pytest.mark.parametrize(
    ("status", "offered"),
    [
        ("available", True),
        ("not_available", False),
        ("break", False),
        ("training", False),
        ("backoffice", True),
    ],
)
def test_only_available_statuses_are_offered_calls(make_centre, status, offered):
    c = make_centre("ring_all", n=1)
    c["statuses"] = [
        {"id": "training", "available": False},
        {"id": "backoffice", "available": True},
    ]
    acd = ACD(c)
    acd.set_status(0, "901", status, "reason" if status == "break" else None)
    out = acd.call_arrived(1, "c1", "q")
    assert any(isinstance(x, d.Ring) for x in out) is offered


def test_talking_ringing_and_wrap_up_operators_are_never_offered(make_centre):
    c = make_centre("ring_all", n=2, wrap_up=30)
    acd = ACD(c)
    acd.call_arrived(0, "c1", "q", operators=["901"])
    acd.offer_answered(1, "c1", "901")  # 901 talking
    out = acd.call_arrived(2, "c2", "q")
    assert [x.operator_id for x in out if isinstance(x, d.Ring)] == ["902"]  # 902 now ringing
    out = acd.call_arrived(3, "c3", "q")
    assert not [x for x in out if isinstance(x, d.Ring)]  # ringing elsewhere: not offered
    acd.offer_answered(4, "c2", "902")
    acd.call_completed(10, "c1")  # 901 in wrap-up until 40
    assert acd.operator_status("901") == ("available", None, "wrap_up")
    assert acd.next_timer() == 40
    out = acd.handle_timer(40)
    assert kinds(out) == ["WrapUpEnded", "Ring"]
    assert out[1] == d.Ring("c3", "q", "901", "901", 10)


def test_wrap_up_uses_the_answering_queue(make_centre):
    c = make_centre(
        "ring_all", n=1, wrap_up=5, extra_queues=[{"id": "q2", "members": ["901"], "wrap_up": 50}]
    )
    acd = ACD(c)
    acd.call_arrived(0, "c1", "q2")
    acd.offer_answered(1, "c1", "901")
    acd.call_completed(10, "c1")
    assert acd.next_timer() == 60


# ------------------------------------------------------------- statuses
def test_time_in_every_status_and_state_is_recorded(make_centre):
    acd = ACD(make_centre("ring_all", n=1, wrap_up=10))
    acd.set_status(100, "901", "break", "lunch")
    acd.set_status(160, "901", "available")
    acd.call_arrived(200, "c1", "q")
    acd.offer_answered(203, "c1", "901")
    acd.call_completed(263, "c1")
    acd.handle_timer(273)
    t = 300
    assert acd.operator_time_in("901", "break", t) == 60
    assert acd.operator_time_in("901", "available", t) == 100 + 140
    assert acd.operator_time_in("901", "ringing", t) == 3
    assert acd.operator_time_in("901", "talking", t) == 60
    assert acd.operator_time_in("901", "wrap_up", t) == 10
    assert acd.operator_time_in("901", "idle", t) == 300 - 73
    assert acd.operator_time_in("901", "not_available", t) == 0


def test_unknown_operator_or_status_is_a_clear_error(make_centre):
    acd = ACD(make_centre("ring_all", n=1))
    with pytest.raises(UsageError, match="unknown operator 'ivanov'"):
        acd.set_status(0, "ivanov", "available")
    with pytest.raises(
        UsageError, match="unknown status 'holiday'.*known: available, available_on_demand, break, not_available"
    ):
        acd.set_status(0, "901", "holiday")
    with pytest.raises(UsageError, match="unknown queue 'nope'"):
        acd.call_arrived(0, "c1", "nope")
    acd.call_arrived(0, "c1", "q")
    with pytest.raises(UsageError, match="already"):
        acd.call_arrived(0, "c1", "q")
    with pytest.raises(UsageError, match="time went backwards"):
        acd.handle_timer(-5)
    with pytest.raises(UsageError, match="unknown offer failure reason"):
        acd.offer_failed(1, "c1", "901", "tired")
    with pytest.raises(UsageError, match="not connected"):
        acd.call_completed(1, "c1")


def test_status_change_while_ringing_cancels_that_ring_only(make_centre):
    r = VirtualCentre(ACD(make_centre("linear", n=2)), default=NEVER)
    r.arrive(0, "c1", "q")
    r.status(3, "901", "break", "phone call")
    r.run(4)
    assert r.of(d.StopRinging) == [(3, d.StopRinging("c1", "901", "status_changed"))]
    assert r.rang("c1") == [(0, "901"), (3, "902")]
    assert not r.of(d.OfferMissed)  # not a miss: the person chose a status


# ------------------------------------------------------------- misses
def test_auto_break_after_n_consecutive_misses(make_centre):
    c = make_centre("linear", n=2, auto_break_after=2)
    r = VirtualCentre(ACD(c), {"901": NEVER}, QUICK)
    r.arrive(0, "c1", "q")  # 901 misses (10 s), 902 answers
    r.arrive(30, "c2", "q")  # 901 misses again -> auto break
    r.arrive(60, "c3", "q")
    r.run(100)
    brk = r.of(d.OperatorAutoBreak)
    assert brk == [(40, d.OperatorAutoBreak("901", 2, "auto_break: missed 2 calls"))]
    assert r.acd.operator_status("901") == ("break", "auto_break: missed 2 calls", "idle")
    assert r.rang("c3") == [(60, "902")]  # never offered again while on break
    missed = [(t, x.reason) for t, x in r.of(d.OfferMissed)]
    assert missed == [(10, "no_answer"), (40, "no_answer")]


def test_an_answer_resets_the_miss_counter(make_centre):
    c = make_centre("linear", n=2, auto_break_after=2)
    acd = ACD(c)
    acd.call_arrived(0, "a", "q")
    acd.offer_failed(1, "a", "901", "rejected")  # miss 1 -> 902 rings
    acd.offer_answered(2, "a", "902")
    acd.call_arrived(3, "b", "q")
    acd.offer_answered(4, "b", "901")  # answered: counter back to 0
    acd.call_completed(5, "b")
    acd.call_arrived(6, "c", "q")
    out = acd.offer_failed(7, "c", "901", "busy")
    assert not any(isinstance(x, d.OperatorAutoBreak) for x in out)
    assert acd.operator("901").missed == {"rejected": 1, "busy": 1}


def test_retry_delays_after_reject_busy_no_answer(make_centre):
    c = make_centre("linear", n=2, retry_delays={"rejected": 60, "busy": 20, "no_answer": 5})
    acd = ACD(c)
    acd.call_arrived(0, "a", "q")
    out = acd.offer_failed(1, "a", "901", "rejected")
    assert [x.operator_id for x in out if isinstance(x, d.Ring)] == ["902"]
    acd.offer_answered(2, "a", "902")
    out = acd.call_arrived(10, "b", "q")  # 901 still sitting out its 60 s
    assert not [x for x in out if isinstance(x, d.Ring)]
    assert acd.next_timer() == 61
    out = acd.handle_timer(61)
    assert [x.operator_id for x in out if isinstance(x, d.Ring)] == ["901"]


def test_operator_removed_mid_ring_cancels_and_the_call_stays(make_centre):
    r = VirtualCentre(ACD(make_centre("linear", n=2)), {"901": NEVER}, QUICK)
    r.arrive(0, "c1", "q")
    r.remove(3, "901")
    r.run(10)
    assert (3, d.StopRinging("c1", "901", "operator_gone")) in r.trace
    assert r.connected("c1") == (4, "902")
    assert r.acd.operator_status("901") == ("not_available", "removed", "idle")
    # and back again
    out = r.acd.add_operator(20, "901")
    assert any(isinstance(x, d.OperatorStatusChanged) and x.status == "available" for x in out)
    assert r.acd.free_count("q") == 1


def test_operator_removed_when_alone_leaves_the_call_waiting(make_centre):
    acd = ACD(make_centre("ring_all", n=1))
    acd.call_arrived(0, "c1", "q")
    out = acd.remove_operator(1, "901")
    assert d.StopRinging("c1", "901", "operator_gone") in out
    assert acd.call_state("c1") == "waiting"
    assert acd.remove_operator(2, "901") == []  # twice is harmless
    acd.add_operator(5, "901")
    # the interrupted round counts: the call rings again after the retry pause
    assert acd.next_timer() == 6
    assert d.Ring("c1", "q", "901", "901", 10) in acd.handle_timer(6)


def test_device_gone_sets_the_operator_not_available(make_centre):
    acd = ACD(make_centre("linear", n=2))
    acd.call_arrived(0, "c1", "q")
    out = acd.offer_failed(1, "c1", "901", "operator_gone")
    assert (
        d.OperatorStatusChanged("901", "not_available", "operator_gone", "acd", "available", False)
        in out
    )
    assert [x.operator_id for x in out if isinstance(x, d.Ring)] == ["902"]
    assert not any(isinstance(x, d.OfferMissed) for x in out)


def test_add_a_new_operator_at_run_time(make_centre):
    acd = ACD(make_centre("ring_all", n=1))
    acd.set_status(0, "901", "not_available")
    acd.call_arrived(1, "c1", "q")
    out = acd.add_operator(2, {"id": "new", "extension": "999"}, queues=["q"])
    assert d.Ring("c1", "q", "new", "999", 10) in out


def test_late_answer_is_told_to_drop_its_leg(make_centre):
    acd = ACD(make_centre("ring_all", n=2))
    acd.call_arrived(0, "c1", "q")
    acd.offer_answered(1, "c1", "901")
    out = acd.offer_answered(1.1, "c1", "902")
    assert out == [d.StopRinging("c1", "902", "not_offered")]
    assert acd.offer_failed(2, "c1", "902", "no_answer") == []
    assert acd.call_abandoned(3, "zzz") == []


# ------------------------------------------------------------- targets
def test_second_phone_rings_after_its_delay(make_centre):
    ops = [
        {
            "id": "904",
            "targets": [{"number": "904", "after": 0}, {"number": "+79161234904", "after": 15}],
        }
    ]
    acd = ACD(make_centre("ring_all", operators=ops, ring_timeout=30))
    out = acd.call_arrived(0, "c1", "q")
    assert d.Ring("c1", "q", "904", "904", 30) in out
    assert acd.next_timer() == 15
    assert acd.handle_timer(15) == [d.Ring("c1", "q", "904", "+79161234904", 15)]
    out = acd.handle_timer(30)
    assert out[:2] == [
        d.StopRinging("c1", "904", "no_answer"),
        d.OfferMissed("c1", "q", "904", "no_answer", 30),
    ]


# ------------------------------------------------------------- queue limits
def test_max_length_refuses_with_queue_full(make_centre):
    acd = ACD(make_centre("ring_all", n=1, max_length=2))
    acd.set_status(0, "901", "not_available")
    acd.call_arrived(1, "a", "q")
    acd.call_arrived(2, "b", "q")
    assert acd.call_arrived(3, "c", "q") == [d.QueueFull("c", "q")]
    assert acd.waiting_count("q") == 2
    assert acd.queue_stats("q").full == 1


def test_max_wait_takes_the_call_out_at_the_deadline(make_centre):
    r = VirtualCentre(ACD(make_centre("ring_all", n=1, max_wait=60)), default=NEVER)
    r.arrive(0, "a", "q")
    r.run(100)
    assert r.of(d.MaxWaitReached) == [(60, d.MaxWaitReached("a", "q", 1, 1, 60))]
    # ringing at 60 (round 5 starts at 60) is stopped, not counted as a miss
    assert r.acd.waiting_count("q") == 0
    assert r.acd.call_state("a") is None
    assert r.acd.free_count("q") == 1


def test_no_operators_policies(make_centre):
    acd = ACD(make_centre("ring_all", n=1, no_operators="unavailable"))
    acd.set_status(0, "901", "break", "lunch")
    assert acd.call_arrived(1, "a", "q") == [d.NoOperators("a", "q", "unavailable")]
    acd = ACD(make_centre("ring_all", n=1, no_operators="unavailable"))
    acd.call_arrived(0, "talk", "q")
    acd.offer_answered(0, "talk", "901")
    out = acd.call_arrived(1, "a", "q")  # busy, but staffed: waits
    assert kinds(out) == ["Queued"]
    out = acd.set_status(5, "901", "not_available")  # the last one leaves: queue empties
    assert d.NoOperators("a", "q", "unavailable", 1, 1, 4) in out
    acd = ACD(make_centre("ring_all", n=1))
    acd.call_arrived(0, "talk", "q", no_operators="busy")
    acd.offer_answered(0, "talk", "901")
    out = acd.call_arrived(1, "a", "q", no_operators="busy")
    assert out[-1] == d.NoOperators("a", "q", "busy", 1, 1, 0)
    assert acd.waiting_count("q") == 0


def test_max_rounds_gives_no_answer(make_centre):
    r = VirtualCentre(ACD(make_centre("sequential", n=3)), default=NEVER)
    r.arrive(
        0,
        "t",
        "q",
        max_rounds=1,
        ring_timeout=5,
        strategy="sequential",
        strategy_params={"steps": [["901"], ["902", "903"]]},
    )
    r.run(100)
    assert r.rang("t") == [(0, "901"), (5, "902"), (5, "903")]
    assert r.of(d.NoAnswer) == [(10, d.NoAnswer("t", "q", 1, 10, 1, 1))]


# ------------------------------------------------------------- overflow
def test_overflow_moves_the_call_and_keeps_its_seniority(make_centre):
    c = make_centre(
        "ring_all",
        n=2,
        members=["901"],
        overflow={"after": 30, "to": "support"},
        extra_queues=[{"id": "support", "members": ["902"], "strategy": "linear"}],
    )
    acd = ACD(c)
    acd.call_arrived(0, "talk", "support")
    acd.offer_answered(0, "talk", "902")  # support busy
    acd.set_status(0, "901", "not_available")  # sales has nobody
    acd.call_arrived(5, "a", "q")
    acd.call_arrived(10, "b", "support")
    out = acd.handle_timer(35)
    assert out == [d.Overflow("a", "q", "support", 30, 1, 1, 1)]
    assert acd.position("a") == 1 and acd.position("b") == 2  # a arrived first
    out = acd.call_completed(40, "talk")
    assert d.Ring("a", "support", "902", "902", 20) in out  # support's ring timeout


def test_overflow_stops_ringing_and_counts(make_centre):
    c = make_centre(
        "ring_all",
        n=2,
        members=["901"],
        overflow={"after": 30, "to": "b"},
        extra_queues=[{"id": "b", "members": ["902"]}],
    )
    r = VirtualCentre(ACD(c), {"901": NEVER}, QUICK)
    r.arrive(0, "a", "q")
    r.run(40)
    # 901 rang 0-10 and 15-25; round 3 at 30 is pre-empted by the overflow
    assert r.of(d.Overflow)[0][0] == 30
    assert r.connected("a") == (31, "902")
    assert r.acd.queue_stats("q").overflowed == 1


def test_overflow_at_the_instant_of_a_retry_rings_nobody_for_zero_seconds(make_centre):
    # 9.2 + 28.7 + 9.5 (the retry) and 9.2 + 38.2 (the overflow) differ in the last bit
    c = make_centre(
        "ring_all",
        n=2,
        ring_timeout=28.7,
        retry=9.5,
        overflow={"after": 38.2, "to": "q2"},
        extra_queues=[{"id": "q2", "members": ["903"]}],
        operators=[{"id": o, "extension": o} for o in ("901", "902", "903")],
    )
    c["queues"][0]["members"] = ["901", "902"]
    r = VirtualCentre(ACD(c), default=NEVER)
    r.arrive(9.2, "a", "q")
    r.run(60)
    assert [(round(t, 6), op) for t, op in r.rang("a")] == [
        (9.2, "901"),
        (9.2, "902"),
        (47.4, "903"),
    ]
    at_overflow = [type(x).__name__ for t, x in r.trace if abs(t - 47.4) < 1e-6]
    assert at_overflow == ["Overflow", "Ring"]


# ------------------------------------------------------------- callback
def test_callback_keeps_the_callers_place(make_centre):
    c = make_centre("ring_all", n=1, callback=True)
    acd = ACD(c)
    acd.set_status(0, "901", "not_available")
    acd.call_arrived(0, "a", "q", caller="+79160000001")
    acd.call_arrived(1, "b", "q")
    out = acd.request_callback(5, "a")
    assert out == [d.CallbackRegistered("a", "q", 1, "+79160000001")]
    assert acd.position("a") == 1 and acd.position("b") == 2
    out = acd.set_status(10, "901", "available")
    assert d.CallbackDue("a", "q", "901", "+79160000001", 10) in out
    assert not any(isinstance(x, d.Ring) for x in out)
    out = acd.offer_answered(12, "a", "901")
    assert out[0] == d.Connected("a", "q", "901", 12, 2, 1, True)
    assert acd.position("b") == 1


def test_callback_in_a_queue_without_callbacks_is_ignored(make_centre):
    acd = ACD(make_centre("ring_all", n=1))
    acd.set_status(0, "901", "not_available")
    acd.call_arrived(0, "a", "q")
    assert acd.request_callback(1, "a") == []
    assert acd.call_state("a") == "waiting"
    assert acd.position("a") == 1


def test_callback_after_overflow_into_a_queue_without_callbacks_is_ignored(make_centre):
    c = make_centre(
        "ring_all",
        n=1,
        callback=True,
        overflow={"after": 5, "to": "q2"},
        extra_queues=[{"id": "q2", "members": ["901"]}],
    )
    acd = ACD(c)
    acd.set_status(0, "901", "not_available")
    acd.call_arrived(0, "a", "q")
    assert kinds(acd.handle_timer(5)) == ["Overflow"]
    assert acd.request_callback(6, "a") == []  # the caller heard the offer in q
    assert acd.call_state("a") == "waiting"
    out = acd.set_status(7, "901", "available")
    assert d.Ring("a", "q2", "901", "901", 20, 2) in out  # the caller is still on the line


def test_callback_rung_out_counts_toward_attempts_not_against_operators(make_centre):
    # the caller never picks up: the core's own ring timer ends every attempt
    c = make_centre("ring_all", n=2, callback=True, auto_break_after=1)
    r = VirtualCentre(ACD(c), default=NEVER)
    for op in ("901", "902"):
        r.status(0, op, "not_available")
    r.arrive(0, "a", "q", caller="+79160000001")
    r.callback(1, "a")
    for op in ("901", "902"):
        r.status(2, op, "available")
    r.run(1000)
    attempts = [t for t, _ in r.of(d.CallbackDue, "a")]
    assert attempts == [2, 72, 142]  # ring timeout 10 s, then the 60 s interval
    (_, gave_up), = r.of(d.NoAnswer, "a")
    assert gave_up.rounds == 3
    assert r.of(d.OperatorAutoBreak) == []
    assert all(r.acd.operator_status(op)[0] == "available" for op in ("901", "902"))
    assert all(not r.acd.operator(op).missed for op in ("901", "902"))


def test_callback_attempts_and_interval_per_queue(make_centre):
    c = make_centre("ring_all", n=1, callback={"attempts": 2, "interval": 30})
    r = VirtualCentre(ACD(c), {"901": Behaviour(fail="busy", fail_after=3)})
    r.status(0, "901", "not_available")
    r.arrive(0, "a", "q")
    r.callback(1, "a")
    r.status(5, "901", "available")
    r.run(1000)
    assert [t for t, _ in r.of(d.CallbackDue, "a")] == [5, 38]
    assert [t for t, _ in r.of(d.NoAnswer, "a")] == [41]


def test_pending_callback_has_no_max_wait(make_centre):
    acd = ACD(make_centre("ring_all", n=1, callback=True, max_wait=30))
    acd.set_status(0, "901", "not_available")
    acd.call_arrived(0, "a", "q")
    acd.request_callback(5, "a")
    assert acd.handle_timer(100) == []
    assert acd.call_state("a") == "callback"


# ------------------------------------------------------------- ordering
def test_priority_then_longest_waiting_across_queues(make_centre):
    c = make_centre("ring_all", n=1, extra_queues=[{"id": "q2", "members": ["901"]}])
    acd = ACD(c)
    acd.set_status(0, "901", "not_available")
    acd.call_arrived(0, "old", "q")
    acd.call_arrived(1, "newer", "q2")
    acd.call_arrived(2, "vip", "q2", priority=5)
    got = []
    out = acd.set_status(10, "901", "available")
    for _ in range(3):
        ring = next(x for x in out if isinstance(x, d.Ring))
        got.append(ring.call_id)
        acd.offer_answered(acd.now, ring.call_id, "901")
        out = acd.call_completed(acd.now + 1, ring.call_id)
    assert got == ["vip", "old", "newer"]


def test_abandon_while_ringing_stops_everything(make_centre):
    acd = ACD(make_centre("ring_all", n=2))
    acd.call_arrived(0, "a", "q")
    out = acd.call_abandoned(4, "a")
    assert out == [
        d.StopRinging("a", "901", "abandoned"),
        d.StopRinging("a", "902", "abandoned"),
        d.Abandoned("a", "q", 1, 1, 4),
    ]
    assert acd.free_count("q") == 2
    assert acd.queue_stats("q").abandoned == 1


def test_harness_caller_hangs_up_before_the_scripted_answer(make_centre):
    r = VirtualCentre(ACD(make_centre("ring_all", n=1)), default=Behaviour(answer_after=5))
    r.arrive(0, "a", "q")
    r.abandon(3, "a")  # before 901 would pick up at 5
    r.run(20)
    # only one StopRinging: the harness drops 901's answer (a late one would
    # come back as StopRinging "not_offered")
    assert r.of(d.StopRinging) == [(3, d.StopRinging("a", "901", "abandoned"))]
    assert r.of(d.Abandoned) == [(3, d.Abandoned("a", "q", 1, 1, 3))]
    assert r.acd.operator_status("901") == ("available", None, "idle")


# ------------------------------------------------------------- estimate and announcements
def test_estimated_wait_from_position_staffing_and_handle_time(make_centre):
    acd = ACD(make_centre("ring_all", n=2, expected_handle_time=180))
    for cid, op in (("x", "901"), ("y", "902")):
        acd.call_arrived(0, cid, "q", operators=[op])
        acd.offer_answered(0, cid, op)
    for i in range(3):
        acd.call_arrived(1, f"w{i}", "q")
    # both busy: the k-th call needs k departures at rate 2/180
    assert acd.estimated_wait("q", 1) == 90
    assert acd.estimated_wait("q", 3) == 270
    assert acd.estimated_wait("q") == 360  # a new arrival would be 4th
    acd.set_status(2, "901", "break")
    assert acd.estimated_wait("q", 1) == 180
    acd.set_status(2, "902", "break")
    assert acd.estimated_wait("q", 1) is None  # nobody staffs the queue


def test_handle_time_estimate_follows_recent_calls(make_centre):
    acd = ACD(make_centre("ring_all", n=1, expected_handle_time=300, wrap_up=20))
    for i in range(100):
        t = i * 200.0
        acd.call_arrived(t, f"c{i}", "q")
        acd.offer_answered(t, f"c{i}", "901")
        acd.call_completed(t + 100, f"c{i}")
        acd.handle_timer(t + 120)
    assert acd.average_handle_time("q") == pytest.approx(120, rel=0.02)


def test_periodic_announcements(make_centre):
    c = make_centre(
        "ring_all", n=1, announce={"period": 30, "on_entry": True}, expected_handle_time=60
    )
    acd = ACD(c)
    acd.call_arrived(0, "talk", "q")
    acd.offer_answered(0, "talk", "901")
    out = acd.call_arrived(1, "a", "q")
    assert out == [d.Queued("a", "q", 1, "", 0), d.Announce("a", "q", 1, 60)]
    acd.call_arrived(2, "b", "q")
    assert acd.handle_timer(31) == [d.Announce("a", "q", 1, 60)]
    assert acd.handle_timer(32) == [d.Announce("b", "q", 2, 120)]
    assert acd.next_timer() == 61


# ------------------------------------------------------------- timers and queries
def test_late_timer_handling_gives_the_same_decisions(make_centre):
    def trace(step: float) -> list:
        acd = ACD(
            make_centre("sequential", {"steps": [["901"], ["902"], ["903"]]}, n=3, max_wait=100)
        )
        out = [(0.0, x) for x in acd.call_arrived(0, "a", "q")]
        t = 0.0
        while t < 200:
            t += step
            out += [(t, x) for x in acd.handle_timer(t)]
        return [x for _, x in out]

    assert trace(0.5) == trace(37.0)


def test_snapshot_for_the_monitor(make_centre):
    acd = ACD(make_centre("ring_all", n=2))
    acd.set_status(0, "902", "break", "lunch")
    acd.call_arrived(5, "a", "q", caller="123")
    snap = acd.snapshot(now=20)
    (q,) = snap["queues"]
    assert q["waiting"] == 1 and q["staffed"] == 1 and q["free"] == 0
    assert q["calls"] == [
        {
            "call_id": "a",
            "position": 1,
            "wait": 15,
            "priority": 0,
            "state": "offering",
            "caller": "123",
            "ringing": ["901"],
        }
    ]
    ops = {o["id"]: o for o in snap["operators"]}
    assert ops["902"]["status"] == "break" and ops["902"]["reason"] == "lunch"
    assert ops["902"]["in_status"] == 20
    assert ops["901"]["state"] == "ringing" and ops["901"]["in_state"] == 15
    assert acd.waiting_count("q") == 1 and acd.available_count("q") == 1


# ------------------------------------------------------------- the example centre
def test_example_centre_routes_as_described():
    from pathlib import Path

    from flowengine.acd.model import load_centre

    centre = load_centre(Path(__file__).parents[3] / "examples" / "centre.yaml")
    r = VirtualCentre(ACD(centre), {"910": NEVER}, Behaviour(answer_after=None))
    r.arrive(0, "s1", "sales", caller="+74950000000")
    r.arrive(0, "v1", "vip", caller="+7 916 123-45-67")
    r.arrive(0, "t1", "support")
    r.run(16)
    # sales rings in steps; 904 is busy ringing for support (level >= 8 needed
    # there: 904 or 905, longest idle first), 907 starts not available
    assert r.rang("t1") == [(0, "904")]
    assert r.rang("s1") == [(0, "901"), (0, "902"), (0, "903"), (15, "905"), (15, "906")]
    assert r.rang("v1") == [(0, "910")]  # the personal manager first
    r.run(21)
    assert r.rang("v1") == [(0, "910"), (20, "911")]  # then the fallback (priority)
    assert r.acd.available_count("sales") == 6  # 907 starts not available


# ------------------------------------------------------------- limits across overflow
def _overflowing(make_centre, **first):
    return make_centre(
        "ring_all",
        n=1,
        overflow={"after": 20, "to": "q2"},
        extra_queues=[{"id": "q2", "members": ["901"]}],  # no max wait of its own
        **first,
    )


def test_max_wait_is_per_queue_and_starts_again_after_overflow(make_centre):
    acd = ACD(_overflowing(make_centre, max_wait=30))
    acd.set_status(0, "901", "not_available")
    acd.call_arrived(0, "a", "q")
    assert kinds(acd.handle_timer(20)) == ["Overflow"]
    assert acd.handle_timer(1000) == []  # q2 has no max wait: documented, per queue
    assert acd.call_state("a") == "waiting"


def test_max_total_wait_bounds_the_whole_stay_across_overflow(make_centre):
    acd = ACD(_overflowing(make_centre, max_wait=30, max_total_wait=45))
    acd.set_status(0, "901", "not_available")
    acd.call_arrived(0, "a", "q")
    assert kinds(acd.handle_timer(20)) == ["Overflow"]
    assert acd.next_timer() == 45
    out = acd.handle_timer(45)
    assert out == [d.MaxWaitReached("a", "q2", 1, 1, 45)]
    assert acd.queue_stats("q2").timeouts == 1


def test_max_total_wait_of_the_call_and_of_an_overflow_target(make_centre):
    c = _overflowing(make_centre)
    c["queues"][1]["max_total_wait"] = 60
    acd = ACD(c)
    acd.set_status(0, "901", "not_available")
    acd.call_arrived(0, "a", "q", max_total_wait=100)
    acd.call_arrived(0, "b", "q")
    acd.handle_timer(20)
    assert acd.handle_timer(60) == [  # q2's limit counts from the first arrival
        d.MaxWaitReached("a", "q2", 1, 1, 60),
        d.MaxWaitReached("b", "q2", 1, 2, 60),
    ]


def test_overflow_past_the_targets_total_limit_times_out_unrung(make_centre):
    c = _overflowing(make_centre)
    c["queues"][1]["max_total_wait"] = 10
    c["queues"][0]["members"] = []  # nobody takes it in q; 901 is free in q2
    acd = ACD(c)
    acd.call_arrived(0, "a", "q")
    out = acd.handle_timer(20)
    assert kinds(out) == ["Overflow", "MaxWaitReached"]


# ------------------------------------------------------------- an operator's private queue
def test_a_direct_call_rings_any_operator_and_counts_in_no_centre_queue(make_centre):
    c = make_centre("ring_all", n=1)
    c["operators"].append({"id": "905", "extension": "905"})  # in no queue
    acd = ACD(c)
    for t, op in ((0, "901"), (10, "905")):
        qid = acd.direct_queue(op)
        assert qid == f"operator:{op}" and acd.direct_queue(op) == qid
        out = acd.call_arrived(t + 1, f"t{op}", qid, no_operators="busy")
        assert [(x.operator_id, x.queue_id) for x in out if isinstance(x, d.Ring)] == [(op, qid)]
        acd.offer_answered(t + 2, f"t{op}", op)
        acd.call_completed(t + 9, f"t{op}")
    assert acd.queue_stats("q").offered == 0 and acd.queue_stats("q").answered == 0
    assert acd.queue_ids() == ["q"]
    snap = acd.snapshot()
    assert [q["id"] for q in snap["queues"]] == ["q"]
    assert {o["id"]: o["queues"] for o in snap["operators"]} == {"901": ["q"], "905": []}
    # a queue call still reaches 901 as before
    assert any(isinstance(x, d.Ring) for x in acd.call_arrived(20, "c", "q"))
