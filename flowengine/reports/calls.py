"""Each call's story, folded from its events: the input of every call report.

`fold_calls(events)` reads call-stream events (dicts, as stored; any order of
calls, each call's events in `seq` order) and returns one `CallStory` per
call: where it went in the scenario, its stays in queues, the operators
offered it, the numbers a Transfer rang, and how it ended. Reports then
count stories; none of them reads events again.

This fold is the one place that turns a call's events into a record: the
stored CDR (`flowengine.storage.cdr`) is a view of the same story (its
`cdr_*` summary fields), and the report tables of `flowengine.reports.sql`
are rows of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flowengine.events.queue import is_private_queue

__all__ = [
    "CDR_QUEUE_RESULTS", "FOLD_EVENTS", "CallStory", "Dial", "Hold", "Offer", "OperatorTransfer", "QueueStay",
    "fold_calls", "fold_event",
]

#: queue events that end a stay without an operator -> the stay's outcome
_STAY_ENDS = {
    "queue_abandoned": "abandoned",
    "queue_timeout": "timeout",
    "queue_full": "full",
    "queue_no_operators": "no_operators",
    "queue_no_answer": "no_answer",
    "queue_callback_requested": "callback",
    "queue_overflow": "overflow",
}


@dataclass
class QueueStay:
    """One stay of a call in one queue (an overflow starts a new stay)."""

    queue_id: str
    entered: float
    #: "answered", or how it left unanswered (_STAY_ENDS), "overflow" included; None: still waiting at the end
    outcome: str | None = None
    #: seconds since the call first arrived at the ACD when the stay ended
    wait: float | None = None
    operator_id: str | None = None
    talk: float | None = None
    completed_by: str | None = None
    overflow_to: str | None = None
    #: came from another queue by overflow (not a new arrival)
    overflow_in: bool = False
    left: float | None = None


@dataclass
class Offer:
    """One ring of an operator for a queue call."""

    operator_id: str
    queue_id: str
    at: float
    #: answered, missed, cancelled; None while ringing at the end of the stream
    outcome: str | None = None
    reason: str | None = None
    ring_time: float | None = None


@dataclass
class Dial:
    """A number a Transfer rang."""

    node_id: str
    target: str
    outcome: str
    operator_id: str | None
    at: float


@dataclass
class Hold:
    """The caller put on hold by an operator (`leg_held` .. `leg_unheld`)."""

    operator_id: str | None
    leg_id: str
    at: float
    #: the queue whose call it was (None: a Transfer's call, or no queue known)
    queue_id: str | None
    #: seconds on hold; None while no `leg_unheld` has closed it (see `CallStory.held`)
    held_for: float | None = None


@dataclass
class OperatorTransfer:
    """An operator's request to hand the caller on, and what became of it."""

    operator_id: str | None
    target: str
    at: float
    queue_id: str | None
    #: answered, busy, no_answer, rejected, failed, hangup (it was rung), or
    #: refused (the engine did not take it); None: no answer to the request yet
    outcome: str | None = None
    #: why it was refused (unknown_target, dial_blocked, pending, not_in_call, hangup)
    reason: str | None = None
    #: operator, queue or number (None when refused)
    kind: str | None = None
    to_operator_id: str | None = None


@dataclass
class CallStory:
    call_id: str
    started: float | None = None
    caller: str = ""
    called: str = ""
    line: str | None = None
    scenario_id: str = ""
    scenario_version: int = 0
    answered: float | None = None
    ended: float | None = None
    #: (node_id, node_type, exit) in the order walked; exit None if the node never left
    path: list[tuple[str, str, str | None]] = field(default_factory=list)
    stays: list[QueueStay] = field(default_factory=list)
    offers: list[Offer] = field(default_factory=list)
    dials: list[Dial] = field(default_factory=list)
    #: blind transfers: (target, "completed" or the failure reason)
    blind: list[tuple[str, str]] = field(default_factory=list)
    #: holds by operators, and the operators' requests to hand the caller on
    holds: list[Hold] = field(default_factory=list)
    op_transfers: list[OperatorTransfer] = field(default_factory=list)
    #: the latest event time seen: an open hold counts until then
    last_ts: float = 0.0
    hangup_cause: str | None = None
    hangup_by: str | None = None
    hangup_node: str | None = None
    failures: list[str] = field(default_factory=list)
    # the CDR's summary (flowengine.storage.cdr): the last queue and operator,
    # the last queue wait, talk time over bridges and queue calls, the last
    # way out of a queue without an operator, a completed blind transfer
    cdr_queue: str | None = None
    cdr_operator: str | None = None
    cdr_wait: float | None = None
    bridge_talk: float | None = None
    queue_talk: float | None = None
    queue_outcome: str | None = None
    transferred: bool = False

    @property
    def talked(self) -> bool:
        """Did the caller talk to a person (a queue operator or a Transfer)?"""
        return any(s.outcome == "answered" for s in self.stays) or any(d.outcome == "answered" for d in self.dials)

    def held(self, hold: Hold) -> float:
        """Seconds `hold` lasted: as `leg_unheld` says, or, when none closed
        it (the leg or the stream ended first), until the call's end or its
        last event."""
        if hold.held_for is not None:
            return hold.held_for
        end = self.ended if self.ended is not None else self.last_ts
        return max(0.0, end - hold.at)

    def stay(self, queue_id: str) -> QueueStay | None:
        for s in reversed(self.stays):
            if s.queue_id == queue_id:
                return s
        return None


