"""An operator's account registered from two phones (a desk phone and a
softphone: two baresips on their own ports, same user and password): a
queue call rings both at once as one leg; the first to answer gets the
caller, the other gets CANCEL; a phone that refuses (busy) fails nothing
while the other still rings. Everything on 127.0.0.1, ports picked free,
every peer and wait bounded."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from baresip_peer import BARESIP, Baresip, tone_power
from scenario_builders import doc, hangup, load, node, start

from flowengine.acd import parse_centre
from flowengine.acd.driver import AcdDriver
from flowengine.events import StreamEvent
from flowengine.runtime.engine import Engine
from telephony_adapters.sip import SipBackend, SipSettings

pytestmark = pytest.mark.skipif(
    BARESIP is None and not os.environ.get("CI"),
    reason="baresip (Debian package baresip) is not installed; scripts/test.sh installs it",
)

CALLER_TONE = 400.0
OPERATOR_TONE = 1000.0


def centre() -> Any:
    return parse_centre(
        {
            "operators": [{"id": "op901", "extension": "901", "sip_secret": "pw-901"}],
            "queues": [{"id": "support", "members": ["op901"], "ring_timeout": 15, "retry": 0}],
        }
    )


def to_queue() -> Any:
    return load(
        doc(
            [
                start("xfer"),
                node("xfer", "transfer", {"to": "department", "department": "support", "ring_timeout": 15,
                                          "total_timeout": 20}, answered="bye", busy="bye", no_answer="bye",
                     error="bye"),
                hangup("bye"),
            ],
            scenario_id="to_queue",
        )
    )


async def until(what: str, check: Callable[[], bool], timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, f"timed out waiting until {what}"
        await asyncio.sleep(0.05)


Test = Callable[[SipBackend, Baresip, Baresip, Baresip], Awaitable[None]]


def two_phones_one_account(tmp: Path, test: Test) -> list[StreamEvent]:
    """`test(backend, desk, soft, caller)` with the desk phone and the
    softphone (both answering by hand) registered as 901."""
    events: list[StreamEvent] = []

    async def main() -> None:
        engine = Engine(keep_events=True)
        engine.publish(to_queue(), default=True)
        engine.add_listener(events.append)
        driver = AcdDriver(centre()).attach(engine)
        settings = SipSettings(port=0, rtp_ports=(46000, 47000), digest_algorithms=("MD5",))
        backend = SipBackend(engine, settings=settings)
        await backend.start()
        host, port = backend.address
        params = "auth_pass=pw-901;regint=60;answermode=manual;audio_codecs=PCMU"
        desk = Baresip(tmp / "desk", f"sip:901@{host}:{port}", params, tone=OPERATOR_TONE)
        soft = Baresip(tmp / "soft", f"sip:901@{host}:{port}", params, tone=OPERATOR_TONE)
        caller = Baresip(tmp / "caller", f"sip:caller@{host}", "regint=0;audio_codecs=PCMU", tone=CALLER_TONE)
        try:
            for p in (desk, soft, caller):
                await p.start(40)
            registrar = backend.phones.registrar
            assert registrar is not None
            await until("both phones registered", lambda: len(registrar.bindings("901")) == 2)
            await test(backend, desk, soft, caller)
            await asyncio.wait_for(engine.drain(), 10)
            await until("every leg gone", lambda: not backend.legs and len(backend.core.outgoing) == 0, 10)
            await until("every RTP port back", lambda: backend.rtp_pool.in_use == 0, 5)
        finally:
            for p in (desk, soft, caller):
                await p.stop()
            await driver.shutdown()
            await backend.stop()
            await engine.shutdown()

    asyncio.run(asyncio.wait_for(main(), 90))
    return events


def named(events: list[StreamEvent], name: str) -> list[Any]:
    return [e for e in events if type(e).__name__ == name]


def test_both_phones_ring_the_first_to_answer_gets_the_caller_and_the_other_is_cancelled(tmp_path: Path) -> None:
    async def test(backend: SipBackend, desk: Baresip, soft: Baresip, caller: Baresip) -> None:
        host, port = backend.address
        await caller.command("dial", f"sip:5000@{host}:{port}")
        await desk.wait_for("CALL_INCOMING")  # both ring at once
        await soft.wait_for("CALL_INCOMING")
        await soft.command("accept")
        await soft.wait_for("CALL_ESTABLISHED")
        await desk.wait_for("CALL_CLOSED")  # the CANCEL reached the desk phone
        assert "CALL_ESTABLISHED" not in desk.types()
        await caller.wait_for("CALL_ESTABLISHED")
        await asyncio.sleep(1.5)
        await caller.command("hangup")
        await soft.wait_for("CALL_CLOSED")
        answered.append(soft)

    answered: list[Baresip] = []
    events = two_phones_one_account(tmp_path, test)
    # (read once the phones have quit: baresip completes a recording's WAV header when it closes it)
    heard = answered[0].received_audio()
    assert tone_power(heard, CALLER_TONE) > 20 * tone_power(heard, OPERATOR_TONE)  # the caller's voice
    # one leg to the engine for the two phones, answered
    assert [e.target for e in named(events, "LegDialing")] == ["901"]
    (ended,) = named(events, "LegEnded")
    assert ended.outcome == "answered" and ended.operator_id == "op901"
    assert named(events, "QueueOfferMissed") == []


def test_a_busy_phone_fails_nothing_while_the_other_still_rings(tmp_path: Path) -> None:
    async def test(backend: SipBackend, desk: Baresip, soft: Baresip, caller: Baresip) -> None:
        host, port = backend.address
        await caller.command("dial", f"sip:5000@{host}:{port}")
        await desk.wait_for("CALL_INCOMING")
        await soft.wait_for("CALL_INCOMING")
        await desk.command("hangup")  # the desk phone refuses: 486 Busy Here
        await desk.wait_for("CALL_CLOSED")
        await asyncio.sleep(1.0)  # the leg keeps ringing on the softphone meanwhile
        assert "CALL_CLOSED" not in soft.types() and "CALL_CLOSED" not in caller.types()
        await soft.command("accept")
        await soft.wait_for("CALL_ESTABLISHED")
        await caller.wait_for("CALL_ESTABLISHED")
        await asyncio.sleep(1.0)
        await soft.command("hangup")  # the operator ends the conversation
        await caller.wait_for("CALL_CLOSED")

    events = two_phones_one_account(tmp_path, test)
    (ended,) = named(events, "LegEnded")
    assert ended.outcome == "answered" and ended.by == "callee"
    (bridge,) = named(events, "BridgeEnded")
    assert bridge.ended_by == "callee" and bridge.talk_time > 0.5
