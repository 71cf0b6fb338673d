"""A SIP call: the call interface over the SIP core (signalling) and one RTP
endpoint (media).

What works on this backend: answer, ringing (180), early media (183 with
SDP: a prompt played before answer goes there), reject and hangup (final
response, or BYE with a Q.850 Reason), RFC 4733 and SIP INFO digits into the
shared digit buffer (so Gather, Menu and barge-in work); prompts from WAV
files of any rate and from text (espeak-ng, `flowengine.speech`) sent as
G.711 on the backend's shared 20 ms media clock; Record (the caller's audio
to an 8 kHz WAV, `telephony_adapters.sip.speech` says where); Recognize (the
caller's utterance, cut by an energy-based voice detector, to the
language's recogniser); music on hold from a file, looped; legs to
operators' phones (`phones`, `leg`) bridged back-to-back (`relay`) and
recorded when asked (`recording`); blind transfer by REFER (the NOTIFY's
sipfrag settles it) and hold/resume by re-INVITE (a=sendonly / a=sendrecv);
when the far end holds us (a=sendonly or a=inactive) our RTP stops until it
resumes. What does not work raises `NodeError(code="unsupported")` so the
node follows its error exit with a message that says so.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
from array import array
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from flowengine.errors import NodeError
from flowengine.speech.asr import AsrUnavailable, asr_problem, recognizer_for
from flowengine.telephony import (
    BlindTransfer,
    BridgeRecorder,
    Call,
    HangupCause,
    Leg,
    Prompt,
    RecognitionResult,
    Recording,
)
from flowengine.telephony.audio import resample, write_wav
from flowengine.telephony.dialpolicy import check_number
from telephony_adapters.sip import indialog
from telephony_adapters.sip.capture import AudioCapture
from telephony_adapters.sip.errors import LocalProtocolError
from telephony_adapters.sip.leg import SipLeg
from telephony_adapters.sip.media import RtpEndpoint
from telephony_adapters.sip.prompts import tone_frames, wav_frames
from telephony_adapters.sip.recording import ConversationRecorder
from telephony_adapters.sip.relay import MediaRelay
from telephony_adapters.sip.sdp import Negotiated
from telephony_adapters.sip.speech import recording_target, say_frames

if TYPE_CHECKING:
    from telephony_adapters.sip.backend import SipBackend

log = logging.getLogger("flowengine.sip.call")

#: how often Record and Recognize look at what they captured (seconds)
LISTEN_TICK = 0.05
#: silence after speech that ends an utterance for Recognize (seconds)
UTTERANCE_END = 0.8
#: longest utterance handed to a recogniser (seconds)
MAX_UTTERANCE = 15.0
#: audio kept from before speech was detected (seconds): the start of the first word
PRE_ROLL = 0.3


class SipCall(Call):
    backend_name = "sip"
    __slots__ = ("key", "sip", "negotiated", "rtp", "answered_at", "recordings", "_music", "relay", "transfer_pending")

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
        #: recordings made on this call (numbers their files)
        self.recordings = 0
        self._music: asyncio.Task[None] | None = None
        #: the RTP relay while the caller is bridged to a leg
        self.relay: MediaRelay | None = None
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
        if self._music is not None:
            self._music.cancel()
            self._music = None
        if self.relay is not None:
            self.relay.stop()
            self.relay = None
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
            frames = await say_frames(self.sip.settings, prompt, codec)

        def stop() -> bool:
            return not self.active or (barge_in and self.pending_digits() > 0)

        interrupted = await rtp.send_frames(frames, stop)
        return interrupted and self.active

    async def record(self, *, max_length: float, silence_end: float, terminators: str, beep: bool) -> Recording:
        self.recordings += 1
        path, uri = recording_target(self.sip.settings, self.sip.engine.media, self.call_id, self.recordings)
        if not self.active:  # the caller hung up before the recording began: an empty one
            await self._save(path, array("h"))
            return Recording(uri, 0.0, "hangup")
        rtp = await self._media()
        if beep and self.active:
            await rtp.send_frames(list(tone_frames(rtp.codec)), lambda: not self.active)
        loop = asyncio.get_running_loop()
        capture = AudioCapture(rtp.codec, loop.time(), max_seconds=max_length)
        rtp.audio_sink = lambda pkt: capture.packet(pkt, loop.time())
        self.listening_changed("record")
        try:
            while True:
                now = loop.time()
                if not self.active:
                    reason = "hangup"
                elif self._terminator_pressed(terminators):
                    reason = "terminator"
                elif capture.full or now - capture.started_at >= max_length:
                    reason = "max_length"
                elif silence_end > 0 and capture.silent_for(now) >= silence_end:
                    reason = "silence"
                else:
                    await self.wait_for_digit(LISTEN_TICK)
                    continue
                break
        finally:
            rtp.audio_sink = None
            self.listening_changed(None)
        samples = capture.samples
        if reason in ("silence", "max_length"):
            # a far end that sends nothing while silent still took that long
            missing = int(min(loop.time() - capture.started_at, max_length) * 8000) - len(samples)
            if missing > 4000:
                samples.extend(bytes(2 * missing))
        await self._save(path, samples)
        return Recording(uri, round(len(samples) / 8000, 3), reason)

    async def _save(self, path: Path, samples: array) -> None:
        try:
            await asyncio.to_thread(write_wav, path, samples)
        except OSError as exc:
            raise NodeError(f"the recording cannot be written: {exc.strerror or exc}", code="recording_failed") from None

    def _terminator_pressed(self, terminators: str) -> bool:
        """Read buffered digits: True at a terminator; other keys are ignored."""
        while (digit := self.next_digit()) is not None:
            if digit in terminators:
                return True
        return False

    async def recognize(self, *, phrases: list[str], timeout: float, language: str | None) -> RecognitionResult:
        settings = self.sip.settings.asr
        problem = asr_problem(language, settings)
        if problem is not None:
            raise NodeError(problem, code="asr_unavailable")
        rtp = await self._media()
        loop = asyncio.get_running_loop()
        capture = AudioCapture(rtp.codec, loop.time(), max_seconds=timeout + MAX_UTTERANCE)
        rtp.audio_sink = lambda pkt: capture.packet(pkt, loop.time())
        # the first use loads the model (seconds): on a worker thread, while the caller is already heard
        loading = loop.run_in_executor(None, recognizer_for, language, settings)
        self.listening_changed("speech")
        speech_sample = 0
        try:
            while self.active:
                now = loop.time()
                if capture.speech_at is None:
                    speech_sample = len(capture.samples)
                    if now - capture.started_at >= timeout:
                        break
                elif capture.silent_for(now) >= UTTERANCE_END or capture.full or now - capture.speech_at >= MAX_UTTERANCE:
                    break
                await asyncio.sleep(LISTEN_TICK)
        finally:
            rtp.audio_sink = None
            self.listening_changed(None)
        try:
            recognizer = await loading
        except AsrUnavailable as exc:
            raise NodeError(str(exc), code="asr_unavailable") from None
        if capture.speech_at is None or not self.active:
            return RecognitionResult(None, None, "timeout")
        first = max(0, speech_sample - int((PRE_ROLL + LISTEN_TICK) * 8000))
        utterance = resample(capture.samples[first:], 8000, 16000)
        heard = await recognizer.recognize_async(utterance, phrases)
        return RecognitionResult(heard.text or None, heard.confidence, "speech" if heard.text else "timeout")

    def start_leg(
        self,
        target: str,
        *,
        ring_timeout: float,
        caller_id: str,
        caller_name: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Leg:
        return self.sip.phones.ring(target, ring_timeout=ring_timeout, caller_id=caller_id, caller_name=caller_name)

    async def connect_media(self, leg: Leg) -> None:
        """Relay RTP both ways between the caller and the leg (back-to-back)."""
        if not isinstance(leg, SipLeg) or leg.rtp is None:
            raise NodeError(f"the leg to {leg.target} has no SIP media to bridge", code="unsupported")
        caller = await self._media()
        await self.stop_music()
        self.relay = MediaRelay(caller, leg.rtp)
        self.relay.start()

    async def disconnect_media(self, leg: Leg) -> None:
        relay, self.relay = self.relay, None
        if relay is not None:
            relay.stop()

    def start_bridge_recording(self, leg: Leg) -> BridgeRecorder | None:
        relay = self.relay
        if relay is None:
            return None
        leg_tag = hashlib.sha256(leg.leg_id.encode()).hexdigest()[:6]
        try:
            target = recording_target(self.sip.settings, self.sip.engine.media, self.call_id, f"bridge-{leg_tag}")
        except NodeError as exc:
            log.warning("call %s: %s; the conversation is not recorded", self.call_id, exc)
            return None
        return ConversationRecorder(relay, *target)

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
        if self._music is not None or not self.active:
            return
        rtp = await self._media()
        frames = self._music_frames(source, rtp.codec) or list(tone_frames(rtp.codec, 440.0, 0.4, 0.08, pause=3.6))
        self._music = asyncio.get_running_loop().create_task(self._play_music(rtp, frames), name=f"music:{self.call_id}")

    def _music_frames(self, source: str | None, codec: str) -> list[bytes]:
        """The scenario's music file, else the backend's, else a soft tone every 4 s.
        A name is read from disk only when the engine has media folders (then
        the engine has already found it there)."""
        if source is not None and self.sip.engine.media:
            return wav_frames(Path(source), codec)
        if source is not None:
            log.warning("call %s: music %r not played: the engine has no media folders", self.call_id, source)
        if self.sip.settings.music is not None:
            return wav_frames(Path(self.sip.settings.music), codec)
        return list(tone_frames(codec, 440.0, 0.4, 0.08, pause=3.6))

    async def _play_music(self, rtp: RtpEndpoint, frames: list[bytes]) -> None:
        while self.active and await rtp.send_frames(frames, lambda: not self.active) is False:
            pass  # the file ended: again from the start

    async def music_stop(self) -> None:
        task, self._music = self._music, None
        if task is not None:
            task.cancel()
            await asyncio.wait([task], timeout=1.0)


def _unsupported(what: str) -> NoReturn:
    raise NodeError(f"{what} is not available on the sip backend yet", code="unsupported")
