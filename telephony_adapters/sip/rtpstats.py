"""Receive statistics of one RTP stream (RFC 3550 §6.4.1, A.3, A.8), sans-IO.

`packet(seq, timestamp, arrival)` for each packet heard: counts it, tracks
the highest extended sequence number so `lost` is expected minus received
(duplicates can make it negative for a while; it is shown as at least 0),
and keeps the interarrival jitter estimate ``J += (|D| - J) / 16`` in
timestamp units, reported in milliseconds at the 8 kHz G.711 clock.
"""

from __future__ import annotations

CLOCK_RATE = 8000


class RtpStats:
    __slots__ = ("received", "_base", "_max", "_cycles", "_transit", "_jitter")

    def __init__(self) -> None:
        self.received = 0
        self._base: int | None = None
        self._max = 0
        self._cycles = 0
        self._transit: float | None = None
        self._jitter = 0.0

    def packet(self, seq: int, timestamp: int, arrival: float, *, audio: bool = True) -> None:
        self.received += 1
        if self._base is None:
            self._base = self._max = seq
        else:
            delta = (seq - self._max) & 0xFFFF
            if 0 < delta < 0x8000:  # in order, maybe after a gap
                if seq < self._max:
                    self._cycles += 0x10000
                self._max = seq
        if not audio:
            return  # RFC 4733 events repeat a timestamp: no transit time to learn from
        transit = arrival * CLOCK_RATE - timestamp
        if self._transit is not None:
            d = abs(transit - self._transit)
            if d < CLOCK_RATE * 10:  # a timestamp jump (new talkspurt after a long pause) is not jitter
                self._jitter += (d - self._jitter) / 16
        self._transit = transit

    @property
    def expected(self) -> int:
        if self._base is None:
            return 0
        return self._cycles + self._max - self._base + 1

    @property
    def lost(self) -> int:
        return max(0, self.expected - self.received)

    @property
    def jitter_ms(self) -> float:
        return self._jitter * 1000 / CLOCK_RATE


class RtpTotals:
    """A backend's RTP counts: ended streams summed, live ones read when asked."""

    __slots__ = ("packets_in", "packets_out", "lost", "streams")

    def __init__(self) -> None:
        self.packets_in = 0
        self.packets_out = 0
        self.lost = 0
        self.streams = 0

    def add(self, packets_in: int, packets_out: int, stats: RtpStats) -> None:
        """One stream ended: keep its counts."""
        self.packets_in += packets_in
        self.packets_out += packets_out
        self.lost += stats.lost
        self.streams += 1
