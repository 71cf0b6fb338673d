"""The call interface: what a telephony backend implements for each call.

Node handlers never touch sockets; they call the engine-side methods of
`Call`. Every operation maps onto real telephony primitives (docs/backends.md
gives the SIP/RTP, Asterisk ARI and FreeSWITCH ESL counterparts), so the
simulator is one implementation among several, not the shape of the contract.

Shared behaviour lives here once, as template methods over a few backend
primitives:

* the DTMF buffer (type-ahead), digit collection with first/inter-digit
  timeouts and terminator, barge-in;
* the call's end: `cause` (a `HangupCause`), the hang-up notification that
  lets the interpreter interrupt whatever the call is doing, and `hung_up()`;
* early media: media before answer is sent as progress (183) first;
* music on hold: a prompt pre-empts the music, which resumes after it;
* bridging: wait for either side to end, then release the other;
* blind transfer: a `BlindTransfer` that resolves when the far end accepts
  (202) and again with the final NOTIFY, or at its timeout.

A backend implements the primitives in the "backend primitives" section and
reports what its platform says through the public "from the backend" methods
(`dtmf_received`, `remote_hangup`; `BlindTransfer.accept_received` ...). It
extends the base only through those public, documented methods.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from flowengine.errors import UsageError
from flowengine.telephony.causes import (
    NORMAL,
    REJECTED,
    TRANSFERRED,
    DialOutcome,
    HangupCause,
    Party,
)
from flowengine.telephony.leg import Leg, TransferRequest

if TYPE_CHECKING:
    from flowengine.telephony.backend import Backend

#: Most DTMF digits buffered unread on one call; more are dropped.
MAX_BUFFERED_DIGITS = 256

__all__ = [
    "BlindTransfer",
    "BridgeRecorder",
    "BridgeResult",
    "Call",
    "DialOutcome",
    "DigitResult",
    "HangupCause",
    "Leg",
    "Prompt",
    "RecognitionResult",
    "Recording",
    "TransferResult",
]


@dataclass(frozen=True, slots=True)
class Prompt:
    """Something to play: `kind` "say" is TTS text, "play" an audio file name
    (relative to the media folders). `file` is that name found in a media
    folder (a real path the backend may open), or None when the engine has
    no media folders: then the backend must not read it from disk."""

    kind: str
    text: str
    language: str | None = None
    voice: str | None = None
    file: str | None = None


@dataclass(frozen=True, slots=True)
class DigitResult:
    digits: str
    reason: str  # max_digits | terminator | timeout


@dataclass(frozen=True, slots=True)
class RecognitionResult:
    text: str | None
    confidence: float | None
    reason: str  # speech | timeout


@dataclass(frozen=True, slots=True)
class Recording:
    uri: str
    duration: float
    reason: str  # max_length | silence | terminator | hangup


@dataclass(frozen=True, slots=True)
class BridgeResult:
    """How a bridged conversation ended: `ended_by` is caller, callee or engine;
    `cause` is the leg's end as the far end or the engine gave it."""

    talk_time: float
    ended_by: Party
    cause: HangupCause | None = None
    #: the conversation's recording, when the bridge was recorded
    recording: Recording | None = None
    #: the far end (an operator) asked to hand the caller on: the bridge
    #: ended for that, the leg is still up, and the engine must answer the request
    transfer: TransferRequest | None = None


@dataclass(frozen=True, slots=True)
class TransferResult:
    """How a blind transfer ended.

    `reason`: ``transferred`` (the far end reported success: SIP NOTIFY with a
    2xx sipfrag), ``refused`` (the REFER itself was refused), ``failed`` (accepted,
    then a failing NOTIFY: the target was busy, did not answer...), ``timeout``
    (no final word within the timeout) or ``hangup`` (the call was already over).
    `sip_status` is the refusing response or the NOTIFY's sipfrag status.
    """

    ok: bool
    reason: str
    accepted: bool
    sip_status: int | None = None


class BridgeRecorder(ABC):
    """A bridged conversation being recorded; `finish` stops it and says
    where it went (None when nothing was kept)."""

    @abstractmethod
    async def finish(self) -> Recording | None: ...


