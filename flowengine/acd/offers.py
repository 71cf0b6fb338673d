"""Offers: one call ringing one operator, from the ring to its outcome.

An offer (`flowengine.acd.state.Offer`) starts when a round rings a free
operator (`Ring`, or `CallbackDue` for a callback) and ends when the operator
answers (`offer_answered`: the call is connected and its other offers
stopped), when it fails (`offer_failed`, or the ring timeout: a miss held
against the operator — retry delay, auto-break — except for a callback,
where it is the caller who did not pick up), or when the ACD stops it
(`StopRinging`: answered elsewhere, the call left, the operator's status
changed). After an offer ends the round goes on (`Dispatch._advance`).

Every offer has an id, carried by decisions as ``leg``: a report about an
earlier offer to the same operator is recognised and ignored.
"""

from __future__ import annotations

from flowengine.acd import decisions as d
from flowengine.acd.bookkeeping import (
    OFFER_TIMER,
    PAUSE_TIMER,
    STEP_TIMER,
    TARGET_TIMER,
    Bookkeeping,
)
from flowengine.acd.model import CallbackPolicy
from flowengine.acd.operators import MISS_REASONS, OperatorRuntime, OperatorState
from flowengine.acd.state import EPS, OFFERING, CallRt, CallState, Offer, QueueRt
from flowengine.errors import UsageError

__all__ = ["CALLBACK_ATTEMPTS", "FAIL_REASONS", "Offers"]

#: reasons `offer_failed` accepts
FAIL_REASONS = MISS_REASONS | {"operator_gone"}

#: failed callback attempts (the caller did not pick up) before the ACD gives
#: up, unless the queue says otherwise (``callback: {attempts: N}``)
CALLBACK_ATTEMPTS = CallbackPolicy().attempts
_DEFAULT_CALLBACK = CallbackPolicy()

_IDLE = OperatorState.IDLE
_RINGING = OperatorState.RINGING
_TALKING = OperatorState.TALKING


