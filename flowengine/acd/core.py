"""The sans-IO automatic call distributor.

`ACD` owns no socket, task or clock. Time is an argument: every input method
takes ``now`` (seconds on whatever clock the driver uses — wall clock for the
asyncio driver, simulated clock for the traffic harness) and returns the list
of `flowengine.acd.decisions` it led to. `next_timer()` says when
`handle_timer(now)` must be called next; a driver re-arms one timer after
every call, exactly like aioquic's ``get_timer`` / ``handle_timer``.

Inputs (all return ``list[Decision]``):

* ``call_arrived(now, call_id, queue_id, *, priority, caller, skills, manager,
  strategy, strategy_params, ring_timeout, max_wait, max_rounds, operators,
  no_operators)`` — a call joins a queue (keyword overrides serve the
  Transfer component: a department rung with its own strategy and limits);
* ``offer_answered(now, call_id, operator_id)`` — an operator picked up;
* ``offer_failed(now, call_id, operator_id, reason)`` — ``no_answer``,
  ``busy``, ``rejected``, ``failed`` (count as misses; for a callback it is
  the caller who did not pick up: no miss, and after `CALLBACK_ATTEMPTS` the
  call leaves with `NoAnswer`) or ``operator_gone`` (the device vanished: the
  operator is set not available);
* ``call_completed(now, call_id, by="caller"|"agent")`` — the conversation is
  over: the operator goes to wrap-up (the answering queue's ``wrap_up``), then idle;
* ``call_abandoned(now, call_id)`` — the caller hung up (while waiting, being
  offered, or holding a callback place; idempotent);
* ``request_callback(now, call_id)`` — the caller leaves the line but keeps
  their place; at their turn the core emits `CallbackDue`;
* ``set_status(now, operator_id, status, reason=None)``;
  ``add_operator(now, ...)``; ``remove_operator(now, operator_id)`` — an
  operator disappearing mid-ring cancels the ring and the call stays queued;
* ``handle_timer(now)``.

Every input first fires the timers due at or before ``now`` (each at its own
deadline), so a driver that is a little late gets the same decisions as a
punctual one.

Ordering: a free operator takes the waiting call with the highest caller
priority, then the longest waiting (first arrival at the ACD, kept across
overflow), across all the queues they serve. Within a queue's strategy, only
*free* operators are ever offered a call: present, in a status marked
available, in state idle (not ringing for another call, talking or in
wrap-up) and past any retry delay after a miss.

Performance: per-queue free pools (`flowengine.acd.pool`) and sorted waiting
lists (all queued calls for positions, and the ones that may be offered now)
keep a decision independent of the total number of operators and of calls
stuck ringing or pausing; timers are a heap with lazy deletion
(`flowengine.acd.timers`). See ``bench/acd.py``.
"""

from __future__ import annotations

import random
from bisect import bisect_left, insort
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from flowengine.acd import decisions as d
from flowengine.acd.estimate import estimated_wait
from flowengine.acd.model import Centre, OperatorSpec, SkillStep, parse_centre
from flowengine.acd.operators import MISS_REASONS, OperatorRuntime, OperatorState, StatusTable
from flowengine.acd.state import EPS, CallRt, CallState, Ctx, Leg, QueueRt, QueueStats
from flowengine.acd.strategies import HuntRound, Resolver, Round, build_strategy, member_resolver
from flowengine.acd.timers import TimerHeap
from flowengine.errors import UsageError

__all__ = ["ACD", "FAIL_REASONS"]

#: reasons `offer_failed` accepts
FAIL_REASONS = MISS_REASONS | {"operator_gone"}

#: failed callback attempts (the caller did not pick up) before the ACD gives up
CALLBACK_ATTEMPTS = 3

# timer kinds (first element of a timer key)
_LEG, _TARGET, _STEP, _MAXWAIT, _OVERFLOW, _ANNOUNCE, _PAUSE, _WIDEN, _EXCL, _WRAPUP, _NOTBEFORE = (
    range(11)
)
_NO_TRIED: frozenset[str] = frozenset()
_STEP_BIT = 1 << _STEP
_CALL_TIMERS = (_STEP, _MAXWAIT, _OVERFLOW, _ANNOUNCE, _PAUSE, _WIDEN, _EXCL)

_IDLE = OperatorState.IDLE
_RINGING = OperatorState.RINGING
_TALKING = OperatorState.TALKING
_WRAP_UP = OperatorState.WRAP_UP
_QUEUED = (CallState.WAITING, CallState.OFFERING, CallState.CALLBACK, CallState.CALLBACK_OFFERING)
_DISPATCHABLE = (CallState.WAITING, CallState.CALLBACK)
_OFFERING = (CallState.OFFERING, CallState.CALLBACK_OFFERING)

Skills = Mapping[str, int] | Sequence[SkillStep | Mapping[str, Any]]


