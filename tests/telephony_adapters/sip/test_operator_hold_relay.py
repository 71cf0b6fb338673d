"""The back-to-back relay while the operator holds the conversation, on real
loopback sockets: nothing of the phone's music or silence reaches the caller
and nothing of the caller reaches the holding phone; music the engine plays
to the caller during the bridge is heard alone; the conversation resumes."""

from __future__ import annotations

import asyncio

from telephony_adapters.sip.media import RtpEndpoint, RtpPortPool
from telephony_adapters.sip.prompts import tone_frames
from telephony_adapters.sip.relay import MediaRelay
from telephony_adapters.sip.rtp import RtpPacket, parse_rtp

PHONE_SSRC = 0xF00D
CALLER_SSRC = 0xCA11


class FarEnd(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.got: list[RtpPacket] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        pkt = parse_rtp(data)
        if pkt is not None:
            self.got.append(pkt)

    def address(self) -> tuple[str, int]:
        assert self.transport is not None
        host, port = self.transport.get_extra_info("sockname")[:2]
        return host, port

    def talk(self, to: RtpEndpoint, ssrc: int, seq: int) -> None:
        assert self.transport is not None
        self.transport.sendto(RtpPacket(0, seq, seq * 160, ssrc, b"\x55" * 160).to_bytes(), ("127.0.0.1", to.port))

    def take(self) -> list[RtpPacket]:
        got, self.got = self.got, []
        return got


async def talk_for(caller: FarEnd, phone: FarEnd, ours_caller: RtpEndpoint, ours_leg: RtpEndpoint, start: int, n: int = 10) -> None:
    """Both far ends send `n` packets, 20 ms apart, then the network settles."""
    for i in range(n):
        caller.talk(ours_caller, CALLER_SSRC, start + i)
        phone.talk(ours_leg, PHONE_SSRC, start + i)
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.3)


def test_nothing_crosses_while_the_phone_holds_and_the_engines_music_plays_alone() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        pool = RtpPortPool(45000, 46000)
        ours_caller = await RtpEndpoint.open("127.0.0.1", pool, lambda d: None)
        ours_leg = await RtpEndpoint.open("127.0.0.1", pool, lambda d: None)
        _, caller = await loop.create_datagram_endpoint(FarEnd, local_addr=("127.0.0.1", 0))
        _, phone = await loop.create_datagram_endpoint(FarEnd, local_addr=("127.0.0.1", 0))
        ours_caller.configure(caller.address(), "PCMU", 0, 101)
        ours_leg.configure(phone.address(), "PCMU", 0, 101)
        relay = MediaRelay(ours_caller, ours_leg)
        relay.start()
        try:
            await talk_for(caller, phone, ours_caller, ours_leg, 0)
            assert {p.ssrc for p in caller.take()} == {PHONE_SSRC}  # talking: each hears the other
            assert {p.ssrc for p in phone.take()} == {CALLER_SSRC}

            ours_leg.held = True  # the phone's re-INVITE a=sendonly (SipLeg sets this)
            await talk_for(caller, phone, ours_caller, ours_leg, 100)
            assert caller.take() == []  # the phone's own hold music is not talk
            assert phone.take() == []  # and a holding phone is sent nothing
            assert relay.held_back == [10, 10]

            # the engine's music to the caller during the bridge, while the phone holds
            music = asyncio.create_task(ours_caller.send_frames(list(tone_frames("PCMU", 440.0, 0.4, 0.08, pause=0.1)) * 10))
            await talk_for(caller, phone, ours_caller, ours_leg, 200)
            heard = caller.take()
            assert len(heard) >= 8 and all(p.ssrc != PHONE_SSRC for p in heard)  # the music, only

            ours_leg.held = False  # a=sendrecv again, but the music still plays: it is not talked over
            await talk_for(caller, phone, ours_caller, ours_leg, 300)
            heard = caller.take()
            assert len(heard) >= 8 and all(p.ssrc != PHONE_SSRC for p in heard)
            assert {p.ssrc for p in phone.take()} == {CALLER_SSRC}  # the phone hears the caller again
            music.cancel()
            await asyncio.gather(music, return_exceptions=True)
            assert ours_caller.playing == 0

            await talk_for(caller, phone, ours_caller, ours_leg, 400)
            assert {p.ssrc for p in caller.take()} == {PHONE_SSRC}  # the conversation resumed
            assert {p.ssrc for p in phone.take()} == {CALLER_SSRC}
        finally:
            relay.stop()
            for endpoint in (ours_caller, ours_leg):
                endpoint.close()
            for far in (caller, phone):
                assert far.transport is not None
                far.transport.close()

    asyncio.run(asyncio.wait_for(main(), 30))
