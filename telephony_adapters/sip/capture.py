"""The caller's audio from RTP, as 8 kHz 16-bit samples, with an energy-based
voice detector: what Record writes to a WAV file and Recognize hands to a
recogniser. Sans-IO: packets and `now` in, samples and voice timings out.

Packets are placed by their RTP timestamp: a late or repeated packet (its
timestamp already passed) is dropped, a gap of up to `MAX_GAP` (loss) is
filled with silence so the recording keeps its length; a larger jump (a new
talkspurt after the far end stopped sending) starts from where we are.

A 20 ms frame is *voice* when its RMS level is at least `threshold`
(default about -36 dBFS: above a phone line's hiss, below speech). Speech
*starts* after `START_FRAMES` voiced frames in a row, and `last_voice` is
the arrival time of the last voiced frame, so "N seconds of silence" is
measured on the wall clock even when the far end sends nothing at all.
"""

from __future__ import annotations

import math
from array import array

from telephony_adapters.sip.rtp import SAMPLES_PER_FRAME, RtpPacket, decode

#: RMS level (16-bit scale) from which a frame counts as voice (~ -36 dBFS)
VOICE_RMS = 500
#: voiced frames in a row that start speech (60 ms: a click is not speech)
START_FRAMES = 3
#: longest loss filled with silence (samples: 1 s)
MAX_GAP = 8000


def rms(samples: array) -> float:
    if not samples:
        return 0.0
    return math.sqrt(sum(s * s for s in samples) / len(samples))


class AudioCapture:
    __slots__ = ("codec", "max_samples", "threshold", "samples", "started_at", "speech_at", "last_voice",
                 "_next_ts", "_run", "packets", "dropped")

    def __init__(self, codec: str, now: float, *, max_seconds: float, threshold: float = VOICE_RMS) -> None:
        self.codec = codec
        self.max_samples = int(max_seconds * 8000)
        self.threshold = threshold
        self.samples = array("h")
        #: when capture began, when speech started (None: not yet), when voice was last heard
        self.started_at = now
        self.speech_at: float | None = None
        self.last_voice = now
        self._next_ts: int | None = None
        self._run = 0
        self.packets = 0
        self.dropped = 0

    @property
    def seconds(self) -> float:
        return len(self.samples) / 8000

    @property
    def full(self) -> bool:
        return len(self.samples) >= self.max_samples

    def packet(self, pkt: RtpPacket, now: float) -> None:
        if self.full or not pkt.payload:
            return
        ts = pkt.timestamp
        if self._next_ts is not None:
            ahead = (ts - self._next_ts) & 0xFFFFFFFF
            if ahead >= 0x80000000:  # behind us: late or repeated
                self.dropped += 1
                return
            if 0 < ahead <= MAX_GAP:
                self._append(array("h", bytes(2 * ahead)))
        self.packets += 1
        pcm = decode(pkt.payload, self.codec)
        self._next_ts = (ts + len(pcm)) & 0xFFFFFFFF
        self._append(pcm)
        for i in range(0, len(pcm), SAMPLES_PER_FRAME):
            self._frame(pcm[i : i + SAMPLES_PER_FRAME], now)

    def _append(self, pcm: array) -> None:
        room = self.max_samples - len(self.samples)
        self.samples.extend(pcm[:room] if len(pcm) > room else pcm)

    def _frame(self, pcm: array, now: float) -> None:
        if rms(pcm) >= self.threshold:
            self._run += 1
            self.last_voice = now
            if self.speech_at is None and self._run >= START_FRAMES:
                self.speech_at = now
        else:
            self._run = 0

    def silent_for(self, now: float) -> float:
        """Seconds since voice was last heard (or since capture began)."""
        return now - self.last_voice
