"""A simulated call: the call interface on asyncio timers, driven by a script.

Media takes simulated time: a TTS prompt lasts about as long as it takes to
speak (`flowengine.telephony.audio.say_seconds`), an audio file its WAV length. The scripted
caller is a small state machine on loop callbacks (no task of its own), so a
paused call costs little memory.
"""

from __future__ import annotations

import array
import asyncio
import math
import wave
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, cast

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
from flowengine.telephony.audio import say_seconds, write_wav
from flowengine.telephony.media import open_media
from flowengine.testing.script import CallerScript

if TYPE_CHECKING:
    from telephony_adapters.sim.backend import SimBackend

UNKNOWN_AUDIO_SECONDS = 1.0
RECORDING_RATE = 8000
#: one period of a quiet 400 Hz tone at 8 kHz (16-bit mono): what the simulated caller "says"
_TONE = array.array("h", (int(3000 * math.sin(2 * math.pi * i / 20)) for i in range(20))).tobytes()


def write_recording(path: Path, duration: float, voiced: float) -> None:
    """A WAV (8 kHz mono 16-bit) of `duration` seconds: a tone for the first
    `voiced` seconds (the caller speaking), silence after."""
    frames = int(duration * RECORDING_RATE)
    tone = int(min(voiced, duration) * RECORDING_RATE) // 20 * 20
    samples = array.array("h", _TONE * (tone // 20) + bytes(2 * (frames - tone)))
    write_wav(path, samples, RECORDING_RATE)


def prompt_seconds(prompt: Prompt) -> float:
    """How long a prompt plays. An audio file is read only when the engine
    found it in its media folders (`prompt.file`, a regular file); otherwise
    it counts as `UNKNOWN_AUDIO_SECONDS`."""
    if prompt.kind == "say":
        return say_seconds(prompt.text)
    if prompt.file is None:
        return UNKNOWN_AUDIO_SECONDS
    try:
        with open_media(prompt.file) as fh, wave.open(fh, "rb") as wav:
            return wav.getnframes() / float(wav.getframerate())
    except (OSError, wave.Error, EOFError, ZeroDivisionError):
        return UNKNOWN_AUDIO_SECONDS


class SimCall(Call):
    backend_name = "sim"
    __slots__ = (
        "script",
        "_step",
        "_listen",
        "_pending",
        "_timer",
        "_hangup_timer",
        "_patience_timer",
        "_speech",
        "_last_speech",
        "_on_speech",
        "recordings",
        "music_log",
    )

    def __init__(self, backend: SimBackend, call_id: str, script: CallerScript) -> None:
        super().__init__(
            call_id,
            script.caller,
            script.called,
            line=script.line,
            caller_name=script.caller_name,
            headers=script.headers or None,
            backend=backend,
        )
        self.script = script
        self._step = 0
        self._listen: str | None = None
        self._pending: str | None = None  # "digits" or "speech": the step waiting for it
        self._timer: asyncio.TimerHandle | None = None
        self._hangup_timer: asyncio.TimerHandle | None = None
        self._patience_timer: asyncio.TimerHandle | None = None
        self._speech: asyncio.Future[str | None] | None = None
        self._last_speech: float = 0.0
        self._on_speech: asyncio.Future[None] | None = None
        self.recordings = 0
        #: (time, source) each time the music the caller hears changes (None: silence)
        self.music_log: list[tuple[float, str | None]] | None = None

    @property
    def sim(self) -> SimBackend:
        return cast("SimBackend", self.backend)

    # ---- the scripted caller -------------------------------------------------------
    def start_script(self) -> None:
        loop = asyncio.get_running_loop()
        if self.script.hangup_after is not None:
            self._hangup_timer = loop.call_later(self.script.hangup_after, self.remote_hangup, "normal")
        self._advance()

    def _advance(self) -> None:
        self._timer = None
        steps = self.script.steps
        loop = asyncio.get_running_loop()
        while self._step < len(steps) and self.active:
            step = steps[self._step]
            kind = step.kind
            if kind in ("wait", "silence"):
                self._step += 1
                self._timer = loop.call_later(step.wait if kind == "wait" else step.silence, self._advance)  # type: ignore[arg-type]
                return
            if kind == "press":
                self._step += 1
                for digit in step.press or "":
                    self.dtmf_received(digit)
                continue
            if kind == "hangup":
                self._step += 1
                self.remote_hangup("normal")
                return
            # input / say wait until the scenario listens for that kind of input
            self._pending = "digits" if kind == "input" else "speech"
            self._maybe_answer()
            return

    def _maybe_answer(self) -> None:
        if self._pending is None or self._timer is not None:
            return
        wanted = self._listen
        if wanted is None:
            return
        if self._pending == "digits" and wanted != "digits":
            return
        if self._pending == "speech" and wanted not in ("speech", "record"):
            return
        self._timer = asyncio.get_running_loop().call_later(self.script.think, self._answer)

    def _answer(self) -> None:
        self._timer = None
        if not self.active or self._step >= len(self.script.steps):
            return
        step = self.script.steps[self._step]
        self._step += 1
        self._pending = None
        if step.input is not None:
            for digit in step.input:
                self.dtmf_received(digit)
        elif step.say is not None:
            self._speak(step.say)
        # Let the engine take this answer first (a collection may end and the
        # scenario move on); only then may the next step look at what it listens for.
        asyncio.get_running_loop().call_soon(self._advance)

    def say(self, text: str) -> None:
        """The caller says `text` now: a test console drives a call by hand
        (a Recognize or Record node listening hears it)."""
        if self.active:
            self._speak(text)

    def _speak(self, text: str) -> None:
        self._last_speech = asyncio.get_running_loop().time()
        fut = self._speech
        if fut is not None and not fut.done():
            fut.set_result(text)
        if self._on_speech is not None and not self._on_speech.done():
            self._on_speech.set_result(None)

    def listening_changed(self, what: str | None) -> None:
        self._listen = what
        if what is not None:
            self._maybe_answer()

    def _stop_script(self) -> None:
        for handle in (self._timer, self._hangup_timer, self._patience_timer):
            if handle is not None:
                handle.cancel()
        self._timer = self._hangup_timer = self._patience_timer = None

    def transferred(self) -> None:
        """A blind transfer went through: the script is over for this engine."""
        self._stop_script()

    def remote_hangup(self, cause: HangupCause | str = "normal") -> None:
        if not self.active:
            return
        self._stop_script()
        for fut in (self._speech, self._on_speech):
            if fut is not None and not fut.done():
                fut.set_result(None)
        super().remote_hangup(cause)

    # ---- backend primitives ----------------------------------------------------------------
    async def send_answer(self) -> None:
        pass

    async def send_hangup(self, cause: HangupCause) -> None:
        self._stop_script()

    async def send_ringing(self) -> None:
        pass

    async def send_progress(self) -> None:
        pass

    async def play_prompt(self, prompt: Prompt, *, barge_in: bool) -> bool:
        seconds = prompt_seconds(prompt)
        if barge_in:
            return await self.wait_for_digit(seconds)
        await asyncio.sleep(seconds)
        return False

    async def recognize(
        self, *, phrases: list[str], timeout: float, language: str | None
    ) -> RecognitionResult:
        loop = asyncio.get_running_loop()
        self._speech = loop.create_future()
        handle = loop.call_later(timeout, _set_none, self._speech)
        self.listening_changed("speech")
        try:
            text = await self._speech
        finally:
            handle.cancel()
            self._speech = None
            self.listening_changed(None)
        if text is None:
            return RecognitionResult(None, None, "timeout")
        return RecognitionResult(text, 1.0, "speech")

    async def record(
        self, *, max_length: float, silence_end: float, terminators: str, beep: bool
    ) -> Recording:
        loop = asyncio.get_running_loop()
        started = loop.time()
        self._last_speech = started
        self.recordings += 1
        uri = f"sim://recordings/{self.call_id}/{self.recordings}.wav"
        folder = self.sim.recordings_dir
        self.listening_changed("record")
        reason = "max_length"
        try:
            while self.active:
                now = loop.time()
                left = started + max_length - now
                if left <= 0:
                    reason = "max_length"
                    break
                quiet_left = self._last_speech + silence_end - now if silence_end > 0 else left
                if quiet_left <= 0:
                    reason = "silence"
                    break
                digit = self.next_digit() if terminators else None
                if digit is not None:
                    if digit in terminators:
                        reason = "terminator"
                        break
                    continue
                self._on_speech = loop.create_future()
                wait = min(left, quiet_left)
                handle = loop.call_later(wait, _set_none, self._on_speech)
                waiter = self._on_speech
                if terminators:
                    self.wake_on_digit(waiter)
                try:
                    await waiter
                finally:
                    handle.cancel()
                    self._on_speech = None
                    if terminators:
                        self.wake_on_digit(None)
            else:
                reason = "hangup"
        finally:
            self.listening_changed(None)
        duration = round(loop.time() - started, 3)
        if folder is not None:  # a real file, as a telephony backend would leave
            path = folder / self.call_id / f"{self.recordings}.wav"
            voiced = max(0.0, duration - silence_end) if reason == "silence" else duration
            write_recording(path, duration, voiced)
            uri = path.resolve().as_uri()
        return Recording(uri, duration, reason)

    def start_leg(
        self,
        target: str,
        *,
        ring_timeout: float,
        caller_id: str,
        caller_name: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Leg:
        return self.sim.ring(target, ring_timeout=ring_timeout)

    async def connect_media(self, leg: Leg) -> None:
        pass

    def start_bridge_recording(self, leg: Leg) -> BridgeRecorder | None:
        """A recorded conversation: a `sim://` URI as long as the talk."""
        return _SimBridgeRecording(f"sim://recordings/{self.call_id}/bridge-{leg.leg_id}.wav")

    async def disconnect_media(self, leg: Leg) -> None:
        pass

    def send_transfer(self, transfer: BlindTransfer) -> None:
        self.sim.transfer(self, transfer)

    async def send_hold(self) -> None:
        pass

    async def send_unhold(self) -> None:
        pass

    async def music_start(self, source: str | None) -> None:
        """Music on: a caller with `patience` gives up that long after the
        music first started (a prompt pausing it does not reset the clock)."""
        self._log_music(source)
        patience = self.script.patience
        if patience is not None and self._patience_timer is None and self.active:
            loop = asyncio.get_running_loop()
            self._patience_timer = loop.call_later(patience, self.remote_hangup, "normal")

    async def music_stop(self) -> None:
        self._log_music(None)
        if not self.music_on and self._patience_timer is not None:
            self._patience_timer.cancel()
            self._patience_timer = None

    def _log_music(self, source: str | None) -> None:
        if self.music_log is None:
            self.music_log = []
        self.music_log.append((asyncio.get_running_loop().time(), source))


class _SimBridgeRecording(BridgeRecorder):
    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.started = asyncio.get_running_loop().time()

    async def finish(self) -> Recording | None:
        return Recording(self.uri, round(asyncio.get_running_loop().time() - self.started, 3), "conversation")


def _set_none(fut: asyncio.Future) -> None:  # type: ignore[type-arg]
    if not fut.done():
        fut.set_result(None)
