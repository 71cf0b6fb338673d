"""The four service-level variants against their definitions, on crafted streams.

Ten calls enter queue "sales" (threshold 20 s, short abandon 5 s):
answered after 5, 10, 20, 25 and 40 s; abandoned after 3 s and 4 s (short),
after 15 s and after 60 s; one times out after 120 s. So:
offered 10, answered 5, answered within 20 s: 3 (5, 10 and 20 — "within" includes 20),
short abandons 2, abandoned within 20 s: 3 (3, 4, 15).
"""

from __future__ import annotations

from typing import Any

import pytest

from flowengine.reports import Period

T0 = 1_800_000_000.0


def stream() -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []

    def call(i: int, kind: str, wait: float) -> None:
        cid = f"c{i}"
        base = {"call_id": cid, "scenario_id": "s", "scenario_version": 1, "node_id": "q", "queue_id": "sales"}
        at = T0 + i * 100
        events.append({"event": "call_started", "call_id": cid, "seq": 1, "ts": at, "caller": f"+7{i}", "called": "100",
                       "scenario_id": "s", "scenario_version": 1})
        events.append({**base, "event": "queue_entered", "seq": 2, "ts": at, "position": 1})
        if kind == "answered":
            events.append({**base, "event": "queue_offered", "seq": 3, "ts": at + wait - 2, "operator_id": "901",
                           "target": "901", "timeout": 15.0})
            events.append({**base, "event": "queue_connected", "seq": 4, "ts": at + wait, "operator_id": "901",
                           "wait": wait, "ring_time": 2.0})
            events.append({**base, "event": "queue_completed", "seq": 5, "ts": at + wait + 60, "operator_id": "901",
                           "wait": wait, "talk_time": 60.0, "orig_position": 1, "by": "caller"})
        else:
            events.append({**base, "event": f"queue_{kind}", "seq": 3, "ts": at + wait, "wait": wait,
                           "position": 1, "orig_position": 1})
        events.append({"event": "call_ended", "call_id": cid, "seq": 9, "ts": at + 200, "duration": 200.0,
                       "hangup_cause": "normal", "steps": 3})

    for i, wait in enumerate((5, 10, 20, 25, 40)):
        call(i, "answered", wait)
    for i, wait in enumerate((3, 4, 15, 60), 5):
        call(i, "abandoned", wait)
    call(9, "timeout", 120)
    for e in events:  # complete v2 events, as the engine writes them (the SQL path stores them)
        e.update(v=2, t=0.0, **({"wall": ""} if e["event"] == "call_started" else {}))
    return events


@pytest.fixture
def report(report_source: str, sources: Any) -> Any:
    """The queue report of the stream folded in memory, and in SQL on SQLite and PostgreSQL."""
    return sources(report_source, stream())


def queues(report: Any, period: Period, **filt: Any) -> list[dict[str, Any]]:
    return list(report("queues", period, **filt)["rows"])


def test_the_four_variants_follow_their_definitions(report: Any) -> None:
    [row] = queues(report, Period(), thresholds={"sales": 20.0}, short_abandon=5.0)
    assert (row["offered"], row["answered"], row["answered_within"]) == (10, 5, 3)
    assert (row["abandoned"], row["short_abandoned"], row["timeout"]) == (4, 2, 1)
    assert row["sl_offered"] == pytest.approx(3 / 10)
    assert row["sl_offered_minus_short"] == pytest.approx(3 / 8)
    assert row["sl_with_abandons"] == pytest.approx((3 + 3) / 10)
    assert row["sl_answered"] == pytest.approx(3 / 5)
    assert row["asa"] == pytest.approx((5 + 10 + 20 + 25 + 40) / 5)
    assert row["avg_abandon_wait"] == pytest.approx((3 + 4 + 15 + 60) / 4)
    assert row["longest_wait"] == 120
    assert row["avg_talk"] == 60.0


def test_the_threshold_is_the_queue_s_own(report: Any) -> None:
    [row] = queues(report, Period(), thresholds={"sales": 10.0})
    assert (row["threshold"], row["answered_within"]) == (10.0, 2)  # 5 and 10
    assert row["sl_with_abandons"] == pytest.approx((2 + 2) / 10)  # abandons at 3 and 4 s
    [row] = queues(report, Period(), short_abandon=3.0)  # strictly under 3 s: none
    assert row["short_abandoned"] == 0 and row["sl_offered_minus_short"] == pytest.approx(3 / 10)


def test_the_period_takes_the_stays_that_began_in_it(report: Any) -> None:
    # calls 0-4 began in the first 500 s
    [row] = queues(report, Period(T0, T0 + 500))
    assert (row["offered"], row["answered"], row["abandoned"]) == (5, 5, 0)
    assert row["sl_offered"] == pytest.approx(3 / 5)


def test_a_queue_with_no_answered_call_has_no_answered_based_level(report_source: str, sources: Any) -> None:
    events = [e for e in stream() if e["call_id"] in ("c5", "c6")]
    [row] = queues(sources(report_source, events), Period())
    assert row["sl_answered"] is None and row["asa"] is None
    assert row["sl_offered_minus_short"] is None  # every call was a short abandon
    assert row["sl_offered"] == 0.0
