"""The asyncio driver of the sans-IO ACD: one per engine, on whatever loop runs.

It is thin on purpose: it feeds the core with `now = loop.time()` (the real
clock, or the simulator's virtual one), re-arms a single `loop.call_at` for
`core.next_timer()`, and carries out the core's commands:

* `Ring` → a leg for the caller's call (`dialing.dial`: the router picks the
  backend, and the leg's events go to that call's stream); its outcome is
  reported back as `offer_answered` / `offer_failed`;
* `StopRinging` → release those legs (`Leg.hangup`: a leg still ringing is
  cancelled, one that was answered in the same instant is hung up, so no
  operator's phone stays off-hook);
* `Connected`, `Announce`, `QueueFull`, `NoOperators`, `MaxWaitReached`,
  `NoAnswer` → the waiting Queue/Transfer node's session (its mailbox);
* `CallbackDue` → a leg to the caller that belongs to no call
  (`Backend.originate` through the engine's router), followed until it ends;
* every decision → the streams (`flowengine.acd.records`): while the caller
  is on the line, typed `queue_*` events in the call's stream; for a callback
  after the caller left, `callback_*` events in the queue's stream; operator
  decisions (status, every state move, auto-break) and the wrap-up the driver
  sees start and end → the operator's stream. Operator and queue events are
  numbered per operator and per queue and published through the engine the
  driver is attached to, to the same listeners and sinks as call events.

Listeners (`add_listener`) get every decision with its time; `history` keeps
the last `history_limit` of them for tests and debugging (a ring buffer, so a
long-running centre does not grow it for ever).

A node never talks to the core directly, so one call's queue handling cannot
corrupt another's: every input goes through `_feed`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flowengine.acd import decisions as d
from flowengine.acd.core import ACD
from flowengine.acd.handover import Handover, hand_on
from flowengine.acd.handover import talk as talk_with
from flowengine.acd.model import Centre, QueueSpec
from flowengine.acd.records import call_event_for, callback_event_for, operator_event_for
from flowengine.acd.restore import OperatorCounts, restore_counts
from flowengine.errors import NodeError
from flowengine.events import (
    CallbackRecorded,
    OperatorEvent,
    OperatorStatusChanged,
    OperatorWrapUpEnded,
    OperatorWrapUpStarted,
    QueueCallbackRequested,
    QueueStreamEvent,
)
from flowengine.telephony import DialOutcome, Leg, dialing
from flowengine.telephony.backend import LegJoin
from flowengine.telephony.causes import ANSWERED_ELSEWHERE, CANCELLED, NO_ANSWER

if TYPE_CHECKING:
    from flowengine.runtime.context import CallContext
    from flowengine.runtime.engine import Engine

log = logging.getLogger("flowengine.acd")

#: the command decisions a waiting node receives in its mailbox
NODE_DECISIONS = (d.Connected, d.Announce, d.QueueFull, d.NoOperators, d.MaxWaitReached, d.NoAnswer)

_OUTCOME_REASON = {
    DialOutcome.BUSY: "busy",
    DialOutcome.NO_ANSWER: "no_answer",
    DialOutcome.REJECTED: "rejected",
    DialOutcome.FAILED: "failed",
}

#: a StopRinging reason as the cause a leg still ringing is cancelled with
_STOP_CAUSE = {"answered_elsewhere": ANSWERED_ELSEWHERE, "no_answer": NO_ANSWER}

#: decisions after which the ACD holds the call no more
_CALL_OVER = (d.Completed, d.Abandoned, d.MaxWaitReached, d.NoOperators, d.NoAnswer, d.QueueFull)
#: decisions about operators only (no call to route)
_OPERATOR_DECISIONS = (d.OperatorStatusChanged, d.OperatorStateChanged, d.OperatorAutoBreak, d.WrapUpEnded)

#: decisions kept in `history` by default
HISTORY_LIMIT = 10_000
#: calls whose first arrival in a queue is remembered for a later Callback component
FIRST_ARRIVALS_KEPT = 100_000


@dataclass(frozen=True, slots=True)
class HistoryItem:
    """A decision and when it happened (loop time)."""

    at: float
    decision: d.Decision


class QueueSession:
    """One call's stay in the ACD as its Queue or Transfer node sees it."""

    __slots__ = (
        "ctx",
        "call_id",
        "node_id",
        "queue_id",
        "mailbox",
        "legs",
        "answered",
        "_waiter",
        "watch_digits",
        "misses",
        "state",
        "record",
    )

    def __init__(self, ctx: CallContext, node_id: str, queue_id: str) -> None:
        self.ctx = ctx
        #: the engine's id of the call, which the ACD knows it by
        self.call_id = ctx.call_id
        self.node_id = node_id
        self.queue_id = queue_id
        #: record the conversation (a Transfer node's `record`; a queue's own setting adds to it)
        self.record = False
        self.mailbox: deque[d.Decision] = deque()
        #: operator id -> legs ringing (an operator may have several targets)
        self.legs: dict[str, list[Leg]] = {}
        #: operator id -> the leg that answered
        self.answered: dict[str, Leg] = {}
        self._waiter: asyncio.Future[None] | None = None
        #: wake the node on a DTMF digit too (callback offer)
        self.watch_digits = False
        #: reasons of the offers this call missed (Transfer tells "busy" from "no_answer")
        self.misses: list[str] = []
        #: where the call stands for the ACD: queued, connected, completed,
        #: callback (left the line, keeps its place) or left (refused, timed out)
        self.state = "queued"

    def push(self, decision: d.Decision) -> None:
        if isinstance(decision, d.Connected):
            self.state = "connected"
        elif not isinstance(decision, d.Announce):
            self.state = "left"
        self.mailbox.append(decision)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait(self) -> None:
        """Until a decision is in the mailbox (or a digit, when watching digits)."""
        if self.mailbox:
            return
        call = self.ctx.call
        if self.watch_digits and call.pending_digits():
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiter = waiter
        if self.watch_digits:
            call.wake_on_digit(waiter)
        try:
            await waiter
        finally:
            self._waiter = None
            if self.watch_digits:
                call.wake_on_digit(None)


