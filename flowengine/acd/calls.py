"""A call's life in a queue: joining, waiting, and leaving.

Joining (`call_arrived`): the queue's limits and ``no_operators`` policy, the
per-call overrides (strategy, skills, limits, restriction to some
operators), the call timers (max wait, overflow, announcements, skill
widening, the personal manager's exclusive window). Waiting: announcements,
overflow to another queue (keeping the first arrival time, hence its rank),
callbacks (`request_callback`: the caller leaves the line and keeps their
place). Leaving: answered calls complete (`call_completed`, the operator goes
to wrap-up; an operator available on demand is then set not available),
unanswered ones leave through exactly one exit decision — `Abandoned`,
`MaxWaitReached`, `NoAnswer`, `NoOperators` — via `_remove`.

Queue options beside app_queue and mod_callcenter (docs/acd.md): a caller who
hung up gets their place back on calling again (``abandoned_resume``); a
queue with nobody there refuses callers (``join_empty``), sends them out
(``leave_when_empty``, checked after every dispatch) or lets them wait only so
long (``max_wait_no_operator``); the periodic announcement has its own timer.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from flowengine.acd import decisions as d
from flowengine.acd.bookkeeping import (
    ANNOUNCE_TIMER,
    EXCL_TIMER,
    MAXWAIT_TIMER,
    NOAGENT_TIMER,
    OVERFLOW_TIMER,
    PAUSE_TIMER,
    PERIODIC_TIMER,
    STEP_TIMER,
    TOTALWAIT_TIMER,
    WIDEN_TIMER,
    WRAPUP_TIMER,
    Bookkeeping,
)
from flowengine.acd.estimate import estimated_wait
from flowengine.acd.model import ON_DEMAND, CallbackPolicy, Member, QueueSpec, SkillStep
from flowengine.acd.operators import OperatorRuntime, OperatorState
from flowengine.acd.state import EPS, CallRt, CallState, QueueRt
from flowengine.acd.strategies import build_strategy
from flowengine.errors import UsageError
from flowengine.events.queue import PRIVATE_QUEUE_PREFIX

__all__ = ["Calls", "SkillRequirement"]

#: a call's skill requirement: ``{skill: level}`` (fixed) or widening steps
SkillRequirement = Mapping[str, int] | Sequence[SkillStep | Mapping[str, Any]]

_IDLE = OperatorState.IDLE
_RINGING = OperatorState.RINGING
_TALKING = OperatorState.TALKING
_WRAP_UP = OperatorState.WRAP_UP
#: a place kept for a caller who hung up (`QueueSpec.abandoned_resume`) is
#: forgotten after its time; the table is swept when it outgrows this
_RESUME_SWEEP = 1024


class Calls(Bookkeeping):
    """The ACD's calls: queueing, callbacks, overflow, and every way out."""

    # -- inputs -----------------------------------------------------------------------
    def call_arrived(
        self,
        now: float,
        call_id: str,
        queue_id: str,
        *,
        priority: int = 0,
        caller: str = "",
        skills: SkillRequirement | None = None,
        manager: str | None = None,
        strategy: str | None = None,
        strategy_params: Mapping[str, Any] | None = None,
        ring_timeout: float | None = None,
        max_wait: float | None = None,
        max_total_wait: float | None = None,
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

        Two limits on waiting: `max_wait` (default: the queue's) bounds the
        wait in each queue, and starts again in a queue the call overflows
        to; `max_total_wait` bounds the caller's whole stay from this
        arrival, across overflows, together with the ``max_total_wait`` of
        every queue the call is in (the earliest deadline wins).
        """
        if max_total_wait is not None and not max_total_wait > 0:
            raise UsageError(f"max_total_wait must be positive, not {max_total_wait}")
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
        if spec.join_empty and self._is_empty(q, spec.join_empty):
            q.stats.no_operators += 1
            out.append(d.NoOperators(call_id, q.id, "join_empty"))
            return out
        self._seq += 1
        call = CallRt(call_id, caller, priority, now, self._seq)
        resumed = self._take_place(now, call, q) if spec.abandoned_resume and caller else None
        if own_strategy is not None:
            own_strategy.calendar = self.calendar
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
        if max_total_wait is not None:
            call.total_deadline = now + max_total_wait
        call.max_rounds = max_rounds if max_rounds is not None else spec.max_rounds
        call.operators = restrict
        self._calls[call_id] = call
        self._enqueue(now, call, q)
        pos = self._position(call)
        call.orig_position = pos
        out.append(d.Queued(call_id, q.id, pos, caller, priority, resumed))
        if spec.announce.on_entry:
            out.append(self._announcement(call))
        self._dirty_calls.append(call)
        self._dispatch(now, out)
        if policy == "busy" and call.state is CallState.WAITING and call_id in self._calls:
            self._leave(call)
            q.stats.no_operators += 1
            out.append(d.NoOperators(call_id, q.id, "busy", pos, pos, now - call.arrived))
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
            if (
                q.spec.abandoned_resume
                and call.caller
                and call.state in (CallState.WAITING, CallState.OFFERING)
            ):
                self._keep_place(now, call, q.spec.abandoned_resume)
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
        instead of `Ring`. A pending callback has no max wait, total wait
        limit, overflow or announcements (nobody is listening).

        The request is granted only if the answer has `CallbackRegistered`.
        In a queue without callbacks it is ignored and the call waits on:
        the core may have moved the call there (overflow) after the caller
        heard the offer, so that is no misuse by the driver.
        """
        call = self._calls.get(call_id)
        if call is None or call.state not in (CallState.WAITING, CallState.OFFERING):
            raise UsageError(f"call '{call_id}' is not waiting in a queue")
        out = self._begin(now)
        if call.state not in (CallState.WAITING, CallState.OFFERING):
            return out  # a timer due before `now` took the call out of the queue
        q = call.queue
        if not q.spec.callback:  # e.g. overflowed into a queue without callbacks
            self._dispatch(now, out)
            return out
        for op_id in list(call.offers):
            self._end_offer(now, call, op_id, "callback", out, stop=True, miss=False)
        call.round = None
        cancel = self._timers.cancel
        for kind in (
            STEP_TIMER,
            MAXWAIT_TIMER,
            TOTALWAIT_TIMER,
            OVERFLOW_TIMER,
            ANNOUNCE_TIMER,
            PAUSE_TIMER,
            PERIODIC_TIMER,
            NOAGENT_TIMER,
        ):
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

    def file_callback(
        self,
        now: float,
        call_id: str,
        queue_id: str,
        *,
        caller: str,
        arrived: float | None = None,
        priority: int = 0,
        attempts: int | None = None,
        interval: float | None = None,
    ) -> list[d.Decision]:
        """File a callback request for a caller who is not (any more) in a queue
        (the Callback component: after max wait, from an IVR option...).

        The request holds a place in `queue_id` ordered by `arrived` — when
        the caller first joined a queue in this call (default `now`), so a
        caller who waited 5 minutes before is ahead of one who just came —
        then by `priority`, like a waiting call. When it is the request's
        turn the ACD reserves a free operator and emits `CallbackDue`, as for
        `request_callback`. `attempts` / `interval` override the queue's
        ``callback`` setting for this request (default: the queue's, else
        3 attempts 60 s apart); a queue need not offer callbacks to its
        waiting callers to take filed ones.

        Refused (`CallbackRefused`): ``unknown_queue``, or ``duplicate`` when
        the call is already in the ACD or the same caller's number already
        holds a callback place in the queue.
        """
        if attempts is not None and attempts < 1:
            raise UsageError(f"callback attempts must be at least 1, not {attempts}")
        if interval is not None and interval < 0:
            raise UsageError(f"callback interval must not be negative, not {interval}")
        out = self._begin(now)
        q = self._queues.get(queue_id)
        if q is None or queue_id in self._direct.values():
            out.append(d.CallbackRefused(call_id, queue_id, "unknown_queue"))
            return out
        if call_id in self._calls or self._callback_pending(q, caller):
            out.append(d.CallbackRefused(call_id, queue_id, "duplicate"))
            return out
        spec = q.spec
        base = spec.callback or CallbackPolicy()
        self._seq += 1
        first = now if arrived is None else min(arrived, now)
        call = CallRt(call_id, caller, priority, first, self._seq)
        call.strategy = q.strategy
        call.skill_steps = spec.skills
        call.max_rounds = spec.max_rounds
        call.callback_policy = CallbackPolicy(
            attempts=base.attempts if attempts is None else attempts,
            interval=base.interval if interval is None else interval,
        )
        call.queue = q
        call.entered = now
        call.state = CallState.CALLBACK
        call.eligible_at = now
        call.manager = call.strategy.personal_operator(caller)
        self._calls[call_id] = call
        insort(q.waiting, call.entry)
        self._set_ready(call, True)
        self._schedule_level(now, call)
        call.orig_position = pos = self._position(call)
        q.stats.callbacks += 1
        out.append(d.CallbackRegistered(call_id, q.id, pos, caller))
        self._dirty_calls.append(call)
        self._dispatch(now, out)
        return out

    def _callback_pending(self, q: QueueRt, caller: str) -> bool:
        """Does `caller` already hold a callback place in `q`? (A rare input:
        a scan of the queue is fine.)"""
        if not caller:
            return False
        calls = self._calls
        for entry in q.waiting:
            c = calls[entry[3]]
            if c.caller == caller and c.state in (CallState.CALLBACK, CallState.CALLBACK_OFFERING):
                return True
        return False

    def direct_queue(self, operator_id: str) -> str:
        """The id of `operator_id`'s private queue, made on first use: a call put
        in it (`call_arrived`) rings that operator only, whether or not they
        are a member of any centre queue (the Transfer component's "to an
        operator"). It is no queue of the centre: it counts in no centre
        queue's statistics and is not in `queue_ids` or `snapshot`; it has no
        wrap-up, retry delays or auto-break of its own. Its id is
        ``operator:<id>`` (primed if a centre queue already has that id)."""
        qid = self._direct.get(operator_id)
        if qid is not None:
            return qid
        op = self._op(operator_id)
        qid = f"{PRIVATE_QUEUE_PREFIX}{operator_id}"
        while qid in self._queues:
            qid += "'"
        spec = QueueSpec(id=qid, members=(Member(operator=operator_id),), retry=0)
        q = QueueRt(spec, build_strategy(spec.strategy, {}, spec, self._resolver([operator_id])))
        self._queues[qid] = q
        self._direct[operator_id] = qid
        op.queues.append(qid)
        if self._staffed.get(operator_id):
            q.staffed = 1
        else:
            q.unstaffed_since = self._now
        if op.free:
            self._epoch += 1
            q.pool.add(operator_id, self._epoch)
        return qid

    # -- joining a queue --------------------------------------------------------------
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
            self._call_timer(call, now + max_wait, MAXWAIT_TIMER)
        if spec.max_total_wait is not None:
            limit = call.arrived + spec.max_total_wait
            if call.total_deadline is None or limit < call.total_deadline:
                call.total_deadline = limit
        if call.total_deadline is not None:
            self._call_timer(call, call.total_deadline, TOTALWAIT_TIMER)
        if spec.overflow is not None:
            self._call_timer(call, now + spec.overflow.after, OVERFLOW_TIMER)
        if spec.announce.period:
            self._call_timer(call, now + spec.announce.period, ANNOUNCE_TIMER)
        if spec.announce.periodic:
            self._call_timer(call, now + spec.announce.periodic, PERIODIC_TIMER)
        if spec.max_wait_no_operator is not None and q.unstaffed_since is not None:
            self._arm_no_operator(call, q)
        call.widen_next = 1
        self._schedule_widen(call)
        self._schedule_level(now, call)
        call.manager = call.explicit_manager or call.strategy.personal_operator(call.caller)
        call.exclusive = None
        window = call.strategy.exclusive_window()
        m = call.manager
        if window and m is not None and m in q.pool.index and self._staffed.get(m):
            call.exclusive = m
            call.exclusive_until = now + window
            self._call_timer(call, call.exclusive_until, EXCL_TIMER)

    def _schedule_widen(self, call: CallRt) -> None:
        steps = call.skill_steps
        i = call.widen_next
        if i < len(steps):
            call.widen_next = i + 1
            self._call_timer(call, call.entered + steps[i].after, WIDEN_TIMER)

    def _has_staff(self, q: QueueRt, restrict: frozenset[str] | None) -> bool:
        if restrict is None:
            return q.staffed > 0
        return any(self._staffed.get(o) and o in q.pool.index for o in restrict)

    def _announcement(self, call: CallRt, announcement: str = "position") -> d.Announce:
        q = call.queue
        pos = self._position(call)
        return d.Announce(
            call.call_id, q.id, pos, estimated_wait(pos, len(q.pool), q.staffed, q.aht.mean), announcement
        )

    # -- a place kept for a caller who hung up (abandoned_resume) ---------------------
    def _keep_place(self, now: float, call: CallRt, keep: float) -> None:
        table = self._resume
        if len(table) >= _RESUME_SWEEP:
            for key in [k for k, v in table.items() if v[2] < now]:
                del table[key]
        arrived, seq = call.entry[1], call.entry[2]
        table[(call.queue.id, call.caller)] = (arrived, seq, now + keep, call.call_id)

    def _take_place(self, now: float, call: CallRt, q: QueueRt) -> str | None:
        """A caller who hung up in `q` within its ``abandoned_resume`` calls
        again: `call` takes their place (their first arrival and order); the
        id of the call they hung up, or None."""
        kept = self._resume.pop((q.id, call.caller), None)
        if kept is None or kept[2] < now - EPS:
            return None
        arrived, seq, _until, old_id = kept
        call.seq = seq
        call.entry = (call.entry[0], arrived, seq, call.call_id)
        return old_id

    # -- when nobody is there (join_empty, leave_when_empty, max_wait_no_operator) ----
    def _is_empty(self, q: QueueRt, conditions: Sequence[str]) -> bool:
        """Is every member of `q` in one of `conditions` (app_queue's joinempty /
        leavewhenempty): ``unavailable`` logged out (removed), ``paused`` in a
        status that takes no calls, ``inuse`` talking (or on a call bridged
        outside the ACD), ``ringing``, ``wrapup``?"""
        for m in q.members:
            if not self._member_absent(self._ops[m], conditions):
                return False
        return True

    @staticmethod
    def _member_absent(op: OperatorRuntime, conditions: Sequence[str]) -> bool:
        if not op.present:
            return "unavailable" in conditions
        if not op.status_available:
            return "paused" in conditions
        state = op.state
        if state is _TALKING or op.engaged:
            return "inuse" in conditions
        if state is _RINGING:
            return "ringing" in conditions
        if state is _WRAP_UP:
            return "wrapup" in conditions
        return False

    def _leave_if_empty(self, now: float, out: list[d.Decision]) -> bool:
        """Send the callers of every queue that is empty by its
        ``leave_when_empty`` to the no_operators exit; True if any left."""
        left = False
        for q in self._empty_watch:
            if q.waiting and self._is_empty(q, q.spec.leave_when_empty):
                before = len(out)
                self._empty_queue(now, q, out, "leave_empty")
                left = left or len(out) > before
        return left

    def _no_operator_deadline(self, call: CallRt, q: QueueRt) -> float | None:
        """When `call` leaves `q` for want of operators: it has waited
        ``max_wait_no_operator`` with nobody staffing the queue, or the queue
        has been without operators that long and the caller has waited
        ``max_wait_no_operator_reached`` (mod_callcenter's two rules)."""
        since = q.unstaffed_since
        limit = q.spec.max_wait_no_operator
        if since is None or limit is None:
            return None
        waited = max(call.entered, since) + limit
        reached = max(call.entered + q.spec.max_wait_no_operator_reached, since + limit)
        return min(waited, reached)

    def _arm_no_operator(self, call: CallRt, q: QueueRt) -> None:
        if call.state not in (CallState.WAITING, CallState.OFFERING):
            return
        deadline = self._no_operator_deadline(call, q)
        if deadline is not None:
            self._call_timer(call, deadline, NOAGENT_TIMER)

    def _no_operator_timeout(self, now: float, call: CallRt, out: list[d.Decision]) -> None:
        if call.state not in (CallState.WAITING, CallState.OFFERING):
            return
        q = call.queue
        deadline = self._no_operator_deadline(call, q)
        if deadline is None or deadline > now + EPS:
            return  # somebody came back meanwhile (a later emptiness re-arms it)
        position = self._remove(now, call, "no_operators", out)
        q.stats.no_operators += 1
        out.append(
            d.NoOperators(
                call.call_id,
                q.id,
                "no_operator_timeout",
                position,
                call.orig_position,
                now - call.arrived,
            )
        )

    # -- leaving ----------------------------------------------------------------------
    def _leave(self, call: CallRt) -> None:
        """The call leaves the ACD without being answered."""
        self._unqueue(call)
        call.round = None
        call.state = CallState.LEFT
        self._calls.pop(call.call_id, None)

    def _remove(self, now: float, call: CallRt, reason: str, out: list[d.Decision]) -> int:
        """Take a queued call out of the ACD unanswered: stop its offers with
        `reason`, drop it; return the position it had (for the exit decision)."""
        position = self._position(call)
        self._stop_all(now, call, reason, out)
        self._leave(call)
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
            self._schedule(now + wrap, (WRAPUP_TIMER, op.id))
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
        if op.status == ON_DEMAND:
            # took their one call: not available until they say otherwise
            self._change_status(now, op, "not_available", "on_demand", "acd", out)
        else:
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
        if call.total_deadline is not None and call.total_deadline <= now + EPS:
            # the new queue's total limit has already passed: leave now, unrung
            self._max_wait(now, call, out)
            return
        self._dirty_calls.append(call)


def _skill_steps(skills: SkillRequirement) -> tuple[SkillStep, ...]:
    if isinstance(skills, Mapping):
        return (SkillStep(after=0.0, required=dict(skills)),)
    steps = tuple(s if isinstance(s, SkillStep) else SkillStep.model_validate(s) for s in skills)
    afters = [s.after for s in steps]
    if any(b <= a for a, b in zip(afters, afters[1:], strict=False)):
        raise UsageError("skill steps must have strictly increasing 'after'")
    return steps
