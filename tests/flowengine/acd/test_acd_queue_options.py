"""Queue and operator options beside app_queue and mod_callcenter (docs/acd.md):
abandoned-caller resume, join-empty / leave-when-empty, leaving after a time
with no operator, the periodic announcement, available on demand, per-operator
retry delays and which misses count toward auto-break."""

from __future__ import annotations

from typing import Any

import pytest

from flowengine.acd import decisions as d
from flowengine.acd.core import ACD
from flowengine.acd.model import CentreError, parse_centre


def of(out: list[d.Decision], kind: type[d.Decision]) -> list[Any]:
    return [x for x in out if isinstance(x, kind)]


def rung(out: list[d.Decision]) -> list[tuple[str, str]]:
    return [(x.call_id, x.operator_id) for x in of(out, d.Ring)]


# ------------------------------------------------------------- abandoned-caller resume
def resume_centre(make_centre: Any, **queue: Any) -> dict[str, Any]:
    c = make_centre("ring_all", n=1, **queue)
    c["queues"].append({"id": "other", "members": ["901"]})
    return c


def test_a_caller_who_hangs_up_and_calls_back_in_time_gets_their_place_back(make_centre) -> None:
    acd = ACD(resume_centre(make_centre, abandoned_resume=30))
    acd.set_status(0, "901", "break")
    acd.call_arrived(0, "a1", "q", caller="+79160000001")
    acd.call_arrived(5, "b1", "q", caller="+79160000002")
    acd.call_abandoned(10, "a1")
    out = acd.call_arrived(25, "a2", "q", caller="+79160000001")
    [queued] = of(out, d.Queued)
    assert (queued.position, queued.resumed_from) == (1, "a1")  # ahead of b1 again
    assert acd.position("b1") == 2
    out = acd.set_status(30, "901", "available")
    assert rung(out) == [("a2", "901")]


def test_resume_is_off_by_default_and_a_place_is_kept_only_for_its_time(make_centre) -> None:
    for centre, back_at in ((make_centre("ring_all", n=1), 25), (resume_centre(make_centre, abandoned_resume=30), 41)):
        acd = ACD(centre)
        acd.set_status(0, "901", "break")
        acd.call_arrived(0, "a1", "q", caller="+79160000001")
        acd.call_arrived(5, "b1", "q", caller="+79160000002")
        acd.call_abandoned(10, "a1")
        [queued] = of(acd.call_arrived(back_at, "a2", "q", caller="+79160000001"), d.Queued)
        assert (queued.position, queued.resumed_from) == (2, None)  # behind b1: a new place


def test_a_place_is_kept_in_its_own_queue_for_the_same_number_only_and_once(make_centre) -> None:
    acd = ACD(resume_centre(make_centre, abandoned_resume=30))
    acd.set_status(0, "901", "break")
    acd.call_arrived(0, "a1", "q", caller="+79160000001")
    acd.call_arrived(5, "b1", "q", caller="+79160000002")
    acd.call_abandoned(10, "a1")
    [other] = of(acd.call_arrived(12, "a2", "other", caller="+79160000001"), d.Queued)
    assert other.resumed_from is None  # another queue
    [stranger] = of(acd.call_arrived(13, "c1", "q", caller="+79160000003"), d.Queued)
    assert (stranger.position, stranger.resumed_from) == (2, None)  # another number
    [back] = of(acd.call_arrived(14, "a3", "q", caller="+79160000001"), d.Queued)
    assert (back.position, back.resumed_from) == (1, "a1")
    acd.call_abandoned(15, "a3")  # hangs up again: the place is kept again, once
    [again] = of(acd.call_arrived(16, "a4", "q", caller="+79160000001"), d.Queued)
    assert (again.position, again.resumed_from) == (1, "a3")
    [twice] = of(acd.call_arrived(17, "a5", "q", caller="+79160000001"), d.Queued)
    assert twice.resumed_from is None


