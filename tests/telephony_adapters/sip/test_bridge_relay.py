"""The back-to-back RTP relay on real loopback sockets: two far ends (a
caller that settled µ-law, a phone that settled A-law) talk through two of
our RTP endpoints."""

from __future__ import annotations

import asyncio
import contextlib
import math
from array import array

import pytest

from telephony_adapters.sip.media import RtpEndpoint, RtpPortPool
from telephony_adapters.sip.recording import ConversationRecorder
from telephony_adapters.sip.relay import MediaRelay
from telephony_adapters.sip.rtp import RtpPacket, decode, dtmf_payload, encode, parse_rtp


class FarEnd(asyncio.DatagramProtocol):
    """A peer's RTP socket (a protocol, not `sock_recvfrom`: uvloop has none)."""

    def __init__(self) -> None:
        self.got: asyncio.Queue[bytes] = asyncio.Queue()
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.got.put_nowait(data)

    def getsockname(self) -> tuple[str, int]:
        assert self.transport is not None
        host, port = self.transport.get_extra_info("sockname")[:2]
        return host, port

    def sendto(self, data: bytes, addr: tuple[str, int]) -> None:
        assert self.transport is not None
        self.transport.sendto(data, addr)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def far_end() -> FarEnd:
    _, proto = await asyncio.get_running_loop().create_datagram_endpoint(FarEnd, local_addr=("127.0.0.1", 0))
    return proto


async def receive(peer: FarEnd, timeout: float = 2.0) -> RtpPacket | None:
    try:
        data = await asyncio.wait_for(peer.got.get(), timeout)
    except TimeoutError:
        return None
    return parse_rtp(data)


def tone(freq: float, n: int = 160) -> array:
    return array("h", (int(6000 * math.sin(2 * math.pi * freq * i / 8000)) for i in range(n)))


def test_audio_is_transcoded_digits_pass_and_nothing_flows_after_stop(tmp_path: object) -> None:
    async def main() -> None:
        pool = RtpPortPool(44000, 45000)
        caller_digits: list[str] = []
        ours_a = await RtpEndpoint.open("127.0.0.1", pool, caller_digits.append)
        ours_b = await RtpEndpoint.open("127.0.0.1", pool, lambda d: None)
        caller, phone = await far_end(), await far_end()
        ours_a.configure(caller.getsockname(), "PCMU", 0, 101)
        ours_b.configure(phone.getsockname(), "PCMA", 8, 96)
        relay = MediaRelay(ours_a, ours_b)
        relay.start()
        try:
            voice = encode(tone(400), "PCMU")
            caller.sendto(RtpPacket(0, 7, 1600, 0xCAFE, voice, True).to_bytes(), ("127.0.0.1", ours_a.port))
            got = await receive(phone)
            assert got is not None
            assert (got.payload_type, got.sequence, got.timestamp, got.marker) == (8, 7, 1600, True)
            assert got.payload == encode(decode(voice, "PCMU"), "PCMA")  # the same sound, in A-law

            caller.sendto(RtpPacket(101, 8, 1760, 0xCAFE, dtmf_payload("5", end=False, duration=160)).to_bytes(), ("127.0.0.1", ours_a.port))
            got = await receive(phone)
            assert got is not None and got.payload_type == 96 and got.payload[0] == 5
            assert caller_digits == ["5"]  # the scenario still hears the caller's key

            back = encode(tone(1000), "PCMA")
            phone.sendto(RtpPacket(8, 100, 8000, 0xBEEF, back).to_bytes(), ("127.0.0.1", ours_b.port))
            got = await receive(caller)
            assert got is not None and got.payload_type == 0 and got.payload == encode(decode(back, "PCMA"), "PCMU")

            phone.sendto(RtpPacket(13, 101, 8160, 0xBEEF, b"\x40").to_bytes(), ("127.0.0.1", ours_b.port))
            assert await receive(caller, 0.3) is None  # comfort noise nobody negotiated: dropped
            assert relay.relayed == [1, 1] and relay.dtmf_relayed == [1, 0] and relay.dropped == 1
        finally:
            relay.stop()
        caller.sendto(RtpPacket(0, 9, 1920, 0xCAFE, voice).to_bytes(), ("127.0.0.1", ours_a.port))
        assert await receive(phone, 0.3) is None
        for s in (caller, phone):
            s.close()
        ours_a.close()
        ours_b.close()

    asyncio.run(main())


def test_a_recorded_conversation_keeps_each_side_on_its_own_channel(tmp_path: object) -> None:
    from pathlib import Path

    from baresip_peer import read_channels, tone_power

    async def main() -> None:
        pool = RtpPortPool(44000, 45000)
        a = await RtpEndpoint.open("127.0.0.1", pool, lambda d: None)
        b = await RtpEndpoint.open("127.0.0.1", pool, lambda d: None)
        caller, phone = await far_end(), await far_end()
        a.configure(caller.getsockname(), "PCMU", 0, 101)
        b.configure(phone.getsockname(), "PCMA", 8, 101)
        relay = MediaRelay(a, b)
        relay.start()
        path = Path(str(tmp_path)) / "rec" / "talk.wav"
        recorder = ConversationRecorder(relay, path, "recordings/talk.wav")
        for i in range(25):  # half a second each way
            caller.sendto(RtpPacket(0, i, 160 * i, 1, encode(tone(400), "PCMU")).to_bytes(), ("127.0.0.1", a.port))
            phone.sendto(RtpPacket(8, i, 160 * i, 2, encode(tone(1000), "PCMA")).to_bytes(), ("127.0.0.1", b.port))
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.1)
        recording = await recorder.finish()
        relay.stop()
        assert recording is not None and recording.uri == "recordings/talk.wav"
        left, right = read_channels(path)
        assert len(left) == len(right) >= 25 * 160
        assert tone_power(left, 400) > 50 * tone_power(left, 1000)
        assert tone_power(right, 1000) > 50 * tone_power(right, 400)
        for s in (caller, phone):
            s.close()
        a.close()
        b.close()

    asyncio.run(main())


def test_an_rtp_port_is_given_back_when_opening_it_is_cancelled_or_fails() -> None:
    """A call that hangs up while its RTP socket opens (or a port another
    program holds) must not shrink the pool for good."""

    async def main() -> None:
        pool = RtpPortPool(44100, 44110)
        opening = asyncio.ensure_future(RtpEndpoint.open("127.0.0.1", pool, lambda d: None))
        await asyncio.sleep(0)  # it took a port and waits for the socket
        opening.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await opening
        assert pool.in_use == 0

        lone = RtpPortPool(44120, 44122)  # one port, held by someone else
        holder = await far_end_at(44120)
        try:
            with pytest.raises(OSError, match="no free RTP port"):
                await RtpEndpoint.open("127.0.0.1", lone, lambda d: None)
            assert lone.in_use == 0
        finally:
            holder.close()

    asyncio.run(main())


async def far_end_at(port: int) -> FarEnd:
    _, proto = await asyncio.get_running_loop().create_datagram_endpoint(FarEnd, local_addr=("127.0.0.1", port))
    return proto
