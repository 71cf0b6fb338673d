"""Matching free operators with waiting calls, and the rounds of offers.

Inputs mark what changed — operators who became free (`_dirty_ops`), calls
that may be offered (`_dirty_calls`) — and `_dispatch` settles it before the
input returns: a free operator takes the best waiting call they may take
across all their queues (highest priority, then longest waiting, first
arrival kept across overflow); a call that became offerable starts a round if
its queue has free members. A round asks the call's strategy which operators
to ring (`flowengine.acd.strategies`); the offers themselves are in
`flowengine.acd.offers`. When a round ends unanswered the call waits the
queue's ``retry`` pause, or leaves after ``max_rounds``.

This is the hot path: only free pools and the sorted ``ready`` lists are
scanned, never all operators or all calls.
"""

from __future__ import annotations

from bisect import bisect_left

from flowengine.acd import decisions as d
from flowengine.acd.bookkeeping import (
    LEVEL_TIMER,
    PAUSE_TIMER,
    STEP_TIMER,
    STEP_TIMER_BIT,
    Bookkeeping,
)
from flowengine.acd.operators import OperatorRuntime
from flowengine.acd.state import DISPATCHABLE, EPS, CallRt, CallState, Ctx, QueueRt
from flowengine.acd.strategies import HuntRound, Round, start_round

__all__ = ["Dispatch"]

_NO_TRIED: frozenset[str] = frozenset()


class Dispatch(Bookkeeping):
    """The ACD's matching of operators and calls, and its rounds of offers."""

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
                        c.state in DISPATCHABLE
                        and c.eligible_at <= now
                        and c.queue.pool.free
                        and self._calls.get(c.call_id) is c
                    ):
                        self._start_round(now, c, out)
        # queues with leave_when_empty: callers leave once matching is done; as
        # stopping their offers frees operators, match again (each pass removes
        # calls, so this ends)
        if self._empty_watch and self._leave_if_empty(now, out):
            self._dispatch(now, out)

    def _serve_operator(self, now: float, op: OperatorRuntime, out: list[d.Decision]) -> None:
        """Give a newly free operator the best waiting call they may take."""
        skip: set[int] | None = None
        queues = self._queues
        calls = self._calls
        while op.free:
            best: CallRt | None = None
            for qid in op.queues:
                q = queues[qid]
                if q.tiers is not None:
                    best = self._best_behind_tiers(now, op, q, best, skip)
                    continue
                for entry in q.ready:
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

    def _best_behind_tiers(
        self, now: float, op: OperatorRuntime, q: QueueRt, best: CallRt | None, skip: set[int] | None
    ) -> CallRt | None:
        """`_serve_operator`'s scan of a queue with tier rules: only callers who
        have waited long enough for `op`'s level may be taken. Waiting lists are
        sorted by priority, then first arrival, so within a priority everybody
        after the first caller who arrived too late is too late as well: the
        scan jumps to the next priority instead of asking each of them."""
        ready = q.ready
        need = q.level_opens()[q.level_index(op.id)]
        latest = now - need + EPS  # entered (>= first arrival) no later than this
        calls = self._calls
        i, n = 0, len(ready)
        while i < n:
            entry = ready[i]
            if best is not None and entry > best.entry:
                break
            if need > 0 and entry[1] > latest:
                i = bisect_left(ready, (entry[0] + 1,), i + 1)
                continue
            i += 1
            c = calls[entry[3]]
            if skip is not None and c.seq in skip:
                continue
            if c.eligible(op, now):
                return c
        return best

    def _start_round(self, now: float, call: CallRt, out: list[d.Decision]) -> None:
        self._set_ready(call, False)
        ctx = Ctx(now, call, self._ops, self.rng, _NO_TRIED)
        strategy = call.strategy
        if call.state is CallState.CALLBACK:
            rnd: Round = start_round(strategy, ctx, lambda _ctx: HuntRound(strategy))
            call.state = CallState.CALLBACK_OFFERING
        else:
            rnd = start_round(strategy, ctx)
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
        step = rnd.advance(ctx, len(call.offers))
        if step.ring:
            timeout = step.timeout if step.timeout is not None else call.ring_timeout
            for op_id in step.ring:
                self._start_offer(now, call, op_id, timeout, out)
        if step.next_at is not None:
            self._call_timer(call, step.next_at, STEP_TIMER)
        else:
            if call.timers & STEP_TIMER_BIT:
                self._timers.cancel((STEP_TIMER, call.call_id))
                call.timers &= ~STEP_TIMER_BIT
            if not call.offers:
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
            self._call_timer(call, call.eligible_at, PAUSE_TIMER)
        else:
            self._set_ready(call, True)
            self._dirty_calls.append(call)

    # -- levels -------------------------------------------------------------------------
    def _schedule_level(self, now: float, call: CallRt) -> None:
        """Wake the call when the next level of its queue opens to it (tier rules)."""
        q = call.queue
        if q.tiers is None:
            return
        nxt = q.open_levels(now - call.entered)[1]
        if nxt is not None:
            self._call_timer(call, call.entered + nxt, LEVEL_TIMER)
        elif call.timers & (1 << LEVEL_TIMER):
            self._timers.cancel((LEVEL_TIMER, call.call_id))
            call.timers &= ~(1 << LEVEL_TIMER)

    def _level_opened(self, now: float, call: CallRt) -> None:
        """`LEVEL_TIMER`: more members may take the call now; look again."""
        if call.state in DISPATCHABLE:
            self._dirty_calls.append(call)
        self._schedule_level(now, call)

    def _levels_changed(self, now: float, q: QueueRt) -> None:
        """A level of `q` gained its first or lost its last staffed member: with
        "no agent, no wait" that moves when the levels above it open."""
        tiers = q.tiers
        if tiers is None or not tiers.no_agent_no_wait:
            return
        calls = self._calls
        for entry in q.waiting:
            call = calls[entry[3]]
            self._schedule_level(now, call)
            if call.state in DISPATCHABLE:
                self._dirty_calls.append(call)
