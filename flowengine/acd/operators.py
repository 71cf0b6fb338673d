"""Operator run-time state: status set by the person, state set by the system.

Two independent axes, both timed:

* **status** — chosen by the operator (or a supervisor, or the ACD's auto-break):
  ``available``, ``not_available``, ``break`` (with a reason) or a custom status
  from the centre file. Only statuses marked available let calls through.
* **state** — driven by the ACD: ``idle`` → ``ringing`` → ``talking`` →
  ``wrap_up`` → ``idle``. The allowed moves are a table; anything else raises
  `IllegalTransition`, because it means the core's bookkeeping is wrong.

Time spent in every status and every state is accumulated so the monitor and
reports can show it (`time_in`). The object also keeps what the strategies
need: when the last call ended (longest idle), when calls were answered
(fewest calls over a window), consecutive misses (auto-break) and the
not-before time after a reject / busy / no-answer.

This module has no clock: every method that depends on time takes ``now``.

With `report_states` set, every state move also appends an
`OperatorStateChanged` decision to the decision list the core passes in, in
order with the others; the driver turns them into the operator stream.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from enum import StrEnum
from typing import TYPE_CHECKING

from flowengine.acd.decisions import Decision, OperatorStateChanged
from flowengine.errors import FlowEngineError, UsageError

if TYPE_CHECKING:
    from flowengine.acd.model import OperatorSpec

__all__ = [
    "IllegalTransition",
    "MISS_REASONS",
    "OperatorRuntime",
    "OperatorState",
    "StatusTable",
]

#: Offer failures that count as a *miss* by the operator (auto-break counter,
#: retry delay). ``operator_gone`` is the device vanishing, not the person.
MISS_REASONS = frozenset({"no_answer", "busy", "rejected", "failed"})

#: Answered-call timestamps older than this are forgotten (longest window:
#: a day, or a calendar day of 25 hours when the clocks go back).
_HISTORY = 90_000.0


class IllegalTransition(FlowEngineError):
    """An operator state change the table does not allow (a core bug)."""


class OperatorState(StrEnum):
    IDLE = "idle"
    RINGING = "ringing"
    TALKING = "talking"
    WRAP_UP = "wrap_up"


_S = OperatorState
_STATE_NAMES = frozenset(s.value for s in OperatorState)
#: state -> states it may move to. ``idle -> talking`` is for a call connected
#: without being offered through the ACD; the core itself always rings first
#: (a callback too: `CallbackDue` puts the operator in ``ringing``).
TRANSITIONS: dict[OperatorState, frozenset[OperatorState]] = {
    _S.IDLE: frozenset({_S.RINGING, _S.TALKING}),
    _S.RINGING: frozenset({_S.IDLE, _S.TALKING}),
    _S.TALKING: frozenset({_S.WRAP_UP, _S.IDLE}),
    _S.WRAP_UP: frozenset({_S.IDLE}),
}


class StatusTable:
    """Known statuses (built-in plus the centre's custom ones) → may take calls."""

    __slots__ = ("_table",)

    def __init__(self, table: dict[str, bool]) -> None:
        self._table = dict(table)

    def is_available(self, status: str) -> bool:
        try:
            return self._table[status]
        except KeyError:
            known = ", ".join(sorted(self._table))
            raise UsageError(f"unknown status '{status}' (known: {known})") from None


class OperatorRuntime:
    """Mutable state of one operator inside the ACD.

    Attributes read by strategies: `last_call_end`, `spec.skills`,
    `calls_between`. Attributes written only by the core: `free`,
    `call_id`, `not_before`, `queues`.
    """

    __slots__ = (
        "spec",
        "id",
        "status",
        "status_reason",
        "status_available",
        "state",
        "present",
        "_status_since",
        "_state_since",
        "_status_time",
        "_state_time",
        "last_call_end",
        "_answered",
        "consecutive_misses",
        "not_before",
        "free",
        "call_id",
        "queues",
        "offered",
        "answered",
        "missed",
        "talk_time",
        "report_states",
        "state_call",
        "engaged",
    )

    def __init__(
        self,
        spec: OperatorSpec,
        now: float,
        statuses: StatusTable,
        status: str | None = None,
        reason: str | None = None,
    ) -> None:
        self.spec = spec
        self.id = spec.id
        self.status = status or spec.status
        self.status_available = statuses.is_available(self.status)
        self.status_reason = reason if status else spec.break_reason
        self.state = OperatorState.IDLE
        self.present = True
        self._status_since = now
        self._state_since = now
        self._status_time: dict[str, float] = {}
        self._state_time: dict[str, float] = {}
        #: -inf: never had a call, so the longest idle of all.
        self.last_call_end = float("-inf")
        self._answered: list[float] = []
        self.consecutive_misses = 0
        self.not_before = float("-inf")
        self.free = False
        self.call_id: str | None = None
        self.queues: list[str] = []
        self.offered = 0
        self.answered = 0
        self.missed: dict[str, int] = {}
        self.talk_time = 0.0
        #: append an OperatorStateChanged to the core's decisions on every move
        self.report_states = False
        #: the call the current state concerns (the wrapped-up call in wrap_up)
        self.state_call: str | None = None
        #: calls bridged to the operator's phone outside the ACD (not free while > 0)
        self.engaged = 0

    # -- status (person) ---------------------------------------------------
    def set_status(
        self, now: float, status: str, reason: str | None, statuses: StatusTable
    ) -> None:
        """Change the person-set status; unknown statuses raise `UsageError`."""
        available = statuses.is_available(status)
        self._status_time[self.status] = self._status_time.get(self.status, 0.0) + (
            now - self._status_since
        )
        self._status_since = now
        self.status = status
        self.status_reason = reason
        self.status_available = available

    # -- state (system) ----------------------------------------------------
    def set_state(
        self,
        now: float,
        state: OperatorState,
        call_id: str | None = None,
        out: list[Decision] | None = None,
    ) -> None:
        """Move along the state table; an illegal move raises `IllegalTransition`.

        `call_id` is the call the move concerns (None: the current state's
        call, e.g. the one whose wrap-up ends); with `report_states` the move
        is appended to `out` as an `OperatorStateChanged`.
        """
        if state not in TRANSITIONS[self.state]:
            raise IllegalTransition(
                f"operator '{self.id}': cannot go from {self.state.value} to {state.value}"
            )
        old = self.state
        self._state_time[old] = self._state_time.get(old, 0.0) + (now - self._state_since)
        self._state_since = now
        self.state = state
        if call_id is None:
            call_id = self.state_call
        self.state_call = call_id
        if old is OperatorState.TALKING:
            # the conversation is over at this instant (wrap-up is not talk)
            self.last_call_end = now
        if out is not None and self.report_states:
            out.append(OperatorStateChanged(self.id, state.value, old.value, call_id, now))

    def time_in(self, name: str, now: float) -> float:
        """Seconds spent so far in status or state `name` (current stint included)."""
        if name in _STATE_NAMES:
            total = self._state_time.get(name, 0.0)
            if self.state == name:
                total += now - self._state_since
            return total
        total = self._status_time.get(name, 0.0)
        if self.status == name:
            total += now - self._status_since
        return total

    def since(self, now: float) -> tuple[float, float]:
        """(seconds in the current status, seconds in the current state)."""
        return now - self._status_since, now - self._state_since

    # -- history used by strategies ----------------------------------------
    def record_answer(self, now: float) -> None:
        self.answered += 1
        self.consecutive_misses = 0
        log = self._answered
        log.append(now)
        if len(log) > 64 and log[0] < now - _HISTORY:
            del log[: bisect_left(log, now - _HISTORY)]

    def restore_answers(self, answered: list[float], last_call_end: float | None, now: float) -> None:
        """Answers (core times) and the last conversation's end from before a
        restart (`flowengine.acd.restore`); the ones beyond the longest window
        are not kept."""
        log = sorted(t for t in answered if t >= now - _HISTORY)
        self._answered = sorted([*log, *self._answered])
        if last_call_end is not None and last_call_end > self.last_call_end:
            self.last_call_end = last_call_end

    def calls_between(self, start: float, end: float) -> int:
        """Calls answered in the half-open interval ``(start, end]``."""
        log = self._answered
        return bisect_right(log, end) - bisect_right(log, start)

    def record_miss(self, reason: str, streak: bool = True) -> int:
        """Count a missed offer; return the consecutive-miss count. With
        `streak` false (a reason the queue's ``auto_break_on`` leaves out) the
        miss is counted by reason only: it neither adds to nor breaks the streak."""
        self.missed[reason] = self.missed.get(reason, 0) + 1
        if streak:
            self.consecutive_misses += 1
        return self.consecutive_misses
