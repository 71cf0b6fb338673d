"""Inside an answered call, with SIPp as the far end: blind transfer by
REFER (202, then the NOTIFY sipfrag decides), our hold and resume
(re-INVITE a=sendonly / a=sendrecv, ACKed), the far end's hold stopping our
RTP until it resumes, UPDATE answered; and a caller's digits never make the
engine REFER to a number nothing allowed."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sip_peers import BIND_RACE, SIPP, free_udp_port

from flowengine.events import StreamEvent
from flowengine.runtime.engine import Engine
from flowengine.scenario.loader import load_scenario_data
from telephony_adapters.sip import SipBackend, SipSettings

pytestmark = pytest.mark.skipif(SIPP is None, reason="SIPp (Debian sip-tester) is not installed; scripts/test.sh installs it")

_HEAD = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="{name}">
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "SIPp" <sip:300@[local_ip]:[local_port]>;tag=[pid]x[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:300@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rtd="true"/>
  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "SIPp" <sip:300@[local_ip]:[local_port]>;tag=[pid]x[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
"""

_OK = """
  <send>
    <![CDATA[
      SIP/2.0 {status}
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:300@[local_ip]:[local_port]>
      {extra}Content-Length: {length}
{body}
    ]]>
  </send>
"""


def _reply(status: str, *, sdp: str | None = None) -> str:
    if sdp is None:
        return _OK.format(status=status, extra="", length="0", body="")
    body = (
        "\n      v=0\n      o=user1 1 2 IN IP4 [local_ip]\n      s=-\n      c=IN IP4 [media_ip]\n      t=0 0\n"
        "      m=audio [media_port] RTP/AVP 0\n      a=rtpmap:0 PCMU/8000\n      a=" + sdp
    )
    return _OK.format(status=status, extra="Content-Type: application/sdp\n      ", length="[len]", body=body)


def _notify(cseq: int, frag: str) -> str:
    return f"""
  <send retrans="500">
    <![CDATA[
      NOTIFY sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "SIPp" <sip:300@[local_ip]:[local_port]>;tag=[pid]x[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: {cseq} NOTIFY
      Event: refer
      Subscription-State: {"terminated;reason=noresource" if not frag.startswith("SIP/2.0 1") else "active;expires=60"}
      Contact: <sip:300@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: message/sipfrag;version=2.0
      Content-Length: [len]

      {frag}
    ]]>
  </send>
  <recv response="200"/>
"""


def refer_target(refer_status: str, final: str | None) -> str:
    """Takes the REFER (its Refer-To checked), answers `refer_status`; then,
    if `final`, NOTIFYs 100 Trying and `final`, and waits for the engine's BYE."""
    steps = (
        '  <recv request="REFER" timeout="15000">\n    <action>\n'
        '      <ereg regexp="sip:\\+74951112233@127\\.0\\.0\\.1:[0-9]+" search_in="hdr" header="Refer-To:" '
        'check_it="true" assign_to="target"/>\n    </action>\n  </recv>\n' + _reply(refer_status)
    )
    if final is not None:
        steps += _notify(2, "SIP/2.0 100 Trying") + _notify(3, final)
        if final.startswith("SIP/2.0 2"):
            steps += '  <recv request="BYE" timeout="15000"/>\n' + _reply("200 OK")
    if final is None or not final.startswith("SIP/2.0 2"):
        steps += '  <recv request="BYE" timeout="15000"/>\n' + _reply("200 OK")
    return _HEAD.format(name="refer target") + steps + '  <Reference variables="target"/>\n</scenario>\n'


def held_by_engine() -> str:
    """Answers the engine's re-INVITEs: a=sendonly with a=recvonly, a=sendrecv with a=sendrecv."""

    def take(direction: str, answer: str) -> str:
        return (
            f'  <recv request="INVITE" timeout="15000">\n    <action>\n'
            f'      <ereg regexp="a={direction}" search_in="body" check_it="true" assign_to="got_{direction}"/>\n'
            f"    </action>\n  </recv>\n" + _reply("200 OK", sdp=answer) + '  <recv request="ACK"/>\n'
        )

    steps = take("sendonly", "recvonly") + take("sendrecv", "sendrecv")
    steps += '  <recv request="BYE" timeout="15000"/>\n' + _reply("200 OK")
    return _HEAD.format(name="held by the engine") + steps + '  <Reference variables="got_sendonly,got_sendrecv"/>\n</scenario>\n'


