"""The operator stream: what per-operator reports and the wallboard need.

One stream per operator (`operator_id`, its own `seq`), written by the ACD
driver from the core's decisions, so an operator's day survives a restart of
the engine:

* `operator_status_changed` — the person's status (available, not available,
  break with a reason, or a custom one), who set it (`by`: operator, admin,
  acd, start) and whether it lets calls through (`available`). At start-up
  the driver writes each operator's initial status with ``by="start"``;
* `operator_state_changed` — the system's state: idle, ringing, talking,
  wrap_up, with the call it concerns;
* `operator_wrap_up_started` / `operator_wrap_up_ended` — after-call work,
  with the queue whose wrap-up time applies;
* `operator_auto_break` — the ACD put the operator on a break after missing
  `misses` offers in a row (a status change to break follows).

Time in a status or state is the gap between consecutive events of one
operator (`ts`).
"""

from __future__ import annotations

from dataclasses import dataclass

from flowengine.events.base import OperatorEvent, event

__all__ = [
    "OperatorAutoBreak",
    "OperatorStateChanged",
    "OperatorStatusChanged",
    "OperatorWrapUpEnded",
    "OperatorWrapUpStarted",
]


@event("operator_status_changed")
@dataclass(frozen=True, slots=True, kw_only=True)
class OperatorStatusChanged(OperatorEvent):
    status: str
    previous: str | None
    reason: str | None
    by: str
    available: bool


@event("operator_state_changed")
@dataclass(frozen=True, slots=True, kw_only=True)
class OperatorStateChanged(OperatorEvent):
    state: str
    previous: str
    call_id: str | None = None


@event("operator_wrap_up_started")
@dataclass(frozen=True, slots=True, kw_only=True)
class OperatorWrapUpStarted(OperatorEvent):
    """After-call work on `call_id` began; it lasts `duration` s (the queue's wrap-up)."""

    call_id: str
    queue_id: str
    duration: float


@event("operator_wrap_up_ended")
@dataclass(frozen=True, slots=True, kw_only=True)
class OperatorWrapUpEnded(OperatorEvent):
    """After-call work ended after `duration` s (None if its start was not seen)."""

    call_id: str | None
    duration: float | None


@event("operator_auto_break")
@dataclass(frozen=True, slots=True, kw_only=True)
class OperatorAutoBreak(OperatorEvent):
    misses: int
    reason: str
