"""Virtual phones on the simulated PBX: each number's line state, and the
legs that ring them.

A phone in the backend's directory (an operator's desk phone or mobile, a
number a Transfer rings, a caller's own phone for a callback) is `idle`,
`ringing` or `on_call`. Ringing a phone that is on a call gives busy, like a
phone without call waiting; answering puts it on the call; the talk timer
(the phone's talk time, from the answer) hangs it up from the callee side,
and the engine's release (`Leg.hangup`) puts it back on-hook. While it talks,
the phone may put the caller on hold and hand the caller on, as its
description says (`VirtualPhone.hold_share`, `transfer_share`). A leg the
engine forgets to release therefore keeps its phone busy, which the tests
can see (`SimBackend.phone_state`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from flowengine.telephony import HangupCause, Leg
from flowengine.telephony.leg import TransferRequest
from flowengine.testing.phones import VirtualPhone

if TYPE_CHECKING:
    from telephony_adapters.sim.backend import SimBackend

PhoneState = Literal["idle", "ringing", "on_call"]

#: how long a busy or declining phone takes to say so
DECLINE_AFTER = 0.5


class PhoneLine:
    """The live state of one number: legs ringing it, and the leg it is on."""

    __slots__ = ("ringing", "active")

    def __init__(self) -> None:
        self.ringing: set[SimLeg] = set()
        self.active: SimLeg | None = None

    @property
    def state(self) -> PhoneState:
        if self.active is not None:
            return "on_call"
        return "ringing" if self.ringing else "idle"


class SimLeg(Leg):
    """A virtual phone being rung; the phone's description decides its fate."""

    def __init__(
        self,
        backend: SimBackend,
        target: str,
        phone: VirtualPhone | None,
        line: PhoneLine,
        *,
        ring_timeout: float,
        talk_time: float,
        leg_id: str,
    ) -> None:
        super().__init__(target, ring_timeout=ring_timeout, leg_id=leg_id)
        self.backend = backend
        self.phone = phone
        self.line = line
        #: how long the phone talks once it answers (then hangs up)
        self.talks_for = talk_time
        self._ring_handles: list[asyncio.Handle] = []
        self._talk: asyncio.TimerHandle | None = None
        #: the operator's holds and hand-overs planned for this conversation
        self._acts: list[asyncio.TimerHandle] = []
        #: the transfer requests this phone made, with the engine's answers
        self.transfers: list[TransferRequest] = []

    def start(self, ring_timeout: float) -> None:
        """Ring the phone: it fails, declines, rings out or answers."""
        phone, line = self.phone, self.line
        if phone is None:
            self._later(0.0, self.failure_received, HangupCause.from_sip(404))
        elif phone.busy or line.active is not None:
            self._later(DECLINE_AFTER, self.failure_received, HangupCause.from_sip(486))
        elif phone.reject:
            self._later(DECLINE_AFTER, self.failure_received, HangupCause.from_sip(603))
        else:
            line.ringing.add(self)
            self._later(0.0, self.ringing_received)
            if phone.answer_after is not None and phone.answer_after < ring_timeout:
                self._later(phone.answer_after, self._pick_up)

    # ---- the phone ----------------------------------------------------------------------
    def _pick_up(self) -> None:
        line = self.line
        line.ringing.discard(self)
        if line.active is not None:  # took another call meanwhile
            self.failure_received(HangupCause.from_sip(486))
            return
        line.active = self
        loop = asyncio.get_running_loop()
        self._talk = loop.call_later(self.talks_for, self._put_down)
        self.answer_received()
        self._plan_acts(loop)

    def _plan_acts(self, loop: asyncio.AbstractEventLoop) -> None:
        """What the operator will do in this conversation (hold, hand on), as the phone says."""
        phone = self.phone
        if phone is None:
            return
        if self.backend.draw(phone.hold_share):
            self._acts.append(loop.call_later(phone.hold_after, self.hold_received, True))
            self._acts.append(loop.call_later(phone.hold_after + phone.hold_for, self.hold_received, False))
        if phone.transfer_to and self.backend.draw(phone.transfer_share):
            self._acts.append(loop.call_later(phone.transfer_after, self._hand_on, phone.transfer_to))

    def _hand_on(self, target: str) -> None:
        if self.state == "answered":
            self.transfers.append(self.transfer_received(target))

    def _stop_acts(self) -> None:
        for handle in self._acts:
            handle.cancel()
        self._acts.clear()

    def _put_down(self) -> None:
        self._talk = None
        self._stop_acts()
        self._on_hook()
        self.remote_hangup(HangupCause("callee", "normal", None, 16))

    def _hear_cancel(self) -> None:
        for handle in self._ring_handles:
            handle.cancel()
        self._ring_handles.clear()
        self.line.ringing.discard(self)

    def _on_hook(self) -> None:
        if self.line.active is self:
            self.line.active = None
        self.line.ringing.discard(self)

    # ---- Leg primitives -------------------------------------------------------------------------
    def abort_ringing(self, cause: HangupCause) -> None:
        lag = self.phone.cancel_lag if self.phone is not None else 0.0
        if lag > 0:
            asyncio.get_running_loop().call_later(lag, self._hear_cancel)
        else:
            self._hear_cancel()

    def release(self, cause: HangupCause) -> None:
        if self._talk is not None:
            self._talk.cancel()
            self._talk = None
        self._stop_acts()
        self._hear_cancel()
        self._on_hook()

    def _later(self, delay: float, fn: Callable[..., Any], *args: Any) -> None:
        loop = asyncio.get_running_loop()
        handle = loop.call_soon(fn, *args) if delay <= 0 else loop.call_later(delay, fn, *args)
        self._ring_handles.append(handle)
