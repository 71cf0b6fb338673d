"""Real SIP peers: SIPp (Debian `sip-tester`) calls the engine's SIP backend
on 127.0.0.1 and the per-number IVR answers. SIPp's own verdict (its exit
code and its "Successful call" count) and the engine's event stream are
both checked. Ports are picked free; every SIPp run is bounded by -m and
-timeout, and the test by asyncio timeouts."""

from __future__ import annotations

import asyncio
import re
import shutil
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sipp_scenarios import cancelling_caller, dtmf_caller, holding_caller

from flowengine.events import StreamEvent
from flowengine.runtime.engine import Engine
from flowengine.scenario.loader import load_scenario_data, load_scenario_file
from telephony_adapters.sip import SipBackend, SipSettings

REPO = Path(__file__).resolve().parents[3]
IVR = REPO / "examples" / "per_number_ivr.json"
SIPP = shutil.which("sipp")

pytestmark = pytest.mark.skipif(SIPP is None, reason="SIPp (Debian package sip-tester) is not installed; scripts/test.sh installs it")


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Sipp:
    def __init__(self, rc: int, out: str, err: str) -> None:
        self.rc, self.out, self.err = rc, out, err

    def count(self, name: str) -> int:
        match = re.search(rf"{name}\s*\|\s*\d+\s*\|\s*(\d+)", self.out)
        assert match, f"no '{name}' line in SIPp's output:\n{self.out[-2000:]}"
        return int(match.group(1))


def _error_logs(folder: Path) -> str:
    return "".join(p.read_text(errors="replace") for p in folder.glob("errors-*.log"))


