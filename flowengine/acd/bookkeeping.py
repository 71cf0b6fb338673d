"""The ACD's shared state, and the indexes every part keeps consistent with it.

`flowengine.acd.core.ACD` is one object composed of parts with one job each
(`dispatch`, `offers`, `calls`, `staffing`, `queries`). `Bookkeeping`, their
common base, declares the state they share — once, with its types — and the
upkeep of the indexes over it that every part needs:

* a call's place in its queue's sorted ``waiting`` and ``ready`` lists;
* an operator's membership of the free pools of the queues they serve;
* the keyed timers (`flowengine.acd.timers.TimerHeap`).

The parts call each other (an offer that ends can put the operator on break,
which can empty a queue, which takes its calls out, which stops their
offers), so the methods one part uses from another are declared below for the
type checker, which also checks that the real ones, in the parts, match.

Timer keys: ``(OFFER_TIMER, call_id, operator_id)`` (ring timeout),
``(TARGET_TIMER, call_id, operator_id, i)`` (ring the operator's next
target), ``(kind, call_id)`` for the call timers in `CALL_TIMERS`, and
``(WRAPUP_TIMER | NOTBEFORE_TIMER, operator_id)``. Kinds are plain ints: keys
stay cheap to hash and `ACD._fire` cheap to branch on.
"""

from __future__ import annotations

import random
from bisect import bisect_left, insort
from typing import TYPE_CHECKING, Any

from flowengine.acd import decisions as d
from flowengine.acd.calendar import Calendar
from flowengine.acd.model import Centre
from flowengine.acd.operators import OperatorRuntime, OperatorState, StatusTable
from flowengine.acd.state import CallRt, QueueRt
from flowengine.acd.strategies import Resolver, member_resolver
from flowengine.acd.timers import TimerHeap
from flowengine.errors import UsageError

if TYPE_CHECKING:
    from flowengine.acd.state import Ctx

__all__ = ["Bookkeeping"]

# timer kinds (first element of a timer key)
(
    OFFER_TIMER,
    TARGET_TIMER,
    STEP_TIMER,
    MAXWAIT_TIMER,
    OVERFLOW_TIMER,
    ANNOUNCE_TIMER,
    PAUSE_TIMER,
    WIDEN_TIMER,
    EXCL_TIMER,
    WRAPUP_TIMER,
    NOTBEFORE_TIMER,
    TOTALWAIT_TIMER,
) = range(12)
STEP_TIMER_BIT = 1 << STEP_TIMER
# call timers of the queue options (docs/acd.md, "Settings beside app_queue and
# mod_callcenter"): the periodic announcement, and no operator for too long
PERIODIC_TIMER = 12
NOAGENT_TIMER = 13
#: wakes a waiting call when the next level of its queue opens (tier rules)
LEVEL_TIMER = 14

#: the order of timers due at one instant (`flowengine.acd.timers`): a call
#: leaves (max wait) or moves (overflow) before anything rings, ends or frees
#: up at that instant, so nobody is rung for a call that is gone or moved the
#: same instant (a zero-length ring); then rings time out; then the rest
_RANK = {MAXWAIT_TIMER: 0, TOTALWAIT_TIMER: 0, NOAGENT_TIMER: 0, OVERFLOW_TIMER: 1, OFFER_TIMER: 2}
TIMER_RANK = tuple(_RANK.get(kind, 3) for kind in range(LEVEL_TIMER + 1))
#: timers keyed by call alone; `CallRt.timers` has a bit for each one armed
CALL_TIMERS = (
    STEP_TIMER,
    MAXWAIT_TIMER,
    OVERFLOW_TIMER,
    ANNOUNCE_TIMER,
    PAUSE_TIMER,
    WIDEN_TIMER,
    EXCL_TIMER,
    TOTALWAIT_TIMER,
    PERIODIC_TIMER,
    NOAGENT_TIMER,
    LEVEL_TIMER,
)

_IDLE = OperatorState.IDLE


