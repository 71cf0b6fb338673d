"""The caller's audio as Record and Recognize see it (sans-IO): packets placed
by RTP timestamp (loss filled with silence, late packets dropped), an
energy-based voice detector on the wall clock, and a length limit."""

from __future__ import annotations

import math
from array import array

from telephony_adapters.sip.capture import AudioCapture
from telephony_adapters.sip.rtp import RtpPacket, encode


def frame(level: float, n: int = 160, codec: str = "PCMU") -> bytes:
    """20 ms of a 500 Hz tone at `level` (0: silence)."""
    return encode(array("h", (int(level * math.sin(2 * math.pi * 500 * i / 8000)) for i in range(n))), codec)


def pkt(seq: int, payload: bytes, ts: int | None = None) -> RtpPacket:
    return RtpPacket(0, seq, 1000 + (seq * 160 if ts is None else ts), 7, payload)


def test_packets_are_placed_by_timestamp_with_loss_as_silence_and_late_ones_dropped() -> None:
    cap = AudioCapture("PCMU", 0.0, max_seconds=10)
    loud = frame(8000)
    for seq in (0, 1, 3, 2, 4):  # 2 is lost ... then arrives late
        cap.packet(pkt(seq, loud), seq * 0.02)
    assert cap.packets == 4 and cap.dropped == 1
    assert len(cap.samples) == 5 * 160  # the hole kept its 20 ms, as silence
    assert max(abs(s) for s in cap.samples[320:480]) == 0
    cap.packet(pkt(4, loud), 0.1)  # a repeat
    assert cap.dropped == 2 and len(cap.samples) == 800


def test_voice_starts_after_three_loud_frames_and_silence_counts_on_the_wall_clock() -> None:
    cap = AudioCapture("PCMA", 10.0, max_seconds=10)
    quiet, loud = frame(100, codec="PCMA"), frame(6000, codec="PCMA")
    cap.packet(pkt(0, loud), 10.02)  # a click is not speech
    cap.packet(pkt(1, quiet), 10.04)
    assert cap.speech_at is None and cap.last_voice == 10.02
    for seq, t in ((2, 10.06), (3, 10.08), (4, 10.10)):
        cap.packet(pkt(seq, loud), t)
    assert cap.speech_at == 10.10
    cap.packet(pkt(5, quiet), 10.12)
    # nothing more arrives (a peer that stops sending while silent): silence still grows
    assert round(cap.silent_for(11.6), 2) == 1.5


def test_capture_stops_at_its_length_limit() -> None:
    cap = AudioCapture("PCMU", 0.0, max_seconds=0.05)  # 400 samples
    for seq in range(5):
        cap.packet(pkt(seq, frame(3000)), seq * 0.02)
    assert len(cap.samples) == 400 and cap.full
