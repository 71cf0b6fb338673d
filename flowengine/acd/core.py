"""The sans-IO automatic call distributor.

`ACD` owns no socket, task or clock. Time is an argument: every input method
takes ``now`` (seconds on whatever clock the driver uses — wall clock for the
asyncio driver, simulated clock for the traffic harness) and returns the list
of `flowengine.acd.decisions` it led to. `next_timer()` says when
`handle_timer(now)` must be called next; a driver re-arms one timer after
every call, exactly like aioquic's ``get_timer`` / ``handle_timer``.

Inputs (all return ``list[Decision]``):

* ``call_arrived(now, call_id, queue_id, *, priority, caller, skills, manager,
  strategy, strategy_params, ring_timeout, max_wait, max_total_wait,
  max_rounds, operators, no_operators)`` — a call joins a queue (keyword overrides serve the
  Transfer component: a department rung with its own strategy and limits);
* ``offer_answered(now, call_id, operator_id)`` — an operator picked up;
* ``offer_failed(now, call_id, operator_id, reason)`` — ``no_answer``,
  ``busy``, ``rejected``, ``failed`` (count as misses; for a callback it is
  the caller who did not pick up: no miss, and after the queue's callback
  ``attempts`` the call leaves with `NoAnswer`) or ``operator_gone`` (the device vanished: the
  operator is set not available);
* ``call_completed(now, call_id, by="caller"|"agent")`` — the conversation is
  over: the operator goes to wrap-up (the answering queue's ``wrap_up``), then idle;
* ``call_abandoned(now, call_id)`` — the caller hung up (while waiting, being
  offered, or holding a callback place; idempotent);
* ``request_callback(now, call_id)`` — the caller leaves the line but keeps
  their place; at their turn the core emits `CallbackDue`;
* ``file_callback(now, call_id, queue_id, *, caller, arrived, priority,
  attempts, interval)`` — a callback request for a caller not in a queue
  (the Callback component), placed by their first arrival; `CallbackRefused`
  if the queue is unknown or the request a duplicate;
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

Layout: `ACD` is one object composed of parts with one job each, all over the
state declared once in `flowengine.acd.bookkeeping`:

* `flowengine.acd.calls` — joining a queue, waiting, callbacks, overflow, and
  every way out (`call_arrived`, `call_completed`, `call_abandoned`,
  `request_callback`);
* `flowengine.acd.dispatch` — matching free operators with waiting calls, and
  rounds of offers driven by the strategies;
* `flowengine.acd.offers` — one offer from ring to outcome (`offer_answered`,
  `offer_failed`, ring timeouts);
* `flowengine.acd.staffing` — statuses, presence, staffed queues
  (`set_status`, `add_operator`, `remove_operator`);
* `flowengine.acd.queries` — read-only views (positions, estimates, counts,
  stats, `snapshot`);
* this module — construction and time: `handle_timer`, `next_timer`, and the
  timers every input fires first.

The parts are mixins rather than objects holding each other: they call one
another both ways (an offer that ends can put the operator on break, which can
empty a queue, which takes its calls out, which stops their offers), and as
methods of one object those calls cost what they did in a single class — the
hot path (`_dispatch`, `_serve_operator`, `_fire`) gains no indirection.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from flowengine.acd import decisions as d
from flowengine.acd.bookkeeping import (
    ANNOUNCE_TIMER,
    EXCL_TIMER,
    LEVEL_TIMER,
    MAXWAIT_TIMER,
    NOAGENT_TIMER,
    NOTBEFORE_TIMER,
    OFFER_TIMER,
    OVERFLOW_TIMER,
    PAUSE_TIMER,
    PERIODIC_TIMER,
    STEP_TIMER,
    TARGET_TIMER,
    TOTALWAIT_TIMER,
    WIDEN_TIMER,
    WRAPUP_TIMER,
)
from flowengine.acd.calendar import Calendar
from flowengine.acd.calls import Calls
from flowengine.acd.dispatch import Dispatch
from flowengine.acd.model import Centre, parse_centre
from flowengine.acd.offers import FAIL_REASONS, Offers
from flowengine.acd.operators import OperatorRuntime, OperatorState, StatusTable
from flowengine.acd.queries import Queries
from flowengine.acd.staffing import Staffing
from flowengine.acd.state import DISPATCHABLE, CallState, QueueRt
from flowengine.acd.strategies import build_strategy
from flowengine.acd.timers import TimerHeap
from flowengine.errors import UsageError

__all__ = ["ACD", "FAIL_REASONS"]

_IDLE = OperatorState.IDLE


class ACD(Calls, Dispatch, Offers, Staffing, Queries):
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
        #: a callback offer rings the operator first, then the caller
        #: (`callback_operator_answered` between): until the operator answers a
        #: failure is their miss. False (the default): one offer stands for
        #: both, and every failure is the caller's (the traffic harness's model)
        self.callback_rings_operator = False
        self._now = now
        self._statuses = StatusTable(centre.status_table())
        self._ops = {
            spec.id: OperatorRuntime(spec, now, self._statuses) for spec in centre.operators
        }
        self._staffed = dict.fromkeys(self._ops, False)
        self._by_ext = {o.extension: o.id for o in centre.operators if o.extension}
        #: the centre's time zone and the offset of this clock to the epoch (a
        #: driver sets `calendar.offset`); strategies read calendar windows from it
        self.calendar = Calendar(centre.timezone)
        self._queues = {}
        for spec in centre.queues:
            q = QueueRt(
                spec,
                build_strategy(
                    spec.strategy, spec.strategy_params, spec, self._resolver(spec.member_ids)
                ),
            )
            q.strategy.calendar = self.calendar
            self._queues[spec.id] = q
            for m in q.members:
                self._ops[m].queues.append(spec.id)
        self._direct = {}
        self._calls = {}
        self._seq = 0
        self._epoch = 0
        self._timers = TimerHeap()
        self._dirty_ops = []
        self._dirty_calls = []
        self._resume = {}
        for op in self._ops.values():
            self._update_staffed(now, op, None)
            self._refresh(now, op)
        self._dirty_ops.clear()
        for q in self._queues.values():
            if q.staffed == 0:
                q.unstaffed_since = now
        self._empty_watch = [q for q in self._queues.values() if q.spec.leave_when_empty]

    def handle_timer(self, now: float) -> list[d.Decision]:
        """Fire every timer due at or before `now`."""
        out = self._begin(now)
        self._dispatch(now, out)
        return out

    def next_timer(self) -> float | None:
        """The earliest time `handle_timer` must be called, or None."""
        return self._timers.next_deadline()

    def _begin(self, now: float) -> list[d.Decision]:
        """Start an input at `now`: fire the timers due by then, each at its own
        deadline and followed by a dispatch, so a late driver gets the same
        decisions as a punctual one; return the decision list to extend."""
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

    def _fire(self, t: float, key: Any, out: list[d.Decision]) -> None:
        """One timer is due at `t` (see `flowengine.acd.bookkeeping` for the keys).
        Timers of a call that has left are ignored."""
        kind = key[0]
        if kind == WRAPUP_TIMER:
            op = self._ops[key[1]]
            op.set_state(t, _IDLE, None, out)
            out.append(d.WrapUpEnded(op.id))
            self._refresh(t, op)
            return
        if kind == NOTBEFORE_TIMER:
            self._refresh(t, self._ops[key[1]])
            return
        call = self._calls.get(key[1])
        if call is None:
            return
        if kind == OFFER_TIMER:
            if key[2] in call.offers:
                self._ring_timed_out(t, call, key[2], out)
        elif kind == TARGET_TIMER:
            offer = call.offers.get(key[2])
            if offer is not None:
                target = self._ops[key[2]].spec.targets[key[3]]
                out.append(
                    d.Ring(
                        call.call_id, call.queue.id, key[2], target.number, offer.ends - t, offer.id
                    )
                )
        elif kind == STEP_TIMER:
            if call.round is not None:
                self._advance(t, call, out)
        elif kind == MAXWAIT_TIMER or kind == TOTALWAIT_TIMER:
            self._max_wait(t, call, out)
        elif kind == OVERFLOW_TIMER:
            self._overflow(t, call, out)
        elif kind == ANNOUNCE_TIMER:
            if call.state in (CallState.WAITING, CallState.OFFERING):
                out.append(self._announcement(call))
                period = call.queue.spec.announce.period
                if period:
                    self._call_timer(call, t + period, ANNOUNCE_TIMER)
        elif kind == PERIODIC_TIMER:
            if call.state in (CallState.WAITING, CallState.OFFERING):
                out.append(self._announcement(call, "periodic"))
                period = call.queue.spec.announce.periodic
                if period:
                    self._call_timer(call, t + period, PERIODIC_TIMER)
        elif kind == NOAGENT_TIMER:
            self._no_operator_timeout(t, call, out)
        elif kind == PAUSE_TIMER:
            if call.state in DISPATCHABLE:
                self._set_ready(call, True)
                self._dirty_calls.append(call)
        elif kind == EXCL_TIMER:
            self._dirty_calls.append(call)
        elif kind == WIDEN_TIMER:
            self._dirty_calls.append(call)
            self._schedule_widen(call)
        elif kind == LEVEL_TIMER:
            self._level_opened(t, call)