def test_an_answered_or_timed_out_caller_has_no_place_to_resume(make_centre) -> None:
    acd = ACD(resume_centre(make_centre, abandoned_resume=60, max_wait=20))
    acd.set_status(0, "901", "break")
    acd.call_arrived(0, "a1", "q", caller="+79160000001")
    acd.call_arrived(5, "b1", "q", caller="+79160000002")
    acd.handle_timer(20)  # a1 leaves with max wait, not by hanging up
    acd.call_abandoned(21, "a1")  # the driver's late report is ignored
    [queued] = of(acd.call_arrived(22, "a2", "q", caller="+79160000001"), d.Queued)
    assert (queued.position, queued.resumed_from) == (2, None)


# ------------------------------------------------------------- join_empty / leave_when_empty
@pytest.mark.parametrize(
    ("conditions", "refused"),
    [
        ((), False),  # the default: join anyway
        (("paused",), False),  # 902 is talking, which 'paused' does not cover
        (("paused", "inuse"), True),
        ("paused,inuse", True),  # app_queue's spelling
        (("unavailable", "inuse"), False),  # 901 on break is not 'unavailable' (logged out)
    ],
)
def test_join_empty_refuses_a_caller_when_every_member_is_in_a_listed_condition(
    make_centre, conditions, refused
) -> None:
    acd = ACD(make_centre("ring_all", n=2, join_empty=conditions))
    acd.set_status(0, "901", "break")
    acd.call_arrived(0, "c1", "q")
    acd.offer_answered(1, "c1", "902")  # 902 talking
    out = acd.call_arrived(2, "c2", "q")
    assert [(x.call_id, x.reason) for x in of(out, d.NoOperators)] == (
        [("c2", "join_empty")] if refused else []
    )
    assert bool(of(out, d.Queued)) is not refused


def test_leave_when_empty_sends_waiting_callers_out_when_the_last_member_is_gone(make_centre) -> None:
    c = make_centre("ring_all", n=2, leave_when_empty=["paused", "unavailable"])
    c["queues"].append({"id": "plain", "members": ["901", "902"]})
    acd = ACD(c)
    acd.set_status(0, "901", "break")
    acd.call_arrived(0, "c1", "q")
    acd.offer_answered(1, "c1", "902")  # 902 talks: still there
    acd.call_arrived(2, "c2", "q")
    acd.call_arrived(3, "c3", "plain")
    assert of(acd.call_completed(10, "c1"), d.NoOperators) == []
    out = acd.remove_operator(11, "902")  # 902 rings for c2 and logs out
    assert [(x.call_id, x.reason, x.wait) for x in of(out, d.NoOperators)] == [("c2", "leave_empty", 9.0)]
    assert [(x.call_id, x.reason) for x in of(out, d.StopRinging)] == [("c2", "operator_gone")]
    assert acd.call_state("c3") == "waiting"  # a queue without the setting keeps its callers
    # with the queue empty, a new caller joins and leaves at once (no join_empty)
    out = acd.call_arrived(12, "c4", "q")
    assert [type(x).__name__ for x in out] == ["Queued", "NoOperators"]


def test_leave_when_empty_counts_wrap_up_only_when_listed(make_centre) -> None:
    for conditions, leaves in ((["paused", "wrapup"], True), (["paused"], False)):
        acd = ACD(make_centre("ring_all", n=1, wrap_up=30, leave_when_empty=conditions))
        acd.call_arrived(0, "c1", "q")
        acd.offer_answered(1, "c1", "901")
        acd.call_arrived(2, "c2", "q")
        out = acd.call_completed(5, "c1")  # 901 goes to wrap-up: nobody else is there
        assert bool(of(out, d.NoOperators)) is leaves, conditions


def test_an_unknown_empty_condition_is_an_error_naming_the_place(make_centre) -> None:
    with pytest.raises(CentreError, match=r'queues\[0\]\.join_empty\[1\]: "sleeping" should be \'paused\''):
        parse_centre(make_centre("ring_all", join_empty=["paused", "sleeping"]))


