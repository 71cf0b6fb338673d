"""The SIP backend over real UDP on 127.0.0.1: settings and trunks, 403 for
untrusted peers, garbage on the wire, and a clean shutdown of live calls.
The far end is a plain UDP socket speaking SIP written by hand."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable

import pytest
from sipmsgs import in_dialog, invite

from flowengine.errors import UsageError
from flowengine.events import StreamEvent
from flowengine.runtime.engine import Engine
from flowengine.scenario.loader import load_scenario_data
from telephony_adapters.sip import SipBackend, SipSettings, Trunk
from telephony_adapters.sip.backend import called_number
from telephony_adapters.sip.message import Request, Response, parse_message

WAITING = load_scenario_data(
    {
        "schema": 1,
        "id": "waiting",
        "numbers": ["+74951230001"],
        "nodes": [
            {"id": "start", "type": "start", "exits": {"next": "menu"}},
            {"id": "menu", "type": "gather", "params": {"options": [{"digits": "1", "exit": "one"}], "first_timeout": 30, "retries": 0},
             "exits": {"one": "bye", "timeout": "bye", "invalid": "bye"}},
            {"id": "bye", "type": "hangup"},
        ],
    }
)


def test_settings_name_what_is_wrong() -> None:
    with pytest.raises(UsageError, match=r"trunks.carrier.addresses\[1\]: 'nowhere'"):
        Trunk.of("carrier", ["10.0.0.1", "nowhere"])
    with pytest.raises(UsageError, match="advertise"):
        SipSettings(host="0.0.0.0")
    with pytest.raises(UsageError, match="G729"):
        SipSettings(codecs=("G729",))
    s = SipSettings(trunks=(Trunk.of("carrier", ["10.1.2.0/24"]), Trunk.of("pbx", ["192.0.2.7"])))
    assert s.trunk_for("10.1.2.99") is not None and s.trunk_for("10.1.2.99").name == "carrier"  # type: ignore[union-attr]
    assert s.trunk_for("192.0.2.7").name == "pbx"  # type: ignore[union-attr]
    assert s.trunk_for("127.0.0.1") is None


def test_called_id_falls_back_to_the_to_user() -> None:
    raw = invite(user="+74951230001").replace(b"INVITE sip:+74951230001@127.0.0.1:5080", b"INVITE sip:127.0.0.1:5080")
    msg = parse_message(raw)
    assert isinstance(msg, Request) and called_number(msg) == "+74951230001"
    odd = parse_message(invite(user="%2B7495;phone-context=x"))
    assert isinstance(odd, Request) and called_number(odd) == "+7495"


class Phone:
    """A UDP socket that speaks SIP by hand."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]

    def send(self, data: bytes, to: tuple[str, int]) -> None:
        self.sock.sendto(data, to)

    async def recv(self, timeout: float = 5.0) -> Request | Response:
        loop = asyncio.get_running_loop()
        data = await asyncio.wait_for(loop.sock_recv(self.sock, 65535), timeout)
        return parse_message(data)

    async def quiet(self, seconds: float) -> bool:
        try:
            await self.recv(seconds)
        except TimeoutError:
            return True
        return False


def run(test: Callable[[SipBackend, Engine, list[StreamEvent], Phone], Awaitable[None]], **settings: object) -> None:
    async def main() -> None:
        engine = Engine(keep_events=True)
        engine.publish(WAITING)
        events: list[StreamEvent] = []
        engine.add_listener(events.append)
        backend = SipBackend(engine, settings=SipSettings(port=0, rtp_ports=(42200, 42400), **settings))  # type: ignore[arg-type]
        await backend.start()
        phone = Phone()
        try:
            await test(backend, engine, events, phone)
        finally:
            phone.sock.close()
            await backend.stop()
            await engine.shutdown()

    asyncio.run(main())


def test_untrusted_peer_gets_403_and_no_call_starts() -> None:
    async def test(backend: SipBackend, engine: Engine, events: list[StreamEvent], phone: Phone) -> None:
        phone.send(invite(port=phone.port), backend.address)
        resp = await phone.recv()
        assert isinstance(resp, Response) and resp.status == 403
        await asyncio.sleep(0.1)
        assert events == [] and backend.calls == {}

    run(test, trunks=(Trunk.of("carrier", ["10.1.2.0/24"]),))


