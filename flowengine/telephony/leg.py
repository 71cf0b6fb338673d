"""An outgoing leg (B-leg): the state every backend shares, and the two
primitives each one supplies.

A leg lives through ``dialing -> ringing -> answered -> ended``, or ends
without an answer. Two results come out of it, each exactly once:
`outcome()` (how the ringing ended: a `DialOutcome`) and `ended()` (why the
leg is over: a `HangupCause`; for a leg that never answered it resolves
together with the outcome).

Two ways to be rid of a leg, because the wire has two:

* `cancel(cause)` stops ringing (SIP CANCEL, ARI `DELETE /channels/{id}`,
  ESL `uuid_kill <uuid> ORIGINATOR_CANCEL`). The outcome becomes
  `cancelled` (or `no_answer` when the cause is the ring timeout). Once the
  outcome is known it does nothing and returns False: an answered leg is not
  cancelled, it is hung up.
* `hangup(cause)` releases the leg whatever its state: still ringing, it
  cancels; answered, it sends BYE (ARI DELETE, ESL `uuid_kill`). It is what
  the engine calls whenever it drops a leg, so an answered leg never stays
  off-hook because someone thought it was still ringing.

Both are synchronous: they take effect at once (the phone is free for the next
offer in the same ACD step), and whatever the platform answers later (487,
200 to BYE) is the backend's business. `hangup` returns `ended()` for callers
that want to await it.

The ring timeout is the engine's own timer here, the same for every backend:
at `ring_timeout` the leg is cancelled with cause `no_answer`.

A backend reports what its platform says through the public "backend side"
methods (`ringing_received`, `answer_received`, `failure_received`,
`remote_hangup`) and implements `abort_ringing` and `release`; it never
touches the base's private state.

Once answered, the far end is usually an operator, who may act on the
conversation from their phone or desk: put it on hold (`hold_received`:
SIP re-INVITE sendonly/inactive, the desk's hold button) and hand the caller
to someone else (`transfer_received`: SIP REFER, the desk's transfer button).
The engine hears of a hold through the observer ("held" / "unheld") and of a
transfer through `transfer_requested()`; it answers the request through the
`TransferRequest` it gets, and the backend reports that answer to the
platform (SIP 202 or a refusal, then NOTIFY with the result).
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Literal

from flowengine.telephony.causes import (
    CANCELLED,
    NO_ANSWER,
    SEND,
    DialOutcome,
    HangupCause,
)

LegState = Literal["dialing", "ringing", "answered", "ended"]

#: what a leg observer hears besides the states: the far end put the
#: conversation on hold or took it off
LegChange = Literal["dialing", "ringing", "answered", "ended", "held", "unheld"]

#: what a leg observer hears: the leg and the state it just entered (or the hold change)
LegObserver = Callable[["Leg", LegChange], None]


class TransferRequest:
    """The far end of an answered leg (an operator) asks the engine to hand
    the caller to `target`: an operator's id or extension, a queue, or a number.

    Engine side: `refuse(reason)` (the target is not allowed, unknown, or
    the caller is gone; the conversation goes on), or `accept()` and later
    `finish(ok, reason)` with what became of the caller (reason: answered,
    busy, no_answer, rejected, failed, hangup).
    Backend side: `accepted()` resolves True or False (SIP 202 or 403), and
    `result()` with ``(ok, reason)`` (SIP NOTIFY ``200 OK`` or a failure sipfrag).
    """

    __slots__ = ("target", "refusal", "kind", "_accepted", "_result")

    def __init__(self, target: str) -> None:
        loop = asyncio.get_running_loop()
        self.target = target
        #: why the engine refused the request (None while it has not)
        self.refusal: str | None = None
        #: what the engine took the target for when it accepted (operator, queue, number)
        self.kind: str | None = None
        self._accepted: asyncio.Future[bool] = loop.create_future()
        self._result: asyncio.Future[tuple[bool, str]] = loop.create_future()

    # ---- backend side -------------------------------------------------------------------------
    def accepted(self) -> asyncio.Future[bool]:
        return self._accepted

    def result(self) -> asyncio.Future[tuple[bool, str]]:
        return self._result

    # ---- engine side --------------------------------------------------------------------------
    def accept(self, kind: str | None = None) -> None:
        if not self._accepted.done():
            self.kind = kind
            self._accepted.set_result(True)

    def refuse(self, reason: str) -> None:
        if self._accepted.done():
            return
        self.refusal = reason
        self._accepted.set_result(False)
        self._result.set_result((False, reason))

    def finish(self, ok: bool, reason: str) -> None:
        self.accept()
        if not self._result.done():
            self._result.set_result((ok, reason))


class Leg(ABC):
    """One outgoing leg, rung for a caller's call (`Call.start_leg`) or for
    nobody's (`Backend.originate`: a callback, an outbound campaign)."""

    def __init__(self, target: str, *, ring_timeout: float | None, leg_id: str = "") -> None:
        loop = asyncio.get_running_loop()
        self._loop = loop
        self.target = target
        #: the platform's id for this leg (SIP Call-ID, ARI channel id, FS Unique-ID)
        self.leg_id = leg_id
        self.started_at = loop.time()
        self.ringing_at: float | None = None
        #: the far end sent media before answering (SIP 183 with SDP)
        self.early_media = False
        self.answered_at: float | None = None
        self.ended_at: float | None = None
        #: why the leg is over (None while it is not)
        self.cause: HangupCause | None = None
        #: told synchronously of every state change (the dialing helpers write
        #: leg events with it, so an event is in the stream the moment it happens)
        self.observers: list[LegObserver] = []
        #: the far end has the conversation on hold, since `held_at` (loop time)
        self.held = False
        self.held_at: float | None = None
        self._transfer: asyncio.Future[TransferRequest] = loop.create_future()
        self._outcome: asyncio.Future[DialOutcome] = loop.create_future()
        self._ended: asyncio.Future[HangupCause] = loop.create_future()
        self._ring_timer: asyncio.TimerHandle | None = (
            loop.call_later(ring_timeout, self._ring_out) if ring_timeout is not None else None
        )

    # ---- engine side ---------------------------------------------------------------------
    def outcome(self) -> asyncio.Future[DialOutcome]:
        """Resolves once: answered, busy, no_answer, rejected, failed or cancelled."""
        return self._outcome

    def ended(self) -> asyncio.Future[HangupCause]:
        """Resolves once the leg is over: for an answered leg when either side
        hangs up; for any other, together with its outcome."""
        return self._ended

    @property
    def state(self) -> LegState:
        if self._ended.done():
            return "ended"
        if self.answered_at is not None:
            return "answered"
        return "ringing" if self.ringing_at is not None else "dialing"

    @property
    def ring_time(self) -> float:
        """Seconds from dialing to the answer or the end (to now while ringing)."""
        end = self.answered_at if self.answered_at is not None else self.ended_at
        return (end if end is not None else self._loop.time()) - self.started_at

    @property
    def talk_time(self) -> float | None:
        """Seconds from answer to the end; None if the leg never answered."""
        if self.answered_at is None:
            return None
        end = self.ended_at if self.ended_at is not None else self._loop.time()
        return end - self.answered_at

    def transfer_requested(self) -> asyncio.Future[TransferRequest]:
        """Resolves when the far end asks to hand the caller to someone else
        (at most once per leg: a leg whose transfer was refused takes a new
        request only after the engine calls `transfer_rearm`)."""
        return self._transfer

    def transfer_rearm(self) -> None:
        """Take transfer requests again (after refusing one)."""
        if self._transfer.done():
            self._transfer = self._loop.create_future()

    def cancel(self, cause: HangupCause | str | None = None) -> bool:
        """Stop ringing. True if the leg was still ringing (its outcome is now
        `cancelled`, or `no_answer` for cause "no_answer"); False once the
        outcome was known, when nothing happens: release an answered leg with
        `hangup`."""
        if self._outcome.done():
            return False
        if not isinstance(cause, HangupCause):
            word = cause or CANCELLED
            cause = HangupCause("engine", word, 487, SEND.get(word, (0, None))[1])
        outcome = DialOutcome.NO_ANSWER if cause.cause == NO_ANSWER else DialOutcome.CANCELLED
        self._settle(outcome, cause)
        self.abort_ringing(cause)
        return True

    def hangup(self, cause: HangupCause | str | None = None) -> asyncio.Future[HangupCause]:
        """Release the leg whatever its state (ringing: cancel; answered: BYE).
        Idempotent; returns `ended()`."""
        if not self._outcome.done():
            self.cancel(cause)
        elif not self._ended.done():
            released = HangupCause.coerce(cause, by="engine", answered=True)
            self._end(released)
            self.release(released)
        return self._ended

    # ---- backend side: what the platform said ---------------------------------------------
    def ringing_received(self, *, early_media: bool = False) -> None:
        """The far end is ringing (SIP 180, or 183 with `early_media`)."""
        if self._outcome.done():
            return
        if early_media:
            self.early_media = True
        if self.ringing_at is None:
            self.ringing_at = self._loop.time()
            self._tell("ringing")

    def answer_received(self) -> None:
        """The far end answered (SIP 200 to INVITE, ARI `Up`, ESL CHANNEL_ANSWER).

        An answer to a leg the engine already cancelled crossed the CANCEL on
        the wire: the leg is released at once (SIP: ACK, then BYE), so the
        phone does not stay off-hook with nobody on the line.
        """
        if self._outcome.done():
            cause = self.cause
            if cause is not None and cause.by == "engine" and self.answered_at is None:
                self.release(cause)
            return
        self._stop_ring_timer()
        self.answered_at = self._loop.time()
        self._outcome.set_result(DialOutcome.ANSWERED)
        self._tell("answered")

    def failure_received(self, cause: HangupCause) -> None:
        """Ringing ended without an answer (a final 4xx-6xx, ARI/ESL hangup
        cause); the outcome follows from `cause` (`HangupCause.dial_outcome`)."""
        if self._outcome.done():
            return
        outcome = cause.dial_outcome
        self._settle(DialOutcome.FAILED if outcome is DialOutcome.ANSWERED else outcome, cause)

    def hold_received(self, held: bool) -> None:
        """The far end put the conversation on hold (True) or took it off
        (False): SIP re-INVITE with sendonly/inactive and back, the desk's
        hold button. Ignored unless the leg is answered and it changes something."""
        if self.state != "answered" or held == self.held:
            return
        self.held = held
        if held:
            self.held_at = self._loop.time()
            self._tell("held")
        else:
            self._tell("unheld")
            self.held_at = None

    def transfer_received(self, target: str) -> TransferRequest:
        """The far end asks to hand the caller to `target` (SIP REFER from
        the operator's phone, the desk's transfer button). The request comes
        back refused at once (reason ``not_in_call`` or ``pending``) when the
        leg is not in a conversation or another request is pending."""
        request = TransferRequest(target)
        if self.state != "answered":
            request.refuse("not_in_call")
        elif self._transfer.done():
            request.refuse("pending")
        else:
            self._transfer.set_result(request)
        return request

    def remote_hangup(self, cause: HangupCause) -> None:
        """The far end ended the leg (BYE, ARI `ChannelDestroyed`, ESL CHANNEL_HANGUP)."""
        if not self._outcome.done():
            self.failure_received(cause)
        elif not self._ended.done():
            self._end(cause)

    # ---- backend primitives ------------------------------------------------------------------
    @abstractmethod
    def abort_ringing(self, cause: HangupCause) -> None:
        """Stop the ringing on the platform (CANCEL, with `Reason` when the
        cause has a Q.850 code). Called at most once, before any answer the
        base has seen."""

    @abstractmethod
    def release(self, cause: HangupCause) -> None:
        """End an answered leg on the platform (BYE). Called at most once per
        answer; starts the release and returns (a backend whose command is a
        request runs it in its own tracked task)."""

    # ---- internals --------------------------------------------------------------------------
    def _ring_out(self) -> None:
        self._ring_timer = None
        self.cancel(HangupCause("engine", NO_ANSWER, 487, 19))

    def _stop_ring_timer(self) -> None:
        if self._ring_timer is not None:
            self._ring_timer.cancel()
            self._ring_timer = None

    def _settle(self, outcome: DialOutcome, cause: HangupCause) -> None:
        self._stop_ring_timer()
        self._outcome.set_result(outcome)
        self._end(cause)

    def _end(self, cause: HangupCause) -> None:
        self.cause = cause
        self.ended_at = self._loop.time()
        if self.held:
            self.held = False
            self._tell("unheld")
            self.held_at = None
        if self._transfer.done():
            request = self._transfer.result()
            if not request.accepted().done():
                request.refuse("hangup")
        self._ended.set_result(cause)
        self._tell("ended")

    def _tell(self, state: LegChange) -> None:
        for observer in tuple(self.observers):
            observer(self, state)