# ------------------------------------------------------------- max_wait_no_operator
def test_a_caller_leaves_after_n_seconds_without_any_operator(make_centre) -> None:
    c = make_centre("ring_all", n=1, max_wait_no_operator=30, max_wait_no_operator_reached=5)
    c["operators"][0]["status"] = "break"  # nobody since the start (t=0)
    acd = ACD(c)
    acd.call_arrived(10, "c1", "q")
    # the queue has had nobody for 30 s at t=30, and c1 has waited 5 s by then
    assert acd.next_timer() == 30
    out = acd.handle_timer(30)
    assert [(x.call_id, x.reason, x.wait) for x in of(out, d.NoOperators)] == [("c1", "no_operator_timeout", 20.0)]
    # the queue has been empty for more than 30 s: a new caller waits 5 s only
    acd.call_arrived(40, "c2", "q")
    out = acd.handle_timer(45)
    assert [(x.call_id, x.wait) for x in of(out, d.NoOperators)] == [("c2", 5.0)]


def test_an_operator_coming_back_stops_the_no_operator_clock_and_leaving_restarts_it(make_centre) -> None:
    c = make_centre("ring_all", n=1, max_wait_no_operator=30, ring_timeout=100)
    c["operators"][0]["status"] = "break"
    acd = ACD(c)
    acd.call_arrived(10, "c1", "q")
    assert rung(acd.set_status(20, "901", "available")) == [("c1", "901")]
    assert of(acd.handle_timer(35), d.NoOperators) == []
    acd.set_status(50, "901", "break")  # stops the ring; nobody again since 50
    assert of(acd.handle_timer(79), d.NoOperators) == []
    out = acd.handle_timer(80)
    assert [(x.call_id, x.reason, x.wait) for x in of(out, d.NoOperators)] == [("c1", "no_operator_timeout", 70.0)]


def test_without_max_wait_no_operator_a_caller_waits_for_somebody(make_centre) -> None:
    c = make_centre("ring_all", n=1)
    c["operators"][0]["status"] = "break"
    acd = ACD(c)
    acd.call_arrived(10, "c1", "q")
    assert acd.next_timer() is None


# ------------------------------------------------------------- periodic announcement
def test_the_periodic_announcement_runs_on_its_own_clock_beside_the_position_one(make_centre) -> None:
    acd = ACD(make_centre("ring_all", n=1, announce={"period": 20, "periodic": 25}, max_wait=61))
    acd.set_status(0, "901", "break")
    acd.call_arrived(0, "c1", "q")
    told = []
    while (t := acd.next_timer()) is not None:
        told += [(t, x.announcement) for x in of(acd.handle_timer(t), d.Announce)]
    assert told == [(20, "position"), (25, "periodic"), (40, "position"), (50, "periodic"), (60, "position")]


# ------------------------------------------------------------- operators
def test_available_on_demand_takes_one_call_then_is_not_available(make_centre) -> None:
    acd = ACD(make_centre("ring_all", n=1, wrap_up=10))
    acd.set_status(0, "901", "available_on_demand")
    assert rung(acd.call_arrived(1, "c1", "q")) == [("c1", "901")]
    acd.offer_answered(2, "c1", "901")
    acd.call_arrived(3, "c2", "q")
    out = acd.call_completed(60, "c1")
    assert [(x.status, x.reason, x.by, x.previous) for x in of(out, d.OperatorStatusChanged)] == [
        ("not_available", "on_demand", "acd", "available_on_demand")
    ]
    assert rung(acd.handle_timer(100)) == []  # wrap-up over, still not offered c2
    assert rung(acd.set_status(120, "901", "available_on_demand")) == [("c2", "901")]


def test_an_operators_own_delay_after_a_miss_replaces_the_queues(make_centre) -> None:
    ops = [
        {"id": "901", "extension": "901", "retry_delays": {"busy": 40}},
        {"id": "902", "extension": "902"},
    ]
    acd = ACD(make_centre("ring_all", operators=ops, retry=0, retry_delays={"busy": 5, "rejected": 7}))
    acd.call_arrived(0, "c1", "q")
    acd.offer_failed(1, "c1", "901", "busy")  # 901's own 40 s
    acd.offer_failed(1, "c1", "902", "busy")  # the queue's 5 s
    assert rung(acd.handle_timer(6)) == [("c1", "902")]
    acd.offer_failed(7, "c1", "902", "rejected")
    assert rung(acd.handle_timer(13)) == []
    assert rung(acd.handle_timer(14)) == [("c1", "902")]  # the queue's 7 s for rejected
    acd.offer_failed(15, "c1", "902", "busy")
    assert rung(acd.handle_timer(20)) == [("c1", "902")]
    acd.set_status(21, "902", "break")
    assert rung(acd.handle_timer(40.9)) == []
    assert rung(acd.handle_timer(41)) == [("c1", "901")]  # 40 s after its miss


