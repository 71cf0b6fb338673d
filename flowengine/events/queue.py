"""Queue events: a call's stay in the ACD, and the queue stream of callbacks.

**In the call stream** (`QueueCallEvent`: the Queue or Transfer node and the
queue): one typed event per ACD fact, with explicit fields — entered,
offered, offer missed or cancelled, connected, completed, and the ways out
without an operator (abandoned, timeout, full, no operators, no answer,
overflow into another queue, callback requested). Times are seconds, `wait`
counted from the call's first arrival at the ACD (so it includes time spent
in a queue it overflowed from); positions count from 1.

**In the queue stream** (`CallbackEvent`, keyed by `queue_id`): what happens
to a callback once the caller has left the line and their call stream has
ended — the ACD still holds their place, rings them back and connects them to
an operator. Each event names the original `call_id`.

The ACD driver makes these from the core's decisions
(`flowengine.acd.records`), which also turns them back into decisions for
`flowengine export queue-log`.
"""

from __future__ import annotations

from dataclasses import dataclass

from flowengine.events.base import NodeEvent, QueueStreamEvent, event

__all__ = [
    "CallbackAttempted",
    "CallbackCompleted",
    "CallbackConnected",
    "CallbackEvent",
    "CallbackGivenUp",
    "CallbackMissed",
    "QueueAbandoned",
    "QueueAnnounced",
    "QueueCallEvent",
    "QueueCallbackRequested",
    "QueueCompleted",
    "QueueConnected",
    "QueueEntered",
    "QueueFull",
    "QueueNoAnswer",
    "QueueNoOperators",
    "QueueOfferCancelled",
    "QueueOfferMissed",
    "QueueOffered",
    "QueueOverflow",
    "QueueTimeout",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueCallEvent(NodeEvent):
    """Base of the queue events of a call: `node_id` is the Queue or Transfer node."""

    node_id: str
    queue_id: str


#: the id prefix of an operator's private queue (`ACD.direct_queue`: a Transfer
#: to one operator, an operator's hand-over): ``operator:<id>``
PRIVATE_QUEUE_PREFIX = "operator:"


def is_private_queue(queue_id: object) -> bool:
    """Is `queue_id` an operator's private queue rather than a queue of the centre?"""
    return isinstance(queue_id, str) and queue_id.startswith(PRIVATE_QUEUE_PREFIX)


@event("queue_entered")
@dataclass(frozen=True, slots=True, kw_only=True)
class QueueEntered(QueueCallEvent):
    """The call joined the queue at `position` (1 = next), with caller `priority`;
    `resumed_from` names the call of the same caller who hung up in this queue
    and whose place this one took (queue ``abandoned_resume``)."""

    position: int
    priority: int = 0
    resumed_from: str | None = None


@event("queue_offered")
@dataclass(frozen=True, slots=True, kw_only=True)
class QueueOffered(QueueCallEvent):
    """`target` of `operator_id` rings; the ACD gives up after `timeout` s."""

    operator_id: str
    target: str
    timeout: float


@event("queue_offer_missed")
@dataclass(frozen=True, slots=True, kw_only=True)
class QueueOfferMissed(QueueCallEvent):
    """The offer failed: `reason` is no_answer, busy, rejected or failed."""

    operator_id: str
    reason: str
    ring_time: float


@event("queue_offer_cancelled")
@dataclass(frozen=True, slots=True, kw_only=True)
class QueueOfferCancelled(QueueCallEvent):
    """The ACD stopped ringing the operator: `reason` is answered_elsewhere,
    abandoned, max_wait, overflow, callback, status_changed, operator_gone,
    no_operators (a ring that timed out is a `queue_offer_missed`)."""

    operator_id: str
    reason: str


@event("queue_connected")
@dataclass(frozen=True, slots=True, kw_only=True)
class QueueConnected(QueueCallEvent):
    """The operator answered after the caller waited `wait` s (`ring_time` of it ringing)."""

    operator_id: str
    wait: float
    ring_time: float
    orig_position: int = 0


@event("queue_completed")
@dataclass(frozen=True, slots=True, kw_only=True)
class QueueCompleted(QueueCallEvent):
    """The conversation ended after `talk_time` s; `by` is caller or agent."""

    operator_id: str
    wait: float
    talk_time: float
    orig_position: int
    by: str


@event("queue_abandoned")
@dataclass(frozen=True, slots=True, kw_only=True)
class QueueAbandoned(QueueCallEvent):
    """The caller hung up while waiting, at `position` (joined at `orig_position`)."""

    position: int
    orig_position: int
    wait: float


@event("queue_timeout")
@dataclass(frozen=True, slots=True, kw_only=True)
class QueueTimeout(QueueCallEvent):
    """The call waited the queue's max wait and left (the node's "timeout" exit)."""

    position: int
    orig_position: int
    wait: float


@event("queue_full")
@dataclass(frozen=True, slots=True, kw_only=True)
class QueueFull(QueueCallEvent):
    """Refused at entry: the queue holds its max length (the "full" exit)."""


@event("queue_no_operators")
@dataclass(frozen=True, slots=True, kw_only=True)
class QueueNoOperators(QueueCallEvent):
    """Refused at entry (`position` 0) or removed: nobody can take calls.
    `reason` is unavailable (nobody staffs the queue) or busy (nobody free)."""

    reason: str
    position: int = 0
    orig_position: int = 0
    wait: float = 0.0


@event("queue_no_answer")
@dataclass(frozen=True, slots=True, kw_only=True)
class QueueNoAnswer(QueueCallEvent):
    """`rounds` passes over the members went unanswered (Transfer's "no_answer")."""

    rounds: int
    wait: float
    position: int = 0
    orig_position: int = 0


@event("queue_overflow")
@dataclass(frozen=True, slots=True, kw_only=True)
class QueueOverflow(QueueCallEvent):
    """The call moved from `queue_id` to `to_queue`, keeping its seniority."""

    to_queue: str
    wait: float
    position: int = 0
    orig_position: int = 0
    new_position: int = 0


@event("queue_announced")
@dataclass(frozen=True, slots=True, kw_only=True)
class QueueAnnounced(QueueCallEvent):
    """Position and estimated wait told to the caller (None: nobody staffs the
    queue); `announcement` ``periodic`` is the queue's own periodic message instead."""

    position: int
    estimated_wait: float | None
    announcement: str = "position"


@event("queue_callback_requested")
@dataclass(frozen=True, slots=True, kw_only=True)
class QueueCallbackRequested(QueueCallEvent):
    """The caller asked to be called back and left the line, keeping `position`;
    what follows is in the queue stream (`callback_*`)."""

    position: int


# -- the queue stream: callbacks after the caller left ---------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class CallbackEvent(QueueStreamEvent):
    """Base of callback events: `call_id` is the call that asked for it."""

    call_id: str


@event("callback_attempted")
@dataclass(frozen=True, slots=True, kw_only=True)
class CallbackAttempted(CallbackEvent):
    """It is the caller's turn: `operator_id` is reserved and `caller` is dialled."""

    operator_id: str
    caller: str
    timeout: float


@event("callback_missed")
@dataclass(frozen=True, slots=True, kw_only=True)
class CallbackMissed(CallbackEvent):
    """The caller did not pick up (`reason`: no_answer, busy, rejected, failed)."""

    operator_id: str
    reason: str
    ring_time: float


@event("callback_connected")
@dataclass(frozen=True, slots=True, kw_only=True)
class CallbackConnected(CallbackEvent):
    """The caller answered and talks with the operator; `wait` since the first arrival."""

    operator_id: str
    wait: float
    ring_time: float
    orig_position: int = 0


@event("callback_completed")
@dataclass(frozen=True, slots=True, kw_only=True)
class CallbackCompleted(CallbackEvent):
    operator_id: str
    wait: float
    talk_time: float
    orig_position: int
    by: str


@event("callback_recorded")
@dataclass(frozen=True, slots=True, kw_only=True)
class CallbackRecorded(CallbackEvent):
    """The callback's conversation was recorded (the queue's `record`): the
    recording belongs to the call that asked for the callback."""

    operator_id: str
    uri: str
    duration: float


@event("callback_given_up")
@dataclass(frozen=True, slots=True, kw_only=True)
class CallbackGivenUp(CallbackEvent):
    """The caller did not pick up `rounds` callbacks in a row; the ACD gave up."""

    rounds: int
    wait: float
    position: int = 0
    orig_position: int = 0
