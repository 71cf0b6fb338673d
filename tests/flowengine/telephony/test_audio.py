"""PCM conversions without audioop (gone in Python 3.13)."""

from __future__ import annotations

import math
from array import array

import pytest

from flowengine.telephony.audio import resample, to_mono16


def test_sample_layouts_become_16_bit_mono() -> None:
    assert list(to_mono16(bytes([0, 128, 255]), 1, 1)) == [-32768, 0, 32512]  # 8-bit is unsigned
    stereo = array("h", [1000, 3000, -2000, -4000]).tobytes()
    assert list(to_mono16(stereo, 2, 2)) == [2000, -3000]  # channels averaged
    s24 = (1234 << 8).to_bytes(3, "little", signed=True)  # 24-bit keeps its top 16 bits
    assert list(to_mono16(s24, 3, 1)) == [1234]
    with pytest.raises(ValueError, match="unsupported sample width: 40 bit"):
        to_mono16(b"\0" * 5, 5, 1)


def test_resampling_keeps_the_tone_and_the_length() -> None:
    rate, freq = 16000, 440
    tone = array("h", (int(10000 * math.sin(2 * math.pi * freq * i / rate)) for i in range(rate)))
    out = resample(tone, rate, 8000)
    assert len(out) == 8000
    crossings = sum(1 for a, b in zip(out, out[1:], strict=False) if a < 0 <= b)
    assert abs(crossings - freq) <= 2  # still 440 Hz
    assert resample(tone, rate, rate) is tone