def fold_calls(events: Iterable[Mapping[str, Any]]) -> dict[str, CallStory]:
    """Call id -> its story; events of other streams are skipped."""
    stories: dict[str, CallStory] = {}
    for e in events:
        call_id = e.get("call_id")
        name = e.get("event")
        # operator stream, and the queue stream of callbacks after the caller left
        # (the operator and queue reports read those); an operator's transfer
        # request is the call's own
        if not call_id or not isinstance(name, str):
            continue
        if name.startswith(("operator_", "callback_")) and not name.startswith("operator_transfer_"):
            continue
        s = stories.get(call_id)
        if s is None:
            s = stories[call_id] = CallStory(call_id)
        fold_event(s, name, e)
    return stories


#: what the operator does in the conversation (holds, hand-overs), and a leg's end that closes a hold
_OPERATOR_EVENTS = frozenset({
    "leg_held", "leg_unheld", "leg_ended", "operator_transfer_requested", "operator_transfer_refused",
    "operator_transfer_ended",
})  # fmt: skip

#: the call events the fold reads (the others — prompts, variables, digits,
#: legs, announcements — only count for the CDR's event total): what the
#: report tables fetch from storage
FOLD_EVENTS = frozenset({
    "call_started", "call_answered", "node_entered", "node_left", "node_failed", "queue_entered",
    "queue_offered", "queue_offer_missed", "queue_offer_cancelled", "queue_connected", "queue_completed",
    *_STAY_ENDS, "dial_attempted", "transfer_completed", "transfer_failed", "bridge_started", "bridge_ended",
    "call_hung_up", "call_ended", *_OPERATOR_EVENTS,
})  # fmt: skip

#: queue events that end a stay without an operator -> the CDR's result
CDR_QUEUE_RESULTS = {
    "queue_abandoned": "abandoned",
    "queue_timeout": "queue_timeout",
    "queue_full": "queue_full",
    "queue_no_operators": "no_operators",
    "queue_no_answer": "no_answer",
    "queue_callback_requested": "callback",
}


def fold_event(s: CallStory, name: str, e: Mapping[str, Any]) -> None:
    """Add one event (its name, its dict) of the call to its story."""
    if name.startswith("queue_"):
        _cdr_queue(s, name, e)
    elif name == "bridge_started":
        if e.get("operator_id"):
            s.cdr_operator = e.get("operator_id")
        if s.bridge_talk is None:
            s.bridge_talk = 0.0
    elif name == "bridge_ended":
        s.bridge_talk = (s.bridge_talk or 0.0) + (e.get("talk_time") or 0.0)
    elif name == "transfer_completed":
        s.transferred = True
    _fold(s, name, e)


def _cdr_queue(s: CallStory, name: str, e: Mapping[str, Any]) -> None:
    queue_id = e.get("queue_id")
    # the CDR names the centre queue the caller came through: a later hand-over
    # to one operator (their private queue, ``operator:<id>``) does not replace it
    if queue_id and not (s.cdr_queue and is_private_queue(queue_id)):
        s.cdr_queue = queue_id
    if name == "queue_connected":
        s.cdr_operator = e.get("operator_id")
        s.cdr_wait = e.get("wait")
        s.queue_outcome = None
    elif name == "queue_completed":
        s.cdr_operator = e.get("operator_id") or s.cdr_operator
        s.queue_talk = (s.queue_talk or 0.0) + (e.get("talk_time") or 0.0)
    elif name in CDR_QUEUE_RESULTS:
        s.queue_outcome = CDR_QUEUE_RESULTS[name]
        if e.get("wait") is not None:
            s.cdr_wait = e.get("wait")