class Bookkeeping:
    """State shared by the ACD's parts (set in `ACD.__init__`) and its indexes."""

    centre: Centre
    rng: random.Random
    #: callback offers ring the operator, then the caller (`ACD.__init__`)
    callback_rings_operator: bool
    #: the centre's time zone and this clock's offset to the epoch
    calendar: Calendar
    #: time of the latest input (or timer fired)
    _now: float
    _statuses: StatusTable
    _ops: dict[str, OperatorRuntime]
    #: operator id -> present with a status that takes calls (counted in `QueueRt.staffed`)
    _staffed: dict[str, bool]
    #: extension -> operator id, for strategies' member lists
    _by_ext: dict[str, str]
    _queues: dict[str, QueueRt]
    #: operator id -> their private queue's id (`Calls.direct_queue`), made on first use
    _direct: dict[str, str]
    #: calls in the ACD: queued (waiting, offered, callback) or connected
    _calls: dict[str, CallRt]
    #: arrival order of calls and offer ids (`Offer.id`)
    _seq: int
    #: free-epoch counter (see `flowengine.acd.pool`)
    _epoch: int
    _timers: TimerHeap
    #: operators who became free and calls that may be offered, since the last dispatch
    _dirty_ops: list[OperatorRuntime]
    _dirty_calls: list[CallRt]
    #: (queue id, caller) -> (first arrival, seq, until, call id) of a caller who
    #: hung up in a queue with ``abandoned_resume``: their place, kept until `until`
    _resume: dict[tuple[str, str], tuple[float, int, float, str]]
    #: queues with ``leave_when_empty``, checked after every dispatch
    _empty_watch: list[QueueRt]

    if TYPE_CHECKING:
        # -- provided by the other parts ------------------------------------------
        # core: fire the timers due by `now`, start the input's decisions
        def _begin(self, now: float) -> list[d.Decision]: ...

        # dispatch
        def _dispatch(self, now: float, out: list[d.Decision]) -> None: ...
        def _advance(
            self, now: float, call: CallRt, out: list[d.Decision], ctx: Ctx | None = None
        ) -> None: ...
        def _schedule_level(self, now: float, call: CallRt) -> None: ...
        def _levels_changed(self, now: float, q: QueueRt) -> None: ...

        # offers
        def _start_offer(
            self, now: float, call: CallRt, op_id: str, timeout: float, out: list[d.Decision]
        ) -> None: ...
        def _end_offer(
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
        ) -> None: ...
        def _after_offer_end(self, now: float, call: CallRt, out: list[d.Decision]) -> None: ...
        def _stop_all(
            self, now: float, call: CallRt, reason: str, out: list[d.Decision]
        ) -> None: ...

        # calls
        def _remove(self, now: float, call: CallRt, reason: str, out: list[d.Decision]) -> int: ...
        def _no_answer(
            self, now: float, call: CallRt, rounds: int, reason: str, out: list[d.Decision]
        ) -> None: ...
        def _arm_no_operator(self, call: CallRt, q: QueueRt) -> None: ...
        def _leave_if_empty(self, now: float, out: list[d.Decision]) -> bool: ...

        # staffing
        def _change_status(
            self,
            now: float,
            op: OperatorRuntime,
            status: str,
            reason: str | None,
            by: str,
            out: list[d.Decision],
        ) -> None: ...
        def _empty_queue(
            self, now: float, q: QueueRt, out: list[d.Decision], reason: str = "unavailable"
        ) -> None: ...

    # -- look-ups -------------------------------------------------------------------
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

    def _resolver(self, members: list[str]) -> Resolver:
        return member_resolver(members, self._by_ext)

    # -- timers ---------------------------------------------------------------------
    def _schedule(self, when: float, key: tuple[Any, ...]) -> None:
        self._timers.schedule(when, key, TIMER_RANK[key[0]])

    def _call_timer(self, call: CallRt, when: float, kind: int) -> None:
        call.timers |= 1 << kind
        self._schedule(when, (kind, call.call_id))

    # -- waiting and ready lists ------------------------------------------------------
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
            for kind in CALL_TIMERS:
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

    def _position(self, call: CallRt) -> int:
        return bisect_left(call.queue.waiting, call.entry) + 1

    # -- free pools -------------------------------------------------------------------
    def _refresh(self, now: float, op: OperatorRuntime) -> None:
        """Recompute whether `op` is free to be offered calls; update pools."""
        should = op.present and op.status_available and op.state is _IDLE and not op.engaged
        if should and op.not_before > now:
            should = False
            self._schedule(op.not_before, (NOTBEFORE_TIMER, op.id))
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
                q = queues[qid]
                q.pool.add(op.id, self._epoch)
                lp = q.level_pools
                if lp is not None:
                    lp[q.level_index(op.id)].add(op.id, self._epoch)
        else:
            for qid in op.queues:
                q = queues[qid]
                q.pool.discard(op.id)
                lp = q.level_pools
                if lp is not None:
                    lp[q.level_index(op.id)].discard(op.id)
