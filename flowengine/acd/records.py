"""ACD decisions as stored events, and back.

The driver records each decision about a call in one of two streams:

* while the caller is on the line (the Queue or Transfer node holds a
  session), in the **call stream** as a typed `queue_*` event;
* once the caller has left with a callback pending, in the **queue stream**
  as a `callback_*` event (their call stream has ended by then).

Operator decisions become the **operator stream** (`operator_events_for`).

Fields are copied by name from the decision to the event class, so each
event states exactly the decision's facts (no opaque `data`); the only
renames are an overflow's `from_queue` (the event's `queue_id`) and the
fields the stream already has elsewhere (`caller` is on `call_started`,
`leg` is internal). `decision_from_event` reverses it, which is how
`flowengine export queue-log` replays stored streams through the same
`QueueLogWriter` the live ACD would use.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from flowengine.acd import decisions as d
from flowengine.events import (
    CallbackAttempted,
    CallbackCompleted,
    CallbackConnected,
    CallbackEvent,
    CallbackGivenUp,
    CallbackMissed,
    QueueAbandoned,
    QueueAnnounced,
    QueueCallbackRequested,
    QueueCallEvent,
    QueueCompleted,
    QueueConnected,
    QueueEntered,
    QueueFull,
    QueueNoAnswer,
    QueueNoOperators,
    QueueOfferCancelled,
    QueueOffered,
    QueueOfferMissed,
    QueueOverflow,
    QueueTimeout,
)
from flowengine.events import OperatorAutoBreak as OperatorAutoBreakEvent
from flowengine.events import OperatorStateChanged as OperatorStateEvent
from flowengine.events import OperatorStatusChanged as OperatorStatusEvent

#: decision -> its event in the call stream (decisions not listed are not recorded there)
CALL_EVENTS: dict[type[d.Decision], type[QueueCallEvent]] = {
    d.Queued: QueueEntered,
    d.Ring: QueueOffered,
    d.OfferMissed: QueueOfferMissed,
    d.StopRinging: QueueOfferCancelled,
    d.Connected: QueueConnected,
    d.Completed: QueueCompleted,
    d.Abandoned: QueueAbandoned,
    d.MaxWaitReached: QueueTimeout,
    d.QueueFull: QueueFull,
    d.NoOperators: QueueNoOperators,
    d.NoAnswer: QueueNoAnswer,
    d.Overflow: QueueOverflow,
    d.Announce: QueueAnnounced,
    d.CallbackRegistered: QueueCallbackRequested,
}

#: decision about a pending callback -> its event in the queue stream
CALLBACK_EVENTS: dict[type[d.Decision], type[CallbackEvent]] = {
    d.CallbackDue: CallbackAttempted,
    d.OfferMissed: CallbackMissed,
    d.Connected: CallbackConnected,
    d.Completed: CallbackCompleted,
    d.NoAnswer: CallbackGivenUp,
}

#: StopRinging reasons that are not facts about the call (a late answer to an
#: offer already over, and a ring that timed out, recorded as an OfferMissed)
_UNRECORDED_STOPS = frozenset({"not_offered", "no_answer"})

#: fields the event classes add on top of the decision's own
_CONTEXT = frozenset(
    {"v", "seq", "ts", "t", "call_id", "scenario_id", "scenario_version", "node_id", "queue_id"}
)


def _copied(event_cls: type[Any]) -> tuple[str, ...]:
    return tuple(f for f in event_cls.field_names if f not in _CONTEXT)


_COPY: dict[type[Any], tuple[str, ...]] = {
    cls: _copied(cls) for cls in (*CALL_EVENTS.values(), *CALLBACK_EVENTS.values())
}


def _rounded(value: Any) -> Any:
    return round(value, 3) if isinstance(value, float) else value


def call_event_for(decision: d.Decision) -> tuple[type[QueueCallEvent], dict[str, Any]] | None:
    """The call-stream event for `decision` and its fields (without the
    node, which the driver adds), or None if it is not recorded."""
    cls = CALL_EVENTS.get(type(decision))
    if cls is None:
        return None
    if isinstance(decision, d.StopRinging) and decision.reason in _UNRECORDED_STOPS:
        return None
    fields = {name: _rounded(getattr(decision, name)) for name in _COPY[cls]}
    if isinstance(decision, d.Overflow):
        fields["queue_id"] = decision.from_queue
    elif not isinstance(decision, d.StopRinging):
        fields["queue_id"] = decision.queue_id  # type: ignore[attr-defined]
    return cls, fields


def callback_event_for(decision: d.Decision) -> tuple[type[CallbackEvent], dict[str, Any]] | None:
    """The queue-stream event for a decision about a pending callback, or None."""
    cls = CALLBACK_EVENTS.get(type(decision))
    if cls is None:
        return None
    fields = {name: _rounded(getattr(decision, name)) for name in _COPY[cls]}
    fields["call_id"] = decision.call_id  # type: ignore[attr-defined]
    fields["queue_id"] = decision.queue_id  # type: ignore[attr-defined]
    return cls, fields


def operator_event_for(decision: d.Decision) -> tuple[type[Any], dict[str, Any]] | None:
    """The operator-stream event for an operator decision, or None."""
    if isinstance(decision, d.OperatorStatusChanged):
        return OperatorStatusEvent, {
            "status": decision.status,
            "previous": decision.previous or None,
            "reason": decision.reason,
            "by": decision.by,
            "available": decision.available,
        }
    if isinstance(decision, d.OperatorStateChanged):
        return OperatorStateEvent, {
            "state": decision.state,
            "previous": decision.previous,
            "call_id": decision.call_id,
        }
    if isinstance(decision, d.OperatorAutoBreak):
        return OperatorAutoBreakEvent, {"misses": decision.misses, "reason": decision.reason}
    return None


# -- back: stored events -> decisions (for queue_log export) --------------------------------
_FROM_EVENT: dict[str, type[d.Decision]] = {
    **{cls.name: dec for dec, cls in CALL_EVENTS.items()},
    **{cls.name: dec for dec, cls in CALLBACK_EVENTS.items()},
    "operator_status_changed": d.OperatorStatusChanged,
}


def decision_from_event(event: Mapping[str, Any], *, caller: str = "") -> d.Decision | None:
    """The ACD decision a stored (v2) event dict was recorded from, or None
    for events that are not ACD decisions. `caller` fills the caller's
    number, which the stream keeps on `call_started`."""
    name = str(event.get("event"))
    cls = _FROM_EVENT.get(name)
    if cls is None:
        return None
    names = {f.name for f in dataclasses.fields(cls)}
    data = {k: v for k, v in event.items() if k in names}
    if "caller" in names and "caller" not in data:
        data["caller"] = caller
    if cls is d.Overflow:
        data["from_queue"] = event.get("queue_id")
    if cls is d.Connected and name == "callback_connected":
        data["callback"] = True
    if cls is d.OperatorStatusChanged:
        data["previous"] = event.get("previous") or ""
    missing = [
        f.name
        for f in dataclasses.fields(cls)
        if f.name not in data
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ValueError(f"'{name}' lacks {', '.join(missing)}")
    return cls(**data)
