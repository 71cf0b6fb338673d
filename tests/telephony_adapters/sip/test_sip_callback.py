"""A callback on SIP with real phones: the caller (a baresip on the
"carrier" side) files a callback and hangs up; the ACD rings the operator's
registered baresip, then the caller's number out through the trunk, and the
two legs (no caller's call) are joined back to back: each phone hears the
other's tone (A-law on one side, µ-law on the other), a digit crosses, the
queue's `record` makes a stereo recording of both, and whoever hangs up
first releases the other. Everything on 127.0.0.1, ports picked free,
every peer and wait bounded."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from baresip_peer import BARESIP, Baresip, read_channels, tone_power
from scenario_builders import doc, hangup, load, node, start

from flowengine.acd import parse_centre
from flowengine.acd.driver import AcdDriver
from flowengine.events import StreamEvent
from flowengine.runtime.engine import Engine
from telephony_adapters.sip import SipBackend, SipSettings, Trunk

pytestmark = pytest.mark.skipif(
    BARESIP is None and not os.environ.get("CI"),
    reason="baresip (Debian package baresip) is not installed; scripts/test.sh installs it",
)

CALLER = "+79160000001"
CALLER_TONE = 400.0
OPERATOR_TONE = 1000.0


def centre() -> Any:
    return parse_centre(
        {
            "operators": [{"id": "op901", "extension": "901", "sip_secret": "pw-901"}],
            "queues": [
                {"id": "support", "members": ["op901"], "ring_timeout": 15, "retry": 0, "callback": True, "record": True}
            ],
            "dial_policy": {"allow": ["+7XXXXXXXXXX"]},
        }
    )


def file_a_callback() -> Any:
    """Any number: a callback request into 'support', then hang up."""
    return load(
        doc(
            [
                start("cb"),
                node("cb", "callback", {"queue": "support"}, filed="bye", refused="bye"),
                hangup("bye"),
            ],
            scenario_id="ring_me_back",
        )
    )


async def until(what: str, check: Callable[[], bool], timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, f"timed out waiting until {what}"
        await asyncio.sleep(0.05)


def count(phone: Baresip, kind: str) -> Callable[[], int]:
    return lambda: phone.types().count(kind)


def call_audio(phone: Baresip) -> list[int]:
    """What the phone decoded in its last call (sndfile writes one file per call)."""
    files = sorted((phone.folder / "rec").glob("*dec*.wav"), key=lambda f: f.stat().st_mtime)
    assert files, f"baresip recorded nothing: {list((phone.folder / 'rec').iterdir())}"
    return read_channels(files[-1])[0]


@pytest.mark.parametrize("first_to_hang_up", ["caller", "operator"])
def test_a_callback_joins_the_operator_and_the_caller_both_ways(tmp_path: Path, first_to_hang_up: str) -> None:
    events: list[StreamEvent] = []
    media = tmp_path / "media"

    async def main() -> None:
        media.mkdir()
        engine = Engine(keep_events=True, media_dirs=[media])
        engine.publish(file_a_callback(), default=True)
        engine.add_listener(events.append)
        driver = AcdDriver(centre()).attach(engine)
        caller = Baresip(
            tmp_path / "caller", f"sip:{CALLER}@127.0.0.1", "regint=0;answermode=auto;audio_codecs=PCMA", tone=CALLER_TONE
        )
        settings = SipSettings(
            port=0,
            rtp_ports=(45000, 46000),
            digest_algorithms=("MD5",),  # baresip 1.0 answers MD5 challenges only
            # the caller's phone stands behind the carrier: their number goes out there
            trunks=(Trunk.of("carrier", ["127.0.0.1"], proxy=f"127.0.0.1:{caller.sip_port}", dial=["+7XXXXXXXXXX"]),),
        )
        backend = SipBackend(engine, settings=settings)
        await backend.start()
        host, port = backend.address
        operator = Baresip(
            tmp_path / "operator",
            f"sip:901@{host}:{port}",
            "auth_pass=pw-901;regint=60;answermode=manual;audio_codecs=PCMU",
            tone=OPERATOR_TONE,
        )
        try:
            await operator.start(40)
            await caller.start(40)
            registrar = backend.phones.registrar
            await until("901 registered", lambda: registrar is not None and registrar.is_registered("901"))
            await caller.command("dial", f"sip:5000@{host}:{port}")
            await caller.wait_for("CALL_CLOSED")  # filed; the scenario hung up
            await operator.wait_for("CALL_INCOMING")  # the callback rings the operator first ...
            await operator.command("accept")
            await until("the caller rung back", lambda: count(caller, "CALL_ESTABLISHED")() >= 2)  # ... then the caller
            await operator.wait_for("CALL_ESTABLISHED")
            await asyncio.sleep(2.0)
            await caller.command("sndcode", "5")  # RFC 4733 from the caller's phone ...
            await operator.wait_for("CALL_DTMF_START", param="5")  # ... reaches the operator's
            await asyncio.sleep(0.5)
            if first_to_hang_up == "caller":
                await caller.command("hangup")
                await operator.wait_for("CALL_CLOSED")  # the engine released the operator
            else:
                await operator.command("hangup")
                await until("the caller released", lambda: count(caller, "CALL_CLOSED")() >= 2)
            await asyncio.wait_for(engine.drain(), 10)
            await until("every leg gone", lambda: not backend.legs and len(backend.core.outgoing) == 0, 10)
            await until("every RTP port back", lambda: backend.rtp_pool.in_use == 0, 5)
        finally:
            await operator.stop()
            await caller.stop()
            await driver.shutdown()
            await backend.stop()
            await engine.shutdown()
        # (read once the phones have quit: baresip completes a recording's WAV header when it closes it)
        heard_by_operator = call_audio(operator)
        heard_by_caller = call_audio(caller)
        # each phone heard the other's tone (transcoded between A-law and µ-law)
        assert tone_power(heard_by_operator, CALLER_TONE) > 20 * tone_power(heard_by_operator, OPERATOR_TONE)
        assert tone_power(heard_by_caller, OPERATOR_TONE) > 20 * tone_power(heard_by_caller, CALLER_TONE)

    asyncio.run(asyncio.wait_for(main(), 90))
    queue = [e.to_dict() for e in events if e.stream == "queue"]
    names = [e["event"] for e in queue]
    assert names[:2] == ["callback_attempted", "callback_connected"], names
    (completed,) = [e for e in queue if e["event"] == "callback_completed"]
    assert completed["by"] == ("caller" if first_to_hang_up == "caller" else "agent")
    assert completed["talk_time"] > 2.0
    # the queue records its conversations: the caller left, the operator right
    (recording,) = (media / "recordings").glob("*/*callback.wav")
    # ... and says so in the queue stream, for storage to file it under the call that asked
    (recorded,) = [e for e in queue if e["event"] == "callback_recorded"]
    assert names.index("callback_recorded") < names.index("callback_completed")
    assert (recorded["call_id"], recorded["operator_id"]) == (completed["call_id"], completed["operator_id"])
    assert recorded["uri"] == recording.relative_to(media).as_posix() and recorded["duration"] > 2.0
    left, right = read_channels(recording)
    assert len(left) == len(right) > 8000 * 2.0
    assert tone_power(left, CALLER_TONE) > 20 * tone_power(left, OPERATOR_TONE)
    assert tone_power(right, OPERATOR_TONE) > 20 * tone_power(right, CALLER_TONE)
