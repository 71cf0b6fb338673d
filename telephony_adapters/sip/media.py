"""One call's RTP endpoint on asyncio: a UDP socket from the configured port
range, RFC 4733 digits in, G.711 frames out on a 20 ms cadence.

The cadence is taken from the loop's monotonic clock as ``start + n * 20 ms``
(not "sleep 20 ms" per frame), so a long prompt does not drift however late
one wake-up is. RTP is symmetric: once the far end's packets arrive from an
address other than its SDP said (NAT), we send there.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
from collections.abc import Callable
from typing import cast

from telephony_adapters.sip.rtp import SAMPLES_PER_FRAME, DtmfReceiver, RtpPacket, parse_rtp

log = logging.getLogger("flowengine.sip.media")

FRAME_SECONDS = 0.02
Addr = tuple[str, int]


class RtpPortPool:
    """Even ports from `low` to `high` (RTCP would take the odd one above)."""

    def __init__(self, low: int = 20000, high: int = 30000) -> None:
        if low < 1024 or high > 65534 or low >= high:
            raise ValueError(f"RTP port range {low}-{high} is not within 1024-65534")
        self._free = list(range(low + (low % 2), high, 2))
        random.shuffle(self._free)
        self._used: set[int] = set()

    def take(self) -> int | None:
        if not self._free:
            return None
        port = self._free.pop()
        self._used.add(port)
        return port

    def give_back(self, port: int) -> None:
        if port in self._used:
            self._used.discard(port)
            self._free.insert(0, port)

    @property
    def in_use(self) -> int:
        return len(self._used)


class RtpEndpoint(asyncio.DatagramProtocol):
    """The socket of one call. `on_digit` hears each RFC 4733 key press once."""

    def __init__(self, on_digit: Callable[[str], None]) -> None:
        self.on_digit = on_digit
        self.transport: asyncio.DatagramTransport | None = None
        self.local: Addr | None = None
        self.remote: Addr | None = None
        self.codec = "PCMU"
        self.payload_type = 0
        self.dtmf_payload_type: int | None = 101
        self.packets_in = 0
        self.packets_out = 0
        self._dtmf = DtmfReceiver()
        self._latched = False
        self._ssrc = int.from_bytes(os.urandom(4), "big")
        self._seq = random.getrandbits(16)
        self._ts = random.getrandbits(32)
        self._marker = True
        self._next_send: float | None = None
        #: the bound port (set by `open`)
        self.port = 0

    @classmethod
    async def open(cls, host: str, pool: RtpPortPool, on_digit: Callable[[str], None]) -> RtpEndpoint:
        loop = asyncio.get_running_loop()
        for _ in range(32):
            port = pool.take()
            if port is None:
                break
            try:
                _, proto = await loop.create_datagram_endpoint(lambda: cls(on_digit), local_addr=(host, port))
            except OSError:
                continue  # taken by another program: try the next one
            proto.port = port
            return proto
        raise OSError("no free RTP port in the configured range")

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # (asyncio's selector transport is not an instance of the public DatagramTransport ABC)
        self.transport = cast(asyncio.DatagramTransport, transport)
        sock = transport.get_extra_info("sockname")
        self.local = (sock[0], sock[1])

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        pkt = parse_rtp(data)
        if pkt is None:
            return
        self.packets_in += 1
        if not self._latched:
            self._latched = True
            if self.remote != (addr[0], addr[1]):
                self.remote = (addr[0], addr[1])
        if self.dtmf_payload_type is not None and pkt.payload_type == self.dtmf_payload_type:
            digit = self._dtmf.packet(pkt)
            if digit is not None:
                try:
                    self.on_digit(digit)
                except Exception:  # one call's handler must not break its socket
                    log.exception("DTMF handler failed")

    def error_received(self, exc: Exception) -> None:
        log.debug("RTP socket error: %s", exc)

    def configure(self, remote: Addr, codec: str, payload_type: int, dtmf_payload_type: int | None) -> None:
        if not self._latched:
            self.remote = remote
        self.codec, self.payload_type, self.dtmf_payload_type = codec, payload_type, dtmf_payload_type

    async def send_frames(self, frames: list[bytes], stop: Callable[[], bool] | None = None) -> bool:
        """Send `frames` every 20 ms from a monotonic start; True if `stop()`
        said so before the end (barge-in)."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        if self._next_send is not None and self._next_send > start:
            start = self._next_send  # back-to-back prompts keep one cadence
        else:
            self._marker = True
            gap = start - (self._next_send or start)
            self._ts += int(gap * 8000)
        for n, frame in enumerate(frames):
            deadline = start + n * FRAME_SECONDS
            delay = deadline - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if stop is not None and stop():
                self._next_send = deadline
                return True
            self._send(frame)
            self._next_send = deadline + FRAME_SECONDS
        return False

    def _send(self, payload: bytes) -> None:
        if self.transport is None or self.remote is None or self.transport.is_closing():
            return
        pkt = RtpPacket(self.payload_type, self._seq, self._ts, self._ssrc, payload, self._marker)
        self._marker = False
        self._seq = (self._seq + 1) & 0xFFFF
        self._ts = (self._ts + SAMPLES_PER_FRAME) & 0xFFFFFFFF
        self.transport.sendto(pkt.to_bytes(), self.remote)
        self.packets_out += 1

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
