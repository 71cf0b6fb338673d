"""Decisions: what the sans-IO ACD core tells its driver to do or record.

Every input method of `flowengine.acd.core.ACD` returns a list of these, in
the order they happened. They are small frozen dataclasses under one base
class, in the style of h11's events. Two kinds:

**Commands** — the driver must act:

=====================  ==========================================================
`Ring`                 start ringing `target` of `operator_id` for `call_id`;
                       give up after `timeout` s (the core also times it out)
`StopRinging`          stop every ringing target of that operator for that call
`Connected`            bridge the caller with the operator (the offer was
                       answered); the Queue node's "answered" path starts here
`CallbackDue`          the caller asked to be called back and it is their turn:
                       the operator is reserved; dial the caller and report
                       `offer_answered` / `offer_failed` as for a `Ring`
`Announce`             tell the caller their position and estimated wait
`CallbackRefused`      a `file_callback` request was not filed (its reason)
`QueueFull`            the call was refused at entry (``max_length``) — exit "full"
`NoOperators`          refused at entry, or removed, because nobody can take
                       calls (queue ``no_operators`` policy) — exit "no_operators"
`MaxWaitReached`       the call waited ``max_wait`` and left the queue — exit "timeout"
`NoAnswer`             ``max_rounds`` passes over the members went unanswered,
                       or the caller did not pick up the queue's callback
                       ``attempts`` (default 3), and the call left the queue (Transfer's
                       "no_answer")
=====================  ==========================================================

**Records** — for the event stream, the monitor and `queue_log` export; no
action needed: `Queued`, `OfferMissed`, `Abandoned`, `Completed`,
`Overflow` (the core already moved the call), `CallbackRegistered`,
`OperatorStatusChanged`, `OperatorAutoBreak`, `WrapUpEnded`, and
`OperatorStateChanged` — only for operators whose runtime has
`report_states` set (the asyncio driver sets it, so the operator stream has
every state change; the traffic harness and core tests do without).

Times (`wait`, `ring_time`, `talk_time`, `timeout`, `estimated_wait`) are
seconds. `wait` is measured from the call's first arrival at the ACD, so it
includes time spent in a queue it overflowed from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flowengine.events.base import slot_init

__all__ = [
    "Abandoned",
    "Announce",
    "CallbackDue",
    "CallbackRefused",
    "CallbackRegistered",
    "Completed",
    "Connected",
    "Decision",
    "MaxWaitReached",
    "NoAnswer",
    "NoOperators",
    "OfferMissed",
    "OperatorAutoBreak",
    "OperatorStateChanged",
    "OperatorStatusChanged",
    "Overflow",
    "QueueFull",
    "Queued",
    "Ring",
    "StopRinging",
    "WrapUpEnded",
]


@dataclass(frozen=True, slots=True)
class Decision:
    """Base class of everything the ACD core emits."""


# -- calls entering and leaving ---------------------------------------------------
@dataclass(frozen=True, slots=True)
class Queued(Decision):
    """The call joined `queue_id` at `position` (1 = next to be served)."""

    call_id: str
    queue_id: str
    position: int
    caller: str = ""
    priority: int = 0
    #: the call of the same caller who hung up in this queue, whose place this
    #: one took (queue ``abandoned_resume``); None: a new place
    resumed_from: str | None = None


@dataclass(frozen=True, slots=True)
class QueueFull(Decision):
    call_id: str
    queue_id: str


@dataclass(frozen=True, slots=True)
class NoOperators(Decision):
    """Refused or removed: `reason` is ``unavailable`` (nobody logged in with an
    available status) or ``busy`` (nobody free to be rung now)."""

    call_id: str
    queue_id: str
    reason: str
    position: int = 0
    orig_position: int = 0
    wait: float = 0.0


@dataclass(frozen=True, slots=True)
class Abandoned(Decision):
    """The caller hung up while waiting (or while their callback was pending)."""

    call_id: str
    queue_id: str
    position: int
    orig_position: int
    wait: float


@dataclass(frozen=True, slots=True)
class MaxWaitReached(Decision):
    call_id: str
    queue_id: str
    position: int
    orig_position: int
    wait: float


@dataclass(frozen=True, slots=True)
class NoAnswer(Decision):
    """`rounds` passes over the members ended without an answer (``max_rounds``),
    or `rounds` callbacks in a row were not picked up by the caller."""

    call_id: str
    queue_id: str
    rounds: int
    wait: float
    position: int = 0
    orig_position: int = 0


@dataclass(frozen=True, slots=True)
class Overflow(Decision):
    """The call moved from one queue to another, keeping its seniority."""

    call_id: str
    from_queue: str
    to_queue: str
    wait: float
    position: int = 0
    orig_position: int = 0
    new_position: int = 0


# -- offering ----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Ring(Decision):
    """Ring `target`. `leg` identifies this offer of the call to this operator
    (not part of equality); passing it back to `offer_answered` /
    `offer_failed` makes a late report about an earlier offer to the same
    operator harmless."""

    call_id: str
    queue_id: str
    operator_id: str
    target: str
    timeout: float
    leg: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class StopRinging(Decision):
    """Cancel the offer. `reason`: ``no_answer`` (timed out), ``answered_elsewhere``,
    ``abandoned``, ``max_wait``, ``overflow``, ``callback``, ``status_changed``,
    ``operator_gone``, ``no_operators``, ``not_offered`` (a late answer to an
    offer that no longer exists: drop that leg)."""

    call_id: str
    operator_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class OfferMissed(Decision):
    """An offer failed; `reason` is no_answer, busy, rejected or failed. For a
    callback it is the caller who did not pick up: not held against the operator."""

    call_id: str
    queue_id: str
    operator_id: str
    reason: str
    ring_time: float


@dataclass(frozen=True, slots=True)
class Connected(Decision):
    call_id: str
    queue_id: str
    operator_id: str
    wait: float
    ring_time: float
    orig_position: int = 0
    callback: bool = False


@dataclass(frozen=True, slots=True)
class Completed(Decision):
    """The conversation ended; `by` is ``caller`` or ``agent`` (who hung up)."""

    call_id: str
    queue_id: str
    operator_id: str
    wait: float
    talk_time: float
    orig_position: int
    by: str


@dataclass(frozen=True, slots=True)
class Announce(Decision):
    """`estimated_wait` is None when nobody staffs the queue (no estimate possible).
    `announcement` is ``position`` (every ``announce.period``: tell position and wait) or
    ``periodic`` (every ``announce.periodic``: the queue's own message)."""

    call_id: str
    queue_id: str
    position: int
    estimated_wait: float | None
    announcement: str = "position"


@dataclass(frozen=True, slots=True)
class CallbackRegistered(Decision):
    call_id: str
    queue_id: str
    position: int
    caller: str


@dataclass(frozen=True, slots=True)
class CallbackRefused(Decision):
    """`file_callback` did not file the request: `reason` is ``unknown_queue``
    or ``duplicate`` (the call already holds a place in the ACD, or the same
    caller's number already waits for a callback in that queue)."""

    call_id: str
    queue_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class CallbackDue(Decision):
    call_id: str
    queue_id: str
    operator_id: str
    caller: str
    timeout: float
    leg: int = field(default=0, compare=False)


# -- operators -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class OperatorStatusChanged(Decision):
    """`by` is ``operator`` (set_status), ``acd`` (auto-break, device gone) or
    ``admin`` (add/remove)."""

    operator_id: str
    status: str
    reason: str | None
    by: str
    previous: str = ""
    available: bool = False


@dataclass(frozen=True, slots=True)
class OperatorAutoBreak(Decision):
    operator_id: str
    misses: int
    reason: str


@dataclass(frozen=True, slots=True)
class WrapUpEnded(Decision):
    operator_id: str


@dataclass(frozen=True, slots=True)
class OperatorStateChanged(Decision):
    """The operator's system state moved (idle, ringing, talking, wrap_up)
    because of `call_id`, at `at` (the core's time of the move, which for a
    timer is its deadline). It comes before the decision that explains it
    (`Ring`, `Connected`, `OfferMissed`, `Completed`, `WrapUpEnded`...)."""

    operator_id: str
    state: str
    previous: str
    call_id: str | None
    at: float = field(default=0.0, compare=False)


for _name in __all__:
    if _name != "Decision":
        _cls = globals()[_name]
        _cls.__init__ = slot_init(_cls, kw_only=False)
del _name, _cls
