"""Session timers (RFC 4028) against a real peer: SIPp (Debian `sip-tester`)
calls the engine's SIP backend on 127.0.0.1 with Session-Expires. A caller
that refreshes keeps its call past the interval; one that stops gets the
engine's BYE and the call ends as `session_expired`; an interval below
Min-SE gets 422; a caller that asks the engine to refresh gets UPDATEs.

The settings use a test-only Min-SE of 5 s (the RFC's floor, and the
default, is 90 s) so each call lasts seconds. Every SIPp run is bounded by
its own timeouts and the test's."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from sip_peers import sipp

from flowengine.events import StreamEvent
from flowengine.runtime.engine import Engine
from flowengine.scenario.loader import load_scenario_data
from telephony_adapters.sip import SipBackend, SipSettings

pytestmark = pytest.mark.skipif(shutil.which("sipp") is None, reason="SIPp (Debian package sip-tester) is not installed; scripts/test.sh installs it")

#: a call that stays up for 30 s unless someone ends it
WAITING = {
    "schema": 1,
    "id": "waiting",
    "nodes": [
        {"id": "start", "type": "start", "exits": {"next": "wait"}},
        {"id": "wait", "type": "gather", "params": {"first_timeout": 30, "retries": 0}, "exits": {"timeout": "bye", "done": "bye"}},
        {"id": "bye", "type": "hangup"},
    ],
}

#: the caller supports timers and refreshes every 6 s itself (header lines of a SIPp message)
UAC_REFRESHES = "Supported: timer\n      Session-Expires: 6;refresher=uac"

_HEAD = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="{name}">
"""


def _invite(cseq: int, timer_headers: str, *, to_tag: bool = False) -> str:
    return f"""
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "SIPp" <sip:100@[local_ip]:[local_port]>;tag=[pid]st[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>{"[peer_tag_param]" if to_tag else ""}
      Call-ID: [call_id]
      CSeq: {cseq} INVITE
      Contact: <sip:100@[local_ip]:[local_port]>
      Max-Forwards: 70
      Allow: INVITE, ACK, BYE, CANCEL, UPDATE
      {timer_headers}
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
    ]]>
  </send>
"""


def _in_dialog(method: str, cseq: int, extra: str = "") -> str:
    return f"""
  <send{' retrans="500"' if method != "ACK" else ""}>
    <![CDATA[
      {method} sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "SIPp" <sip:100@[local_ip]:[local_port]>;tag=[pid]st[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: {cseq} {method}
      Contact: <sip:100@[local_ip]:[local_port]>
      Max-Forwards: 70
      {extra}
      Content-Length: 0
    ]]>
  </send>
"""


def _answered(check: str, var: str) -> str:
    """The provisional responses, then the 200 whose Session-Expires must match `check`."""
    return f"""
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true">
    <action><ereg regexp="{check}" search_in="hdr" header="Session-Expires:" check_it="true" assign_to="{var}"/></action>
  </recv>
"""


def _ok_to_request() -> str:
    return """
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:100@[local_ip]:[local_port]>
      Session-Expires: 6;refresher=uac
      Require: timer
      Content-Length: 0
    ]]>
  </send>
"""


def refreshing_caller() -> str:
    """Session-Expires 6 s, refreshed by the caller with UPDATE every 2 s,
    for 8 s (past the interval), then the caller's BYE: no BYE from the engine."""
    refreshes = "".join(
        f"""
  <pause milliseconds="2000"/>
  {_in_dialog("UPDATE", cseq, UAC_REFRESHES)}
  <recv response="200">
    <action><ereg regexp="^ *6;refresher=uac" search_in="hdr" header="Session-Expires:" check_it="true" assign_to="up{cseq}"/></action>
  </recv>"""
        for cseq in (2, 3, 4, 5)
    )
    names = ",".join(f"up{c}" for c in (2, 3, 4, 5))
    return (
        _HEAD.format(name="refreshing caller")
        + _invite(1, "Supported: timer\n      Session-Expires: 6;refresher=uac")
        + _answered("^ *6;refresher=uac", "se")
        + _in_dialog("ACK", 1)
        + refreshes
        + _in_dialog("BYE", 6)
        + f'  <recv response="200"/>\n  <Reference variables="se,{names}"/>\n</scenario>\n'
    )


def silent_caller() -> str:
    """Session-Expires 6 s with the caller as refresher, never refreshed: the engine's BYE comes."""
    return (
        _HEAD.format(name="caller that stops refreshing")
        + _invite(1, "Supported: timer\n      Session-Expires: 6;refresher=uac")
        + _answered("^ *6;refresher=uac", "se")
        + _in_dialog("ACK", 1)
        + """
  <recv request="BYE" timeout="15000">
    <action><ereg regexp="cause=102" search_in="hdr" header="Reason:" check_it="true" assign_to="why"/></action>
  </recv>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
    ]]>
  </send>
  <timewait milliseconds="200"/>
  <Reference variables="se,why"/>
</scenario>
"""
    )


