"""Every ACD decision the streams record turns into an event with explicit
fields and back into the same decision (what queue_log export relies on)."""

from __future__ import annotations

import json

import pytest

from flowengine.acd import decisions as d
from flowengine.acd.records import (
    CALL_EVENTS,
    CALLBACK_EVENTS,
    call_event_for,
    callback_event_for,
    decision_from_event,
    operator_event_for,
)
from flowengine.events import event_from_dict

CALL_SAMPLES: list[d.Decision] = [
    d.Queued("c", "q", 2, "+7916", 5),
    d.Ring("c", "q", "901", "+7901", 15.0, leg=7),
    d.OfferMissed("c", "q", "901", "busy", 0.5),
    d.StopRinging("c", "901", "answered_elsewhere"),
    d.Connected("c", "q", "902", 12.5, 3.0, 2),
    d.Completed("c", "q", "902", 12.5, 60.0, 2, "agent"),
    d.Abandoned("c", "q", 1, 2, 30.25),
    d.MaxWaitReached("c", "q", 1, 1, 300.0),
    d.QueueFull("c", "q"),
    d.NoOperators("c", "q", "unavailable", 1, 1, 4.0),
    d.NoAnswer("c", "q", 3, 90.0, 1, 1),
    d.Overflow("c", "q", "support", 120.0, 1, 1, 3),
    d.Announce("c", "q", 2, None),
    d.CallbackRegistered("c", "q", 2, "+7916"),
]
CALLBACK_SAMPLES: list[d.Decision] = [
    d.CallbackDue("c", "q", "901", "+7916", 20.0, leg=3),
    d.OfferMissed("c", "q", "901", "no_answer", 20.0),
    d.Connected("c", "q", "901", 400.0, 5.0, 2, True),
    d.Completed("c", "q", "901", 400.0, 60.0, 2, "caller"),
    d.NoAnswer("c", "q", 3, 500.0, 1, 2),
]


def stored(cls: type, fields: dict[str, object], **context: object) -> dict[str, object]:
    event = cls(v=2, seq=1, ts=1.0, **context, **fields)
    data = json.loads(json.dumps(event.to_dict()))
    assert event_from_dict(data) == event
    return data  # type: ignore[no-any-return]


def test_the_samples_cover_every_recorded_decision() -> None:
    assert {type(x) for x in CALL_SAMPLES} == set(CALL_EVENTS)
    assert {type(x) for x in CALLBACK_SAMPLES} == set(CALLBACK_EVENTS)


@pytest.mark.parametrize("decision", CALL_SAMPLES, ids=lambda x: type(x).__name__)
def test_call_stream_events_rebuild_their_decision(decision: d.Decision) -> None:
    found = call_event_for(decision)
    assert found is not None
    cls, fields = found
    fields.setdefault("queue_id", "q")
    data = stored(cls, fields, call_id="c", t=1.0, scenario_id="s", scenario_version=1, node_id="n")
    assert "data" not in data and "kind" not in data
    assert decision_from_event(data, caller=getattr(decision, "caller", "")) == decision


@pytest.mark.parametrize("decision", CALLBACK_SAMPLES, ids=lambda x: type(x).__name__)
def test_queue_stream_events_rebuild_their_decision(decision: d.Decision) -> None:
    found = callback_event_for(decision)
    assert found is not None
    cls, fields = found
    data = stored(cls, fields)
    assert data["queue_id"] == "q" and data["call_id"] == "c"
    assert decision_from_event(data) == decision


def test_late_answers_and_ring_timeouts_are_not_recorded_as_cancels() -> None:
    assert call_event_for(d.StopRinging("c", "901", "not_offered")) is None
    assert call_event_for(d.StopRinging("c", "901", "no_answer")) is None  # an offer_missed says it
    assert call_event_for(d.WrapUpEnded("901")) is None


def test_operator_decisions_become_operator_events() -> None:
    found = operator_event_for(d.OperatorStatusChanged("901", "break", "lunch", "operator", "available", False))
    assert found is not None
    cls, fields = found
    data = stored(cls, fields, operator_id="901")
    assert (data["event"], data["previous"], data["reason"]) == ("operator_status_changed", "available", "lunch")
    assert decision_from_event(data) == d.OperatorStatusChanged("901", "break", "lunch", "operator", "available", False)
    state = operator_event_for(d.OperatorStateChanged("901", "talking", "ringing", "c", 3.0))
    assert state is not None and state[1] == {"state": "talking", "previous": "ringing", "call_id": "c"}