class AcdDriver:
    """`keep_history` keeps the last `history_limit` decisions in `history`.
    After a restart, `operator_seq` / `queue_seq` give the last stored `seq`
    of each operator's and queue's stream, so numbering goes on from there,
    and `counts` (`flowengine.acd.restore.counts_from_events` of the stored
    operator streams) the operators' answered calls and last conversation
    ends, so fewest_calls and longest-idle orders go on too."""

    def __init__(
        self,
        centre: Centre,
        *,
        seed: int = 1,
        keep_history: bool = True,
        history_limit: int = HISTORY_LIMIT,
        operator_seq: Mapping[str, int] | None = None,
        queue_seq: Mapping[str, int] | None = None,
        counts: Mapping[str, OperatorCounts] | None = None,
    ) -> None:
        self.loop = asyncio.get_running_loop()
        self.centre = centre
        self.core = ACD(centre, now=self.loop.time(), seed=seed)
        # a callback rings the operator's phone first, then the caller (`_follow_callback`)
        self.core.callback_rings_operator = True
        for operator_id in self.core.operator_ids():
            self.core.operator(operator_id).report_states = True
        self.history: deque[HistoryItem] = deque(maxlen=history_limit)
        self.keep_history = keep_history
        #: the engine whose router rings callbacks (set by `attach`)
        self.engine: Engine | None = None
        self._sessions: dict[str, QueueSession] = {}
        #: call id -> the number the caller dialled, shown when ringing them back
        self._callback_ids: dict[str, str] = {}
        #: call id -> the callback leg ringing or talking now
        self._callback_legs: dict[str, Leg] = {}
        #: calls with a pending callback (their caller left the line)
        self._callbacks: set[str] = set()
        #: operator id -> (call, loop time) of the wrap-up in progress
        self._wrap_ups: dict[str, tuple[str, float]] = {}
        self._operator_seq: dict[str, int] = dict(operator_seq or {})
        self._queue_seq: dict[str, int] = dict(queue_seq or {})
        self._counts = counts
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._listeners: list[Callable[[float, d.Decision], None]] = []
        #: operators' answers of this instant, not yet told to the core (`_settle_answers`)
        self._answers: list[tuple[d.Ring, Leg]] = []
        #: call id -> loop time the call first joined a queue (a Callback
        #: component files its request with it); the oldest are forgotten
        self._first_arrival: OrderedDict[str, float] = OrderedDict()

    @property
    def keep_history(self) -> bool:
        return self.history.maxlen != 0

    @keep_history.setter
    def keep_history(self, keep: bool) -> None:
        limit = self.history.maxlen if keep and self.history.maxlen else HISTORY_LIMIT
        self.history = deque(self.history if keep else (), maxlen=limit if keep else 0)

    def attach(self, engine: Engine) -> AcdDriver:
        """Serve `engine`'s Queue and Transfer nodes and publish the operator
        and queue streams through it, starting with each operator's status."""
        engine.services["acd"] = self
        self.engine = engine
        # calendar windows (fewest_calls "today") read the engine's wall clock
        self.core.calendar.offset = engine.clock.epoch_offset()
        if self._counts is not None and not self.core.has_had_calls():
            restore_counts(self.core, self._counts)
        now = self.loop.time()
        for operator_id in self.core.operator_ids():
            op = self.core.operator(operator_id)
            self._publish_operator(
                now,
                OperatorStatusChanged,
                operator_id,
                status=op.status,
                previous=None,
                reason=op.status_reason,
                by="start",
                available=op.status_available,
            )
        return self

    def add_operator(self, operator: Any, **options: Any) -> None:
        """Bring an operator (back) into the ACD (`ACD.add_operator` options)."""
        self._feed(lambda now: self.core.add_operator(now, operator, **options))
        for operator_id in self.core.operator_ids():
            self.core.operator(operator_id).report_states = True

    def add_listener(self, listener: Callable[[float, d.Decision], None]) -> None:
        """Called with every decision (the monitor, reports, simulation stats)."""
        self._listeners.append(listener)

    def queue_spec(self, queue_id: str) -> QueueSpec:
        """The queue's description; an unknown id is the node's error."""
        for spec in self.centre.queues:
            if spec.id == queue_id:
                return spec
        known = ", ".join(q.id for q in self.centre.queues) or "none"
        raise NodeError(f"unknown queue '{queue_id}' (known: {known})", code="unknown_queue")

    def operator_queue(self, operator_id: str) -> str:
        """The operator's private queue (`ACD.direct_queue`), to ring any
        operator of the centre through the ACD — member of a queue or not —
        without counting in any centre queue's statistics."""
        if operator_id not in self.core.operator_ids():
            raise NodeError(f"unknown operator '{operator_id}'", code="unknown_operator")
        return self.core.direct_queue(operator_id)

    # ---- inputs from nodes ------------------------------------------------------------
    def enter(self, ctx: CallContext, node_id: str, queue_id: str, **options: Any) -> QueueSession:
        """Put the call in `queue_id` (options as `ACD.call_arrived`)."""
        session = QueueSession(ctx, node_id, queue_id)
        self._sessions[session.call_id] = session
        self._remember_arrival(session.call_id)
        self._feed(
            lambda now: self.core.call_arrived(
                now, session.call_id, queue_id, caller=ctx.call.caller, **options
            )
        )
        return session

    def leave(self, session: QueueSession) -> None:
        """The node is done with the ACD, however it ended: a caller still
        queued has abandoned; a conversation cut short ended by the caller.

        Every leg still up is released, including one answered but not yet
        bridged (the caller hung up as the operator picked up)."""
        call = session.ctx.call
        call_id = session.call_id
        cause = call.cause or CANCELLED
        for legs in session.legs.values():
            for leg in legs:
                leg.hangup(cause)
        for leg in session.answered.values():
            leg.hangup(cause)
        session.legs.clear()
        session.answered.clear()
        if session.state == "queued":
            self._feed(lambda now: self.core.call_abandoned(now, call_id))
        elif session.state == "connected":
            self.completed(session, "caller")
        if self._sessions.get(call_id) is session:  # (a hand-over may have entered the call again)
            del self._sessions[call_id]

    async def converse(self, session: QueueSession, connected: d.Connected) -> None:
        """Bridge the caller with the operator who answered; when either hangs
        up, the conversation is over for the ACD (wrap-up starts). When the
        operator hands the caller on, their conversation is over too, and the
        caller goes where they asked (`flowengine.acd.handover`)."""
        handover = await self.talk(session, connected)
        if handover is not None:
            await hand_on(session.ctx, handover, node_id=session.node_id, record=session.record)

    async def talk(self, session: QueueSession, connected: d.Connected) -> Handover | None:
        """The conversation of `converse`, without carrying out a hand-over it ends with."""
        call = session.ctx.call
        await call.stop_music()
        leg = session.answered.get(connected.operator_id)
        ended_by = "callee"
        handover: Handover | None = None
        if leg is not None and leg.state == "answered":
            spec = next((q for q in self.centre.queues if q.id == session.queue_id), None)
            result, handover = await talk_with(
                session.ctx,
                leg,
                node_id=session.node_id,
                operator_id=connected.operator_id,
                record=session.record or (spec is not None and spec.record),
            )
            ended_by = result.ended_by
        self.completed(session, "agent" if ended_by == "callee" else "caller")
        return handover

    def completed(self, session: QueueSession, by: str) -> None:
        call_id = session.call_id
        session.state = "completed"
        self._feed(lambda now: self.core.call_completed(now, call_id, by=by))

    def request_callback(self, session: QueueSession) -> bool:
        """Ask for a callback that keeps the caller's place; True if the ACD
        registered it (the caller may leave the line). False: the call is
        not queued any more, or its queue (after an overflow, say) has no
        callbacks — the caller stays in the queue as before."""
        call_id = session.call_id
        if session.state != "queued":
            return False
        registered = False

        def ask(now: float) -> list[d.Decision]:
            nonlocal registered
            out = self.core.request_callback(now, call_id)
            registered = any(isinstance(x, d.CallbackRegistered) for x in out)
            if registered:
                # before the decisions are applied: CallbackRegistered moves the
                # call to the queue stream, and the caller's number is dialled back
                self._callback_ids[call_id] = session.ctx.call.called
                session.state = "callback"
            return out

        self._feed(ask)
        return registered

    def file_callback(
        self,
        ctx: CallContext,
        node_id: str,
        queue_id: str,
        *,
        priority: int = 0,
        attempts: int | None = None,
        interval: float | None = None,
    ) -> str | None:
        """File a callback request for this call's caller into `queue_id` (the
        Callback component): None when filed (the caller may leave the line;
        the request is in the call stream as `queue_callback_requested`, its
        attempts in the queue stream as `callback_*`), else why not:
        ``unknown_queue`` or ``duplicate`` (`ACD.file_callback`). The dial
        policy is the node's to check first. The place is kept from when the
        caller first joined a queue in this call (now if they never did)."""
        call_id = ctx.call_id
        if call_id in self._sessions:
            return "duplicate"  # still waiting in a Queue node of this call
        arrived = self._first_arrival.get(call_id)
        refused: str | None = None

        def file(now: float) -> list[d.Decision]:
            nonlocal refused
            out = self.core.file_callback(
                now,
                call_id,
                queue_id,
                caller=ctx.call.caller,
                arrived=arrived,
                priority=priority,
                attempts=attempts,
                interval=interval,
            )
            for x in out:
                if isinstance(x, d.CallbackRefused) and x.call_id == call_id:
                    refused = x.reason
                elif isinstance(x, d.CallbackRegistered) and x.call_id == call_id:
                    # before the decisions are applied: what follows (an attempt
                    # at once, say) goes to the queue stream
                    ctx.emit(QueueCallbackRequested, node_id=node_id, queue_id=queue_id, position=x.position)
                    self._callback_ids[call_id] = ctx.call.called
                    self._callbacks.add(call_id)
            return out

        self._feed(file)
        return refused

    def _remember_arrival(self, call_id: str) -> None:
        first = self._first_arrival
        if call_id not in first:
            first[call_id] = self.loop.time()
            if len(first) > FIRST_ARRIVALS_KEPT:
                first.popitem(last=False)

    def set_status(self, operator_id: str, status: str, reason: str | None = None, *, by: str = "operator") -> None:
        self._feed(lambda now: self.core.set_status(now, operator_id, status, reason, by=by))

    def remove_operator(self, operator_id: str, reason: str = "removed") -> None:
        self._feed(lambda now: self.core.remove_operator(now, operator_id, reason))

    def operator_at(self, number: str) -> str | None:
        """The operator whose extension or one of whose targets is `number`."""
        for operator_id in self.core.operator_ids():
            spec = self.core.operator(operator_id).spec
            if spec.extension == number or any(t.number == number for t in spec.targets):
                return operator_id
        return None

    @contextmanager
    def engaged(self, number: str, operator_id: str | None = None) -> Iterator[None]:
        """While a call the ACD did not place is bridged to `number`: if it is
        an operator's phone, that operator is busy for the ACD (`set_engaged`).
        `operator_id`: the caller already looked up whose phone it is."""
        if operator_id is None:
            operator_id = self.operator_at(number)
        if operator_id is None:
            yield
            return
        self._feed(lambda now: self.core.set_engaged(now, operator_id, True))
        try:
            yield
        finally:
            self._feed(lambda now: self.core.set_engaged(now, operator_id, False))

    # ---- the loop -------------------------------------------------------------------------
    def _feed(self, step: Callable[[float], list[d.Decision]]) -> None:
        now = self.loop.time()
        for decision in step(now):
            self._apply(now, decision)
        self._rearm()

    def _rearm(self) -> None:
        at = self.core.next_timer()
        if at == self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = at
        self._timer = None if at is None else self.loop.call_at(at, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = None
        self._feed(self.core.handle_timer)

    def _apply(self, now: float, decision: d.Decision) -> None:
        history = self.history
        if history.maxlen:
            history.append(HistoryItem(now, decision))
        for listener in self._listeners:
            listener(now, decision)
        if isinstance(decision, _OPERATOR_DECISIONS):
            self._record_operator(now, decision)
            return
        call_id = getattr(decision, "call_id", None)
        session = self._sessions.get(call_id) if call_id is not None else None
        if call_id is not None:
            self._record(now, call_id, session, decision)
        if session is not None and isinstance(decision, d.OfferMissed):
            session.misses.append(decision.reason)
        if isinstance(decision, d.Ring):
            self._ring(session, decision)
        elif isinstance(decision, d.StopRinging):
            # "not_offered" answers a late report about an offer that is already
            # over; `_report` drops that one leg. The operator's other legs may
            # belong to a newer offer of the same call and must go on ringing.
            if decision.reason != "not_offered":
                if session is not None:
                    for leg in session.legs.pop(decision.operator_id, []):
                        _drop(leg, decision.reason)
                elif decision.call_id in self._callback_legs:
                    _drop(self._callback_legs[decision.call_id], decision.reason)
        elif isinstance(decision, d.CallbackDue):
            self._callback(decision)
        elif isinstance(decision, d.NoAnswer) and session is None:
            self._callback_ids.pop(decision.call_id, None)  # the ACD gave up ringing them back
        elif isinstance(decision, NODE_DECISIONS) and session is not None:
            session.push(decision)

    # ---- the streams ------------------------------------------------------------------
    def _record(
        self, now: float, call_id: str, session: QueueSession | None, decision: d.Decision
    ) -> None:
        """A decision about a call: in its call stream while the caller is on
        the line, in the queue stream once they left with a callback pending."""
        if call_id in self._callbacks:
            found = callback_event_for(decision)
            if found is not None:
                callback_cls, fields = found
                self._publish_queue(now, callback_cls, fields.pop("queue_id"), **fields)
            if isinstance(decision, _CALL_OVER):
                self._callbacks.discard(call_id)
        elif session is not None:
            record = call_event_for(decision)
            if record is not None:
                cls, fields = record
                fields.setdefault("queue_id", session.queue_id)
                session.ctx.emit(cls, node_id=session.node_id, **fields)
            if isinstance(decision, d.Overflow):
                session.queue_id = decision.to_queue
            elif isinstance(decision, d.CallbackRegistered):
                self._callbacks.add(call_id)
        if isinstance(decision, d.Completed):
            wrap = self.core.wrap_up(decision.queue_id)
            if wrap > 0:
                self._wrap_ups[decision.operator_id] = (call_id, now)
                self._publish_operator(
                    now,
                    OperatorWrapUpStarted,
                    decision.operator_id,
                    call_id=call_id,
                    queue_id=decision.queue_id,
                    duration=wrap,
                )

    def _record_operator(self, now: float, decision: d.Decision) -> None:
        if isinstance(decision, d.WrapUpEnded):
            call_id, began = self._wrap_ups.pop(decision.operator_id, (None, None))
            self._publish_operator(
                now,
                OperatorWrapUpEnded,
                decision.operator_id,
                call_id=call_id,
                duration=None if began is None else round(now - began, 3),
            )
            return
        found = operator_event_for(decision)
        if found is not None:
            cls, fields = found
            at = decision.at if isinstance(decision, d.OperatorStateChanged) else now
            self._publish_operator(at, cls, decision.operator_id, **fields)  # type: ignore[attr-defined]

    def _publish_operator(
        self, at: float, cls: type[OperatorEvent], operator_id: str, **fields: Any
    ) -> None:
        engine = self.engine
        if engine is None:
            return
        seq = self._operator_seq[operator_id] = self._operator_seq.get(operator_id, 0) + 1
        ts = round(engine.clock.epoch_offset() + at, 6)
        engine.publish_event(cls(operator_id=operator_id, seq=seq, ts=ts, **fields))

    def _publish_queue(
        self, at: float, cls: type[QueueStreamEvent], queue_id: str, **fields: Any
    ) -> None:
        engine = self.engine
        if engine is None:
            return
        seq = self._queue_seq[queue_id] = self._queue_seq.get(queue_id, 0) + 1
        ts = round(engine.clock.epoch_offset() + at, 6)
        engine.publish_event(cls(queue_id=queue_id, seq=seq, ts=ts, **fields))

    def _ring(self, session: QueueSession | None, ring: d.Ring) -> None:
        if session is None or not session.ctx.call.active:
            # Nobody is on the line for this call: it has been abandoned (not a
            # failure of the operator's phone, to be held against them).
            call_id = ring.call_id
            self.loop.call_soon(self._feed, lambda now: self.core.call_abandoned(now, call_id))
            return
        try:
            # the core times the offer out itself; the leg only needs to outlive it
            leg = dialing.dial(
                session.ctx,
                ring.target,
                ring_timeout=ring.timeout + 1.0,
                node_id=session.node_id,
                operator_id=ring.operator_id,
            )
        except Exception:  # a broken target must not break the queue
            log.exception("cannot ring %s for call %s", ring.target, ring.call_id)
            self.loop.call_soon(self._report, ring, DialOutcome.FAILED, None)
            return
        session.legs.setdefault(ring.operator_id, []).append(leg)
        leg.outcome().add_done_callback(lambda fut: self._leg_done(ring, leg, fut))

    def _leg_done(self, ring: d.Ring, leg: Leg, fut: asyncio.Future[DialOutcome]) -> None:
        session = self._sessions.get(ring.call_id)
        if fut.cancelled() or session is None or leg not in session.legs.get(ring.operator_id, ()):
            return  # dropped by the driver: the core ended that offer itself
        outcome = fut.result()
        if outcome is DialOutcome.ANSWERED:
            # the core hears it once every answer of this instant is in (the tie rule)
            if not self._answers:
                self.loop.call_soon(self._settle_answers)
            self._answers.append((ring, leg))
        elif outcome is not DialOutcome.CANCELLED:
            self._report(ring, outcome, leg)

    def _settle_answers(self) -> None:
        """Tell the core the answers that came in together, the earliest offer
        first (`Ring.leg` grows with every offer): when operators answer at the
        same instant, the one rung first wins, and among those rung together
        the one the strategy rang first (docs/acd.md, "Ties")."""
        answers, self._answers = sorted(self._answers, key=lambda a: a[0].leg), []
        for ring, leg in answers:
            session = self._sessions.get(ring.call_id)
            if session is None or leg not in session.legs.get(ring.operator_id, ()):
                continue  # released meanwhile: another answer won, or the caller left
            self._report(ring, DialOutcome.ANSWERED, leg)

    def _report(self, ring: d.Ring | d.CallbackDue, outcome: DialOutcome, leg: Leg | None) -> bool:
        """Tell the core how an offer went; True if an answer was taken (a
        late one, for an offer already over, is released instead)."""
        session = self._sessions.get(ring.call_id)
        if outcome is DialOutcome.ANSWERED:
            late = False

            def answered(now: float) -> list[d.Decision]:
                nonlocal late
                out = self.core.offer_answered(now, ring.call_id, ring.operator_id, leg=ring.leg)
                late = any(
                    isinstance(x, d.StopRinging)
                    and x.reason == "not_offered"
                    and x.call_id == ring.call_id
                    and x.operator_id == ring.operator_id
                    for x in out
                )
                return out

            self._feed(answered)
            # The node reads `answered` only once it runs again, after this returns.
            if late:
                # Picked up after the offer ended: release just this leg. A safety
                # net: StopRinging releases the legs of an ended offer (`_drop`),
                # an answer releases the operator's other legs, and `_leg_done`
                # skips released legs; only a core that ends an offer some new
                # way without StopRinging would bring a leg here.
                if leg is not None:
                    leg.hangup(CANCELLED)
                return False
            if session is not None and leg is not None:
                session.answered[ring.operator_id] = leg
                # the operator's other phones (desk and mobile) stop ringing:
                # the core ended this operator's offer without a StopRinging
                for other in session.legs.get(ring.operator_id, ()):
                    if other is not leg:
                        other.hangup(ANSWERED_ELSEWHERE)
            return True
        reason = _OUTCOME_REASON[outcome]
        self._feed(
            lambda now: self.core.offer_failed(now, ring.call_id, ring.operator_id, reason, leg=ring.leg)
        )
        return False

    # ---- callbacks -------------------------------------------------------------------------
    def _callback(self, due: d.CallbackDue) -> None:
        """A callback's turn: ring the operator's phone, then (once they are on
        the line) the caller, and bridge the two; every leg on the engine's
        router, belonging to no call."""
        engine = self.engine
        if engine is None:
            log.warning("callback due for %s but the driver is attached to no engine", due.call_id)
            self.loop.call_soon(self._report, due, DialOutcome.FAILED, None)
            return
        try:
            target = self.core.operator(due.operator_id).spec.targets[0].number
            leg = dialing.originate(engine.router, target, ring_timeout=due.timeout + 1.0, caller_id=due.caller)
        except Exception:  # a broken backend must not break the queue
            log.exception("cannot ring operator %s for the callback of %s", due.operator_id, due.call_id)
            self.loop.call_soon(self._report, due, DialOutcome.FAILED, None)
            return
        self._callback_legs[due.call_id] = leg
        task = self.loop.create_task(self._follow_callback(due, leg), name=f"callback:{due.call_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _ring_caller(self, due: d.CallbackDue) -> Leg | None:
        """The caller's leg of a callback, or None when it cannot be rung
        (reported to the core as the caller's failure)."""
        assert self.engine is not None
        verdict = self.centre.dial_rules.check(due.caller)
        if not verdict.allowed:  # the Queue node offers no callback then; this is the last guard
            log.warning("callback to %r for call %s refused by the dial policy: %s", due.caller, due.call_id, verdict.reason)
            self._report(due, DialOutcome.FAILED, None)
            return None
        try:
            return dialing.originate(
                self.engine.router,
                due.caller,
                ring_timeout=due.timeout + 1.0,
                caller_id=self._callback_ids.get(due.call_id, ""),
            )
        except Exception:  # a broken backend must not break the queue
            log.exception("cannot ring %s back for call %s", due.caller, due.call_id)
            self._report(due, DialOutcome.FAILED, None)
            return None

    async def _follow_callback(self, due: d.CallbackDue, operator_leg: Leg) -> None:
        """The operator's leg, then the caller's: a failure before the operator
        answers is the operator's miss; after, the caller's (one attempt). When
        both are up the conversation lasts until either hangs up; then the
        other leg is released and wrap-up starts."""
        legs = [operator_leg]
        try:
            outcome = await operator_leg.outcome()
            if outcome is DialOutcome.CANCELLED:
                return  # the core ended the offer itself
            if outcome is not DialOutcome.ANSWERED:
                self._report(due, outcome, operator_leg)
                return
            taken = True

            def operator_up(now: float) -> list[d.Decision]:
                nonlocal taken
                out = self.core.callback_operator_answered(now, due.call_id, due.operator_id, leg=due.leg)
                taken = not any(isinstance(x, d.StopRinging) and x.reason == "not_offered" for x in out)
                return out

            self._feed(operator_up)
            if not taken:
                return
            caller_leg = self._ring_caller(due)
            if caller_leg is None:
                return
            legs.append(caller_leg)
            self._callback_legs[due.call_id] = caller_leg
            outcome = await caller_leg.outcome()
            if outcome is DialOutcome.CANCELLED:
                return
            if self._report(due, outcome, caller_leg):
                # both phones are up: their media joined on the backend (a SIP
                # relay; the simulator needs nothing) for the conversation
                joined = await self._join_callback(due, caller_leg, operator_leg)
                try:
                    while True:
                        watched: list[asyncio.Future[Any]] = [
                            caller_leg.ended(), operator_leg.ended(), operator_leg.transfer_requested()
                        ]
                        await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
                        if caller_leg.ended().done() or operator_leg.ended().done():
                            break
                        # a callback is no caller's call: there is nothing to hand on (SIP: REFER refused)
                        operator_leg.transfer_requested().result().refuse("not_supported")
                        operator_leg.transfer_rearm()
                finally:
                    await self._part_callback(due, joined)
                by = "caller" if caller_leg.ended().done() else "agent"
                self.callback_completed(due, by=by)
        finally:
            if self._callback_legs.get(due.call_id) in legs:
                del self._callback_legs[due.call_id]
            for leg in legs:
                leg.hangup()  # the other side of a finished conversation, or a shutdown mid-call

    async def _join_callback(self, due: d.CallbackDue, caller_leg: Leg, operator_leg: Leg) -> LegJoin | None:
        """The two legs of a callback hear each other, recorded when the queue says `record`."""
        assert self.engine is not None
        spec = next((q for q in self.centre.queues if q.id == due.queue_id), None)
        try:
            return await dialing.join(
                self.engine.router, caller_leg, operator_leg, record=spec is not None and spec.record, name=due.call_id
            )
        except Exception:  # a broken backend must not break the queue: the phones stay up
            log.exception("cannot join the callback legs of call %s", due.call_id)
            return None

    async def _part_callback(self, due: d.CallbackDue, joined: LegJoin | None) -> None:
        if joined is None:
            return
        try:
            recording = await joined.stop()
        except Exception:
            log.exception("parting the callback legs of call %s failed", due.call_id)
            return
        if recording is not None:
            self._publish_queue(
                self.loop.time(),
                CallbackRecorded,
                due.queue_id,
                call_id=due.call_id,
                operator_id=due.operator_id,
                uri=recording.uri,
                duration=round(recording.duration, 3),
            )

    # ---- what a callback leg reports (public: a custom dialer may report too) ---------------
    def callback_answered(self, due: d.CallbackDue) -> None:
        self._report(due, DialOutcome.ANSWERED, None)

    def callback_failed(self, due: d.CallbackDue, outcome: DialOutcome) -> None:
        self._report(due, outcome, None)

    def callback_completed(self, due: d.CallbackDue, by: str = "caller") -> None:
        self._callback_ids.pop(due.call_id, None)
        self._feed(lambda now: self.core.call_completed(now, due.call_id, by=by))

    def operator_report(self) -> list[dict[str, Any]]:
        """Each operator now: status and state, calls answered and missed, and
        seconds spent in every status and state so far (zero ones left out)."""
        now = self.loop.time()
        names = [*self.centre.status_table(), "idle", "ringing", "talking", "wrap_up"]
        report = []
        for op in self.core.snapshot(now)["operators"]:
            times = {n: round(self.core.operator_time_in(op["id"], n, now), 3) for n in names}
            report.append(
                {
                    "id": op["id"],
                    "name": op["name"],
                    "status": op["status"],
                    "reason": op["reason"],
                    "state": op["state"],
                    "answered": op["answered"],
                    "missed": op["missed"],
                    "time": {n: t for n, t in times.items() if t > 0},
                }
            )
        return report

    async def shutdown(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)


def _drop(leg: Leg, reason: str) -> None:
    """Release a leg whose offer is over: still ringing, cancel it with the
    reason's cause; already answered (in the same instant), hang it up."""
    cause = _STOP_CAUSE.get(reason, CANCELLED)
    if leg.state == "answered" and cause == NO_ANSWER:
        cause = CANCELLED
    leg.hangup(cause)


def attached_driver(ctx: CallContext) -> AcdDriver | None:
    """The ACD attached to the call's engine, if any."""
    driver = ctx.engine.services.get("acd")
    return driver if isinstance(driver, AcdDriver) else None


def driver_of(ctx: CallContext) -> AcdDriver:
    """The engine's ACD, or a clear error for scenarios run without a centre."""
    driver = attached_driver(ctx)
    if driver is None:
        raise NodeError(
            "no call centre is configured (pass --centre FILE, or attach an ACD to the engine)",
            code="no_centre",
        )
    return driver
