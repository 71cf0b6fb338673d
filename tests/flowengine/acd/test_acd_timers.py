"""Keyed timers with lazy deletion."""

from __future__ import annotations

from flowengine.acd.timers import TimerHeap


def test_schedule_replace_cancel_and_pop_in_order():
    t = TimerHeap()
    t.schedule(10, "a")
    t.schedule(5, "b")
    t.schedule(7, "c")
    t.schedule(20, "a")  # re-armed: the old deadline is gone
    t.cancel("c")
    assert t.next_deadline() == 5
    assert t.pop_due(4) is None
    assert t.pop_due(100) == (5, "b")
    assert t.pop_due(100) == (20, "a")
    assert t.pop_due(100) is None and t.next_deadline() is None and len(t) == 0


def test_stale_entries_do_not_pile_up():
    t = TimerHeap()
    for i in range(100_000):
        t.schedule(float(i), "same")
    assert len(t) == 1
    assert len(t._heap) < 4 * len(t) + 4097
    assert t.pop_due(1e9) == (99_999.0, "same")


def test_deadlines_apart_by_float_rounding_are_one_instant_ordered_by_rank():
    t = TimerHeap()
    early = 37.9 + 9.5  # 47.4
    late = 9.2 + 38.2  # 47.400000000000006
    assert early < late
    t.schedule(early, "retry", rank=3)
    t.schedule(late, "overflow", rank=1)
    t.schedule(47.5, "later", rank=0)
    assert t.next_deadline() == late
    assert t.pop_due(late) == (late, "overflow")
    assert t.pop_due(late) == (early, "retry")
    assert t.pop_due(late) is None