def holds_engine(hold_ms: int = 1500) -> str:
    """Puts the engine on hold (a=inactive) for a while, then UPDATE, then resumes, then BYE."""

    def reinvite(cseq: int, direction: str) -> str:
        return f"""
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "SIPp" <sip:300@[local_ip]:[local_port]>;tag=[pid]x[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: {cseq} INVITE
      Contact: <sip:300@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 1 {cseq} IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a={direction}
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="200"/>
  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "SIPp" <sip:300@[local_ip]:[local_port]>;tag=[pid]x[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: {cseq} ACK
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
"""

    update = """
  <send retrans="500">
    <![CDATA[
      UPDATE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "SIPp" <sip:300@[local_ip]:[local_port]>;tag=[pid]x[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 4 UPDATE
      Contact: <sip:300@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv response="200"/>
"""
    bye = """
  <send retrans="500">
    <![CDATA[
      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "SIPp" <sip:300@[local_ip]:[local_port]>;tag=[pid]x[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 6 BYE
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv response="200"/>
"""
    steps = (
        '  <pause milliseconds="600"/>\n' + reinvite(2, "inactive") + f'  <pause milliseconds="{hold_ms}"/>\n'
        + reinvite(3, "sendrecv") + update + '  <pause milliseconds="600"/>\n' + bye
    )
    return _HEAD.format(name="holds the engine") + steps + "</scenario>\n"


def scenario(nodes: list[dict[str, Any]]) -> Any:
    return load_scenario_data({"schema": 1, "id": "t", "nodes": nodes})


async def run_sipp(cwd: Path, xml: str, target: tuple[str, int]) -> tuple[int, str]:
    """SIPp with scenario `xml`; again on fresh ports if one was taken before SIPp bound it."""
    (cwd / "s.xml").write_text(xml)
    for _attempt in range(3):
        rc, why = await _run_sipp_once(cwd, target)
        if BIND_RACE not in why:
            break
    return rc, why


async def _run_sipp_once(cwd: Path, target: tuple[str, int]) -> tuple[int, str]:
    (cwd / "err.log").unlink(missing_ok=True)
    cmd = [
        "sipp", f"{target[0]}:{target[1]}", "-sf", "s.xml", "-s", "500", "-m", "1",
        "-i", "127.0.0.1", "-mi", "127.0.0.1", "-p", str(free_udp_port()), "-mp", str(free_udp_port() & ~1),
        "-timeout", "40", "-timeout_error", "-nostdin", "-nd", "-trace_err", "-error_file", str(cwd / "err.log"),
    ]  # fmt: skip
    proc = await asyncio.create_subprocess_exec(*cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=cwd)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    logs = (cwd / "err.log").read_text(errors="replace") if (cwd / "err.log").exists() else ""
    return proc.returncode or 0, out.decode(errors="replace")[-2500:] + err.decode(errors="replace") + logs[-2500:]


def with_backend(tmp: Path, flow: Any, test: Any, **settings: Any) -> None:
    async def main() -> None:
        engine = Engine(keep_events=True)
        engine.publish(flow, default=True)
        events: list[StreamEvent] = []
        engine.add_listener(events.append)
        backend = SipBackend(engine, settings=SipSettings(port=0, rtp_ports=(44000, 44200), **settings))
        await backend.start()
        try:
            await test(backend, events)
            await asyncio.wait_for(engine.drain(), 10)
            assert backend.calls == {} and backend.core.calls == 0 and backend.rtp_pool.in_use == 0
        finally:
            await backend.stop()
            await engine.shutdown()

    asyncio.run(main())


def names(events: list[StreamEvent]) -> list[str]:
    return [type(e).__name__ for e in events]


BLIND = [
    {"id": "start", "type": "start", "exits": {"next": "xfer"}},
    {"id": "xfer", "type": "transfer", "params": {"to": "number", "numbers": ["+74951112233"], "blind": True},
     "exits": {"answered": "done", "failed": "sorry"}},
    {"id": "sorry", "type": "say", "params": {"text": "Sorry"}, "exits": {"next": "done"}},
    {"id": "done", "type": "hangup"},
]  # fmt: skip


@pytest.mark.parametrize(
    ("refer_status", "final", "outcome", "status"),
    [("202 Accepted", "SIP/2.0 200 OK", "TransferCompleted", 200),
     ("202 Accepted", "SIP/2.0 486 Busy Here", "TransferFailed", 486),
     ("603 Decline", None, "TransferFailed", 603)],
)  # fmt: skip
def test_blind_transfer_refers_the_far_end_and_reports_the_notify(
    tmp_path: Path, refer_status: str, final: str | None, outcome: str, status: int
) -> None:
    async def test(backend: SipBackend, events: list[StreamEvent]) -> None:
        rc, why = await run_sipp(tmp_path, refer_target(refer_status, final), backend.address)
        assert rc == 0, why
        await asyncio.sleep(0.2)
        seen = names(events)
        assert outcome in seen, seen
        ended = next(e for e in events if type(e).__name__ == "CallEnded")
        if outcome == "TransferCompleted":
            assert ("TransferAccepted" in seen, ended.hangup_cause) == (True, "transferred")  # type: ignore[attr-defined]
            assert next(e for e in events if type(e).__name__ == "TransferCompleted").sip_status == status  # type: ignore[attr-defined]
        else:
            failed = next(e for e in events if type(e).__name__ == "TransferFailed")
            assert failed.sip_status == status  # type: ignore[attr-defined]
            assert ended.hangup_cause != "transferred"  # type: ignore[attr-defined]

    with_backend(tmp_path, scenario(BLIND), test)


