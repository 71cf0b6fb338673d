"""One call's RTP endpoint on asyncio: a UDP socket from the configured port
range, RFC 4733 digits in, G.711 frames out on a 20 ms cadence.

Frames go out on one shared `MediaClock`: a single timer whose ticks sit on
a grid of the loop's monotonic clock (not "sleep 20 ms" per frame, not a
task per call), so a long prompt does not drift however late one wake-up
is, and hundreds of prompts cost one timer. RTP is symmetric: the first packet that arrives fixes the far
end's address (its SDP may name a private one behind NAT); we send there and
ignore packets from any other address.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import struct
from collections.abc import Callable
from typing import cast

from telephony_adapters.sip.rtp import SAMPLES_PER_FRAME, DtmfReceiver, RtpPacket, parse_rtp
from telephony_adapters.sip.rtpstats import RtpStats

log = logging.getLogger("flowengine.sip.media")

FRAME_SECONDS = 0.02
#: the fixed RTP header (RFC 3550 §5.1): V=2, no padding, extension or CSRC
_HEADER = struct.Struct("!BBHII")
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

    def __init__(self, on_digit: Callable[[str], None], clock: MediaClock | None = None) -> None:
        self.on_digit = on_digit
        self.transport: asyncio.DatagramTransport | None = None
        self.local: Addr | None = None
        self.remote: Addr | None = None
        self.codec = "PCMU"
        self.payload_type = 0
        self.dtmf_payload_type: int | None = 101
        self.packets_in = 0
        self.packets_out = 0
        #: while bridged: hears every packet from the far end (`relay.MediaRelay`)
        self.tap: Callable[[RtpPacket, bytes], None] | None = None
        #: loss and jitter of what the far end sends
        self.stats = RtpStats()
        #: the far end holds the call (a=sendonly/inactive): frames are not sent
        #: (nor relayed to it, nor relayed from it: `relay.MediaRelay`)
        self.held = False
        #: prompts or music being sent now (a relay sends nothing over them)
        self.playing = 0
        self._dtmf = DtmfReceiver()
        self._latched = False
        self._ssrc = int.from_bytes(os.urandom(4), "big")
        self._seq = random.getrandbits(16)
        self._ts = random.getrandbits(32)
        self._marker = True
        self._last_sent: float | None = None
        self.clock = clock or MediaClock()
        self._loop = asyncio.get_running_loop()
        #: loop time of the last RTP packet from the far end (or of the endpoint's birth)
        self.last_received = self._loop.time()
        #: the bound port (set by `open`)
        self.port = 0
        #: hears each audio packet from the far end while set (Record, Recognize)
        self.audio_sink: Callable[[RtpPacket], None] | None = None

    @classmethod
    async def open(
        cls, host: str, pool: RtpPortPool, on_digit: Callable[[str], None], clock: MediaClock | None = None
    ) -> RtpEndpoint:
        loop = asyncio.get_running_loop()
        for _ in range(32):
            port = pool.take()
            if port is None:
                break
            try:
                _, proto = await loop.create_datagram_endpoint(lambda: cls(on_digit, clock), local_addr=(host, port))
            except OSError:
                pool.give_back(port)  # taken by another program now: to the back of the line
                continue
            except BaseException:
                pool.give_back(port)  # cancelled meanwhile (the call hung up): the port is not lost
                raise
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
        self.last_received = self._loop.time()
        source = (addr[0], addr[1])
        if not self._latched:
            self._latched = True
            self.remote = source
        elif source != self.remote:
            return  # not the far end we latched onto: no digits injected by strangers
        self.packets_in += 1
        dtmf = self.dtmf_payload_type is not None and pkt.payload_type == self.dtmf_payload_type
        self.stats.packet(pkt.sequence, pkt.timestamp, self.last_received, audio=not dtmf)
        if self.tap is not None:
            try:
                self.tap(pkt, data)
            except Exception:  # a relay's trouble must not break the socket
                log.exception("RTP tap failed")
        if dtmf:
            digit = self._dtmf.packet(pkt)
            if digit is not None:
                try:
                    self.on_digit(digit)
                except Exception:  # one call's handler must not break its socket
                    log.exception("DTMF handler failed")
        elif pkt.payload_type == self.payload_type and self.audio_sink is not None:
            try:
                self.audio_sink(pkt)
            except Exception:
                log.exception("audio capture failed")

    def error_received(self, exc: Exception) -> None:
        log.debug("RTP socket error: %s", exc)

    def configure(self, remote: Addr, codec: str, payload_type: int, dtmf_payload_type: int | None) -> None:
        if not self._latched:
            self.remote = remote
        self.codec, self.payload_type, self.dtmf_payload_type = codec, payload_type, dtmf_payload_type

    async def send_frames(self, frames: list[bytes], stop: Callable[[], bool] | None = None) -> bool:
        """Send `frames` on the shared 20 ms clock; True if `stop()` said so
        before the end (barge-in). Cancelling the await stops the prompt."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        if self._last_sent is None or now - self._last_sent > 2 * FRAME_SECONDS:
            # a new talkspurt: the timestamp jumps by the silence, the marker is set
            if self._last_sent is not None:
                silent = round((now - self._last_sent) / FRAME_SECONDS) - 1
                self._ts = (self._ts + max(0, silent) * SAMPLES_PER_FRAME) & 0xFFFFFFFF
            self._marker = True
        playback = _Playback(self, frames, stop, loop.create_future())
        self.clock.add(playback)
        self.playing += 1
        try:
            return await playback.done
        finally:
            playback.cancelled = True
            self.playing -= 1

    def _send(self, payload: bytes) -> None:
        transport, remote = self.transport, self.remote
        if transport is None or remote is None or self.held or transport.is_closing():
            return
        second = (0x80 if self._marker else 0) | (self.payload_type & 0x7F)
        transport.sendto(_HEADER.pack(0x80, second, self._seq, self._ts, self._ssrc) + payload, remote)
        self._marker = False
        self._seq = (self._seq + 1) & 0xFFFF
        self._ts = (self._ts + SAMPLES_PER_FRAME) & 0xFFFFFFFF
        self.packets_out += 1
        self._last_sent = self._loop.time()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class _Playback:
    __slots__ = ("endpoint", "frames", "stop", "done", "index", "cancelled")

    def __init__(
        self, endpoint: RtpEndpoint, frames: list[bytes], stop: Callable[[], bool] | None, done: asyncio.Future[bool]
    ) -> None:
        self.endpoint, self.frames, self.stop, self.done = endpoint, frames, stop, done
        self.index = 0
        self.cancelled = False

    def step(self) -> bool:
        """Send the next frame; True once the playback is over."""
        if self.cancelled or self.done.done():
            return True
        if self.stop is not None and self.stop():
            self.done.set_result(True)
            return True
        if self.index >= len(self.frames):
            self.done.set_result(False)
            return True
        self.endpoint._send(self.frames[self.index])
        self.index += 1
        return False


