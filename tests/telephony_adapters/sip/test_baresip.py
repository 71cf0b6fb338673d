"""Operators' phones with real peers: baresip (Debian `baresip`) registers
as an operator with a password and answers calls the ACD gives it; SIPp
or another baresip is the caller. Everything runs on 127.0.0.1 on ports
picked free; every peer quits by itself (-t, -timeout) and every wait is
bounded."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from baresip_peer import BARESIP, Baresip, free_udp_port, read_channels, tone_power
from scenario_builders import doc, hangup, load, node, start

from flowengine.acd import parse_centre
from flowengine.acd.driver import AcdDriver
from flowengine.events import StreamEvent
from flowengine.runtime.engine import Engine
from telephony_adapters.sip import SipBackend, SipSettings
from telephony_adapters.sip.headers import NameAddr, Uri
from telephony_adapters.sip.leg import Destination

pytestmark = pytest.mark.skipif(
    BARESIP is None and not os.environ.get("CI"),
    reason="baresip (Debian package baresip) is not installed; scripts/test.sh installs it",
)

CALLER_TONE = 400.0
OPERATOR_TONE = 1000.0


def centre(*operators: tuple[str, str], strategy: str = "ring_all", record: bool = False) -> Any:
    return parse_centre(
        {
            "operators": [{"id": f"op{ext}", "extension": ext, "sip_secret": secret} for ext, secret in operators],
            "queues": [
                {
                    "id": "support",
                    "members": [f"op{ext}" for ext, _ in operators],
                    "strategy": strategy,
                    "ring_timeout": 15,
                    "retry": 0,
                    "record": record,
                }
            ],
        }
    )


def to_queue() -> Any:
    """Any number: straight to the support queue (a Transfer to the
    department rings as the queue's strategy says), then hang up."""
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


Test = Callable[[SipBackend, AcdDriver, list[StreamEvent], Path], Awaitable[None]]


def with_centre(test: Test, tmp: Path, c: Any) -> None:
    async def main() -> None:
        media = tmp / "media"
        media.mkdir()
        engine = Engine(keep_events=True, media_dirs=[media])
        engine.publish(to_queue(), default=True)
        events: list[StreamEvent] = []
        engine.add_listener(events.append)
        driver = AcdDriver(c).attach(engine)
        # baresip 1.0 answers MD5 challenges only (libre has no SHA-256 digest)
        settings = SipSettings(port=0, rtp_ports=(42000, 43000), digest_algorithms=("MD5",))
        backend = SipBackend(engine, settings=settings)
        await backend.start()
        try:
            await asyncio.wait_for(test(backend, driver, events, tmp), 60)
            await asyncio.wait_for(engine.drain(), 10)
            await asyncio.sleep(0.3)
            assert backend.calls == {}
            assert backend.legs == {}
            assert len(backend.core.outgoing) == 0  # no dialog of a leg left behind
            assert backend.rtp_pool.in_use == 0
        finally:
            await backend.stop()
            await engine.shutdown()

    asyncio.run(main())


def phone(tmp: Path, name: str, backend: SipBackend, user: str, password: str, *, tone: float = OPERATOR_TONE,
          answer: str = "auto") -> Baresip:
    host, port = backend.address
    return Baresip(
        tmp / name,
        f"sip:{user}@{host}:{port}",
        f"auth_pass={password};regint=60;answermode={answer};audio_codecs=PCMU,PCMA",
        tone=tone,
    )


async def until(what: str, check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait (bounded) until `check()` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, f"timed out waiting until {what}"
        await asyncio.sleep(0.05)


def registered(backend: SipBackend, user: str) -> Callable[[], bool]:
    return lambda: backend.phones.registrar is not None and backend.phones.registrar.is_registered(user)


def named(events: list[StreamEvent], name: str) -> list[Any]:
    return [e for e in events if type(e).__name__ == name]


def test_a_phone_registers_with_its_password_and_a_wrong_password_is_refused(tmp_path: Path) -> None:
    async def test(backend: SipBackend, driver: AcdDriver, events: list[StreamEvent], tmp: Path) -> None:
        # before any REGISTER, neither operator may be offered a call
        assert not driver.core.operator("op901").present
        assert not driver.core.operator("op902").present
        good = phone(tmp, "good", backend, "901", "right-horse")
        bad = phone(tmp, "bad", backend, "902", "wrong-battery")
        await good.start(20)
        await bad.start(20)
        try:
            # (the REGISTER may beat our ctrl_tcp connection, so ask the registrar and the log)
            await until("901 registered", registered(backend, "901"))
            await until("902 refused", lambda: "403 Forbidden" in bad.log())
            registrar = backend.phones.registrar
            assert registrar is not None
            assert registrar.is_registered("901") and not registrar.is_registered("902")
            assert driver.core.operator("op901").present  # the ACD may ring 901 now
            assert not driver.core.operator("op902").present  # 902 stays unreachable
            assert driver.core.operator_status("op902")[:2] == ("not_available", "phone_unregistered")
            assert registrar.stats.refused >= 1
        finally:
            await good.stop()
            await bad.stop()

    with_centre(test, tmp_path, centre(("901", "right-horse"), ("902", "staple")))


def test_a_queue_call_is_bridged_to_the_phone_audio_and_dtmf_cross_and_it_is_recorded(tmp_path: Path) -> None:
    async def test(backend: SipBackend, driver: AcdDriver, events: list[StreamEvent], tmp: Path) -> None:
        operator = phone(tmp, "operator", backend, "901", "pw-901", tone=OPERATOR_TONE)
        host, port = backend.address
        # the caller offers A-law only; the phone answers in µ-law: the relay transcodes
        caller = Baresip(tmp / "caller", f"sip:caller@{host}", "regint=0;audio_codecs=PCMA", tone=CALLER_TONE)
        await operator.start(30)
        await caller.start(30)
        try:
            await until("901 registered", registered(backend, "901"))
            await caller.command("dial", f"sip:5000@{host}:{port}")
            await operator.wait_for("CALL_ESTABLISHED")
            await caller.wait_for("CALL_ESTABLISHED")
            await asyncio.sleep(2.0)
            await caller.command("sndcode", "5")  # RFC 4733 from the caller ...
            await operator.wait_for("CALL_DTMF_START", param="5")  # ... reaches the operator's phone
            await operator.command("sndcode", "7")
            await caller.wait_for("CALL_DTMF_START", param="7")
            await asyncio.sleep(1.0)
            await caller.command("hangup")
            await operator.wait_for("CALL_CLOSED")
            await caller.wait_for("CALL_CLOSED")
            await asyncio.sleep(0.5)
        finally:
            await operator.stop()
            await caller.stop()
        # each side heard the other's tone
        heard_by_operator = operator.received_audio()
        heard_by_caller = caller.received_audio()
        assert tone_power(heard_by_operator, CALLER_TONE) > 20 * tone_power(heard_by_operator, OPERATOR_TONE)
        assert tone_power(heard_by_caller, OPERATOR_TONE) > 20 * tone_power(heard_by_caller, CALLER_TONE)
        # the engine's stream: the leg answered and was bridged; the recording was made
        ended = named(events, "BridgeEnded")
        assert len(ended) == 1 and ended[0].ended_by == "caller" and ended[0].operator_id == "op901"
        made = named(events, "RecordingMade")
        assert len(made) == 1 and made[0].node_id == "xfer" and made[0].duration > 2.5
        left, right = read_channels(tmp / "media" / made[0].uri)
        assert len(left) == len(right) > 8000 * 2.5
        assert tone_power(left, CALLER_TONE) > 20 * tone_power(left, OPERATOR_TONE)
        assert tone_power(right, OPERATOR_TONE) > 20 * tone_power(right, CALLER_TONE)

    with_centre(test, tmp_path, centre(("901", "pw-901"), record=True))


def test_ring_all_cancels_the_phone_that_lost_the_race(tmp_path: Path) -> None:
    async def test(backend: SipBackend, driver: AcdDriver, events: list[StreamEvent], tmp: Path) -> None:
        winner = phone(tmp, "winner", backend, "901", "pw-1")
        loser = phone(tmp, "loser", backend, "902", "pw-2", answer="manual")
        host, port = backend.address
        caller = Baresip(tmp / "caller", f"sip:caller@{host}", "regint=0;audio_codecs=PCMU", tone=CALLER_TONE)
        for p in (winner, loser, caller):
            await p.start(30)
        try:
            await until("901 registered", registered(backend, "901"))
            await until("902 registered", registered(backend, "902"))
            await caller.command("dial", f"sip:5000@{host}:{port}")
            await winner.wait_for("CALL_ESTABLISHED")
            await loser.wait_for("CALL_INCOMING")
            await loser.wait_for("CALL_CLOSED")  # the CANCEL reached it
            assert "CALL_ESTABLISHED" not in loser.types()
            await asyncio.sleep(0.5)
            await caller.command("hangup")
            await winner.wait_for("CALL_CLOSED")
        finally:
            for p in (winner, loser, caller):
                await p.stop()
        legs = {e.operator_id: e for e in named(events, "LegEnded")}
        assert legs["op902"].outcome == "cancelled" and legs["op902"].cause == "answered_elsewhere"
        assert legs["op901"].outcome == "answered"

    with_centre(test, tmp_path, centre(("901", "pw-1"), ("902", "pw-2")))


SIPP = shutil.which("sipp")


async def sipp_call(target: tuple[str, int], cwd: Path, *args: str) -> tuple[int, str]:
    """One SIPp call (bounded: -m 1, -timeout); its exit code and screen."""
    (cwd / "pcap").symlink_to("/usr/share/sip-tester")  # uac_pcap plays pcap/*.pcap
    proc = await asyncio.create_subprocess_exec(
        SIPP or "sipp", f"{target[0]}:{target[1]}", *args, "-m", "1",
        "-i", "127.0.0.1", "-mi", "127.0.0.1", "-p", str(free_udp_port()), "-mp", str(free_udp_port() & ~1),
        "-timeout", "30", "-timeout_error", "-nostdin", "-nd",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=cwd,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 40)
    return proc.returncode or 0, out.decode(errors="replace")


def test_a_sipp_call_reaches_the_phone_its_audio_and_dtmf_cross_the_bridge(tmp_path: Path) -> None:
    """SIPp's uac_pcap: answered by the queue's phone, it plays its A-law
    recording, presses 1 (RFC 2833) and hangs up."""

    async def test(backend: SipBackend, driver: AcdDriver, events: list[StreamEvent], tmp: Path) -> None:
        operator = phone(tmp, "operator", backend, "901", "pw-901")
        await operator.start(30)
        try:
            await until("901 registered", registered(backend, "901"))
            rc, screen = await sipp_call(backend.address, tmp, "-sn", "uac_pcap", "-s", "5000")
            assert rc == 0, screen[-2500:]
            await operator.wait_for("CALL_DTMF_START", param="1")
            await operator.wait_for("CALL_CLOSED")
        finally:
            await operator.stop()
        heard = operator.received_audio()
        loud = sum(1 for x in heard if abs(x) > 1000)
        assert loud > 8000, "the operator's phone heard nearly nothing of SIPp's recording"
        made = named(events, "RecordingMade")
        assert len(made) == 1
        left, right = read_channels(tmp / "media" / made[0].uri)
        assert sum(1 for x in left if abs(x) > 1000) > 8000  # the caller's voice, left
        assert tone_power(right, OPERATOR_TONE) > 20 * tone_power(right, CALLER_TONE)  # the phone's tone, right

    if SIPP is None:
        pytest.skip("SIPp (Debian package sip-tester) is not installed; scripts/test.sh installs it")
    with_centre(test, tmp_path, centre(("901", "pw-901"), record=True))


def test_an_unanswered_desk_phone_forwards_to_the_mobile_through_the_trunk_hook(tmp_path: Path) -> None:
    """The operator's mobile is rung 2 s into the offer (its `after`), out
    through `route_number` (the trunks' hook; here a baresip standing in for
    the carrier); the mobile answers and the desk phone stops ringing."""

    async def test(backend: SipBackend, driver: AcdDriver, events: list[StreamEvent], tmp: Path) -> None:
        desk = phone(tmp, "desk", backend, "901", "pw-901", answer="manual")
        mobile = Baresip(tmp / "mobile", "sip:mobile@127.0.0.1", "regint=0;answermode=auto;audio_codecs=PCMU", tone=OPERATOR_TONE)
        host, port = backend.address
        caller = Baresip(tmp / "caller", f"sip:caller@{host}", "regint=0;audio_codecs=PCMU", tone=CALLER_TONE)
        routed: list[str] = []

        def route_number(number: str) -> Destination | None:
            routed.append(number)
            uri = Uri("sip", "mobile", "127.0.0.1", mobile.sip_port)
            return Destination(uri, ("127.0.0.1", mobile.sip_port), NameAddr(uri))

        backend.route_number = route_number  # type: ignore[method-assign]
        for p in (desk, mobile, caller):
            await p.start(30)
        try:
            await until("901 registered", registered(backend, "901"))
            await caller.command("dial", f"sip:5000@{host}:{port}")
            await desk.wait_for("CALL_INCOMING")
            await mobile.wait_for("CALL_ESTABLISHED")
            await desk.wait_for("CALL_CLOSED")  # the desk phone stopped ringing
            await asyncio.sleep(0.5)
            await caller.command("hangup")
            await mobile.wait_for("CALL_CLOSED")
        finally:
            for p in (desk, mobile, caller):
                await p.stop()
        assert routed == ["+79160000001"]
        dialing = {e.target: e.t for e in named(events, "LegDialing")}
        assert dialing["+79160000001"] - dialing["901"] >= 1.8
        legs = {e.target: e for e in named(events, "LegEnded")}
        assert legs["901"].outcome == "cancelled" and legs["+79160000001"].outcome == "answered"

    c = parse_centre(
        {
            "operators": [
                {"id": "op901", "extension": "901", "sip_secret": "pw-901",
                 "targets": ["901", {"number": "+79160000001", "after": 2}]},
            ],
            "queues": [{"id": "support", "members": ["op901"], "ring_timeout": 15, "retry": 0}],
        }
    )
    with_centre(test, tmp_path, c)


def test_the_phone_hanging_up_ends_the_bridge_and_the_scenario_goes_on(tmp_path: Path) -> None:
    async def test(backend: SipBackend, driver: AcdDriver, events: list[StreamEvent], tmp: Path) -> None:
        operator = phone(tmp, "operator", backend, "901", "pw-901")
        host, port = backend.address
        caller = Baresip(tmp / "caller", f"sip:caller@{host}", "regint=0;audio_codecs=PCMU", tone=CALLER_TONE)
        await operator.start(30)
        await caller.start(30)
        try:
            await until("901 registered", registered(backend, "901"))
            await caller.command("dial", f"sip:5000@{host}:{port}")
            await operator.wait_for("CALL_ESTABLISHED")
            await asyncio.sleep(0.5)
            await operator.command("hangup")  # the operator's BYE
            await caller.wait_for("CALL_CLOSED")  # the scenario went on to its Hangup node
        finally:
            await operator.stop()
            await caller.stop()
        (ended,) = named(events, "BridgeEnded")
        assert ended.ended_by == "callee"
        (hung_up,) = named(events, "CallHungUp")
        assert hung_up.by == "engine"  # the Hangup node, after the bridge

    with_centre(test, tmp_path, centre(("901", "pw-901")))


def test_a_new_centre_keeps_registered_phones_reachable_and_brings_new_accounts(tmp_path: Path) -> None:
    """The service replaces its ACD when the centre changes, carrying each
    operator's status over: a registered phone's operator stays reachable,
    a new account's operator is away until its phone registers."""

    async def test(backend: SipBackend, driver: AcdDriver, events: list[StreamEvent], tmp: Path) -> None:
        first = phone(tmp, "first", backend, "901", "pw-901")
        await first.start(20)
        second: Baresip | None = None
        try:
            await until("901 registered", registered(backend, "901"))
            # what the service does on PUT /centre: a new ACD, statuses carried over
            new_centre = centre(("901", "pw-901"), ("902", "pw-902"))
            carried = {op: driver.core.operator_status(op)[:2] for op in driver.core.operator_ids()}
            await driver.shutdown()
            new = AcdDriver(new_centre)
            for op, (status, reason) in carried.items():
                new.core.set_status(new.loop.time(), op, status, reason)
            new.attach(backend.engine)
            assert backend.owns("902")  # the router's question: the new account is ours now
            assert new.core.operator("op901").present and new.core.operator_status("op901")[0] == "available"
            assert not new.core.operator("op902").present
            second = phone(tmp, "second", backend, "902", "pw-902")
            await second.start(20)
            await until("902 registered", registered(backend, "902"))
            await until("op902 present", lambda: new.core.operator("op902").present)
        finally:
            await first.stop()
            if second is not None:
                await second.stop()

    with_centre(test, tmp_path, centre(("901", "pw-901")))