class ACD:
    """Sans-IO ACD over one centre description. See the module docstring."""

    def __init__(
        self,
        centre: Centre | Mapping[str, Any],
        *,
        now: float = 0.0,
        seed: int | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if not isinstance(centre, Centre):
            centre = parse_centre(dict(centre))
        self.centre = centre
        self.rng = rng if rng is not None else random.Random(seed)
        self._now = now
        self._statuses = StatusTable(centre.status_table())
        self._ops: dict[str, OperatorRuntime] = {
            spec.id: OperatorRuntime(spec, now, self._statuses) for spec in centre.operators
        }
        self._staffed: dict[str, bool] = dict.fromkeys(self._ops, False)
        self._by_ext = {o.extension: o.id for o in centre.operators if o.extension}
        self._queues: dict[str, QueueRt] = {}
        for spec in centre.queues:
            q = QueueRt(
                spec,
                build_strategy(
                    spec.strategy, spec.strategy_params, spec, self._resolver(spec.member_ids)
                ),
            )
            self._queues[spec.id] = q
            for m in q.members:
                self._ops[m].queues.append(spec.id)
        self._calls: dict[str, CallRt] = {}
        self._seq = 0
        self._epoch = 0
        self._timers = TimerHeap()
        self._dirty_ops: list[OperatorRuntime] = []
        self._dirty_calls: list[CallRt] = []
        for op in self._ops.values():
            self._update_staffed(now, op, None)
            self._refresh(now, op)
        self._dirty_ops.clear()

    def _resolver(self, members: list[str]) -> Resolver:
        return member_resolver(members, self._by_ext)

    # ================================================================ inputs
    def call_arrived(
        self,
        now: float,
        call_id: str,
        queue_id: str,
        *,
        priority: int = 0,
        caller: str = "",
        skills: Skills | None = None,
        manager: str | None = None,
        strategy: str | None = None,
        strategy_params: Mapping[str, Any] | None = None,
        ring_timeout: float | None = None,
        max_wait: float | None = None,
        max_rounds: int | None = None,
        operators: Iterable[str] | None = None,
        no_operators: str | None = None,
    ) -> list[d.Decision]:
        """A call joins `queue_id`.

        `skills` replaces the queue's skill requirement for this call: a
        mapping ``{skill: level}`` (fixed) or a list of steps ``[{after,
        required}]`` (widening). `manager` is the personal operator computed
        by an expression (overrides the queue's table). `strategy` /
        `strategy_params` / `ring_timeout` / `max_wait` / `max_rounds` /
        `operators` (restrict to these) / `no_operators` (``wait``,
        ``unavailable``, ``busy``) override the queue's settings for this call.
        """
        if call_id in self._calls:
            raise UsageError(f"call '{call_id}' is already in the ACD")
        q = self._queue(queue_id)
        spec = q.spec
        policy = no_operators or spec.no_operators
        if policy not in ("wait", "unavailable", "busy"):
            raise UsageError(f"no_operators must be wait, unavailable or busy, not '{policy}'")
        if manager is not None and manager not in self._ops:
            raise UsageError(f"unknown operator '{manager}' given as personal manager")
        own_strategy = (
            build_strategy(strategy, dict(strategy_params or {}), spec, self._resolver(q.members))
            if strategy is not None
            else None
        )
        steps = _skill_steps(skills) if skills is not None else None
        out = self._begin(now)
        q.stats.offered += 1
        if spec.max_length is not None and len(q.waiting) >= spec.max_length:
            q.stats.full += 1
            out.append(d.QueueFull(call_id, q.id))
            return out
        restrict = frozenset(operators) if operators is not None else None
        if policy != "wait" and not self._has_staff(q, restrict):
            q.stats.no_operators += 1
            out.append(d.NoOperators(call_id, q.id, "unavailable"))
            return out
        self._seq += 1
        call = CallRt(call_id, caller, priority, now, self._seq)
        if own_strategy is not None:
            call.strategy = own_strategy
            call.own_strategy = True
        else:
            call.strategy = q.strategy
        if steps is not None:
            call.skill_steps = steps
            call.own_skills = True
        else:
            call.skill_steps = spec.skills
        call.explicit_manager = manager
        call.ring_timeout_override = ring_timeout
        call.max_wait_override = max_wait
        call.max_rounds = max_rounds if max_rounds is not None else spec.max_rounds
        call.operators = restrict
        self._calls[call_id] = call
        self._enqueue(now, call, q)
        pos = self._position(call)
        call.orig_position = pos
        out.append(d.Queued(call_id, q.id, pos, caller, priority))
        if spec.announce.on_entry:
            out.append(self._announcement(call, now))
        self._dirty_calls.append(call)
        self._dispatch(now, out)
        if policy == "busy" and call.state is CallState.WAITING and call_id in self._calls:
            self._leave(now, call)
            q.stats.no_operators += 1
            out.append(d.NoOperators(call_id, q.id, "busy", pos, pos, now - call.arrived))
        return out

    def offer_answered(
        self, now: float, call_id: str, operator_id: str, leg: int | None = None
    ) -> list[d.Decision]:
        """`operator_id` answered the offer of `call_id` (`leg` from the `Ring`, if known).

        A late answer (the offer was already cancelled or timed out) yields
        ``StopRinging(reason="not_offered")``: drop that leg.
        """
        op = self._op(operator_id)
        out = self._begin(now)
        call = self._calls.get(call_id)
        if call is None or not self._is_leg(call, operator_id, leg):
            out.append(d.StopRinging(call_id, operator_id, "not_offered"))
            self._dispatch(now, out)
            return out
        q = call.queue
        answered = call.legs.pop(operator_id)
        self._cancel_leg_timers(call, op)
        was_callback = call.state is CallState.CALLBACK_OFFERING
        op.set_state(now, _TALKING, call_id, out)
        op.record_answer(now)
        call.strategy.on_connected(operator_id, q.pool.index.get(operator_id, -1))
        self._unqueue(call)
        call.round = None
        call.state = CallState.CONNECTED
        call.operator = operator_id
        call.answered_at = now
        call.connected_queue = q
        wait = now - call.arrived
        st = q.stats
        st.answered += 1
        st.wait_answered += wait
        if wait <= q.spec.service_level + EPS:
            st.answered_within_sl += 1
        out.append(
            d.Connected(
                call_id,
                q.id,
                operator_id,
                wait,
                now - answered.started,
                call.orig_position,
                was_callback,
            )
        )
        for other in list(call.legs):
            self._end_leg(now, call, other, "answered_elsewhere", out, stop=True, miss=False)
        self._dispatch(now, out)
        return out

    def offer_failed(
        self, now: float, call_id: str, operator_id: str, reason: str, leg: int | None = None
    ) -> list[d.Decision]:
        """The offer to `operator_id` failed for `reason` (see `FAIL_REASONS`).

        Reports about offers that no longer exist (already answered elsewhere,
        timed out, cancelled — or, with `leg`, an earlier offer to the same
        operator) are ignored.
        """
        if reason not in FAIL_REASONS:
            raise UsageError(
                f"unknown offer failure reason '{reason}' (known: {', '.join(sorted(FAIL_REASONS))})"
            )
        op = self._op(operator_id)
        out = self._begin(now)
        call = self._calls.get(call_id)
        if call is None or not self._is_leg(call, operator_id, leg):
            self._dispatch(now, out)
            return out
        # A callback that fails is the caller not picking up, not the operator
        # missing a call: no miss, and after CALLBACK_ATTEMPTS the ACD gives up.
        was_callback = call.state is CallState.CALLBACK_OFFERING
        if reason == "operator_gone":
            self._end_leg(now, call, operator_id, reason, out, stop=False, miss=False)
            if op.status_available:
                self._change_status(now, op, "not_available", "operator_gone", "acd", out)
        else:
            self._end_leg(
                now, call, operator_id, reason, out, stop=False, miss=True, count=not was_callback
            )
            if was_callback:
                call.callback_failures += 1
        if was_callback and call.callback_failures >= CALLBACK_ATTEMPTS:
            self._no_answer(now, call, call.callback_failures, "callback_failed", out)
        else:
            self._after_leg_end(now, call, out)
        self._dispatch(now, out)
        return out

    def call_completed(self, now: float, call_id: str, *, by: str = "caller") -> list[d.Decision]:
        """The conversation of a connected call ended (`by` = ``caller`` or ``agent``)."""
        call = self._calls.get(call_id)
        if call is None or call.state is not CallState.CONNECTED:
            raise UsageError(f"call '{call_id}' is not connected to an operator")
        out = self._begin(now)
        self._complete(now, call, by, out)
        self._dispatch(now, out)
        return out

    def call_abandoned(self, now: float, call_id: str) -> list[d.Decision]:
        """The caller hung up. Unknown or finished calls are ignored (idempotent);
        a connected call is completed by the caller."""
        out = self._begin(now)
        call = self._calls.get(call_id)
        if call is None:
            return out
        if call.state is CallState.CONNECTED:
            self._complete(now, call, "caller", out)
        else:
            q = call.queue
            position = self._remove(now, call, "abandoned", out)
            wait = now - call.arrived
            q.stats.abandoned += 1
            q.stats.wait_abandoned += wait
            if wait <= q.spec.service_level + EPS:
                q.stats.abandoned_within_sl += 1
            out.append(d.Abandoned(call_id, q.id, position, call.orig_position, wait))
        self._dispatch(now, out)
        return out

    def request_callback(self, now: float, call_id: str) -> list[d.Decision]:
        """The caller leaves the line but keeps their place in the queue.

        When the call reaches an operator, the decision is `CallbackDue`
        instead of `Ring`. A pending callback has no max wait, overflow or
        announcements (nobody is listening).
        """
        call = self._calls.get(call_id)
        if call is None or call.state not in (CallState.WAITING, CallState.OFFERING):
            raise UsageError(f"call '{call_id}' is not waiting in a queue")
        if not call.queue.spec.callback:
            raise UsageError(f"queue '{call.queue.id}' does not offer callbacks")
        out = self._begin(now)
        if call.state not in (CallState.WAITING, CallState.OFFERING):
            return out  # a timer due before `now` took the call out of the queue
        q = call.queue
        if not q.spec.callback:  # overflowed into a queue without callbacks
            self._dispatch(now, out)
            return out
        for op_id in list(call.legs):
            self._end_leg(now, call, op_id, "callback", out, stop=True, miss=False)
        call.round = None
        cancel = self._timers.cancel
        for kind in (_STEP, _MAXWAIT, _OVERFLOW, _ANNOUNCE, _PAUSE):
            cancel((kind, call_id))
        call.state = CallState.CALLBACK
        call.eligible_at = now
        call.rounds = 0
        self._set_ready(call, True)
        q.stats.callbacks += 1
        out.append(d.CallbackRegistered(call_id, q.id, self._position(call), call.caller))
        self._dirty_calls.append(call)
        self._dispatch(now, out)
        return out

    def set_status(
        self, now: float, operator_id: str, status: str, reason: str | None = None
    ) -> list[d.Decision]:
        """The operator (or a supervisor) set their status; unknown ones raise `UsageError`."""
        op = self._op(operator_id)
        self._statuses.is_available(status)
        out = self._begin(now)
        self._change_status(now, op, status, reason, "operator", out)
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
                q = self._queues[qid]
                q.pool.add_member(spec.id)
                q.ranks.append(0)
                op.queues.append(qid)
        if not op.present:
            op.present = True
            self._change_status(now, op, status or op.spec.status, reason, "admin", out)
        elif status is not None:
            self._change_status(now, op, status, reason, "admin", out)
        self._dispatch(now, out)
        return out

    def remove_operator(self, now: float, operator_id: str) -> list[d.Decision]:
        """The operator is gone (logged out, device lost). A ring in progress is
        cancelled and its call stays queued; a conversation in progress goes on
        until `call_completed`. Removing twice is harmless."""
        op = self._op(operator_id)
        out = self._begin(now)
        if not op.present:
            return out
        op.present = False
        if op.state is _RINGING and op.call_id is not None:
            call = self._calls[op.call_id]
            self._end_leg(now, call, op.id, "operator_gone", out, stop=True, miss=False)
            self._after_leg_end(now, call, out)
        self._change_status(now, op, "not_available", "removed", "admin", out)
        self._dispatch(now, out)
        return out

    def handle_timer(self, now: float) -> list[d.Decision]:
        """Fire every timer due at or before `now`."""
        out = self._begin(now)
        self._dispatch(now, out)
        return out

    def next_timer(self) -> float | None:
        """The earliest time `handle_timer` must be called, or None."""
        return self._timers.next_deadline()

    # =============================================================== queries
    @property
    def now(self) -> float:
        """Time of the latest input."""
        return self._now

    def queue_ids(self) -> list[str]:
        return list(self._queues)

    def waiting_count(self, queue_id: str) -> int:
        """Calls in the queue: waiting, being offered, or holding a callback place."""
        return len(self._queue(queue_id).waiting)

    def position(self, call_id: str) -> int | None:
        """1-based position of a queued call, None if not in a queue."""
        call = self._calls.get(call_id)
        if call is None or call.state not in _QUEUED:
            return None
        return self._position(call)

    def estimated_wait(self, queue_id: str, position: int | None = None) -> float | None:
        """Estimated seconds until a call at `position` (default: a new arrival)
        is offered; None when nobody staffs the queue. See `flowengine.acd.estimate`."""
        q = self._queue(queue_id)
        if position is None:
            position = len(q.waiting) + 1
        return estimated_wait(position, len(q.pool), q.staffed, q.aht.mean)

    def available_count(self, queue_id: str) -> int:
        """Members present with a status that takes calls (busy or not)."""
        return self._queue(queue_id).staffed

    def free_count(self, queue_id: str) -> int:
        """Members who could be rung right now."""
        return len(self._queue(queue_id).pool)

    def average_handle_time(self, queue_id: str) -> float:
        return self._queue(queue_id).aht.mean

    def queue_stats(self, queue_id: str) -> QueueStats:
        """A copy of the queue's counters."""
        st = self._queue(queue_id).stats
        return QueueStats(**st.__dict__)

    def operator_status(self, operator_id: str) -> tuple[str, str | None, str]:
        """(status, status reason, state) of an operator."""
        op = self._op(operator_id)
        return op.status, op.status_reason, op.state.value

    def operator_time_in(self, operator_id: str, name: str, now: float | None = None) -> float:
        """Seconds the operator spent in status or state `name`."""
        return self._op(operator_id).time_in(name, self._now if now is None else now)

    def operator(self, operator_id: str) -> OperatorRuntime:
        """The operator's run-time record (read it, do not mutate it)."""
        return self._op(operator_id)

    def operator_ids(self) -> list[str]:
        return list(self._ops)

    def call_state(self, call_id: str) -> str | None:
        call = self._calls.get(call_id)
        return call.state.value if call is not None else None

    def snapshot(self, now: float | None = None) -> dict[str, Any]:
        """Everything the live monitor shows, as plain data."""
        t = self._now if now is None else now
        queues = []
        for q in self._queues.values():
            calls = []
            for i, entry in enumerate(q.waiting, 1):
                c = self._calls[entry[3]]
                calls.append(
                    {
                        "call_id": c.call_id,
                        "position": i,
                        "wait": t - c.arrived,
                        "priority": c.priority,
                        "state": c.state.value,
                        "caller": c.caller,
                        "ringing": sorted(c.legs),
                    }
                )
            queues.append(
                {
                    "id": q.id,
                    "name": {"en": q.spec.name.en, "ru": q.spec.name.ru},
                    "strategy": q.spec.strategy,
                    "waiting": len(q.waiting),
                    "staffed": q.staffed,
                    "free": len(q.pool),
                    "aht": q.aht.mean,
                    "longest_wait": max(
                        (t - self._calls[e[3]].arrived for e in q.waiting), default=0.0
                    ),
                    "estimated_wait": self.estimated_wait(q.id),
                    "calls": calls,
                    "stats": q.stats.as_dict(),
                }
            )
        operators = []
        for op in self._ops.values():
            in_status, in_state = op.since(t)
            operators.append(
                {
                    "id": op.id,
                    "name": op.spec.name,
                    "present": op.present,
                    "status": op.status,
                    "reason": op.status_reason,
                    "state": op.state.value,
                    "in_status": in_status,
                    "in_state": in_state,
                    "call_id": op.call_id,
                    "queues": list(op.queues),
                    "answered": op.answered,
                    "missed": dict(op.missed),
                    "consecutive_misses": op.consecutive_misses,
                    "talk_time": op.talk_time,
                }
            )
        return {"time": t, "queues": queues, "operators": operators}

    # ============================================================ internals
    def _queue(self, queue_id: str) -> QueueRt:
        try:
            return self._queues[queue_id]
        except KeyError:
            raise UsageError(f"unknown queue '{queue_id}'") from None

    def _op(self, operator_id: str) -> OperatorRuntime:
        try:
            return self._ops[operator_id]
        except KeyError:
            raise UsageError(f"unknown operator '{operator_id}'") from None

    def _begin(self, now: float) -> list[d.Decision]:
        if now < self._now - 1e-6:
            raise UsageError(f"time went backwards: {now} < {self._now}")
        out: list[d.Decision] = []
        timers = self._timers
        due = timers.pop_due(now)
        while due is not None:
            when, key = due
            t = max(when, self._now)
            self._now = t
            self._fire(t, key, out)
            self._dispatch(t, out)
            due = timers.pop_due(now)
        if now > self._now:
            self._now = now
        return out

    # -- timers -------------------------------------------------------------
    def _schedule(self, when: float, key: tuple[Any, ...]) -> None:
        self._timers.schedule(when, key)

    def _call_timer(self, call: CallRt, when: float, kind: int) -> None:
        call.timers |= 1 << kind
        self._schedule(when, (kind, call.call_id))

    def _fire(self, t: float, key: Any, out: list[d.Decision]) -> None:
        kind = key[0]
        if kind == _WRAPUP:
            op = self._ops[key[1]]
            op.set_state(t, _IDLE, None, out)
            out.append(d.WrapUpEnded(op.id))
            self._refresh(t, op)
            return
        if kind == _NOTBEFORE:
            self._refresh(t, self._ops[key[1]])
            return
        call = self._calls.get(key[1])
        if call is None:
            return
        if kind == _LEG:
            if key[2] in call.legs:
                self._end_leg(t, call, key[2], "no_answer", out, stop=True, miss=True)
                self._after_leg_end(t, call, out)
        elif kind == _TARGET:
            leg = call.legs.get(key[2])
            if leg is not None:
                target = self._ops[key[2]].spec.targets[key[3]]
                out.append(
                    d.Ring(call.call_id, call.queue.id, key[2], target.number, leg.ends - t, leg.id)
                )
        elif kind == _STEP:
            if call.round is not None:
                self._advance(t, call, out)
        elif kind == _MAXWAIT:
            self._max_wait(t, call, out)
        elif kind == _OVERFLOW:
            self._overflow(t, call, out)
        elif kind == _ANNOUNCE:
            if call.state in (CallState.WAITING, CallState.OFFERING):
                out.append(self._announcement(call, t))
                period = call.queue.spec.announce.period
                if period:
                    self._call_timer(call, t + period, _ANNOUNCE)
        elif kind == _PAUSE:
            if call.state in _DISPATCHABLE:
                self._set_ready(call, True)
                self._dirty_calls.append(call)
        elif kind == _EXCL:
            self._dirty_calls.append(call)
        elif kind == _WIDEN:
            self._dirty_calls.append(call)
            self._schedule_widen(call)

    # -- queue membership of calls -------------------------------------------
    def _enqueue(self, now: float, call: CallRt, q: QueueRt) -> None:
        call.queue = q
        call.entered = now
        call.state = CallState.WAITING
        call.eligible_at = now
        insort(q.waiting, call.entry)
        self._set_ready(call, True)
        spec = q.spec
        max_wait = call.max_wait_override if call.max_wait_override is not None else spec.max_wait
        if max_wait is not None:
            self._call_timer(call, now + max_wait, _MAXWAIT)
        if spec.overflow is not None:
            self._call_timer(call, now + spec.overflow.after, _OVERFLOW)
        if spec.announce.period:
            self._call_timer(call, now + spec.announce.period, _ANNOUNCE)
        call.widen_next = 1
        self._schedule_widen(call)
        call.manager = call.explicit_manager or call.strategy.personal_operator(call.caller)
        call.exclusive = None
        window = call.strategy.exclusive_window()
        m = call.manager
        if window and m is not None and m in q.pool.index and self._staffed.get(m):
            call.exclusive = m
            call.exclusive_until = now + window
            self._call_timer(call, call.exclusive_until, _EXCL)

    def _schedule_widen(self, call: CallRt) -> None:
        steps = call.skill_steps
        i = call.widen_next
        if i < len(steps):
            call.widen_next = i + 1
            self._call_timer(call, call.entered + steps[i].after, _WIDEN)

    def _unqueue(self, call: CallRt) -> None:
        """Take the call out of its queue's waiting list and drop its call timers."""
        self._set_ready(call, False)
        w = call.queue.waiting
        i = bisect_left(w, call.entry)
        if i < len(w) and w[i][2] == call.seq:
            del w[i]
        mask = call.timers
        if mask:
            cancel = self._timers.cancel
            cid = call.call_id
            for kind in _CALL_TIMERS:
                if mask & (1 << kind):
                    cancel((kind, cid))
            call.timers = 0

    def _set_ready(self, call: CallRt, ready: bool) -> None:
        """Keep `QueueRt.ready` = the queue's calls that may be offered now."""
        if ready is call.ready:
            return
        call.ready = ready
        r = call.queue.ready
        if ready:
            insort(r, call.entry)
        else:
            i = bisect_left(r, call.entry)
            if i < len(r) and r[i][2] == call.seq:
                del r[i]

    def _leave(self, now: float, call: CallRt) -> None:
        """The call leaves the ACD without being answered."""
        self._unqueue(call)
        call.round = None
        call.state = CallState.LEFT
        self._calls.pop(call.call_id, None)

    def _position(self, call: CallRt) -> int:
        return bisect_left(call.queue.waiting, call.entry) + 1

    def _announcement(self, call: CallRt, now: float) -> d.Announce:
        q = call.queue
        pos = self._position(call)
        return d.Announce(
            call.call_id, q.id, pos, estimated_wait(pos, len(q.pool), q.staffed, q.aht.mean)
        )

    def _has_staff(self, q: QueueRt, restrict: frozenset[str] | None) -> bool:
        if restrict is None:
            return q.staffed > 0
        return any(self._staffed.get(o) and o in q.pool.index for o in restrict)

    # -- dispatch ---------------------------------------------------------------
    def _dispatch(self, now: float, out: list[d.Decision]) -> None:
        while self._dirty_ops or self._dirty_calls:
            if self._dirty_ops:
                ops, self._dirty_ops = self._dirty_ops, []
                for op in ops:
                    if op.free:
                        self._serve_operator(now, op, out)
            if self._dirty_calls:
                calls, self._dirty_calls = self._dirty_calls, []
                if len(calls) > 1:
                    calls.sort(key=lambda c: c.entry[:3])
                for c in calls:
                    if (
                        c.state in _DISPATCHABLE
                        and c.eligible_at <= now
                        and c.queue.pool.free
                        and self._calls.get(c.call_id) is c
                    ):
                        self._start_round(now, c, out)

    def _serve_operator(self, now: float, op: OperatorRuntime, out: list[d.Decision]) -> None:
        """Give a newly free operator the best waiting call they may take."""
        skip: set[int] | None = None
        queues = self._queues
        calls = self._calls
        while op.free:
            best: CallRt | None = None
            for qid in op.queues:
                for entry in queues[qid].ready:
                    if best is not None and entry > best.entry:
                        break  # every later entry is worse than the best so far
                    c = calls[entry[3]]
                    if skip is not None and c.seq in skip:
                        continue
                    if c.eligible(op, now):
                        best = c
                        break
            if best is None:
                return
            if skip is None:
                skip = set()
            skip.add(best.seq)
            self._start_round(now, best, out)

    def _start_round(self, now: float, call: CallRt, out: list[d.Decision]) -> None:
        self._set_ready(call, False)
        ctx = Ctx(now, call, self._ops, self.rng, _NO_TRIED)
        if call.state is CallState.CALLBACK:
            rnd: Round = HuntRound(call.strategy)
            call.state = CallState.CALLBACK_OFFERING
        else:
            rnd = call.strategy.new_round(ctx)
            call.state = CallState.OFFERING
        call.round = rnd
        ctx._tried = rnd.tried
        self._advance(now, call, out, ctx)

    def _advance(
        self, now: float, call: CallRt, out: list[d.Decision], ctx: Ctx | None = None
    ) -> None:
        rnd = call.round
        assert rnd is not None
        if ctx is None:
            ctx = Ctx(now, call, self._ops, self.rng, rnd.tried)
        step = rnd.advance(ctx, len(call.legs))
        if step.ring:
            timeout = step.timeout if step.timeout is not None else call.ring_timeout
            for op_id in step.ring:
                self._start_leg(now, call, op_id, timeout, out)
        if step.next_at is not None:
            self._call_timer(call, step.next_at, _STEP)
        else:
            if call.timers & _STEP_BIT:
                self._timers.cancel((_STEP, call.call_id))
                call.timers &= ~_STEP_BIT
            if not call.legs:
                self._round_over(now, call, out)

    def _round_over(self, now: float, call: CallRt, out: list[d.Decision]) -> None:
        rnd = call.round
        call.round = None
        call.state = (
            CallState.CALLBACK if call.state is CallState.CALLBACK_OFFERING else CallState.WAITING
        )
        if rnd is None or not rnd.attempts:
            self._set_ready(call, True)
            return
        call.rounds += 1
        if (
            call.max_rounds is not None
            and call.rounds >= call.max_rounds
            and call.state is CallState.WAITING
        ):
            self._no_answer(now, call, call.rounds, "no_answer", out)
            return
        retry = call.queue.spec.retry
        if retry > 0:
            call.eligible_at = now + retry
            self._call_timer(call, call.eligible_at, _PAUSE)
        else:
            self._set_ready(call, True)
            self._dirty_calls.append(call)

    # -- legs ----------------------------------------------------------------------
    def _start_leg(
        self, now: float, call: CallRt, op_id: str, timeout: float, out: list[d.Decision]
    ) -> None:
        op = self._ops[op_id]
        if not op.free:
            return  # a strategy offered someone not free: never ring them
        self._set_free(op, False)
        op.set_state(now, _RINGING, call.call_id, out)
        op.call_id = call.call_id
        op.offered += 1
        ends = now + timeout
        self._seq += 1
        leg_id = self._seq
        call.legs[op_id] = Leg(now, ends, leg_id)
        rnd = call.round
        assert rnd is not None
        rnd.tried.add(op_id)
        rnd.attempts += 1
        self._schedule(ends, (_LEG, call.call_id, op_id))
        q = call.queue
        if call.state is CallState.CALLBACK_OFFERING:
            out.append(d.CallbackDue(call.call_id, q.id, op_id, call.caller, timeout, leg_id))
            return
        targets = op.spec.targets
        out.append(d.Ring(call.call_id, q.id, op_id, targets[0].number, timeout, leg_id))
        for i in range(1, len(targets)):
            if targets[i].after < timeout:
                self._schedule(now + targets[i].after, (_TARGET, call.call_id, op_id, i))

    @staticmethod
    def _is_leg(call: CallRt, op_id: str, leg: int | None) -> bool:
        current = call.legs.get(op_id)
        return current is not None and (leg is None or current.id == leg)

    def _cancel_leg_timers(self, call: CallRt, op: OperatorRuntime) -> None:
        cancel = self._timers.cancel
        cid = call.call_id
        cancel((_LEG, cid, op.id))
        for i in range(1, len(op.spec.targets)):
            cancel((_TARGET, cid, op.id, i))

    def _end_leg(
        self,
        now: float,
        call: CallRt,
        op_id: str,
        reason: str,
        out: list[d.Decision],
        *,
        stop: bool,
        miss: bool,
        count: bool = True,
    ) -> None:
        """End one ringing leg. The caller decides whether the round goes on.

        `miss` records an OfferMissed; `count` also holds it against the
        operator (miss streak, retry delay, auto-break) — not for a callback
        the caller did not pick up."""
        leg = call.legs.pop(op_id)
        op = self._ops[op_id]
        self._cancel_leg_timers(call, op)
        op.call_id = None
        op.set_state(now, _IDLE, call.call_id, out)
        if stop:
            out.append(d.StopRinging(call.call_id, op_id, reason))
        if miss:
            q = call.queue
            out.append(d.OfferMissed(call.call_id, q.id, op_id, reason, now - leg.started))
            if count:
                n = op.record_miss(reason)
                delay = getattr(q.spec.retry_delays, reason, 0.0)
                if delay > 0:
                    op.not_before = max(op.not_before, now + delay)
                limit = q.spec.auto_break_after
                if limit is not None and n >= limit and op.status_available:
                    text = f"auto_break: missed {n} calls"
                    out.append(d.OperatorAutoBreak(op_id, n, text))
                    op.consecutive_misses = 0
                    self._change_status(now, op, "break", text, "acd", out)
        self._refresh(now, op)

    def _after_leg_end(self, now: float, call: CallRt, out: list[d.Decision]) -> None:
        if call.state in _OFFERING and not call.legs and call.round is not None:
            self._advance(now, call, out)

    def _stop_all(self, now: float, call: CallRt, reason: str, out: list[d.Decision]) -> None:
        for op_id in list(call.legs):
            self._end_leg(now, call, op_id, reason, out, stop=True, miss=False)
        call.round = None
        self._timers.cancel((_STEP, call.call_id))

    # -- call endings -------------------------------------------------------------
    def _remove(self, now: float, call: CallRt, reason: str, out: list[d.Decision]) -> int:
        """Take a queued call out of the ACD unanswered: stop its legs with
        `reason`, drop it; return the position it had (for the exit decision)."""
        position = self._position(call)
        self._stop_all(now, call, reason, out)
        self._leave(now, call)
        return position

    def _no_answer(
        self, now: float, call: CallRt, rounds: int, reason: str, out: list[d.Decision]
    ) -> None:
        """Give up on a call nobody answered (``max_rounds``, or callbacks the
        caller did not pick up)."""
        q = call.queue
        position = self._remove(now, call, reason, out)
        q.stats.no_answer += 1
        out.append(
            d.NoAnswer(call.call_id, q.id, rounds, now - call.arrived, position, call.orig_position)
        )

    def _complete(self, now: float, call: CallRt, by: str, out: list[d.Decision]) -> None:
        q = call.connected_queue or call.queue
        op = self._ops[call.operator or ""]
        talk = now - call.answered_at
        wrap = q.spec.wrap_up
        op.talk_time += talk
        op.call_id = None
        if wrap > 0:
            op.set_state(now, _WRAP_UP, call.call_id, out)
            self._schedule(now + wrap, (_WRAPUP, op.id))
        else:
            op.set_state(now, _IDLE, call.call_id, out)
        q.aht.add(talk + wrap)
        q.stats.talk_time += talk
        out.append(
            d.Completed(
                call.call_id,
                q.id,
                op.id,
                call.answered_at - call.arrived,
                talk,
                call.orig_position,
                by,
            )
        )
        del self._calls[call.call_id]
        self._refresh(now, op)

    def _max_wait(self, now: float, call: CallRt, out: list[d.Decision]) -> None:
        if call.state not in (CallState.WAITING, CallState.OFFERING):
            return
        q = call.queue
        position = self._remove(now, call, "max_wait", out)
        q.stats.timeouts += 1
        out.append(
            d.MaxWaitReached(call.call_id, q.id, position, call.orig_position, now - call.arrived)
        )

    def _overflow(self, now: float, call: CallRt, out: list[d.Decision]) -> None:
        if call.state not in (CallState.WAITING, CallState.OFFERING):
            return
        src = call.queue
        rule = src.spec.overflow
        assert rule is not None
        dst = self._queues[rule.to]
        if dst.spec.max_length is not None and len(dst.waiting) >= dst.spec.max_length:
            return  # target full: stay here
        position = self._position(call)
        self._stop_all(now, call, "overflow", out)
        self._unqueue(call)
        if not call.own_strategy:
            call.strategy = dst.strategy
        if not call.own_skills:
            call.skill_steps = dst.spec.skills
        call.rounds = 0
        self._enqueue(now, call, dst)
        src.stats.overflowed += 1
        dst.stats.offered += 1
        out.append(
            d.Overflow(
                call.call_id,
                src.id,
                dst.id,
                now - call.arrived,
                position,
                call.orig_position,
                self._position(call),
            )
        )
        self._dirty_calls.append(call)

    # -- operators ------------------------------------------------------------------
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
            self._end_leg(now, call, op.id, "status_changed", out, stop=True, miss=False)
            self._after_leg_end(now, call, out)
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
            if q.staffed == 0 and out is not None and q.spec.no_operators != "wait":
                self._empty_queue(now, q, out)

    def _empty_queue(self, now: float, q: QueueRt, out: list[d.Decision]) -> None:
        """Nobody staffs a queue that refuses to wait without operators: send its
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
                    "unavailable",
                    position,
                    call.orig_position,
                    now - call.arrived,
                )
            )

    def _refresh(self, now: float, op: OperatorRuntime) -> None:
        """Recompute whether `op` is free to be offered calls; update pools."""
        should = op.present and op.status_available and op.state is _IDLE
        if should and op.not_before > now:
            should = False
            self._schedule(op.not_before, (_NOTBEFORE, op.id))
        if should != op.free:
            self._set_free(op, should)
            if should:
                self._dirty_ops.append(op)

    def _set_free(self, op: OperatorRuntime, free: bool) -> None:
        op.free = free
        queues = self._queues
        if free:
            self._epoch += 1
            for qid in op.queues:
                queues[qid].pool.add(op.id, self._epoch)
        else:
            for qid in op.queues:
                queues[qid].pool.discard(op.id)


def _skill_steps(skills: Skills) -> tuple[SkillStep, ...]:
    if isinstance(skills, Mapping):
        return (SkillStep(after=0.0, required=dict(skills)),)
    steps = tuple(s if isinstance(s, SkillStep) else SkillStep.model_validate(s) for s in skills)
    afters = [s.after for s in steps]
    if any(b <= a for a, b in zip(afters, afters[1:], strict=False)):
        raise UsageError("skill steps must have strictly increasing 'after'")
    return steps
