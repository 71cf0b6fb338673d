"""The call interface: what a telephony backend implements for each call.

Node handlers never touch sockets; they call these methods. Every operation
maps onto real telephony primitives (see docs/backends.md for the SIP/RTP,
Asterisk ARI and FreeSWITCH ESL counterparts), so the simulator is one
implementation among several, not the shape of the contract.

Shared behaviour lives here once: the DTMF buffer (type-ahead), digit
collection with first/inter-digit timeouts and terminator, barge-in, and the
hang-up notification that lets the interpreter interrupt whatever the call is
doing. A backend supplies the media primitives (`_play`, `_record`,
`_recognize`, `_start_leg`, `_bridge`, ...) and reports DTMF and remote hangup
by calling `dtmf_received` and `remote_hangup`.
"""

from __future__ import annotations

import asyncio
import enum
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass


class DialOutcome(enum.StrEnum):
    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    #: the person declined the call (SIP 603 Decline, Q.850 cause 21)
    REJECTED = "rejected"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Prompt:
    """Something to play: `kind` "say" is TTS text, "play" an audio file path."""

    kind: str
    text: str
    language: str | None = None
    voice: str | None = None


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
    """How a bridged conversation ended: `ended_by` is caller, agent or engine."""

    talk_time: float
    ended_by: str


class Leg(ABC):
    """An outgoing leg being rung (B-leg): INVITE / ARI originate / ESL originate."""

    target: str

    @abstractmethod
    def outcome(self) -> asyncio.Future[DialOutcome]:
        """Resolves once: answered, busy, no_answer (ring timeout) or failed."""

    @abstractmethod
    def cancel(self) -> None:
        """Stop ringing (CANCEL); harmless after the outcome is known."""


class Call(ABC):
    """One call as seen by the engine. Subclassed by each backend."""

    backend_name = "abstract"

    def __init__(
        self,
        call_id: str,
        caller: str,
        called: str,
        *,
        line: str | None = None,
        caller_name: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.call_id = call_id
        self.caller = caller
        self.called = called
        #: the line (trunk) the call arrived on, as configured; None if unknown
        self.line = line
        #: the caller's display name (SIP From display-name, CNAM)
        self.caller_name = caller_name
        #: what the trunk sent beside the numbers (X- headers, Diversion), by header name
        self.headers: Mapping[str, str] = headers or {}
        self.answered = False
        self.hangup_cause: str | None = None
        self.hangup_by: str | None = None
        self.on_hangup: Callable[[str], None] | None = None
        self._digits: deque[str] = deque()
        self._digit_waiter: asyncio.Future[None] | None = None
        self._digit_watch: asyncio.Future[None] | None = None

    # ---- events from the backend -------------------------------------------------
    def dtmf_received(self, digit: str) -> None:
        """A DTMF digit arrived (RFC 4733 event, ARI ChannelDtmfReceived, ESL DTMF)."""
        if self.hangup_cause is not None:
            return
        self._digits.append(digit)
        for waiter in (self._digit_waiter, self._digit_watch):
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    def remote_hangup(self, cause: str = "normal") -> None:
        """The far end hung up (BYE, ARI StasisEnd, ESL CHANNEL_HANGUP)."""
        if self.hangup_cause is not None:
            return
        self.hangup_cause = cause
        self.hangup_by = "caller"
        waiter = self._digit_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        if self.on_hangup is not None:
            self.on_hangup(cause)

    @property
    def active(self) -> bool:
        return self.hangup_cause is None

    # ---- digits ---------------------------------------------------------------------
    def wake_on_digit(self, fut: asyncio.Future[None] | None) -> None:
        """Also resolve `fut` when a digit arrives: for a node that waits on
        something else too (a queue's decisions) and must notice a key press."""
        self._digit_watch = fut

    def flush_digits(self) -> None:
        self._digits.clear()

    def take_digits(self) -> str:
        """The buffered digits, removed from the buffer."""
        digits = "".join(self._digits)
        self._digits.clear()
        return digits

    def pending_digits(self) -> int:
        return len(self._digits)

    async def wait_for_digit(self, timeout: float) -> bool:
        """Wait up to `timeout` s for a digit in the buffer; True if one is there."""
        if self._digits:
            return True
        if timeout <= 0 or self.hangup_cause is not None:
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
        self._listening("digits")
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
            self._listening(None)

    def _listening(self, what: str | None) -> None:  # noqa: B027 (optional hook)
        """Hook: the engine now waits for caller input ("digits", "speech", "record")."""

    # ---- media and control: each backend implements these --------------------------
    @abstractmethod
    async def answer(self) -> None: ...

    @abstractmethod
    async def hangup(self, cause: str = "normal") -> None:
        """Engine-side hangup; must set hangup_cause/hangup_by ("engine")."""

    @abstractmethod
    async def play(self, prompt: Prompt, *, barge_in: bool = False) -> bool:
        """Play a prompt to the end; with barge_in, stop at the first DTMF.

        Returns True when a digit interrupted it (the digit stays buffered).
        """

    @abstractmethod
    async def record(
        self, *, max_length: float, silence_end: float, terminators: str, beep: bool
    ) -> Recording: ...

    @abstractmethod
    async def recognize(
        self, *, phrases: list[str], timeout: float, language: str | None
    ) -> RecognitionResult: ...

    @abstractmethod
    def start_leg(self, target: str, *, ring_timeout: float, caller_id: str) -> Leg:
        """Start ringing a target; the leg's outcome future says what happened."""

    @abstractmethod
    async def bridge(self, leg: Leg) -> BridgeResult:
        """Connect the caller with an answered leg until either side hangs up."""

    @abstractmethod
    async def blind_transfer(self, target: str) -> bool:
        """Hand the call to another number (REFER / ARI redirect / ESL transfer)."""

    @abstractmethod
    async def hold(self, music: str | None = None) -> None: ...

    @abstractmethod
    async def unhold(self) -> None: ...


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)
