"""Callback requests filed from outside a queue (the Callback component's core input)."""

from __future__ import annotations

from flowengine.acd import decisions as d
from flowengine.acd.core import ACD
from flowengine.acd.testing import Behaviour, VirtualCentre

NEVER = Behaviour(answer_after=None)


def test_a_filed_callback_keeps_the_first_arrival_for_its_place(make_centre):
    acd = ACD(make_centre("ring_all", n=1))
    acd.set_status(0, "901", "not_available")
    acd.call_arrived(50, "late", "q", caller="+79160000002")
    # "early" waited in a queue from t=10 and left it (max wait) at t=100
    out = acd.file_callback(100, "early", "q", caller="+79160000001", arrived=10)
    assert out == [d.CallbackRegistered("early", "q", 1, "+79160000001")]
    assert acd.position("early") == 1 and acd.position("late") == 2
    out = acd.set_status(120, "901", "available")
    assert d.CallbackDue("early", "q", "901", "+79160000001", 10) in out
    out = acd.offer_answered(125, "early", "901")
    assert out[0] == d.Connected("early", "q", "901", 115, 5, 1, True)


def test_refused_for_an_unknown_queue_and_for_duplicates(make_centre):
    acd = ACD(make_centre("ring_all", n=1))
    acd.set_status(0, "901", "not_available")
    assert acd.file_callback(1, "a", "nope", caller="+1") == [
        d.CallbackRefused("a", "nope", "unknown_queue")
    ]
    acd.call_arrived(1, "waiting", "q", caller="+2")
    assert acd.file_callback(2, "waiting", "q", caller="+2") == [
        d.CallbackRefused("waiting", "q", "duplicate")
    ]
    assert [type(x) for x in acd.file_callback(3, "b", "q", caller="+3")] == [d.CallbackRegistered]
    # the same number again (another call from the same caller): one place is enough
    assert acd.file_callback(4, "c", "q", caller="+3") == [d.CallbackRefused("c", "q", "duplicate")]
    assert acd.waiting_count("q") == 2


def test_own_attempts_and_interval_then_given_up(make_centre):
    # the queue says 3 attempts 60 s apart; the request asks for 2, 30 s apart
    c = make_centre("ring_all", n=1, callback={"attempts": 3, "interval": 60}, auto_break_after=1)
    r = VirtualCentre(ACD(c), default=NEVER)
    r.file_callback(0, "a", "q", caller="+79160000001", attempts=2, interval=30)
    r.run(1000)
    assert [t for t, _ in r.of(d.CallbackDue, "a")] == [0, 40]  # ring timeout 10 s, then 30 s
    ((t, gave_up),) = r.of(d.NoAnswer, "a")
    assert t == 50 and gave_up.rounds == 2
    assert r.of(d.OperatorAutoBreak) == []  # the caller's misses are not the operator's
    assert r.acd.call_state("a") is None


def test_queue_settings_apply_when_the_request_has_none(make_centre):
    c = make_centre("ring_all", n=1, callback={"attempts": 2, "interval": 5})
    r = VirtualCentre(ACD(c), {"901": Behaviour(fail="busy", fail_after=1)})
    r.file_callback(0, "a", "q", caller="+1")
    r.run(1000)
    assert [t for t, _ in r.of(d.CallbackDue, "a")] == [0, 6]
    assert [t for t, _ in r.of(d.NoAnswer, "a")] == [7]


def test_a_filed_callback_is_completed_by_the_operator_who_took_it(make_centre):
    r = VirtualCentre(ACD(make_centre("ring_all", n=2)), default=Behaviour(answer_after=3, talk=40))
    r.file_callback(0, "a", "q", caller="+1")
    r.run(1000)
    ((t, done),) = r.of(d.Completed, "a")
    assert t == 43 and done.talk_time == 40
    assert r.acd.operator("901").state == "idle"
