"""Abuse from a trusted trunk's address: an INVITE flood from one address is
held to its rate (503 with Retry-After beyond it) while calls from another
address still go through; the serve settings limit floods by default."""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path

import pytest
from sip_peers import BIND_RACE, SIPP, free_udp_port

from flowengine.events import StreamEvent
from flowengine.runtime.engine import Engine
from flowengine.scenario.loader import load_scenario_data
from telephony_adapters.sip import SipBackend, SipSettings
from telephony_adapters.sip.config import sip_settings

pytestmark = pytest.mark.skipif(SIPP is None, reason="SIPp (Debian sip-tester) is not installed; scripts/test.sh installs it")

QUICK = load_scenario_data(
    {
        "schema": 1,
        "id": "quick",
        "nodes": [
            {"id": "start", "type": "start", "exits": {"next": "wait"}},
            {"id": "wait", "type": "gather", "params": {"options": [{"digits": "1", "exit": "one"}], "first_timeout": 30, "retries": 0},
             "exits": {"one": "bye", "timeout": "bye", "invalid": "bye"}},
            {"id": "bye", "type": "hangup"},
        ],
    }
)


async def uac(target: tuple[str, int], source: str, calls: int, rate: int, cwd: Path) -> tuple[int, int]:
    """SIPp's uac from `source` (again on fresh ports if one was taken before SIPp bound it)."""
    for _attempt in range(3):
        text = await _uac_once(target, source, calls, rate, cwd)
        if BIND_RACE not in text:
            break
    return _count(text, "Successful call"), _count(text, "Failed call")


def _count(text: str, name: str) -> int:
    found = re.search(rf"{name}\s*\|\s*\d+\s*\|\s*(\d+)", text)
    assert found, text[-2000:]
    return int(found.group(1))


async def _uac_once(target: tuple[str, int], source: str, calls: int, rate: int, cwd: Path) -> str:
    cmd = [
        shutil.which("sipp") or "sipp", f"{target[0]}:{target[1]}", "-sn", "uac", "-s", "100",
        "-m", str(calls), "-r", str(rate), "-d", "200", "-i", source, "-p", str(free_udp_port()),
        "-mi", source, "-mp", str(free_udp_port() & ~1),
        "-timeout", "30", "-timeout_error", "-nostdin", "-nd", "-recv_timeout", "3000",
    ]  # fmt: skip
    proc = await asyncio.create_subprocess_exec(*cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=cwd)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return out.decode(errors="replace") + err.decode(errors="replace")


def test_an_invite_flood_from_one_address_is_limited_and_others_still_get_through(tmp_path: Path) -> None:
    async def main() -> None:
        engine = Engine(keep_events=True)
        engine.publish(QUICK, default=True)
        events: list[StreamEvent] = []
        engine.add_listener(events.append)
        backend = SipBackend(
            engine, settings=SipSettings(port=0, rtp_ports=(44400, 44600), invite_rate=5.0, invite_burst=5.0)
        )
        await backend.start()
        try:
            flood, normal = await asyncio.gather(
                uac(backend.address, "127.0.0.2", 100, 100, tmp_path),
                uac(backend.address, "127.0.0.1", 3, 2, tmp_path),
            )
            await asyncio.wait_for(engine.drain(), 10)
        finally:
            await backend.stop()
            await engine.shutdown()
        ok, failed = flood
        # the burst and about 5 a second over the second or so the flood lasts
        assert ok + failed == 100 and ok <= 20 and failed >= 80, flood
        assert backend.core.stats.rate_limited >= 80
        assert normal == (3, 0)  # the other address was never limited
        started = [e for e in events if type(e).__name__ == "CallStarted"]
        assert len(started) == ok + 3

    asyncio.run(main())


def test_serve_settings_limit_invite_floods_unless_told_otherwise() -> None:
    assert sip_settings({}).invite_rate is not None
    assert sip_settings({"invite_rate": None}).invite_rate is None


def test_an_rtp_port_another_program_holds_is_skipped_and_not_lost() -> None:
    """Under load other programs hold ports of the range: the pool must get
    such a port back, or every busy port would leak from it for good."""
    import socket

    from telephony_adapters.sip.media import RtpEndpoint, RtpPortPool

    async def main() -> None:
        pool, squatters = None, []
        for _ in range(20):  # find two free neighbouring even ports and hold both
            low = 2 * (free_udp_port() // 2)
            try:
                for port in (low, low + 2):
                    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    squatters.append(s)
                    s.bind(("127.0.0.1", port))
            except OSError:
                for s in squatters:
                    s.close()
                squatters = []
                continue
            pool = RtpPortPool(low, low + 4)  # exactly those two
            break
        assert pool is not None
        try:
            with pytest.raises(OSError, match="no free RTP port"):
                await RtpEndpoint.open("127.0.0.1", pool, lambda d: None)
            assert pool.in_use == 0  # both given back
            squatters.pop().close()
            rtp = await RtpEndpoint.open("127.0.0.1", pool, lambda d: None)
            assert pool.in_use == 1
            rtp.close()
            pool.give_back(rtp.port)
            assert pool.in_use == 0
        finally:
            for s in squatters:
                s.close()

    asyncio.run(main())