class Offers(Bookkeeping):
    """The ACD's offers: ringing operators and the outcomes of the rings."""

    # -- inputs -----------------------------------------------------------------------
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
        if call is None or not self._is_current_offer(call, operator_id, leg):
            out.append(d.StopRinging(call_id, operator_id, "not_offered"))
            self._dispatch(now, out)
            return out
        q = call.queue
        answered = call.offers.pop(operator_id)
        self._cancel_offer_timers(call, op)
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
        for other in list(call.offers):
            self._end_offer(now, call, other, "answered_elsewhere", out, stop=True, miss=False)
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
        if call is None or not self._is_current_offer(call, operator_id, leg):
            self._dispatch(now, out)
            return out
        if call.state is CallState.CALLBACK_OFFERING and reason != "operator_gone":
            if call.callback_operator_up:
                self._callback_missed(now, call, operator_id, reason, out, stop=False)
            else:
                self._callback_operator_missed(now, call, operator_id, reason, out, stop=False)
        elif reason == "operator_gone":
            self._end_offer(now, call, operator_id, reason, out, stop=False, miss=False)
            if op.status_available:
                self._change_status(now, op, "not_available", "operator_gone", "acd", out)
            self._after_offer_end(now, call, out)
        else:
            self._end_offer(now, call, operator_id, reason, out, stop=False, miss=True)
            self._after_offer_end(now, call, out)
        self._dispatch(now, out)
        return out

    def _ring_timed_out(self, now: float, call: CallRt, op_id: str, out: list[d.Decision]) -> None:
        """The core's own ring timer ended the offer to `op_id`."""
        if call.state is CallState.CALLBACK_OFFERING:
            if call.callback_operator_up:
                self._callback_missed(now, call, op_id, "no_answer", out, stop=True)
            else:
                self._callback_operator_missed(now, call, op_id, "no_answer", out, stop=True)
        else:
            self._end_offer(now, call, op_id, "no_answer", out, stop=True, miss=True)
            self._after_offer_end(now, call, out)

    def callback_operator_answered(
        self, now: float, call_id: str, operator_id: str, leg: int | None = None
    ) -> list[d.Decision]:
        """The operator took a callback offer (their phone is up): the caller
        is rung next, for the offer's ring timeout again. From now on a failure
        is the caller's (a callback attempt), not the operator's miss. A report
        about an offer that is over gets `StopRinging` (reason ``not_offered``)."""
        out = self._begin(now)
        call = self._calls.get(call_id)
        if (
            call is None
            or call.state is not CallState.CALLBACK_OFFERING
            or not self._is_current_offer(call, operator_id, leg)
        ):
            out.append(d.StopRinging(call_id, operator_id, "not_offered"))
            self._dispatch(now, out)
            return out
        offer = call.offers[operator_id]
        call.callback_operator_up = True
        timeout = offer.ends - offer.started
        offer.ends = now + timeout
        self._schedule(offer.ends, (OFFER_TIMER, call_id, operator_id))
        self._dispatch(now, out)
        return out

    def _callback_operator_missed(
        self, now: float, call: CallRt, op_id: str, reason: str, out: list[d.Decision], *, stop: bool
    ) -> None:
        """The operator did not take a callback offer: their miss (auto-break,
        retry delay), as for any call. The request keeps its place and waits
        for the next free operator at once; no callback attempt is used."""
        self._end_offer(now, call, op_id, reason, out, stop=stop, miss=True)
        for other in list(call.offers):
            self._end_offer(now, call, other, "callback", out, stop=True, miss=False)
        self._timers.cancel((STEP_TIMER, call.call_id))
        call.round = None
        call.state = CallState.CALLBACK
        self._set_ready(call, True)
        self._dirty_calls.append(call)

    def _callback_missed(
        self, now: float, call: CallRt, op_id: str, reason: str, out: list[d.Decision], *, stop: bool
    ) -> None:
        """A callback attempt failed on the caller's side (however it was found
        out: a report or the ring timer). It is recorded (`OfferMissed`) but not
        held against the operator; it counts toward the queue's callback
        attempts, after which the ACD gives up with `NoAnswer`; otherwise the
        call keeps its place and the next attempt waits the callback interval."""
        self._end_offer(now, call, op_id, reason, out, stop=stop, miss=True, count=False)
        call.callback_failures += 1
        policy = call.callback_policy or call.queue.spec.callback or _DEFAULT_CALLBACK
        if call.callback_failures >= policy.attempts:
            self._no_answer(now, call, call.callback_failures, "callback_failed", out)
            return
        for other in list(call.offers):
            self._end_offer(now, call, other, "callback", out, stop=True, miss=False)
        self._timers.cancel((STEP_TIMER, call.call_id))
        call.round = None
        call.state = CallState.CALLBACK
        call.eligible_at = now + policy.interval
        if policy.interval > 0:
            self._call_timer(call, call.eligible_at, PAUSE_TIMER)
        else:
            self._set_ready(call, True)
            self._dirty_calls.append(call)

    # -- internals ------------------------------------------------------------------
    def _start_offer(
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
        offer_id = self._seq
        call.offers[op_id] = Offer(now, ends, offer_id)
        rnd = call.round
        assert rnd is not None
        rnd.tried.add(op_id)
        rnd.attempts += 1
        self._schedule(ends, (OFFER_TIMER, call.call_id, op_id))
        q = call.queue
        if call.state is CallState.CALLBACK_OFFERING:
            call.callback_operator_up = not self.callback_rings_operator
            out.append(d.CallbackDue(call.call_id, q.id, op_id, call.caller, timeout, offer_id))
            return
        targets = op.spec.targets
        out.append(d.Ring(call.call_id, q.id, op_id, targets[0].number, timeout, offer_id))
        for i in range(1, len(targets)):
            if targets[i].after < timeout:
                self._schedule(now + targets[i].after, (TARGET_TIMER, call.call_id, op_id, i))

    @staticmethod
    def _is_current_offer(call: CallRt, op_id: str, leg: int | None) -> bool:
        current = call.offers.get(op_id)
        return current is not None and (leg is None or current.id == leg)

    def _cancel_offer_timers(self, call: CallRt, op: OperatorRuntime) -> None:
        cancel = self._timers.cancel
        cid = call.call_id
        cancel((OFFER_TIMER, cid, op.id))
        for i in range(1, len(op.spec.targets)):
            cancel((TARGET_TIMER, cid, op.id, i))

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
    ) -> None:
        """End one offer (stop ringing that operator for this call). The caller
        decides whether the round goes on.

        `miss` records an OfferMissed; `count` also holds it against the
        operator (miss streak, retry delay, auto-break) — not for a callback
        the caller did not pick up."""
        offer = call.offers.pop(op_id)
        op = self._ops[op_id]
        self._cancel_offer_timers(call, op)
        op.call_id = None
        op.set_state(now, _IDLE, call.call_id, out)
        if stop:
            out.append(d.StopRinging(call.call_id, op_id, reason))
        if miss:
            q = call.queue
            out.append(d.OfferMissed(call.call_id, q.id, op_id, reason, now - offer.started))
            if count:
                counted = reason in q.spec.auto_break_on
                n = op.record_miss(reason, counted)
                delay = self._retry_delay(op, q, reason)
                if delay > 0:
                    op.not_before = max(op.not_before, now + delay)
                limit = q.spec.auto_break_after
                if counted and limit is not None and n >= limit and op.status_available:
                    text = f"auto_break: missed {n} calls"
                    out.append(d.OperatorAutoBreak(op_id, n, text))
                    op.consecutive_misses = 0
                    self._change_status(now, op, "break", text, "acd", out)
        self._refresh(now, op)

    def _retry_delay(self, op: OperatorRuntime, q: QueueRt, reason: str) -> float:
        """Seconds `op` is not offered calls after missing one for `reason`: the
        operator's own delay if set, else the queue's (a private queue of a
        direct Transfer has none, and applies none)."""
        if self._direct.get(op.id) == q.id:
            return 0.0
        own = getattr(op.spec.retry_delays, reason, None)
        if own is not None:
            return float(own)
        return float(getattr(q.spec.retry_delays, reason, 0.0))

    def _after_offer_end(self, now: float, call: CallRt, out: list[d.Decision]) -> None:
        if call.state in OFFERING and not call.offers and call.round is not None:
            self._advance(now, call, out)

    def _stop_all(self, now: float, call: CallRt, reason: str, out: list[d.Decision]) -> None:
        for op_id in list(call.offers):
            self._end_offer(now, call, op_id, reason, out, stop=True, miss=False)
        call.round = None
        self._timers.cancel((STEP_TIMER, call.call_id))