def _fold(s: CallStory, name: str, e: Mapping[str, Any]) -> None:
    ts = float(e.get("ts") or 0.0)
    if ts > s.last_ts:
        s.last_ts = ts
    if name in _OPERATOR_EVENTS:
        _fold_operator(s, name, e, ts)
    elif name == "call_started":
        s.started = ts
        s.caller = str(e.get("caller") or "")
        s.called = str(e.get("called") or "")
        s.line = e.get("line")
        s.scenario_id = str(e.get("scenario_id") or "")
        s.scenario_version = int(e.get("scenario_version") or 0)
    elif name == "call_answered":
        s.answered = s.answered or ts
    elif name == "node_entered":
        s.path.append((str(e.get("node_id")), str(e.get("node_type") or ""), None))
    elif name == "node_left":
        if s.path and s.path[-1][0] == e.get("node_id") and s.path[-1][2] is None:
            node_id, node_type, _ = s.path[-1]
            s.path[-1] = (node_id, node_type, str(e.get("exit")))
    elif name == "node_failed":
        s.failures.append(str(e.get("code")))
    elif name == "queue_entered":
        s.stays.append(QueueStay(str(e.get("queue_id")), ts))
    elif name == "queue_offered":
        s.offers.append(Offer(str(e.get("operator_id")), str(e.get("queue_id")), ts))
    elif name in ("queue_offer_missed", "queue_offer_cancelled"):
        offer = _open_offer(s, e)
        if offer is not None:
            offer.outcome = "missed" if name == "queue_offer_missed" else "cancelled"
            offer.reason = e.get("reason")
            offer.ring_time = e.get("ring_time", ts - offer.at)
    elif name == "queue_connected":
        offer = _open_offer(s, e)
        if offer is not None:
            offer.outcome, offer.ring_time = "answered", e.get("ring_time", ts - offer.at)
        stay = _stay(s, e, ts)
        stay.outcome, stay.wait, stay.operator_id, stay.left = "answered", e.get("wait"), e.get("operator_id"), ts
    elif name == "queue_completed":
        stay = _stay(s, e, ts)
        stay.talk = float(e.get("talk_time") or 0.0)
        stay.completed_by = e.get("by")
        stay.operator_id = stay.operator_id or e.get("operator_id")
    elif name in _STAY_ENDS:
        stay = _stay(s, e, ts)
        stay.outcome, stay.left = _STAY_ENDS[name], ts
        if e.get("wait") is not None:
            stay.wait = float(e["wait"])
        if name == "queue_overflow":
            stay.overflow_to = str(e.get("to_queue"))
            s.stays.append(QueueStay(stay.overflow_to, ts, overflow_in=True))
    elif name == "dial_attempted":
        s.dials.append(Dial(str(e.get("node_id")), str(e.get("target")), str(e.get("outcome")), e.get("operator_id"), ts))
    elif name == "transfer_completed":
        s.blind.append((str(e.get("target")), "completed"))
    elif name == "transfer_failed":
        s.blind.append((str(e.get("target")), str(e.get("reason"))))
    elif name == "call_hung_up":
        if s.hangup_cause is None:  # the call's own end; post-processing may not add one
            s.hangup_cause, s.hangup_by, s.hangup_node = e.get("cause"), e.get("by"), e.get("node_id")
    elif name == "call_ended":
        s.ended = ts
        if s.hangup_cause is None:
            s.hangup_cause = e.get("hangup_cause")


def _fold_operator(s: CallStory, name: str, e: Mapping[str, Any], ts: float) -> None:
    """Holds and operator transfers: what the operator did in the conversation."""
    op = e.get("operator_id")
    if name == "leg_held":
        s.holds.append(Hold(op, str(e.get("leg_id") or ""), ts, _queue_of(s, op)))
    elif name in ("leg_unheld", "leg_ended"):
        leg = str(e.get("leg_id") or "")
        for hold in s.holds:
            if hold.held_for is None and (hold.leg_id == leg if leg else hold.operator_id == op):
                held_for = e.get("held_for") if name == "leg_unheld" else None
                hold.held_for = max(0.0, float(held_for) if held_for is not None else ts - hold.at)
    elif name == "operator_transfer_requested":
        s.op_transfers.append(OperatorTransfer(op, str(e.get("target")), ts, _queue_of(s, op)))
    elif name in ("operator_transfer_refused", "operator_transfer_ended"):
        target = str(e.get("target"))
        found = next((x for x in reversed(s.op_transfers)
                      if x.outcome is None and x.operator_id == op and x.target == target), None)  # fmt: skip
        if found is None:  # the request was not in the stream: the answer stands for it
            found = OperatorTransfer(op, target, ts, _queue_of(s, op))
            s.op_transfers.append(found)
        if name == "operator_transfer_refused":
            found.outcome, found.reason = "refused", e.get("reason")
        else:
            found.outcome, found.kind, found.to_operator_id = e.get("outcome"), e.get("kind"), e.get("to_operator_id")


def _queue_of(s: CallStory, operator_id: str | None) -> str | None:
    """The queue of the call's stay `operator_id` answered last (None: none)."""
    if operator_id is None:
        return None
    for stay in reversed(s.stays):
        if stay.outcome == "answered" and stay.operator_id == operator_id:
            return stay.queue_id
    return None


def _stay(s: CallStory, e: Mapping[str, Any], ts: float) -> QueueStay:
    qid = str(e.get("queue_id"))
    stay = s.stay(qid)
    if stay is None:  # a stream cut before queue_entered: start the stay here
        stay = QueueStay(qid, ts)
        s.stays.append(stay)
    return stay


def _open_offer(s: CallStory, e: Mapping[str, Any]) -> Offer | None:
    op = e.get("operator_id")
    for offer in reversed(s.offers):
        if offer.operator_id == op and offer.outcome is None:
            return offer
    return None
