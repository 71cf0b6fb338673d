"""PCM conversions for prompts: any WAV sample layout to 16-bit mono at the
telephone rate. Pure Python on `array`, so it works where the standard
library's `audioop` is gone (Python 3.13); a prompt's quality is bounded by
8 kHz G.711 anyway, so linear interpolation is enough for resampling.

Used by the service's prompt upload and by the SIP backend's prompt player.
"""

from __future__ import annotations

import os
import wave
from array import array
from pathlib import Path

__all__ = [
    "MIN_PROMPT_SECONDS", "SAY_SECONDS_PER_CHAR", "TELEPHONE_RATE", "resample", "say_seconds", "to_mono16", "write_wav",
]

#: the sample rate prompts are played at
TELEPHONE_RATE = 8000
#: how long a text takes to speak, where no TTS engine says it (the simulator,
#: or a backend without one): this much per character, and at least the minimum
SAY_SECONDS_PER_CHAR = 0.06
MIN_PROMPT_SECONDS = 0.5


def say_seconds(text: str) -> float:
    """The time `text` takes to speak, estimated from its length."""
    return max(MIN_PROMPT_SECONDS, len(text) * SAY_SECONDS_PER_CHAR)


def to_mono16(raw: bytes, width: int, channels: int) -> array:
    """Little-endian PCM frames of `width` bytes and `channels` channels as
    16-bit mono samples (8-bit WAV is unsigned; wider samples keep their top
    16 bits; channels are averaged). ValueError for another width."""
    if channels < 1:
        raise ValueError(f"{channels} channels")
    if width == 1:
        samples = array("h", ((b - 128) << 8 for b in raw))
    elif width == 2:
        samples = array("h")
        samples.frombytes(raw[: len(raw) - len(raw) % 2])
    elif width in (3, 4):
        samples = array(
            "h",
            (
                int.from_bytes(raw[i + width - 2 : i + width], "little", signed=True)
                for i in range(0, len(raw) - width + 1, width)
            ),
        )
    else:
        raise ValueError(f"unsupported sample width: {width * 8} bit")
    if channels > 1:
        samples = array(
            "h", (sum(samples[i : i + channels]) // channels for i in range(0, len(samples) - channels + 1, channels))
        )
    return samples


def resample(samples: array, src: int, dst: int = TELEPHONE_RATE) -> array:
    """`samples` at rate `src` as samples at rate `dst` (linear interpolation)."""
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


def write_wav(path: Path, samples: array, rate: int = TELEPHONE_RATE, channels: int = 1) -> None:
    """A 16-bit WAV file of `samples` (interleaved when `channels` > 1),
    written whole or not at all: a reader never finds half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f"{path.name}.{os.getpid()}.part")
    with wave.open(str(part), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    os.replace(part, path)
