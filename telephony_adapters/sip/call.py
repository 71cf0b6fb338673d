"""A SIP call: the call interface over the SIP core (signalling) and one RTP
endpoint (media).

What works on this backend today: answer, ringing (180), early media (183
with SDP), reject and hangup (final response, or BYE with a Q.850 Reason),
RFC 4733 and SIP INFO digits into the shared digit buffer (so Gather, Menu
and barge-in work), and prompts from WAV files sent as G.711 on the backend's
shared 20 ms media clock; blind transfer by REFER (the NOTIFY's sipfrag
settles it) and hold/resume by re-INVITE (a=sendonly / a=sendrecv); when
the far end holds us (a=sendonly or a=inactive) our RTP stops until it
resumes. What does not work yet raises `NodeError(code="unsupported")`
so the node follows its error exit with a message that says so: text to
speech, recording, speech recognition, outgoing legs, bridging and music. A `say` prompt has no TTS engine here yet: it is sent as
silence of the length the simulator would give it, with a warning.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from flowengine.errors import NodeError
from flowengine.telephony import (
    BlindTransfer,
    Call,
    HangupCause,
    Leg,
    Prompt,
    RecognitionResult,
    Recording,
)
from flowengine.telephony.audio import say_seconds
from flowengine.telephony.dialpolicy import check_number
from telephony_adapters.sip import indialog
from telephony_adapters.sip.errors import LocalProtocolError
from telephony_adapters.sip.media import RtpEndpoint
from telephony_adapters.sip.prompts import silence_frames, wav_frames
from telephony_adapters.sip.sdp import Negotiated

if TYPE_CHECKING:
    from telephony_adapters.sip.backend import SipBackend

log = logging.getLogger("flowengine.sip.call")

class SipCall(Call):
    backend_name = "sip"
    __slots__ = ("key", "sip", "negotiated", "rtp", "answered_at", "transfer_pending")

    def __init__(
        self,
        sip: SipBackend,
        key: str,
        call_id: str,
        caller: str,
        called: str,
        *,
        line: str | None,
        caller_name: str | None,
        headers: Mapping[str, str],
        negotiated: Negotiated | None,
    ) -> None:
        super().__init__(call_id, caller, called, line=line, caller_name=caller_name, headers=headers, backend=sip)
        self.sip = sip
        #: the core's name for this call (our To-tag)
        self.key = key
        self.negotiated = negotiated
        self.rtp: RtpEndpoint | None = None
        #: loop time of our 200 OK (None before)
        self.answered_at: float | None = None
        #: the blind transfer whose REFER awaits its final NOTIFY
        self.transfer_pending: BlindTransfer | None = None

    # ---- media ---------------------------------------------------------------------------------------
    async def _media(self) -> RtpEndpoint:
        if self.rtp is None:
            rtp = await RtpEndpoint.open(self.sip.settings.host, self.sip.rtp_pool, self.dtmf_received, self.sip.media_clock)
            if self.rtp is not None or not self.active:  # opened twice, or the call ended meanwhile
                self.sip.release_rtp(rtp)
                if self.rtp is None:
                    raise NodeError("the call ended before its media was ready", code="no_media")
            else:
                self.rtp = rtp
                if self.negotiated is not None:
                    self._configure(self.negotiated)
        return self.rtp

    def _configure(self, negotiated: Negotiated) -> None:
        self.negotiated = negotiated
        if self.rtp is not None:
            self.rtp.configure(negotiated.remote, negotiated.codec, negotiated.payload_type, negotiated.dtmf_payload_type)
            # the far end put us on hold (its a=sendonly or a=inactive): send nothing until it resumes
            held = negotiated.direction in ("recvonly", "inactive")
            if held != self.rtp.held:  # the media timeout counts from the change, not from before the hold
                self.rtp.last_received = asyncio.get_running_loop().time()
            self.rtp.held = held

    def media_changed(self, negotiated: Negotiated) -> None:
        """A re-INVITE moved or held the far end's media."""
        self._configure(negotiated)

    def release_media(self) -> None:
        if self.rtp is not None:
            self.sip.release_rtp(self.rtp)
            self.rtp = None

    # ---- signalling primitives ----------------------------------------------------------------------
    async def send_answer(self) -> None:
        rtp = await self._media()
        if self.active:
            self.sip.command(self.sip.core.answer, self.key, media=(self.sip.settings.media_address, rtp.port))
            self.answered_at = asyncio.get_running_loop().time()

    async def send_ringing(self) -> None:
        self.sip.command(self.sip.core.ring, self.key)

    async def send_progress(self) -> None:
        rtp = await self._media()
        if self.active:
            self.sip.command(self.sip.core.progress, self.key, media=(self.sip.settings.media_address, rtp.port))

    async def send_hangup(self, cause: HangupCause) -> None:
        try:
            self.sip.command(self.sip.core.hangup, self.key, q850=cause.q850, status=cause.sip_status or 480)
        except LocalProtocolError:
            pass  # the dialog was already gone (the far end ended it in the same instant)
        finally:
            self.release_media()

    # ---- media primitives ---------------------------------------------------------------------------
    async def play_prompt(self, prompt: Prompt, *, barge_in: bool) -> bool:
        if barge_in and self.pending_digits():
            return True
        rtp = await self._media()
        codec = rtp.codec
        if prompt.kind == "play":
            # the engine looked the name up in its media folders (confined there)
            if prompt.file is None:
                raise NodeError(f"audio {prompt.text!r} is not in the engine's media folders", code="media_not_found")
            frames = wav_frames(Path(prompt.file), codec)
        else:
            seconds = say_seconds(prompt.text)
            log.warning("call %s: no TTS engine on the sip backend yet; %r sent as %.1f s of silence", self.call_id, prompt.text[:40], seconds)
            frames = silence_frames(seconds, codec)

        def stop() -> bool:
            return not self.active or (barge_in and self.pending_digits() > 0)

        interrupted = await rtp.send_frames(frames, stop)
        return interrupted and self.active

    async def record(self, *, max_length: float, silence_end: float, terminators: str, beep: bool) -> Recording:
        _unsupported("recording")

    async def recognize(self, *, phrases: list[str], timeout: float, language: str | None) -> RecognitionResult:
        _unsupported("speech recognition")

    def start_leg(
        self,
        target: str,
        *,
        ring_timeout: float,
        caller_id: str,
        caller_name: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Leg:
        _unsupported("outgoing legs")

    async def connect_media(self, leg: Leg) -> None:
        _unsupported("bridging")

    async def disconnect_media(self, leg: Leg) -> None:
        _unsupported("bridging")

    def send_transfer(self, transfer: BlindTransfer) -> None:
        """REFER the far end to the number (Refer-To on its own host); the
        202 or refusal and the final NOTIFY are reported on `transfer`."""
        verdict = check_number(transfer.target)
        if not verdict.allowed:  # the node checked the dial policy; a URI never gets here
            log.warning("call %s: not transferring to %r: %s", self.call_id, transfer.target[:40], verdict.detail)
            transfer.refuse_received(None)
            return
        self.transfer_pending = transfer
        task = asyncio.get_running_loop().create_task(self._refer(transfer), name=f"refer:{self.call_id}")
        self.sip.background.add(task)
        task.add_done_callback(self.sip.background.discard)

    async def _refer(self, transfer: BlindTransfer) -> None:
        if not await self._established():
            self.transfer_pending = None
            transfer.refuse_received(None)
            return
        session = self.sip.core._sessions.get(self.key)  # noqa: SLF001
        if session is None:
            self.transfer_pending = None
            transfer.refuse_received(None)
            return
        remote = session.dialog.remote_target
        host, port = remote.host_port(5060)
        shown = f"[{host}]" if ":" in host else host
        refer_to = f"sip:{transfer.target}@{shown}:{port}"

        def outcome(status: int) -> None:
            if 200 <= status < 300:
                transfer.accept_received()
            else:
                self.transfer_pending = None
                transfer.refuse_received(status)

        try:
            self.sip.command(functools.partial(indialog.refer, self.sip.core), self.key, refer_to=refer_to, done=outcome)
        except LocalProtocolError:
            self.transfer_pending = None
            transfer.refuse_received(None)

    async def _established(self, timeout: float = 10.0) -> bool:
        """Wait until the far end ACKed our 200 (requests inside the dialog
        may go out only then); False if the call ended or no ACK came."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.active and loop.time() < deadline:
            session = self.sip.core._sessions.get(self.key)  # noqa: SLF001
            if session is None:
                return False
            if session.state == "confirmed":
                return True
            await asyncio.sleep(0.02)
        return False

    def refer_notified(self, status: int) -> None:
        """A NOTIFY of the REFER: a final status settles the transfer."""
        transfer = self.transfer_pending
        if transfer is not None and status >= 200:
            self.transfer_pending = None
            transfer.notify_received(status)

    async def send_hold(self) -> None:
        await self._reinvite("sendonly")

    async def send_unhold(self) -> None:
        await self._reinvite("sendrecv")

    async def _reinvite(self, direction: str) -> None:
        """Offer our media with `direction` and wait for the far end's answer."""
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        if not await self._established():
            return

        def outcome(status: int) -> None:
            if not done.done():
                done.set_result(status)

        try:
            self.sip.command(functools.partial(indialog.reinvite, self.sip.core), self.key, direction=direction, done=outcome)
        except LocalProtocolError:
            return  # not established (ended, or our 200 not yet ACKed): nothing to hold
        status = await done
        if not 200 <= status < 300:
            log.warning("call %s: the far end answered %d to our re-INVITE (%s)", self.call_id, status, direction)

    async def music_start(self, source: str | None) -> None:
        _unsupported("music on hold")

    async def music_stop(self) -> None:
        _unsupported("music on hold")


def _unsupported(what: str) -> NoReturn:
    raise NodeError(f"{what} is not available on the sip backend yet", code="unsupported")