class MediaClock:
    """One 20 ms cadence for every stream of the process.

    Ticks sit on a grid ``start + n * 20 ms / PHASES`` of the loop's
    monotonic clock, so the cadence never drifts. Streams are spread over
    `PHASES` phases (each joins the least busy one) and a tick sends the next
    frame of the streams of its phase, so each stream still gets a frame
    every 20 ms while one tick sends only a quarter of them: the loop is held
    for shorter bursts and a stream's place in its burst (which is its
    jitter) varies less. One timer for all calls costs far less than one
    sleeping task per call. When the loop falls more than `MAX_BEHIND`
    behind (a stall), the grid restarts from now instead of bursting the
    missed frames out.
    """

    MAX_BEHIND = 0.2
    PHASES = 4

    def __init__(self) -> None:
        self._phases: list[list[_Playback]] = [[] for _ in range(self.PHASES)]
        self._handle: asyncio.Handle | None = None
        self._start = 0.0
        self._n = 0
        #: ticks whose grid time had already passed by more than a frame
        self.late_ticks = 0

    @property
    def streams(self) -> int:
        return sum(len(plays) for plays in self._phases)

    def add(self, playback: _Playback) -> None:
        min(self._phases, key=len).append(playback)
        if self._handle is None:
            loop = asyncio.get_running_loop()
            self._start, self._n = loop.time(), 0
            self._handle = loop.call_soon(self._tick)

    def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        phase = self._n % self.PHASES
        plays = self._phases[phase]
        if plays:
            self._phases[phase] = [p for p in plays if not _step(p)]
        if not any(self._phases):
            self._handle = None
            return
        self._n += 1
        step = FRAME_SECONDS / self.PHASES
        when = self._start + self._n * step
        now = loop.time()
        if now - when > FRAME_SECONDS:
            self.late_ticks += 1
            if now - when > self.MAX_BEHIND:
                # keep each phase's place on the new grid
                self._start, when = now - self._n * step, now
        self._handle = loop.call_at(when, self._tick)


def _step(playback: _Playback) -> bool:
    try:
        return playback.step()
    except Exception:  # one call's socket trouble must not stop everyone's prompts
        log.exception("RTP playback failed")
        if not playback.done.done():
            playback.done.set_result(False)
        return True
