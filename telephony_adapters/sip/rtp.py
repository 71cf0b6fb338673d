"""RTP (RFC 3550) packets, RFC 4733 telephone-events and G.711, sans-IO.

`parse_rtp` refuses what is not an RTP packet (`None`, never an exception);
`DtmfReceiver` turns a stream of telephone-event packets into one digit per
key press, however often the sender repeats them (RFC 4733 §2.5.1.4: a new
event is a new timestamp; the end packet is sent three times). G.711 µ-law
and A-law are written here from the ITU-T G.711 segment tables (Python 3.13
has no `audioop`), as lookup tables built once.
"""

from __future__ import annotations

import struct
from array import array
from dataclasses import dataclass
from functools import lru_cache

RTP_VERSION = 2
#: RFC 4733 event codes 0-15
DTMF_EVENTS = "0123456789*#ABCD"
SILENCE = {"PCMU": 0xFF, "PCMA": 0xD5}
SAMPLES_PER_FRAME = 160  # 20 ms at 8 kHz


@dataclass(frozen=True, slots=True)
class RtpPacket:
    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes
    marker: bool = False

    def to_bytes(self) -> bytes:
        first = RTP_VERSION << 6
        second = (0x80 if self.marker else 0) | (self.payload_type & 0x7F)
        return struct.pack("!BBHII", first, second, self.sequence & 0xFFFF, self.timestamp & 0xFFFFFFFF, self.ssrc) + self.payload


def parse_rtp(data: bytes) -> RtpPacket | None:
    """The packet, or None for anything that is not RTP version 2."""
    if len(data) < 12:
        return None
    first, second, seq, ts, ssrc = struct.unpack_from("!BBHII", data)
    if first >> 6 != RTP_VERSION:
        return None
    offset = 12 + 4 * (first & 0x0F)
    if first & 0x10:  # header extension
        if len(data) < offset + 4:
            return None
        (words,) = struct.unpack_from("!H", data, offset + 2)
        offset += 4 + 4 * words
    end = len(data)
    if first & 0x20:  # padding
        pad = data[-1]
        end -= pad
    if offset > end:
        return None
    return RtpPacket(second & 0x7F, seq, ts, ssrc, data[offset:end], bool(second & 0x80))


class DtmfReceiver:
    """One digit per RFC 4733 event: reported on the first packet of a new
    event (a new timestamp), so barge-in reacts at once; repeats and the
    three end packets of the same event are ignored."""

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last: tuple[int, int] | None = None  # (ssrc, timestamp) of the last event

    def packet(self, pkt: RtpPacket) -> str | None:
        if len(pkt.payload) < 4:
            return None
        event = pkt.payload[0]
        if event >= len(DTMF_EVENTS):
            return None
        key = (pkt.ssrc, pkt.timestamp)
        if key == self._last:
            return None
        self._last = key
        return DTMF_EVENTS[event]


def dtmf_payload(digit: str, *, end: bool, duration: int, volume: int = 10) -> bytes:
    """An RFC 4733 payload (for tests and, later, sending digits)."""
    return struct.pack("!BBH", DTMF_EVENTS.index(digit), (0x80 if end else 0) | (volume & 0x3F), duration)


# ---- G.711 ------------------------------------------------------------------------------------------
def _ulaw_encode_one(sample: int) -> int:
    # the 14-bit form of ITU-T G.711 (as Sun's g711.c): shift first, then fold the sign
    value = sample >> 2
    if value < 0:
        value, mask = -value, 0x7F
    else:
        mask = 0xFF
    value = min(value, 8159) + 33
    segment = 0
    while segment < 8 and value > (64 << segment) - 1:  # segment ends 0x3F, 0x7F ... 0x1FFF
        segment += 1
    if segment >= 8:
        return 0x7F ^ mask
    return ((segment << 4) | ((value >> (segment + 1)) & 0x0F)) ^ mask


def _ulaw_decode_one(byte: int) -> int:
    byte = ~byte & 0xFF
    sign = byte & 0x80
    exponent = (byte >> 4) & 0x07
    mantissa = byte & 0x0F
    sample = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return -sample if sign else sample


def _alaw_encode_one(sample: int) -> int:
    sign = 0x80 if sample >= 0 else 0
    if sample < 0:
        sample = -sample - 1
    sample = min(sample, 32767) >> 3
    if sample < 32:
        code = sample >> 1
    else:
        exponent = sample.bit_length() - 5
        code = (exponent << 4) | ((sample >> exponent) & 0x0F)
    return (code | sign) ^ 0x55


def _alaw_decode_one(byte: int) -> int:
    byte ^= 0x55
    sign = byte & 0x80
    exponent = (byte >> 4) & 0x07
    mantissa = byte & 0x0F
    if exponent == 0:
        sample = (mantissa << 4) + 8
    else:
        sample = ((mantissa << 4) + 0x108) << (exponent - 1)
    return sample if sign else -sample


@lru_cache(maxsize=2)
def _encode_table(codec: str) -> bytes:
    one = _ulaw_encode_one if codec == "PCMU" else _alaw_encode_one
    # indexed by the 16-bit sample as unsigned (two's complement)
    return bytes(one(i if i < 32768 else i - 65536) for i in range(65536))


@lru_cache(maxsize=2)
def _decode_table(codec: str) -> tuple[int, ...]:
    one = _ulaw_decode_one if codec == "PCMU" else _alaw_decode_one
    return tuple(one(b) for b in range(256))


def encode(pcm16: array, codec: str) -> bytes:
    """16-bit signed samples -> G.711 bytes ("PCMU" or "PCMA")."""
    table = _encode_table(codec)
    return bytes(table[s & 0xFFFF] for s in pcm16)


def decode(data: bytes, codec: str) -> array:
    table = _decode_table(codec)
    return array("h", (table[b] for b in data))
