"""Prompts as G.711 frames: WAV files of any rate and width, mixed to mono,
resampled to 8 kHz and encoded once, then cached by path, modification time
and codec. Frames are 160 bytes (20 ms); the last one is padded with silence.
"""

from __future__ import annotations

import os
import wave
from array import array
from functools import lru_cache
from pathlib import Path

from flowengine.errors import NodeError
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
        with wave.open(path, "rb") as wav:
            channels, width, rate, count = wav.getnchannels(), wav.getsampwidth(), wav.getframerate(), wav.getnframes()
            if rate <= 0 or count / rate > MAX_PROMPT_SECONDS:
                raise NodeError(f"prompt file {Path(path).name!r} is longer than {MAX_PROMPT_SECONDS} s", code="media_invalid")
            raw = wav.readframes(count)
    except (OSError, wave.Error, EOFError) as exc:
        raise NodeError(f"prompt file {Path(path).name!r} is not a PCM WAV file ({exc})", code="media_invalid") from None
    samples = _to_mono16(raw, width, channels)
    samples = _resample(samples, rate, RATE)
    data = encode(samples, codec)
    pad = (-len(data)) % SAMPLES_PER_FRAME
    data += bytes([SILENCE[codec]]) * pad
    return tuple(data[i : i + SAMPLES_PER_FRAME] for i in range(0, len(data), SAMPLES_PER_FRAME))


def _to_mono16(raw: bytes, width: int, channels: int) -> array:
    if width == 1:
        samples = array("h", ((b - 128) << 8 for b in raw))
    elif width == 2:
        samples = array("h")
        samples.frombytes(raw[: len(raw) - len(raw) % 2])
    elif width in (3, 4):
        samples = array("h", (int.from_bytes(raw[i + width - 2 : i + width], "little", signed=True) for i in range(0, len(raw) - width + 1, width)))
    else:
        raise NodeError(f"unsupported WAV sample width {width}", code="media_invalid")
    if channels > 1:
        samples = array("h", (sum(samples[i : i + channels]) // channels for i in range(0, len(samples) - channels + 1, channels)))
    return samples


def _resample(samples: array, src: int, dst: int) -> array:
    """Linear interpolation; a prompt's quality is bounded by 8 kHz G.711 anyway."""
    if src == dst or not samples:
        return samples
    n_out = int(len(samples) * dst / src)
    step = src / dst
    last = len(samples) - 1
    out = array("h", bytes(2 * n_out))
    for i in range(n_out):
        pos = i * step
        j = int(pos)
        frac = pos - j
        a = samples[j]
        b = samples[j + 1] if j < last else a
        out[i] = int(a + (b - a) * frac)
    return out