class BlindTransfer:
    """A blind transfer in flight (SIP REFER, ARI redirect, ESL uuid_deflect).

    Engine side: `accepted()` resolves True when the far end took the request
    (202 Accepted) or False when it refused it; `result()` resolves with the
    `TransferResult`. On success the call is over for the engine (cause
    `transferred`); on failure or timeout the caller is still ours.

    Backend side: `accept_received()`, `refuse_received(status)`,
    `notify_received(status)` (the final sipfrag status).
    """

    __slots__ = ("call", "target", "timeout", "_accepted", "_result", "_timer")

    def __init__(self, call: Call, target: str, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        self.call = call
        self.target = target
        #: seconds the engine waits for the final word before giving up
        self.timeout = timeout
        self._accepted: asyncio.Future[bool] = loop.create_future()
        self._result: asyncio.Future[TransferResult] = loop.create_future()
        self._timer: asyncio.TimerHandle | None = loop.call_later(timeout, self._time_out)

    def accepted(self) -> asyncio.Future[bool]:
        return self._accepted

    def result(self) -> asyncio.Future[TransferResult]:
        return self._result

    # ---- backend side -------------------------------------------------------------------------
    def accept_received(self) -> None:
        """The far end accepted the request (SIP 202)."""
        if not self._accepted.done():
            self._accepted.set_result(True)

    def refuse_received(self, sip_status: int | None = None) -> None:
        """The far end refused the request (a 4xx-6xx to the REFER)."""
        if not self._accepted.done():
            self._accepted.set_result(False)
        self._finish(TransferResult(False, "refused", False, sip_status))

    def notify_received(self, sip_status: int) -> None:
        """The final NOTIFY: a 2xx sipfrag is success, anything else failure."""
        self.accept_received()
        if 200 <= sip_status < 300:
            if self._result.done():
                return
            self.call._finish(HangupCause("engine", TRANSFERRED, None, 16))
            self._finish(TransferResult(True, TRANSFERRED, True, sip_status))
        else:
            self._finish(TransferResult(False, "failed", True, sip_status))

    # ---- internals ----------------------------------------------------------------------------
    def _time_out(self) -> None:
        self._timer = None
        accepted = self._accepted.done() and self._accepted.result()
        self._finish(TransferResult(False, "timeout", accepted))

    def _finish(self, result: TransferResult) -> None:
        if self._result.done():
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._accepted.done():
            self._accepted.set_result(result.accepted)
        self._result.set_result(result)


class Call(ABC):
    """One call as seen by the engine. Subclassed by each backend.

    Slotted, and subclasses should declare `__slots__` too: an engine keeps
    tens of thousands of calls in flight, and an instance dict costs more
    than the rest of a paused call's state.
    """

    backend_name = "abstract"
    __slots__ = (
        "call_id",
        "caller",
        "called",
        "line",
        "caller_name",
        "headers",
        "backend",
        "answered",
        "early",
        "held",
        "music_on",
        "music",
        "cause",
        "on_hangup",
        "_digits",
        "_digit_waiter",
        "_digit_watch",
        "_ended",
        "_prompting",
    )

    def __init__(
        self,
        call_id: str,
        caller: str,
        called: str,
        *,
        line: str | None = None,
        caller_name: str | None = None,
        headers: Mapping[str, str] | None = None,
        backend: Backend | None = None,
    ) -> None:
        self.call_id = call_id
        self.caller = caller
        self.called = called
        #: the line (trunk) the call arrived on, as configured; None if unknown
        self.line = line
        #: the caller's display name (SIP From display-name, CNAM)
        self.caller_name = caller_name
        #: what the trunk sent beside the numbers (X- headers, Diversion), by header name
        self.headers: Mapping[str, str] = headers or _NO_HEADERS
        #: the backend the call arrived on (legs to targets it owns ring there)
        self.backend = backend
        self.answered = False
        #: before answer: "ringing" once 180 was sent, "progress" once 183 (early media)
        self.early: str | None = None
        #: held by the engine (re-INVITE sendonly); independent of music
        self.held = False
        #: music on hold wanted (`music` is its source, None for the backend's default)
        self.music_on = False
        self.music: str | None = None
        #: why the call ended; None while it is up
        self.cause: HangupCause | None = None
        self.on_hangup: Callable[[str], None] | None = None
        self._digits: deque[str] = deque()
        self._digit_waiter: asyncio.Future[None] | None = None
        self._digit_watch: asyncio.Future[None] | None = None
        self._ended: asyncio.Future[HangupCause] | None = None
        self._prompting = 0

    # ---- state ------------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        return self.cause is None

    @property
    def hangup_cause(self) -> str | None:
        """The normalised cause word ("normal", "busy", a Hangup node's cause ...)."""
        return None if self.cause is None else self.cause.cause

    @property
    def hangup_by(self) -> str | None:
        return None if self.cause is None else self.cause.by

    def hung_up(self) -> asyncio.Future[HangupCause]:
        """Resolves with the cause once the call is over, whoever ended it."""
        if self._ended is None:
            self._ended = asyncio.get_running_loop().create_future()
            if self.cause is not None:
                self._ended.set_result(self.cause)
        return self._ended

    # ---- from the backend -----------------------------------------------------------------------
    def dtmf_received(self, digit: str) -> None:
        """A DTMF digit arrived (RFC 4733 event, ARI ChannelDtmfReceived, ESL DTMF).

        At most `MAX_BUFFERED_DIGITS` wait unread (type-ahead); a caller or a
        peer sending more is ignored until the scenario reads them, so a flood
        of digits cannot grow the call's memory or any text built from them."""
        if self.cause is not None or len(self._digits) >= MAX_BUFFERED_DIGITS:
            return
        self._digits.append(digit)
        for waiter in (self._digit_waiter, self._digit_watch):
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    def remote_hangup(self, cause: HangupCause | str = NORMAL) -> None:
        """The far end hung up (BYE, CANCEL before answer, ARI StasisEnd, ESL
        CHANNEL_HANGUP). Only the first end counts; a word is said by the caller."""
        ended = HangupCause.coerce(cause, by="caller", answered=self.answered)
        if not self._finish(ended):
            return
        waiter = self._digit_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        if self.on_hangup is not None:
            self.on_hangup(ended.cause)

    # ---- digits -------------------------------------------------------------------------------
    def wake_on_digit(self, fut: asyncio.Future[None] | None) -> None:
        """Also resolve `fut` when a digit arrives: for a node (or a backend's
        media wait) that waits on something else too and must notice a key press."""
        self._digit_watch = fut

    def flush_digits(self) -> None:
        self._digits.clear()

    def take_digits(self) -> str:
        """The buffered digits, removed from the buffer."""
        digits = "".join(self._digits)
        self._digits.clear()
        return digits

    def next_digit(self) -> str | None:
        """The oldest buffered digit, removed from the buffer; None if there is none."""
        return self._digits.popleft() if self._digits else None

    def pending_digits(self) -> int:
        return len(self._digits)

    async def wait_for_digit(self, timeout: float) -> bool:
        """Wait up to `timeout` s for a digit in the buffer; True if one is there."""
        if self._digits:
            return True
        if timeout <= 0 or self.cause is not None:
            return False
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._digit_waiter = waiter
        handle = loop.call_later(timeout, _resolve, waiter)
        try:
            await waiter
        finally:
            handle.cancel()
            self._digit_waiter = None
        return bool(self._digits)

    async def collect_digits(
        self,
        *,
        max_digits: int,
        first_timeout: float,
        inter_timeout: float,
        terminator: str = "",
    ) -> DigitResult:
        """Collect up to `max_digits`; the terminator ends input and is not returned.

        Digits already buffered (typed ahead or pressed over a barge-in prompt)
        count. A timeout returns what was collected so far with reason "timeout".
        """
        self.listening_changed("digits")
        try:
            got: list[str] = []
            timeout = first_timeout
            while len(got) < max_digits:
                if not await self.wait_for_digit(timeout):
                    return DigitResult("".join(got), "timeout")
                digit = self._digits.popleft()
                if terminator and digit in terminator:
                    return DigitResult("".join(got), "terminator")
                got.append(digit)
                timeout = inter_timeout
            return DigitResult("".join(got), "max_digits")
        finally:
            self.listening_changed(None)

    def listening_changed(self, what: str | None) -> None:  # noqa: B027 (optional hook)
        """Hook: the engine now waits for caller input ("digits", "speech",
        "record"), or no longer (None). A backend that must know (to start an
        ASR stream) overrides it."""

    # ---- engine side: answer, early media, end -------------------------------------------------
    async def answer(self) -> None:
        """Answer (200 OK); after progress too. Does nothing once answered or over."""
        if self.answered or self.cause is not None:
            return
        self.answered = True
        self.early = None
        await self.send_answer()

    async def ring(self) -> None:
        """Tell the caller it is ringing (180) before answering."""
        if self.answered or self.cause is not None or self.early is not None:
            return
        self.early = "ringing"
        await self.send_ringing()

    async def progress(self) -> None:
        """Open early media (183 with SDP): prompts may play before answer."""
        if self.answered or self.cause is not None or self.early == "progress":
            return
        self.early = "progress"
        await self.send_progress()

    async def reject(self, cause: HangupCause | str = REJECTED) -> None:
        """Refuse the call before answering it (486 busy, 603 rejected, 480 ...)."""
        if self.answered:
            raise UsageError("reject() is for a call not yet answered; use hangup()")
        await self.hangup(cause)

    async def hangup(self, cause: HangupCause | str = NORMAL) -> None:
        """End the call from the engine: BYE after answer, a final response
        before. Idempotent; never calls `on_hangup`."""
        ended = HangupCause.coerce(cause, by="engine", answered=self.answered)
        if self._finish(ended):
            await self.send_hangup(ended)

    # ---- engine side: media -------------------------------------------------------------------
    async def play(self, prompt: Prompt, *, barge_in: bool = False) -> bool:
        """Play a prompt to the end; with barge_in, stop at the first DTMF.

        Returns True when a digit interrupted it (the digit stays buffered).
        Before answer the call first goes to early media (progress). Music on
        hold stops for the prompt and resumes after it.
        """
        if not self.answered and self.early != "progress" and self.cause is None:
            await self.progress()
        self._prompting += 1
        paused = self.music_on and self._prompting == 1
        try:
            if paused:
                await self.music_stop()
            return await self.play_prompt(prompt, barge_in=barge_in)
        finally:
            self._prompting -= 1
            if paused and self.music_on and self._prompting == 0 and self.cause is None:
                await self.music_start(self.music)

    async def start_music(self, source: str | None = None) -> None:
        """Music on hold (a file, or the backend's default) until `stop_music`;
        prompts played meanwhile pre-empt it."""
        if self.cause is not None:
            return
        self.music_on = True
        self.music = source
        if not self._prompting:
            await self.music_start(source)

    async def stop_music(self) -> None:
        if not self.music_on:
            return
        self.music_on = False
        self.music = None
        if self.cause is None and not self._prompting:
            await self.music_stop()

    async def hold(self) -> None:
        """Put the caller on hold (re-INVITE sendonly). Music is separate:
        `start_music`. A held caller sends no media, so no DTMF either."""
        if self.held or self.cause is not None:
            return
        self.held = True
        await self.send_hold()

    async def unhold(self) -> None:
        if not self.held:
            return
        self.held = False
        if self.cause is None:
            await self.send_unhold()

    # ---- engine side: other parties --------------------------------------------------------------
    async def bridge(
        self, leg: Leg, *, record: bool = False, on_recording: Callable[[Recording], None] | None = None
    ) -> BridgeResult:
        """Connect the caller with an answered leg until either side hangs up;
        the other side is then released (the leg with the caller's cause, or
        the engine's when the bridge is cancelled). The caller stays ours when
        the leg ends first. With `record`, the conversation is recorded where
        the backend can (`start_bridge_recording`): the result carries it, and
        `on_recording` hears of it even when the bridge is cancelled (the
        caller's hangup interrupts the node). When the far end asks to hand
        the caller on (`Leg.transfer_received`), the bridge ends with the
        leg still up and the request in `BridgeResult.transfer`: the engine
        refuses it (and may bridge again) or carries it out."""
        if leg.state != "answered":
            raise UsageError(f"bridge() needs an answered leg; the leg to {leg.target} is {leg.state}")
        loop = asyncio.get_running_loop()
        started = loop.time()
        await self.connect_media(leg)
        recorder = self.start_bridge_recording(leg) if record else None
        recording: Recording | None = None
        handover: TransferRequest | None = None
        try:
            await asyncio.wait(
                (leg.ended(), self.hung_up(), leg.transfer_requested()), return_when=asyncio.FIRST_COMPLETED
            )
            if leg.transfer_requested().done() and not leg.ended().done() and self.cause is None:
                handover = leg.transfer_requested().result()
        finally:
            if not leg.ended().done() and handover is None:
                leg.hangup(self.cause or HangupCause.of(NORMAL, answered=True))
            if recorder is not None:
                recording = await recorder.finish()
                if recording is not None and on_recording is not None:
                    on_recording(recording)
            if self.cause is None:
                await self.disconnect_media(leg)
        if handover is not None:
            return BridgeResult(round(loop.time() - started, 3), "callee", None, recording, handover)
        cause = leg.ended().result()
        return BridgeResult(round(loop.time() - started, 3), cause.by, cause, recording)

    def start_bridge_recording(self, leg: Leg) -> BridgeRecorder | None:
        """Hook: start recording the bridged conversation with `leg` (both
        parties); None where the backend cannot record one."""
        return None

    def blind_transfer(self, target: str, *, timeout: float = 30.0) -> BlindTransfer:
        """Hand the call to `target` for good; see `BlindTransfer` for how it resolves."""
        transfer = BlindTransfer(self, target, timeout)
        if self.cause is not None:
            transfer._finish(TransferResult(False, "hangup", False))
        else:
            self.send_transfer(transfer)
        return transfer

    # ---- backend primitives ---------------------------------------------------------------------
    @abstractmethod
    async def send_answer(self) -> None:
        """200 OK with SDP / ARI answer / ESL answer."""

    @abstractmethod
    async def send_hangup(self, cause: HangupCause) -> None:
        """End the call on the platform: BYE after answer (`answered`), else a
        final response (`cause.sip_status`). Called once."""

    @abstractmethod
    async def send_ringing(self) -> None:
        """180 Ringing / ARI ring / ESL ring_ready."""

    @abstractmethod
    async def send_progress(self) -> None:
        """183 Session Progress with SDP / ESL pre_answer: media may flow."""

    @abstractmethod
    async def play_prompt(self, prompt: Prompt, *, barge_in: bool) -> bool:
        """Play one prompt (see `play` for the contract); music is already off."""

    @abstractmethod
    async def record(
        self, *, max_length: float, silence_end: float, terminators: str, beep: bool
    ) -> Recording: ...

    @abstractmethod
    async def recognize(
        self, *, phrases: list[str], timeout: float, language: str | None
    ) -> RecognitionResult: ...

    @abstractmethod
    def start_leg(
        self,
        target: str,
        *,
        ring_timeout: float,
        caller_id: str,
        caller_name: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Leg:
        """Start ringing `target` for this call and return at once."""

    @abstractmethod
    async def connect_media(self, leg: Leg) -> None:
        """Join the caller's media with the leg's (B2BUA relay, ARI bridge, uuid_bridge)."""

    @abstractmethod
    async def disconnect_media(self, leg: Leg) -> None:
        """Undo `connect_media`; the caller is still up."""

    @abstractmethod
    def send_transfer(self, transfer: BlindTransfer) -> None:
        """Send the transfer request (REFER) and report on `transfer` as the platform answers."""

    @abstractmethod
    async def send_hold(self) -> None:
        """re-INVITE a=sendonly / ARI hold / ESL uuid_hold."""

    @abstractmethod
    async def send_unhold(self) -> None:
        """re-INVITE a=sendrecv / ARI unhold / ESL uuid_hold off."""

    @abstractmethod
    async def music_start(self, source: str | None) -> None:
        """Start (or resume) the music stream to the caller."""

    @abstractmethod
    async def music_stop(self) -> None:
        """Stop (or pause, for a prompt) the music stream."""

    # ---- internals ------------------------------------------------------------------------------
    def _finish(self, cause: HangupCause) -> bool:
        """Record the end; False if the call had already ended."""
        if self.cause is not None:
            return False
        self.cause = cause
        if self._ended is not None and not self._ended.done():
            self._ended.set_result(cause)
        return True


#: one shared, read-only empty header map for calls whose trunk sent none
_NO_HEADERS: Mapping[str, str] = MappingProxyType({})


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)
