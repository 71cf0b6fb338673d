"""A forked leg, byte by byte: two phones registered as one account (UDP
sockets on 127.0.0.1 answering as the test says, digest and all) get one
INVITE each; what the leg's outcome is when every phone fails, and what a
phone whose 200 crossed our CANCEL receives (ACK, then BYE)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from flowengine.acd import parse_centre
from flowengine.acd.driver import AcdDriver
from flowengine.runtime.engine import Engine
from flowengine.telephony import DialOutcome
from telephony_adapters.sip import SipBackend, SipSettings
from telephony_adapters.sip.digest import authorization
from telephony_adapters.sip.message import Request, Response, parse_message

SDP_ANSWER = (
    "v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
)


class WirePhone:
    """One registered contact of account 901, answering INVITEs as told."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.received: list[Request] = []
        self._cseq = 0

    async def recv(self, timeout: float = 5.0) -> Request | Response:
        loop = asyncio.get_running_loop()
        msg = parse_message(await asyncio.wait_for(loop.sock_recv(self.sock, 65535), timeout))
        if isinstance(msg, Request):
            self.received.append(msg)
        return msg

    async def request(self, method: str, timeout: float = 5.0) -> Request:
        """The next request `method` (others are kept in `received`)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            msg = await self.recv(max(0.01, deadline - loop.time()))
            if isinstance(msg, Request) and msg.method == method:
                return msg

    async def register(self, engine: tuple[str, int], user: str, password: str) -> None:
        auth: str | None = None
        for _ in range(2):
            self._cseq += 1
            lines = [
                f"REGISTER sip:{engine[0]}:{engine[1]} SIP/2.0",
                f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch=z9hG4bK-{self.name}-{self._cseq};rport",
                f"From: <sip:{user}@{engine[0]}>;tag=reg-{self.name}",
                f"To: <sip:{user}@{engine[0]}>",
                f"Call-ID: reg-{self.name}@127.0.0.1",
                f"CSeq: {self._cseq} REGISTER",
                f"Contact: <sip:{user}-{self.name}@127.0.0.1:{self.port}>",
                "Expires: 60",
                "Max-Forwards: 70",
            ]
            if auth:
                lines.append(f"Authorization: {auth}")
            self.sock.sendto(("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode(), engine)
            resp = await self.recv()
            assert isinstance(resp, Response)
            if resp.status == 200:
                return
            challenge = resp.get("WWW-Authenticate")
            assert resp.status == 401 and challenge, f"{self.name}: REGISTER got {resp.status}"
            auth = authorization(
                challenge, method="REGISTER", uri=f"sip:{engine[0]}:{engine[1]}", username=user, password=password
            )
        raise AssertionError(f"{self.name} could not register")

    def respond(self, req: Request, status: int, *, body: str = "") -> None:
        """Answer `req` as the phone would (its To-tag is the phone's name)."""
        to = req.get("To") or ""
        if req.method == "INVITE" and status > 100 and ";tag=" not in to:
            to += f";tag={self.name}"
        lines = [f"SIP/2.0 {status} Whatever"]
        lines += [f"Via: {v}" for v in req.get_all("Via")]
        lines += [f"From: {req.get('From')}", f"To: {to}", f"Call-ID: {req.call_id}", f"CSeq: {req.get('CSeq')}"]
        lines.append(f"Contact: <sip:901-{self.name}@127.0.0.1:{self.port}>")
        if body:
            lines.append("Content-Type: application/sdp")
        data = "\r\n".join(lines) + f"\r\nContent-Length: {len(body.encode())}\r\n\r\n{body}"
        self.sock.sendto(data.encode(), ("127.0.0.1", req.vias[0].port or 5060))


Test = Callable[[SipBackend, WirePhone, WirePhone], Awaitable[None]]


def with_two_phones(test: Test, **settings: Any) -> None:
    async def main() -> None:
        engine = Engine(keep_events=True)
        centre = parse_centre(
            {
                "operators": [{"id": "op901", "extension": "901", "sip_secret": "pw-901"}],
                "queues": [{"id": "q", "members": ["op901"]}],
            }
        )
        driver = AcdDriver(centre).attach(engine)
        backend = SipBackend(engine, settings=SipSettings(port=0, rtp_ports=(47000, 47400), **settings))
        await backend.start()
        desk, soft = WirePhone("desk"), WirePhone("soft")
        try:
            await desk.register(backend.address, "901", "pw-901")
            await soft.register(backend.address, "901", "pw-901")
            await asyncio.wait_for(test(backend, desk, soft), 30)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 5
            while backend.legs or backend.rtp_pool.in_use:
                assert loop.time() < deadline, f"left behind: legs {list(backend.legs)}, RTP {backend.rtp_pool.in_use}"
                await asyncio.sleep(0.05)
        finally:
            desk.sock.close()
            soft.sock.close()
            await driver.shutdown()
            await backend.stop()
            await engine.shutdown()

    asyncio.run(main())


def ring(backend: SipBackend) -> Any:
    return backend.originate("901", ring_timeout=20, caller_id="+74951234567")


@pytest.mark.parametrize(
    ("first", "second", "outcome"),
    [
        (603, 486, DialOutcome.BUSY),  # declined on one phone, busy on the other: busy
        (480, 603, DialOutcome.REJECTED),  # one not answering, one declining: rejected
        (404, 480, DialOutcome.NO_ANSWER),  # a stale contact and a phone not answering: no answer
    ],
)
def test_when_every_phone_fails_the_leg_fails_with_the_best_of_their_outcomes(
    first: int, second: int, outcome: DialOutcome
) -> None:
    async def test(backend: SipBackend, desk: WirePhone, soft: WirePhone) -> None:
        leg = ring(backend)
        desk_invite = await desk.request("INVITE")
        soft_invite = await soft.request("INVITE")
        assert desk_invite.call_id != soft_invite.call_id  # two INVITEs: a B2BUA forks, it does not proxy
        desk.respond(desk_invite, 180)
        soft.respond(soft_invite, 180)
        desk.respond(desk_invite, first)
        await desk.request("ACK")  # (the final response's ACK)
        await asyncio.sleep(0.3)
        assert not leg.outcome().done()  # the other phone still rings
        soft.respond(soft_invite, second)
        await soft.request("ACK")
        assert await asyncio.wait_for(leg.outcome(), 5) is outcome
        assert leg.state == "ended"

    with_two_phones(test)


def test_a_phone_whose_answer_crossed_the_cancel_gets_ack_and_bye_and_the_winner_stays_up() -> None:
    async def test(backend: SipBackend, desk: WirePhone, soft: WirePhone) -> None:
        leg = ring(backend)
        desk_invite = await desk.request("INVITE")
        soft_invite = await soft.request("INVITE")
        desk.respond(desk_invite, 180)
        soft.respond(soft_invite, 180)
        await asyncio.sleep(0.2)
        # both pick up at once: the desk's 200 arrives first
        desk.respond(desk_invite, 200, body=SDP_ANSWER.format(port=desk.port))
        soft.respond(soft_invite, 200, body=SDP_ANSWER.format(port=soft.port))
        assert await asyncio.wait_for(leg.outcome(), 5) is DialOutcome.ANSWERED
        await desk.request("ACK")
        seen: set[str] = set()
        while not {"ACK", "BYE"} <= seen:
            msg = await soft.request("BYE") if "ACK" in seen else await soft.recv()
            if isinstance(msg, Request):
                seen.add(msg.method)
                if msg.method in ("CANCEL", "BYE"):
                    soft.respond(msg, 200)
        bye = next(r for r in soft.received if r.method == "BYE")
        assert bye.get("Reason") == "Q.850;cause=26"  # answered elsewhere: no missed call shown
        assert leg.state == "answered" and leg.rtp is not None and leg.rtp.remote == ("127.0.0.1", desk.port)
        # the winner got neither CANCEL nor BYE (only its INVITE, maybe resent, and our ACK)
        assert [r.method for r in desk.received if r.method != "INVITE"] == ["ACK"]
        leg.hangup()
        bye = await desk.request("BYE")
        desk.respond(bye, 200)

    with_two_phones(test)


def test_an_answered_phone_that_vanished_is_released_by_the_media_timeout() -> None:
    """The operator's phone answered, then went silent without BYE (a lost
    network, a crashed softphone): with `media_timeout` the leg ends (cause
    failed by system) and the phone gets BYE with Q.850 41, as a caller would."""

    async def test(backend: SipBackend, desk: WirePhone, soft: WirePhone) -> None:
        leg = ring(backend)
        desk_invite = await desk.request("INVITE")
        soft_invite = await soft.request("INVITE")
        soft.respond(soft_invite, 180)
        desk.respond(desk_invite, 200, body=SDP_ANSWER.format(port=desk.port))
        assert await asyncio.wait_for(leg.outcome(), 5) is DialOutcome.ANSWERED
        answered = asyncio.get_running_loop().time()
        cancel = await soft.request("CANCEL")
        soft.respond(cancel, 200)
        soft.respond(soft_invite, 487)
        # the desk phone sends no RTP from now on
        bye = await desk.request("BYE", timeout=10)
        desk.respond(bye, 200)
        assert bye.get("Reason") == "Q.850;cause=41"
        cause = await asyncio.wait_for(leg.ended(), 5)
        assert (cause.by, cause.cause) == ("system", "failed")
        assert 1.0 <= asyncio.get_running_loop().time() - answered < 6.0

    with_two_phones(test, media_timeout=1.0)