def test_garbage_on_the_wire_gets_400_or_nothing_and_calls_still_work() -> None:
    async def test(backend: SipBackend, engine: Engine, events: list[StreamEvent], phone: Phone) -> None:
        phone.send(b"\x00\xff" * 500, backend.address)
        phone.send(b"OPTIONS junk\r\n\r\n", backend.address)
        phone.send(b"INVITE sip:a@b SIP/2.0\r\n" + b"X: " + b"y" * 60000 + b"\r\n\r\n", backend.address)
        assert await phone.quiet(0.3)
        bad = invite(port=phone.port, branch="z9hG4bK-bad").replace(b"Max-Forwards: 70", b"Max-Forwards: many")
        phone.send(bad, backend.address)
        resp = await phone.recv()
        assert isinstance(resp, Response) and resp.status == 400 and "Max-Forwards" in resp.reason
        phone.send(invite(port=phone.port, branch="z9hG4bK-good"), backend.address)
        trying = await phone.recv()
        ok = await phone.recv()
        assert isinstance(trying, Response) and trying.status == 100
        assert isinstance(ok, Response) and ok.status == 200 and ok.body.startswith(b"v=0")
        assert len(backend.calls) == 1

    run(test)


def test_stop_ends_live_calls_with_bye_and_frees_their_media() -> None:
    async def test(backend: SipBackend, engine: Engine, events: list[StreamEvent], phone: Phone) -> None:
        phone.send(invite(port=phone.port), backend.address)
        assert (await phone.recv()).status == 100  # type: ignore[union-attr]
        ok = await phone.recv()
        assert isinstance(ok, Response) and ok.status == 200 and ok.to is not None and ok.to.tag
        phone.send(in_dialog("ACK", to_tag=ok.to.tag, branch="z9hG4bK-ack", cseq=1, port=phone.port), backend.address)
        await asyncio.sleep(0.1)
        assert backend.rtp_pool.in_use == 1
        await backend.stop()
        bye = await phone.recv()
        assert isinstance(bye, Request) and bye.method == "BYE" and bye.get("Reason") == "Q.850;cause=16"
        await asyncio.wait_for(engine.drain(), 5)
        hung = next(e for e in events if type(e).__name__ == "CallHungUp")
        assert (hung.by, hung.cause) == ("system", "shutdown")  # type: ignore[attr-defined]
        assert backend.calls == {} and backend.rtp_pool.in_use == 0

    run(test)


def test_a_far_end_that_vanished_is_ended_by_the_media_timeout() -> None:
    """With `media_timeout`, an answered call whose far end sends no RTP (it
    vanished without BYE) is ended: BYE with Q.850 41, cause failed by system."""

    async def test(backend: SipBackend, engine: Engine, events: list[StreamEvent], phone: Phone) -> None:
        phone.send(invite(port=phone.port), backend.address)
        assert (await phone.recv()).status == 100  # type: ignore[union-attr]
        ok = await phone.recv()
        assert isinstance(ok, Response) and ok.status == 200 and ok.to is not None and ok.to.tag
        phone.send(in_dialog("ACK", to_tag=ok.to.tag, branch="z9hG4bK-ack", cseq=1, port=phone.port), backend.address)
        bye = await phone.recv(timeout=10.0)
        assert isinstance(bye, Request) and bye.method == "BYE" and bye.get("Reason") == "Q.850;cause=41"
        await asyncio.wait_for(engine.drain(), 5)
        hung = next(e for e in events if type(e).__name__ == "CallHungUp")
        assert (hung.by, hung.cause) == ("system", "failed")  # type: ignore[attr-defined]
        assert backend.calls == {} and backend.rtp_pool.in_use == 0

    run(test, media_timeout=1.0)


def test_media_timeout_must_be_positive() -> None:
    with pytest.raises(UsageError, match="media_timeout"):
        SipSettings(media_timeout=0)
