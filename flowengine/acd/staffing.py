"""Operators coming and going: statuses, presence, and the staffing of queues.

A status change (`set_status`, an auto-break, a device gone) may stop a ring
in progress (the call stays queued) and changes whether the operator is
*staffed* — present with a status that takes calls — which each queue counts
(`QueueRt.staffed`, for estimates and ``no_operators``). When the last staffed
member of a queue that does not wait without operators goes, its waiting
callers leave with `NoOperators` (pending callbacks keep their place).
`add_operator` / `remove_operator` change presence (and membership, for a new
operator). `set_engaged` marks the operator's phone busy on a call placed
outside the ACD (a direct Transfer), so no queue call rings it meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flowengine.acd import decisions as d
from flowengine.acd.bookkeeping import Bookkeeping
from flowengine.acd.model import OperatorSpec
from flowengine.acd.operators import OperatorRuntime, OperatorState
from flowengine.acd.state import CallState, QueueRt
from flowengine.errors import UsageError

__all__ = ["Staffing"]

_RINGING = OperatorState.RINGING


class Staffing(Bookkeeping):
    """The ACD's operators: status changes, presence, staffed queues."""

    # -- inputs -----------------------------------------------------------------------
    def set_status(
        self, now: float, operator_id: str, status: str, reason: str | None = None, *, by: str = "operator"
    ) -> list[d.Decision]:
        """The operator (or a supervisor) set their status; unknown ones raise
        `UsageError`. `by` says who, for the operator's stream (operator,
        supervisor, admin)."""
        op = self._op(operator_id)
        self._statuses.is_available(status)
        out = self._begin(now)
        self._change_status(now, op, status, reason, by, out)
        self._dispatch(now, out)
        return out

    def add_operator(
        self,
        now: float,
        operator: str | OperatorSpec | Mapping[str, Any],
        *,
        status: str | None = None,
        reason: str | None = None,
        queues: Iterable[str] = (),
    ) -> list[d.Decision]:
        """Bring an operator (back) into the ACD.

        A known id returns a removed operator with their queue memberships; a
        new `OperatorSpec` (or mapping) adds an operator and appends them to
        `queues`. `status` defaults to the spec's initial status.
        """
        if isinstance(operator, str):
            op = self._op(operator)
            out = self._begin(now)
        else:
            spec = (
                operator
                if isinstance(operator, OperatorSpec)
                else OperatorSpec.model_validate(operator)
            )
            if spec.id in self._ops:
                raise UsageError(f"operator '{spec.id}' already exists")
            for qid in queues:
                self._queue(qid)
            if status is not None:
                self._statuses.is_available(status)
            out = self._begin(now)
            op = OperatorRuntime(spec, now, self._statuses)
            op.present = False
            self._ops[spec.id] = op
            self._staffed[spec.id] = False
            if spec.extension:
                self._by_ext[spec.extension] = spec.id
            for qid in queues:
                self._queues[qid].add_member(spec.id)
                op.queues.append(qid)
        if not op.present:
            op.present = True
            self._change_status(now, op, status or op.spec.status, reason, "admin", out)
        elif status is not None:
            self._change_status(now, op, status, reason, "admin", out)
        self._dispatch(now, out)
        return out

    def remove_operator(self, now: float, operator_id: str, reason: str = "removed") -> list[d.Decision]:
        """The operator is gone (logged out, device lost). A ring in progress is
        cancelled and its call stays queued; a conversation in progress goes on
        until `call_completed`. Removing twice is harmless. `reason` goes with
        the status change (``phone_unregistered`` from the SIP registrar)."""
        op = self._op(operator_id)
        out = self._begin(now)
        if not op.present:
            return out
        op.present = False
        if op.state is _RINGING and op.call_id is not None:
            call = self._calls[op.call_id]
            self._end_offer(now, call, op.id, "operator_gone", out, stop=True, miss=False)
            self._after_offer_end(now, call, out)
        self._change_status(now, op, "not_available", reason, "admin", out)
        self._dispatch(now, out)
        return out

    def set_engaged(self, now: float, operator_id: str, engaged: bool) -> list[d.Decision]:
        """A call the ACD did not place was bridged to the operator's phone
        (`engaged=True`) or has ended (False). Unless the centre has
        ``ring_in_use``, the operator is offered no calls while any such call
        lasts, whatever their status (app_queue's ``ringinuse=no``). Calls are
        counted, so two at once need two ends; an end without a start is
        harmless."""
        op = self._op(operator_id)
        out = self._begin(now)
        if self.centre.ring_in_use:
            return out
        if engaged:
            op.engaged += 1
        elif op.engaged:
            op.engaged -= 1
        self._refresh(now, op)
        self._dispatch(now, out)
        return out

    # -- internals ------------------------------------------------------------------
    def _change_status(
        self,
        now: float,
        op: OperatorRuntime,
        status: str,
        reason: str | None,
        by: str,
        out: list[d.Decision],
    ) -> None:
        prev = op.status
        op.set_status(now, status, reason, self._statuses)
        out.append(d.OperatorStatusChanged(op.id, status, reason, by, prev, op.status_available))
        if not op.status_available and op.state is _RINGING and op.call_id is not None:
            call = self._calls[op.call_id]
            self._end_offer(now, call, op.id, "status_changed", out, stop=True, miss=False)
            self._after_offer_end(now, call, out)
        self._update_staffed(now, op, out)
        self._refresh(now, op)

    def _update_staffed(
        self, now: float, op: OperatorRuntime, out: list[d.Decision] | None
    ) -> None:
        staffed = op.present and op.status_available
        if staffed == self._staffed[op.id]:
            return
        self._staffed[op.id] = staffed
        delta = 1 if staffed else -1
        for qid in op.queues:
            q = self._queues[qid]
            q.staffed += delta
            if q.level_of is not None:
                at = q.level_of[op.id]
                q.level_staffed[at] += delta
                if q.level_staffed[at] == (1 if staffed else 0) and out is not None:
                    self._levels_changed(now, q)
            if q.staffed == 0:
                q.unstaffed_since = now
                if q.spec.max_wait_no_operator is not None:
                    for entry in q.waiting:
                        self._arm_no_operator(self._calls[entry[3]], q)
                if out is not None and q.spec.no_operators != "wait":
                    self._empty_queue(now, q, out)
            elif delta > 0 and q.staffed == 1:
                q.unstaffed_since = None

    def _empty_queue(
        self, now: float, q: QueueRt, out: list[d.Decision], reason: str = "unavailable"
    ) -> None:
        """Nobody staffs a queue that refuses to wait without operators (or it
        is empty by its ``leave_when_empty``, `reason` ``leave_empty``): send its
        callers (not pending callbacks) to the no_operators exit."""
        for entry in list(q.waiting):
            call = self._calls[entry[3]]
            if call.state not in (CallState.WAITING, CallState.OFFERING):
                continue
            position = self._remove(now, call, "no_operators", out)
            q.stats.no_operators += 1
            out.append(
                d.NoOperators(
                    call.call_id,
                    q.id,
                    reason,
                    position,
                    call.orig_position,
                    now - call.arrived,
                )
            )