async def sipp(target: tuple[str, int], *args: str, cwd: Path, timeout: float = 60.0) -> Sipp:
    cmd = [
        SIPP or "sipp", f"{target[0]}:{target[1]}", *args,
        "-i", "127.0.0.1", "-mi", "127.0.0.1", "-p", str(free_udp_port()), "-mp", str(free_udp_port() & ~1),
        "-timeout", "30", "-timeout_error", "-nostdin", "-nd",
        "-trace_err", "-error_file", str(cwd / f"errors-{free_udp_port()}.log"),
    ]
    proc = await asyncio.create_subprocess_exec(
        *cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=cwd
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    errors = await asyncio.to_thread(_error_logs, cwd)
    return Sipp(proc.returncode or 0, out.decode(errors="replace"), err.decode(errors="replace") + errors)


def with_engine(test: Callable[[SipBackend, list[StreamEvent], Path], Awaitable[None]], tmp: Path, scenario: Any = None) -> None:
    async def main() -> None:
        engine = Engine(keep_events=True)
        # the IVR is also the default scenario, so unbound numbers take its "other" branch
        engine.publish(scenario if scenario is not None else load_scenario_file(IVR), default=True)
        events: list[StreamEvent] = []
        engine.add_listener(events.append)
        backend = SipBackend(engine, settings=SipSettings(port=0, rtp_ports=(40000, 41000)))
        await backend.start()
        try:
            await test(backend, events, tmp)
            await asyncio.wait_for(engine.drain(), 10)
            # nothing leaks: no call object, no RTP socket, no dialog, no call task
            assert backend.calls == {}
            assert backend.rtp_pool.in_use == 0
            assert backend.core.calls == 0
            assert engine.active_calls == 0
        finally:
            await backend.stop()
            await engine.shutdown()

    asyncio.run(main())


def by_call(events: list[StreamEvent]) -> dict[str, list[StreamEvent]]:
    calls: dict[str, list[StreamEvent]] = {}
    for ev in events:
        call_id = getattr(ev, "call_id", None)
        if call_id is not None:
            calls.setdefault(call_id, []).append(ev)
    return calls


def exits(stream: list[StreamEvent]) -> dict[str, str]:
    return {ev.node_id: ev.exit for ev in stream if type(ev).__name__ == "NodeLeft"}  # type: ignore[attr-defined]


def first(stream: list[StreamEvent], name: str) -> Any:
    return next(ev for ev in stream if type(ev).__name__ == name)


def test_sipp_uac_calls_are_answered_routed_by_number_and_hung_up(tmp_path: Path) -> None:
    async def test(backend: SipBackend, events: list[StreamEvent], tmp: Path) -> None:
        runs = await asyncio.gather(
            sipp(backend.address, "-sn", "uac", "-s", "+74951230001", "-m", "4", "-r", "10", "-d", "500", cwd=tmp),
            sipp(backend.address, "-sn", "uac", "-s", "+78125550002", "-m", "3", "-r", "10", "-d", "500", cwd=tmp),
            sipp(backend.address, "-sn", "uac", "-s", "4999", "-m", "2", "-r", "10", "-d", "500", cwd=tmp),
        )
        for run in runs:
            assert run.rc == 0, run.out[-2500:] + run.err[-2000:]
        assert [run.count("Successful call") for run in runs] == [4, 3, 2]
        assert [run.count("Failed call") for run in runs] == [0, 0, 0]
        await asyncio.sleep(0.2)
        calls = by_call(events)
        branches = sorted((first(s, "CallStarted").called, exits(s)["menu_by_number"]) for s in calls.values())
        assert branches == sorted(
            [("+74951230001", "moscow")] * 4 + [("+78125550002", "spb")] * 3 + [("4999", "other")] * 2
        )
        for stream in calls.values():
            started = first(stream, "CallStarted")
            assert started.backend == "sip" and started.line == "local" and started.caller == "sipp"  # the user part of SIPp's From
            assert first(stream, "CallHungUp").by == "caller"  # SIPp hung up (BYE)

    with_engine(test, tmp_path)


@pytest.mark.parametrize(
    ("number", "digits", "menu", "choice"),
    [
        ("+74951230001", "1", "moscow_menu", "sales"),
        ("+78125550002", "2", "spb_menu", "delivery"),
        ("+78005553535", "2", "hotline_menu", "complaints"),
    ],
)
def test_rfc2833_digits_from_sipp_choose_the_option_and_the_engine_hangs_up(
    tmp_path: Path, number: str, digits: str, menu: str, choice: str
) -> None:
    (tmp_path / "dtmf.xml").write_text(dtmf_caller(digits))

    async def test(backend: SipBackend, events: list[StreamEvent], tmp: Path) -> None:
        run = await sipp(backend.address, "-sf", "dtmf.xml", "-s", number, "-m", "1", cwd=tmp)
        assert run.rc == 0, run.out[-2500:] + run.err[-2000:]
        assert run.count("Successful call") == 1
        (stream,) = by_call(events).values()
        assert exits(stream)[menu] == choice
        got = first(stream, "DigitsReceived")
        assert got.digits == digits
        hung = first(stream, "CallHungUp")
        assert hung.by == "engine"  # the scenario's Hangup node sent BYE; SIPp answered it

    with_engine(test, tmp_path)


def test_cancel_during_early_media_gets_487_and_ends_the_call(tmp_path: Path) -> None:
    early = load_scenario_data(
        {
            "schema": 1,
            "id": "early",
            "numbers": ["777"],
            "nodes": [
                {"id": "start", "type": "start", "params": {"answer": False}, "exits": {"next": "greet"}},
                {"id": "greet", "type": "say", "params": {"text": "Please hold the line while we find someone. " * 3}, "exits": {"next": "bye"}},
                {"id": "bye", "type": "hangup"},
            ],
        }
    )
    (tmp_path / "cancel.xml").write_text(cancelling_caller())

    async def test(backend: SipBackend, events: list[StreamEvent], tmp: Path) -> None:
        run = await sipp(backend.address, "-sf", "cancel.xml", "-s", "777", "-m", "2", "-r", "5", cwd=tmp)
        assert run.rc == 0, run.out[-2500:] + run.err[-2000:]
        assert run.count("Successful call") == 2
        await asyncio.sleep(0.2)
        for stream in by_call(events).values():
            hung = first(stream, "CallHungUp")
            assert (hung.by, hung.cause, hung.sip_status) == ("caller", "cancelled", 487)
            assert exits(stream)["greet"] == "hangup"

    with_engine(test, tmp_path, early)


def test_sipp_load_500_calls_at_50_per_second_all_succeed_and_nothing_leaks(tmp_path: Path) -> None:
    """The issue's load check: every call answered, prompted and hung up; the
    leak checks of `with_engine` run after it (no call object, RTP socket,
    dialog or call task left)."""

    async def test(backend: SipBackend, events: list[StreamEvent], tmp: Path) -> None:
        run = await sipp(
            backend.address, "-sn", "uac", "-s", "+74951230001", "-m", "500", "-r", "50", "-d", "300",
            cwd=tmp, timeout=120,
        )
        assert run.rc == 0, run.out[-2500:] + run.err[-2000:]
        assert run.count("Successful call") == 500
        assert run.count("Failed call") == 0
        assert backend.core.stats.calls == 500  # a resent INVITE never became a second call

    with_engine(test, tmp_path)


def test_options_and_hold_from_the_far_end_by_reinvite(tmp_path: Path) -> None:
    """SIPp asks OPTIONS (200 listing INVITE in Allow), then holds and resumes
    the call with re-INVITEs: each gets a 200 whose SDP mirrors the offer
    (recvonly for sendonly, sendrecv again on resume), checked by SIPp's own
    regular expressions; the call goes on and ends with SIPp's BYE."""
    (tmp_path / "hold.xml").write_text(holding_caller())

    async def test(backend: SipBackend, events: list[StreamEvent], tmp: Path) -> None:
        run = await sipp(backend.address, "-sf", "hold.xml", "-s", "+74951230001", "-m", "1", cwd=tmp)
        assert run.rc == 0, run.out[-2500:] + run.err[-2000:]
        assert run.count("Successful call") == 1
        (stream,) = by_call(events).values()
        assert first(stream, "CallHungUp").by == "caller"

    with_engine(test, tmp_path)