def test_an_operator_delay_is_checked_when_the_centre_is_loaded(make_centre) -> None:
    ops = [{"id": "901", "extension": "901", "retry_delays": {"busy": -1}}]
    with pytest.raises(CentreError, match=r"operators\[0\]\.retry_delays\.busy"):
        parse_centre(make_centre("ring_all", operators=ops))


@pytest.mark.parametrize(
    ("counted", "misses", "breaks"),
    [
        (None, ["busy", "busy"], False),  # the default, as app_queue: only no-answers count
        (None, ["no_answer", "no_answer"], True),
        (["no_answer"], ["busy", "busy", "busy"], False),  # app_queue without autopausebusy
        (["no_answer"], ["no_answer", "busy", "no_answer"], True),  # a busy neither counts nor resets
        (["no_answer", "busy"], ["busy", "busy"], True),  # autopausebusy
        (["no_answer", "failed"], ["failed", "failed"], True),  # autopauseunavail
    ],
)
def test_auto_break_counts_the_misses_the_queue_names(make_centre, counted, misses, breaks) -> None:
    queue: dict[str, Any] = {"auto_break_after": 2, "retry": 0}
    if counted is not None:
        queue["auto_break_on"] = counted
    acd = ACD(make_centre("ring_all", n=1, **queue))
    acd.call_arrived(0, "c1", "q")
    out: list[d.Decision] = []
    for i, reason in enumerate(misses):
        out += acd.offer_failed(i + 1, "c1", "901", reason)
    assert bool(of(out, d.OperatorAutoBreak)) is breaks
    assert acd.operator_status("901")[0] == ("break" if breaks else "available")


def test_queue_log_writes_joinempty_and_exitempty_for_the_ways_out_with_nobody_there(make_centre) -> None:
    from flowengine.acd.analysis.queue_log import QueueLogWriter

    c = make_centre("ring_all", n=1, join_empty=["unavailable"], max_wait_no_operator=20)
    acd = ACD(c)
    log = QueueLogWriter(epoch_offset=1_700_000_000)
    lines = log.lines(0, acd.call_arrived(0, "a", "q"))
    lines += log.lines(1, acd.set_status(1, "901", "break"))
    lines += log.lines(21, acd.handle_timer(21))  # nobody for 20 s: a leaves
    lines += log.lines(22, acd.remove_operator(22, "901"))
    lines += log.lines(23, acd.call_arrived(23, "b", "q"))  # logged out: refused
    events = [line.split("|")[4] for line in lines if "|a|" in line or "|b|" in line]
    assert events == ["ENTERQUEUE", "EXITEMPTY", "JOINEMPTY"]


def test_hold_time_reads_yaml_on_off_and_names_a_wrong_value(make_centre, tmp_path) -> None:
    from flowengine.acd.model import load_centre

    f = tmp_path / "centre.yaml"
    f.write_text(
        "operators: [{id: '901', extension: '901'}]\n"
        "queues: [{id: q, members: ['901'], announce: {period: 30, hold_time: off}}]\n",
        encoding="utf-8",
    )
    assert load_centre(f).queue("q").announce.hold_time == "off"  # YAML reads off as false
    f.write_text(f.read_text(encoding="utf-8").replace("hold_time: off", "hold_time: sometimes"), encoding="utf-8")
    with pytest.raises(CentreError, match=r"queues\[0\]\.announce\.hold_time: \"sometimes\" should be 'on', 'once' or 'off'"):
        load_centre(f)