def test_a_number_typed_by_the_caller_is_not_referred_without_a_policy(tmp_path: Path) -> None:
    flow = scenario([
        {"id": "start", "type": "start", "exits": {"next": "xfer"}},
        {"id": "xfer", "type": "transfer", "params": {"to": "number", "numbers": ["{callerid()}"], "blind": True},
         "exits": {"answered": "done", "failed": "done"}},
        {"id": "done", "type": "hangup"},
    ])  # fmt: skip

    async def test(backend: SipBackend, events: list[StreamEvent]) -> None:
        # the far end would accept any REFER; none may come: the engine hangs up
        rc, why = await run_sipp(tmp_path, _HEAD.format(name="x") + '  <recv request="BYE" timeout="15000"/>\n' + _reply("200 OK") + "</scenario>\n", backend.address)
        assert rc == 0, why
        seen = names(events)
        assert "DialBlocked" in seen and "TransferAccepted" not in seen, seen

    with_backend(tmp_path, flow, test)


def test_the_engine_holds_and_resumes_the_far_end(tmp_path: Path) -> None:
    flow = scenario([
        {"id": "start", "type": "start", "exits": {"next": "talk"}},
        {"id": "talk", "type": "say", "params": {"text": "Please wait while we hold you. " * 4}, "exits": {"next": "done"}},
        {"id": "done", "type": "hangup"},
    ])  # fmt: skip

    async def test(backend: SipBackend, events: list[StreamEvent]) -> None:
        caller = asyncio.create_task(run_sipp(tmp_path, held_by_engine(), backend.address))
        for _ in range(200):
            if backend.calls and next(iter(backend.calls.values())).answered_at is not None:
                break
            await asyncio.sleep(0.05)
        call = next(iter(backend.calls.values()))
        await asyncio.sleep(0.3)  # our 200 is ACKed
        await asyncio.wait_for(call.hold(), 10)
        await asyncio.wait_for(call.unhold(), 10)
        rc, why = await caller
        assert rc == 0, why  # SIPp saw a=sendonly, then a=sendrecv, and each 200 was ACKed

    with_backend(tmp_path, flow, test)


def test_far_end_hold_stops_our_media_until_it_resumes_and_update_is_answered(tmp_path: Path) -> None:
    flow = scenario([
        {"id": "start", "type": "start", "exits": {"next": "talk"}},
        {"id": "talk", "type": "say", "params": {"text": "A long announcement for a held caller. " * 6}, "exits": {"next": "done"}},
        {"id": "done", "type": "hangup"},
    ])  # fmt: skip

    async def test(backend: SipBackend, events: list[StreamEvent]) -> None:
        caller = asyncio.create_task(run_sipp(tmp_path, holds_engine(), backend.address))
        samples: list[tuple[bool, int]] = []
        while not caller.done():
            call = next(iter(backend.calls.values()), None)
            if call is not None and call.rtp is not None:
                samples.append((call.rtp.held, call.rtp.packets_out))
            await asyncio.sleep(0.05)
        rc, why = await caller
        assert rc == 0, why
        held = [sent for is_held, sent in samples if is_held]
        after = [sent for is_held, sent in samples if not is_held and held and sent > held[-1]]
        assert len(held) > 10 and held[-1] - held[0] <= 1, samples  # nothing sent while held (one frame in flight at most)
        assert after and after[-1] - held[-1] > 10  # and sending again once resumed

    with_backend(tmp_path, flow, test)


def test_a_long_hold_by_the_far_end_is_not_taken_for_a_vanished_peer(tmp_path: Path) -> None:
    """The far end holds us (a=inactive: no RTP at all) for longer than the
    media timeout: the call survives, and the far end hangs up itself."""
    flow = scenario([
        {"id": "start", "type": "start", "exits": {"next": "wait"}},
        {"id": "wait", "type": "gather", "params": {"options": [{"digits": "1", "exit": "one"}], "first_timeout": 30, "retries": 0},
         "exits": {"one": "done", "timeout": "done", "invalid": "done"}},
        {"id": "done", "type": "hangup"},
    ])  # fmt: skip

    async def test(backend: SipBackend, events: list[StreamEvent]) -> None:
        rc, why = await run_sipp(tmp_path, holds_engine(hold_ms=5000), backend.address)
        assert rc == 0, why  # our BYE would have come first, unexpected, had the timeout struck
        hung = next(e for e in events if type(e).__name__ == "CallHungUp")
        assert hung.by == "caller"  # type: ignore[attr-defined]

    with_backend(tmp_path, flow, test, media_timeout=2.0)