def engine_refreshed_caller() -> str:
    """The caller asks the engine to refresh (refresher=uas) and allows
    UPDATE: two UPDATEs with Session-Expires come, about 3 s apart."""
    updates = "".join(
        f"""
  <recv request="UPDATE" timeout="8000">
    <action><ereg regexp="^ *6;refresher=uac" search_in="hdr" header="Session-Expires:" check_it="true" assign_to="u{n}"/></action>
  </recv>
  {_ok_to_request()}"""
        for n in (1, 2)
    )
    return (
        _HEAD.format(name="engine refreshes")
        + _invite(1, "Supported: timer\n      Session-Expires: 6;refresher=uas")
        + _answered("^ *6;refresher=uas", "se")
        + _in_dialog("ACK", 1)
        + updates
        + _in_dialog("BYE", 2)
        + '  <recv response="200"/>\n  <Reference variables="se,u1,u2"/>\n</scenario>\n'
    )


def too_small_caller() -> str:
    """Session-Expires 3 s against a Min-SE of 5: 422 naming Min-SE 5; asked
    again with 6 s, the call is answered."""
    return (
        _HEAD.format(name="too small")
        + _invite(1, "Supported: timer\n      Session-Expires: 3")
        + """
  <recv response="100" optional="true"/>
  <recv response="422">
    <action><ereg regexp="^ *5$" search_in="hdr" header="Min-SE:" check_it="true" assign_to="minse"/></action>
  </recv>
  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      [last_Via:]
      From: "SIPp" <sip:100@[local_ip]:[local_port]>;tag=[pid]st[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
"""
        + _invite(2, "Supported: timer\n      Session-Expires: 6\n      Min-SE: 5")
        + _answered("^ *6;refresher=uac", "se")
        + _in_dialog("ACK", 2)
        + _in_dialog("BYE", 3)
        + '  <recv response="200"/>\n  <Reference variables="minse,se"/>\n</scenario>\n'
    )


def _run(test_calls: list[tuple[str, str]], tmp: Path) -> list[StreamEvent]:
    """Each (number, scenario XML) as one SIPp call at once, against one
    engine; every SIPp run must succeed and nothing may leak."""

    async def main() -> list[StreamEvent]:
        engine = Engine(keep_events=True)
        engine.publish(load_scenario_data(WAITING), default=True)
        events: list[StreamEvent] = []
        engine.add_listener(events.append)
        settings = SipSettings(port=0, rtp_ports=(41000, 42000), min_se=5, session_expires=1800)
        backend = SipBackend(engine, settings=settings)
        await backend.start()
        try:
            runs = []
            for number, xml in test_calls:
                path = tmp / f"{number}.xml"
                path.write_text(xml)
                runs.append(
                    asyncio.to_thread(sipp, backend.address, "-sf", str(path), "-s", number, "-m", "1", cwd=tmp, timeout=60)
                )
            for (number, _), run in zip(test_calls, await asyncio.gather(*runs), strict=True):
                assert run.rc == 0 and run.count("Successful call") == 1, f"{number}: {run.why()}"
            await asyncio.wait_for(engine.drain(), 40)
            assert backend.calls == {} and backend.core.calls == 0 and len(backend.core.timers) == 0
            assert backend.rtp_pool.in_use == 0
        finally:
            await backend.stop()
            await engine.shutdown()
        return events

    return asyncio.run(main())


def _ended(events: list[StreamEvent]) -> dict[str, tuple[StreamEvent, float, float]]:
    """Called number -> (its call_hung_up event, answered ts, hung-up ts)."""
    called: dict[str, str] = {}
    answered: dict[str, float] = {}
    out: dict[str, tuple[StreamEvent, float, float]] = {}
    for ev in events:
        name = type(ev).__name__
        call_id = getattr(ev, "call_id", "")
        if name == "CallStarted":
            called[call_id] = ev.called  # type: ignore[attr-defined]
        elif name == "CallAnswered":
            answered[call_id] = ev.ts
        elif name == "CallHungUp":
            out[called[call_id]] = (ev, answered.get(call_id, ev.ts), ev.ts)
    return out


def test_refreshing_caller_stays_silent_caller_gets_bye_and_engine_refreshes(tmp_path: Path) -> None:
    events = _run([("301", refreshing_caller()), ("302", silent_caller()), ("303", engine_refreshed_caller())], tmp_path)
    ended = _ended(events)
    refreshed, answered, hung_up = ended["301"]
    assert (refreshed.cause, refreshed.by) == ("normal", "caller")  # type: ignore[attr-defined]
    assert hung_up - answered > 7.0  # well past the 6 s interval, kept alive by refreshes
    silent, answered, hung_up = ended["302"]
    assert (silent.cause, silent.by, silent.q850) == ("session_expired", "system", 102)  # type: ignore[attr-defined]
    # given up at 6 - min(32, 6/3) = 4 s after the answer; generous on a loaded machine
    assert 3.5 < hung_up - answered < 10.0
    engine_side, answered, hung_up = ended["303"]
    assert (engine_side.cause, engine_side.by) == ("normal", "caller")  # type: ignore[attr-defined]
    assert hung_up - answered > 5.0  # two refreshes, 3 s apart, came before the caller's BYE


def test_too_small_interval_gets_422_and_the_retry_with_min_se_is_answered(tmp_path: Path) -> None:
    ended = _ended(_run([("304", too_small_caller())], tmp_path))
    assert set(ended) == {"304"}  # the refused INVITE never became a call
