"""Prompts as G.711 frames: WAV files of any rate and width, mixed to mono,
resampled to 8 kHz and encoded once, then cached by path, modification time
and codec (said prompts are WAV files too: the TTS cache's). Frames are 160
bytes (20 ms); the last one is padded with silence. Tones for Record's beep
and the default music on hold.
"""

from __future__ import annotations

import math
import os
import wave
from array import array
from functools import lru_cache
from pathlib import Path

from flowengine.errors import NodeError
from flowengine.telephony.audio import resample, to_mono16
from flowengine.telephony.media import open_media
from telephony_adapters.sip.rtp import SAMPLES_PER_FRAME, SILENCE, encode

RATE = 8000
#: longest prompt file accepted (seconds), so one prompt cannot fill memory
MAX_PROMPT_SECONDS = 600


def silence_frames(seconds: float, codec: str) -> list[bytes]:
    frame = bytes([SILENCE[codec]]) * SAMPLES_PER_FRAME
    return [frame] * max(1, round(seconds / 0.02))


def wav_frames(path: Path, codec: str) -> list[bytes]:
    """The frames of a WAV file; `NodeError(code="media_missing")` if it cannot be read."""
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError as exc:
        raise NodeError(f"prompt file {path.name!r} cannot be read: {exc.strerror}", code="media_missing") from None
    return list(_wav_frames(str(path), mtime, codec))


@lru_cache(maxsize=256)
def _wav_frames(path: str, mtime: int, codec: str) -> tuple[bytes, ...]:
    try:
        # no FIFO or device, opened without blocking (flowengine.telephony.media)
        with open_media(path) as fh, wave.open(fh, "rb") as wav:
            channels, width, rate, count = wav.getnchannels(), wav.getsampwidth(), wav.getframerate(), wav.getnframes()
            if rate <= 0 or count / rate > MAX_PROMPT_SECONDS:
                raise NodeError(f"prompt file {Path(path).name!r} is longer than {MAX_PROMPT_SECONDS} s", code="media_invalid")
            raw = wav.readframes(count)
    except (OSError, wave.Error, EOFError) as exc:
        raise NodeError(f"prompt file {Path(path).name!r} is not a PCM WAV file ({exc})", code="media_invalid") from None
    try:
        samples = to_mono16(raw, width, channels)
    except ValueError as exc:
        raise NodeError(f"prompt file {Path(path).name!r}: {exc}", code="media_invalid") from None
    return tuple(pcm_frames(resample(samples, rate, RATE), codec))


def pcm_frames(samples: array, codec: str) -> list[bytes]:
    """8 kHz 16-bit samples as 20 ms G.711 frames, the last padded with silence."""
    data = encode(samples, codec)
    pad = (-len(data)) % SAMPLES_PER_FRAME
    data += bytes([SILENCE[codec]]) * pad
    return [data[i : i + SAMPLES_PER_FRAME] for i in range(0, len(data), SAMPLES_PER_FRAME)]


@lru_cache(maxsize=16)
def tone_frames(codec: str, frequency: float = 1000.0, seconds: float = 0.4, level: float = 0.25, pause: float = 0.0) -> tuple[bytes, ...]:
    """A sine tone (`level` of full scale) followed by `pause` s of silence:
    Record's beep, and the default music on hold when none is configured."""
    n = int(seconds * RATE)
    amplitude = level * 32767
    tone = array("h", (int(amplitude * math.sin(2 * math.pi * frequency * i / RATE)) for i in range(n)))
    tone.extend(array("h", bytes(2 * int(pause * RATE))))
    return tuple(pcm_frames(tone, codec))
