"""An operator's phone acting on the conversation, with real SIP peers on
127.0.0.1: SIPp (Debian `sip-tester`) is the operator's phone, answering the
INVITE the engine sends it, then holding, resuming and transferring from
inside that dialog; SIPp checks every answer it gets with its own regular
expressions (a failed check fails its call and its exit code).

* Hold during a Queue call: a SIPp caller (its audio to an RTP receiver of
  the test) is bridged to the phone, which talks (Debian's g711a.pcap), holds
  (re-INVITE a=sendonly -> 200 a=recvonly), keeps sending its own audio, and
  resumes. The caller hears the phone, then only the engine's music on hold
  (the test plays the engine side's part: `start_music` on `leg_held`), then
  the phone again.
* Blind transfer: the phone REFERs twice; the engine's refusal is a 403 whose
  Warning names the reason, its acceptance a 202, NOTIFY 100 Trying (Event
  ``refer;id=2``: the dialog's second REFER), the leg's BYE (the engine lets
  the operator go at once), and the final NOTIFY 200 OK. A phone that hangs
  up right after the 202 only ends its leg, and still gets the outcome.

The engine side of the contract (what becomes of the caller) is played by
the tests themselves here: they answer the `TransferRequest` and start the
music as the engine does.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import struct
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from flowengine.acd import parse_centre
from flowengine.acd.driver import AcdDriver
from flowengine.events import StreamEvent
from flowengine.runtime.engine import Engine
from flowengine.scenario.loader import load_scenario_data
from flowengine.telephony import HangupCause, Leg
from flowengine.telephony.causes import NORMAL
from telephony_adapters.sip import SipBackend, SipSettings, phonetransfer
from telephony_adapters.sip.leg import SipLeg
from telephony_adapters.sip.rtp import RtpPacket, decode, parse_rtp

SIPP = shutil.which("sipp")
#: the engine side of the contract (what becomes of the caller) is another
#: part of the tree; the tests of the whole path run once it is there


def attach_support(backend: SipBackend, *operators: tuple[str, str, int]) -> None:
    """A centre whose queue `support` has the first of `operators` (id,
    extension, SIP port of its phone on 127.0.0.1), on the backend's engine."""
    ops = [{"id": i, "extension": ext, "targets": [f"sip:{ext}@127.0.0.1:{port}"]} for i, ext, port in operators]
    AcdDriver(parse_centre({
        "operators": ops,
        "queues": [{"id": "support", "members": [operators[0][0]], "ring_timeout": 15, "retry": 0}],
    })).attach(backend.engine)  # fmt: skip


async def listening_caller_file(tmp_path: Path) -> tuple[asyncio.DatagramTransport, RtpReceiver]:
    """caller.xml: a SIPp caller whose RTP goes to a receiver of ours, returned."""
    transport, receiver = await asyncio.get_running_loop().create_datagram_endpoint(
        RtpReceiver, local_addr=("127.0.0.1", 0)
    )
    (tmp_path / "caller.xml").write_text(listening_caller(transport.get_extra_info("sockname")[1]))
    return transport, receiver
PCAP = "/usr/share/sip-tester/g711a.pcap"
pytestmark = pytest.mark.skipif(SIPP is None, reason="SIPp (Debian package sip-tester) is not installed; scripts/test.sh installs it")


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---- SIPp scenarios: the operator's phone ----------------------------------------------------------
_ANSWER = """
  <recv request="INVITE" crlf="true">
    <action>
      <ereg regexp=".*" search_in="hdr" header="From:" check_it="true" assign_to="them"/>
      <ereg regexp=".*" search_in="hdr" header="To:" check_it="true" assign_to="us"/>
    </action>
  </recv>
  <send>
    <![CDATA[
      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:901@[local_ip]:[local_port]>
      Content-Length: 0
    ]]>
  </send>
  <send retrans="500">
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:901@[local_ip]:[local_port]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=phone 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8 101
      a=rtpmap:8 PCMA/8000
      a=rtpmap:101 telephone-event/8000
    ]]>
  </send>
  <recv request="ACK" crlf="true"/>
"""

_OK = """
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:901@[local_ip]:[local_port]>
      Content-Length: 0
    ]]>
  </send>
"""


def _request(engine: str, method: str, cseq: int, headers: str = "", body: str = "") -> str:
    content = "Content-Type: application/sdp\n      " if body else ""
    retrans = "" if method == "ACK" else ' retrans="500"'  # (an ACK gets no response to stop resends)
    return f"""
  <send{retrans}>
    <![CDATA[
      {method} sip:{engine} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: [$us];tag=[pid]SIPpTag01[call_number]
      To: [$them]
      Call-ID: [call_id]
      CSeq: {cseq} {method}
      Contact: <sip:901@[local_ip]:[local_port]>
      Max-Forwards: 70
      {headers}{content}Content-Length: [len]
{body}
    ]]>
  </send>
"""


def _reinvite(engine: str, cseq: int, direction: str, expected: str) -> str:
    sdp = f"""
      v=0
      o=phone 1 {cseq + 1} IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8 101
      a=rtpmap:8 PCMA/8000
      a=rtpmap:101 telephone-event/8000
      a={direction}"""
    return (
        _request(engine, "INVITE", cseq, body=sdp)
        + f"""
  <recv response="100" optional="true"/>
  <recv response="200">
    <action>
      <ereg regexp="a={expected}" search_in="body" check_it="true" assign_to="answer{cseq}"/>
    </action>
  </recv>
"""
        + _request(engine, "ACK", cseq)
    )


def holding_phone(engine: str) -> str:
    """Answers, talks (g711a.pcap), holds after 1.5 s, keeps sending its own
    audio while holding, resumes 2.5 s later and hangs up 2 s after that."""
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="operator phone: hold and resume">
{_ANSWER}
  <nop><action><exec play_pcap_audio="{PCAP}"/></action></nop>
  <pause milliseconds="1500"/>
{_reinvite(engine, 1, "sendonly", "recvonly")}
  <pause milliseconds="2500"/>
{_reinvite(engine, 2, "sendrecv", "sendrecv")}
  <pause milliseconds="2000"/>
{_request(engine, "BYE", 3)}
  <recv response="200"/>
  <Reference variables="them,us,answer1,answer2"/>
</scenario>
"""


def transferring_phone(engine: str) -> str:
    """Answers, asks to transfer to 999 (expects 403 naming the refusal),
    then to 905 (expects 202, NOTIFY 100 Trying, the engine's BYE and NOTIFY
    200 OK ending the subscription)."""
    by = "Referred-By: <sip:901@[local_ip]:[local_port]>"
    refer_999 = _request(engine, "REFER", 1, f"Refer-To: <sip:999@{engine}>\n      {by}\n      ")
    refer_905 = _request(engine, "REFER", 2, f"Refer-To: <sip:905@{engine}>\n      {by}\n      ")
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="operator phone: blind transfer">
{_ANSWER}
  <pause milliseconds="500"/>
{refer_999}
  <recv response="403">
    <action>
      <ereg regexp="unknown_target" search_in="hdr" header="Warning:" check_it="true" assign_to="why"/>
    </action>
  </recv>
  <pause milliseconds="300"/>
{refer_905}
  <recv response="202"/>
  <recv request="NOTIFY">
    <action>
      <ereg regexp="^ *refer;id=2$" search_in="hdr" header="Event:" check_it="true" assign_to="event"/>
      <ereg regexp="^ *active" search_in="hdr" header="Subscription-State:" check_it="true" assign_to="active"/>
      <ereg regexp="SIP/2.0 100 Trying" search_in="body" check_it="true" assign_to="trying"/>
    </action>
  </recv>
{_OK}
  <recv request="BYE"/>
{_OK}
  <recv request="NOTIFY" timeout="10000">
    <action>
      <ereg regexp="^ *terminated;reason=noresource" search_in="hdr" header="Subscription-State:" check_it="true" assign_to="ended"/>
      <ereg regexp="SIP/2.0 200 OK" search_in="body" check_it="true" assign_to="done"/>
    </action>
  </recv>
{_OK}
  <timewait milliseconds="300"/>
  <Reference variables="them,us,why,event,active,trying,ended,done"/>
</scenario>
"""


def hanging_up_transferring_phone(engine: str) -> str:
    """Asks to transfer to 905 and hangs up (BYE) as soon as it has the 202
    and the first NOTIFY, as many phones do; still expects the final NOTIFY
    (here 486: the target was busy)."""
    refer = _request(engine, "REFER", 1, f"Refer-To: <sip:905@{engine}>\n      ")
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="operator phone: blind transfer, then hang up at once">
{_ANSWER}
  <pause milliseconds="300"/>
{refer}
  <recv response="202"/>
  <recv request="NOTIFY">
    <action>
      <ereg regexp="SIP/2.0 100 Trying" search_in="body" check_it="true" assign_to="trying"/>
    </action>
  </recv>
{_OK}
{_request(engine, "BYE", 2)}
  <recv response="200"/>
  <recv request="NOTIFY" timeout="10000">
    <action>
      <ereg regexp="^ *refer$" search_in="hdr" header="Event:" check_it="true" assign_to="event"/>
      <ereg regexp="^ *terminated" search_in="hdr" header="Subscription-State:" check_it="true" assign_to="ended"/>
      <ereg regexp="SIP/2.0 486 Busy Here" search_in="body" check_it="true" assign_to="busy"/>
    </action>
  </recv>
{_OK}
  <timewait milliseconds="300"/>
  <Reference variables="them,us,trying,event,ended,busy"/>
</scenario>
"""


def unanswered_transferring_phone(engine: str) -> str:
    """Asks to transfer to 905 and expects a 403 saying nobody decided; then hangs up."""
    refer = _request(engine, "REFER", 1, f"Refer-To: <sip:905@{engine}>\n      ")
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="operator phone: a transfer nobody decides">
{_ANSWER}
  <pause milliseconds="300"/>
{refer}
  <recv response="403" timeout="15000">
    <action>
      <ereg regexp="no_decision" search_in="hdr" header="Warning:" check_it="true" assign_to="why"/>
    </action>
  </recv>
{_request(engine, "BYE", 2)}
  <recv response="200"/>
  <timewait milliseconds="300"/>
  <Reference variables="them,us,why"/>
</scenario>
"""


def handing_on_phone(engine: str) -> str:
    """Answers, asks to hand the caller to 905 at once and expects 202, NOTIFY
    100, the engine's BYE and, once 905 has answered, NOTIFY 200 OK."""
    refer = _request(engine, "REFER", 1, f"Refer-To: <sip:905@{engine}>\n      ")
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="operator phone: hands the caller on">
{_ANSWER}
  <pause milliseconds="1000"/>
{refer}
  <recv response="202"/>
  <recv request="NOTIFY"/>
{_OK}
  <recv request="BYE"/>
{_OK}
  <recv request="NOTIFY" timeout="15000">
    <action>
      <ereg regexp="SIP/2.0 200 OK" search_in="body" check_it="true" assign_to="done"/>
    </action>
  </recv>
{_OK}
  <timewait milliseconds="300"/>
  <Reference variables="them,us,done"/>
</scenario>
"""


def talking_phone(engine: str) -> str:
    """Answers, talks 1.5 s, hangs up."""
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="operator phone: takes the call">
{_ANSWER}
  <pause milliseconds="1500"/>
{_request(engine, "BYE", 1)}
  <recv response="200"/>
  <Reference variables="them,us"/>
</scenario>
"""


def listening_caller(media_port: int) -> str:
    """A caller whose SDP names `media_port` (the test's RTP receiver); it
    waits for the engine's BYE."""
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="caller">
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "SIPp caller" <sip:100@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: sip:100@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio {media_port} RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200"/>
  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "SIPp caller" <sip:100@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: sip:100@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv request="BYE" timeout="30000"/>
{_OK}
  <timewait milliseconds="300"/>
</scenario>
"""


# ---- running peers -------------------------------------------------------------------------------------
async def sipp(*args: str, cwd: Path, port: int | None = None, timeout: float = 60.0) -> tuple[int, str]:
    """One SIPp run, bounded (-m 1, -timeout, and `timeout` here); its exit code and its screen and errors."""
    errors = cwd / f"errors-{free_udp_port()}.log"
    cmd = [
        SIPP or "sipp", *args, "-m", "1",
        "-i", "127.0.0.1", "-mi", "127.0.0.1", "-p", str(port or free_udp_port()), "-mp", str(free_udp_port() & ~1),
        "-timeout", "40", "-timeout_error", "-nostdin", "-nd", "-trace_err", "-error_file", str(errors),
    ]  # fmt: skip
    proc = await asyncio.create_subprocess_exec(*cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=cwd)
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    err = errors.read_text(errors="replace") if errors.exists() else ""
    return proc.returncode or 0, out.decode(errors="replace")[-3000:] + err[-3000:]


def pcap_ssrc(path: str) -> int:
    """The SSRC of the first RTP packet of a pcap file (UDP over IPv4)."""
    data = Path(path).read_bytes()
    order = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
    link = struct.unpack(order + "I", data[20:24])[0]
    skip = {0: 4, 1: 14, 113: 16}[link]  # null, Ethernet, Linux cooked
    at = 24
    while at + 16 <= len(data):
        length = struct.unpack(order + "I", data[at + 8 : at + 12])[0]
        frame = data[at + 16 : at + 16 + length]
        at += 16 + length
        ip = frame[skip:]
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        rtp = ip[(ip[0] & 0x0F) * 4 + 8 :]
        if len(rtp) >= 12 and rtp[0] >> 6 == 2:
            return int(struct.unpack("!I", rtp[8:12])[0])
    raise AssertionError(f"no RTP packet in {path}")


class RtpReceiver(asyncio.DatagramProtocol):
    """The caller's RTP port: every packet, with the loop time it came."""

    def __init__(self) -> None:
        self.packets: list[tuple[float, RtpPacket]] = []

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        pkt = parse_rtp(data)
        if pkt is not None:
            self.packets.append((asyncio.get_running_loop().time(), pkt))


def with_backend(test: Callable[[SipBackend, list[StreamEvent]], Awaitable[None]], tmp: Path, scenario: Any = None) -> None:
    async def main() -> None:
        engine = Engine(keep_events=True)
        if scenario is not None:
            engine.publish(scenario, default=True)
        events: list[StreamEvent] = []
        engine.add_listener(events.append)
        backend = SipBackend(engine, settings=SipSettings(port=0, rtp_ports=(46000, 47000)))
        await backend.start()
        try:
            await asyncio.wait_for(test(backend, events), 90)
            await asyncio.wait_for(engine.drain(), 10)
            await asyncio.sleep(0.3)
            assert backend.calls == {}
            assert backend.legs == {}
            assert len(backend.core.outgoing) == 0
            assert len(backend.core.outgoing.referrals) == 0
            assert backend.rtp_pool.in_use == 0
        finally:
            await backend.stop()
            await engine.shutdown()

    asyncio.run(main())


def queue_scenario() -> Any:
    return load_scenario_data(
        {
            "schema": 1,
            "id": "to_queue",
            "numbers": ["5000"],
            "nodes": [
                {"id": "start", "type": "start", "exits": {"next": "q"}},
                {"id": "q", "type": "queue", "params": {"queue": "support", "max_wait": 20},
                 "exits": dict.fromkeys(("answered", "timeout", "full", "no_operators", "callback"), "bye")},
                {"id": "bye", "type": "hangup"},
            ],
        }
    )  # fmt: skip


# ---- hold -------------------------------------------------------------------------------------------------
def test_the_operator_holds_the_caller_hears_music_not_the_phone_then_the_conversation_resumes(tmp_path: Path) -> None:
    phone_port = free_udp_port()
    scenario = load_scenario_data(
        {
            "schema": 1,
            "id": "to_queue",
            "numbers": ["5000"],
            "nodes": [
                {"id": "start", "type": "start", "exits": {"next": "q"}},
                {"id": "q", "type": "queue", "params": {"queue": "support", "max_wait": 20},
                 "exits": dict.fromkeys(("answered", "timeout", "full", "no_operators", "callback"), "bye")},
                {"id": "bye", "type": "hangup"},
            ],
        }
    )  # fmt: skip

    async def test(backend: SipBackend, events: list[StreamEvent]) -> None:
        loop = asyncio.get_running_loop()
        attach_support(backend, ("op901", "901", phone_port))
        host, port = backend.address
        (tmp_path / "phone.xml").write_text(holding_phone(f"{host}:{port}"))
        transport, receiver = await listening_caller_file(tmp_path)
        changes: list[tuple[float, str]] = []

        async def engine_side() -> None:
            """What the engine side does when the leg holds: music to the caller, and off again."""
            held = False
            while True:
                legs = [leg for leg in backend.legs.values() if leg.state == "answered"]
                calls = list(backend.calls.values())
                if legs and calls and legs[0].held != held:
                    held = legs[0].held
                    changes.append((loop.time(), "held" if held else "unheld"))
                    await (calls[0].start_music() if held else calls[0].stop_music())
                await asyncio.sleep(0.02)

        watcher = loop.create_task(engine_side())
        try:
            phone = loop.create_task(sipp("-sf", "phone.xml", cwd=tmp_path, port=phone_port))
            await asyncio.sleep(0.5)  # the phone listens
            caller_rc, caller_out = await sipp(f"{host}:{port}", "-sf", "caller.xml", "-s", "5000", cwd=tmp_path)
            phone_rc, phone_out = await phone
        finally:
            watcher.cancel()
            transport.close()
        assert phone_rc == 0, phone_out  # the phone's checks: 200 a=recvonly to its hold, a=sendrecv to its resume
        assert caller_rc == 0, caller_out
        assert [what for _, what in changes] == ["held", "unheld"]
        (held_at, _), (unheld_at, _) = changes
        assert 1.5 < unheld_at - held_at < 4.5

        def heard(start: float, end: float) -> tuple[list[RtpPacket], list[RtpPacket]]:
            """(the phone's packets, the engine's) the caller got between `start` and `end`."""
            window = [p for t, p in receiver.packets if start <= t < end]
            return [p for p in window if p.ssrc == phone_ssrc], [p for p in window if p.ssrc != phone_ssrc]

        # the phone's audio is relayed with its own SSRC: most of what the caller got before the hold
        ((phone_ssrc, _),) = Counter(p.ssrc for t, p in receiver.packets if t < held_at).most_common(1)
        before_phone, _ = heard(held_at - 1.0, held_at)
        # (the hold is seen here up to a poll late: margins on both sides)
        during_phone, during_music = heard(held_at + 0.3, unheld_at - 0.15)
        after_phone, _ = heard(unheld_at + 0.3, unheld_at + 1.3)
        assert len(before_phone) > 30  # the conversation: the phone's voice
        assert during_phone == []  # on hold: not a packet of the phone's own audio
        assert len(during_music) > 0.6 * (unheld_at - held_at - 0.45) / 0.02  # the engine's music, at 50 packets/s
        assert any(max(abs(s) for s in decode(p.payload, "PCMU")) > 1000 for p in during_music)  # a tone, not silence
        assert len(after_phone) > 30  # resumed: the phone is heard again

    with_backend(test, tmp_path, scenario)


# ---- blind transfer -------------------------------------------------------------------------------------
def test_the_operators_refer_is_refused_with_a_reason_then_accepted_notified_and_the_leg_let_go(tmp_path: Path) -> None:
    phone_port = free_udp_port()

    async def test(backend: SipBackend, events: list[StreamEvent]) -> None:
        loop = asyncio.get_running_loop()
        host, port = backend.address
        (tmp_path / "phone.xml").write_text(transferring_phone(f"{host}:{port}"))
        phone = loop.create_task(sipp("-sf", "phone.xml", cwd=tmp_path, port=phone_port))
        await asyncio.sleep(0.5)
        leg: Leg = backend.originate(f"sip:901@127.0.0.1:{phone_port}", ring_timeout=10, caller_id="+74951234567")
        assert isinstance(leg, SipLeg)
        assert str(await asyncio.wait_for(leg.outcome(), 15)) == "answered"
        # the engine side, as the contract has it: refuse the first, accept the second
        first = await asyncio.wait_for(leg.transfer_requested(), 15)
        assert first.target == "999"
        first.refuse("unknown_target")
        leg.transfer_rearm()
        second = await asyncio.wait_for(leg.transfer_requested(), 15)
        assert second.target == "905"
        second.accept()
        leg.hangup(HangupCause.of(NORMAL, answered=True))  # the operator is let go at once
        await asyncio.sleep(0.5)  # ... while the caller is handed on
        second.finish(True, "answered")
        rc, out = await phone
        assert rc == 0, out  # the phone's checks: 403 naming unknown_target, 202, NOTIFY 100, BYE, NOTIFY 200
        assert leg.state == "ended" and leg.cause is not None and leg.cause.by == "engine"

    with_backend(test, tmp_path)


def test_a_phone_hanging_up_right_after_the_202_only_ends_its_leg_and_still_hears_the_outcome(tmp_path: Path) -> None:
    phone_port = free_udp_port()

    async def test(backend: SipBackend, events: list[StreamEvent]) -> None:
        loop = asyncio.get_running_loop()
        host, port = backend.address
        (tmp_path / "phone.xml").write_text(hanging_up_transferring_phone(f"{host}:{port}"))
        phone = loop.create_task(sipp("-sf", "phone.xml", cwd=tmp_path, port=phone_port))
        await asyncio.sleep(0.5)
        leg = backend.originate(f"sip:901@127.0.0.1:{phone_port}", ring_timeout=10, caller_id="+74951234567")
        assert str(await asyncio.wait_for(leg.outcome(), 15)) == "answered"
        request = await asyncio.wait_for(leg.transfer_requested(), 15)
        request.accept()
        cause = await asyncio.wait_for(leg.ended(), 15)  # the phone's BYE: the leg ends, by the operator ...
        assert cause.by == "callee"
        assert not request.result().done()  # ... and the transfer goes on
        request.finish(False, "busy")
        rc, out = await phone
        assert rc == 0, out  # the phone's checks: 202, NOTIFY 100, its BYE answered, NOTIFY 486 ending it

    with_backend(test, tmp_path)


def test_a_transfer_the_engine_never_decides_is_refused_in_time_and_the_leg_takes_requests_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(phonetransfer, "DECISION_TIMEOUT", 1.0)  # (10 s in use: well inside the phone's 32 s)
    phone_port = free_udp_port()

    async def test(backend: SipBackend, events: list[StreamEvent]) -> None:
        loop = asyncio.get_running_loop()
        host, port = backend.address
        (tmp_path / "phone.xml").write_text(unanswered_transferring_phone(f"{host}:{port}"))
        phone = loop.create_task(sipp("-sf", "phone.xml", cwd=tmp_path, port=phone_port))
        await asyncio.sleep(0.5)
        leg = backend.originate(f"sip:901@127.0.0.1:{phone_port}", ring_timeout=10, caller_id="+74951234567")
        assert str(await asyncio.wait_for(leg.outcome(), 15)) == "answered"
        request = await asyncio.wait_for(leg.transfer_requested(), 15)  # ... and the engine says nothing
        assert not await asyncio.wait_for(request.accepted(), 5)
        assert request.refusal == "no_decision"
        assert not leg.transfer_requested().done()  # a later REFER is heard again
        rc, out = await phone
        assert rc == 0, out  # the phone's check: 403 with a Warning naming no_decision
        assert (await asyncio.wait_for(leg.ended(), 5)).by == "callee"

    with_backend(test, tmp_path)


# ---- the whole path, with the engine side ------------------------------------------------------------------
def named(events: list[StreamEvent], name: str) -> list[Any]:
    return [e for e in events if type(e).__name__ == name]


def test_a_queue_caller_handed_on_from_the_operators_phone_reaches_the_other_operator(tmp_path: Path) -> None:
    """SIPp caller -> Queue -> operator 901's phone, which REFERs to 905; the
    engine lets 901 go, rings 905's phone (another SIPp), which answers and
    talks; 901's phone gets NOTIFY 200 OK; 905 hangs up and the caller is
    sent BYE."""
    first, second = free_udp_port(), free_udp_port()

    async def test(backend: SipBackend, events: list[StreamEvent]) -> None:
        loop = asyncio.get_running_loop()
        attach_support(backend, ("op901", "901", first), ("op905", "905", second))
        host, port = backend.address
        (tmp_path / "first.xml").write_text(handing_on_phone(f"{host}:{port}"))
        (tmp_path / "second.xml").write_text(talking_phone(f"{host}:{port}"))
        transport, _ = await listening_caller_file(tmp_path)
        try:
            phones = [
                loop.create_task(sipp("-sf", "first.xml", cwd=tmp_path, port=first)),
                loop.create_task(sipp("-sf", "second.xml", cwd=tmp_path, port=second)),
            ]
            await asyncio.sleep(0.5)
            caller_rc, caller_out = await sipp(f"{host}:{port}", "-sf", "caller.xml", "-s", "5000", cwd=tmp_path)
            (first_rc, first_out), (second_rc, second_out) = [await phone for phone in phones]
        finally:
            transport.close()
        assert first_rc == 0, first_out  # its checks: 202, NOTIFY 100, BYE, NOTIFY 200 OK
        assert second_rc == 0, second_out
        assert caller_rc == 0, caller_out
        (asked,) = named(events, "OperatorTransferRequested")
        assert (asked.operator_id, asked.target) == ("op901", "905")
        (ended,) = named(events, "OperatorTransferEnded")
        assert (ended.outcome, ended.to_operator_id) == ("answered", "op905")

    with_backend(test, tmp_path, queue_scenario())


def test_the_engine_plays_music_while_the_operators_phone_holds(tmp_path: Path) -> None:
    """The same hold as above, with nobody but the engine starting the music."""
    phone_port = free_udp_port()

    async def test(backend: SipBackend, events: list[StreamEvent]) -> None:
        loop = asyncio.get_running_loop()
        attach_support(backend, ("op901", "901", phone_port))
        host, port = backend.address
        (tmp_path / "phone.xml").write_text(holding_phone(f"{host}:{port}"))
        transport, receiver = await listening_caller_file(tmp_path)
        try:
            phone = loop.create_task(sipp("-sf", "phone.xml", cwd=tmp_path, port=phone_port))
            await asyncio.sleep(0.5)
            caller_rc, caller_out = await sipp(f"{host}:{port}", "-sf", "caller.xml", "-s", "5000", cwd=tmp_path)
            phone_rc, phone_out = await phone
        finally:
            transport.close()
        assert phone_rc == 0, phone_out
        assert caller_rc == 0, caller_out
        (held,) = named(events, "LegHeld")
        (unheld,) = named(events, "LegUnheld")
        assert 1.5 < unheld.held_for < 4.5 and held.operator_id == "op901"
        # what the caller got, in order: the phone (SIPp replays the pcap's
        # SSRC), the engine's music alone for the whole hold, the phone again
        phone_ssrc = pcap_ssrc(PCAP)
        runs: list[list[RtpPacket]] = []
        for _, pkt in receiver.packets:
            if runs and (runs[-1][0].ssrc == phone_ssrc) == (pkt.ssrc == phone_ssrc):
                runs[-1].append(pkt)
            else:
                runs.append([pkt])
        assert [run[0].ssrc == phone_ssrc for run in runs[-3:]] == [True, False, True]
        music = runs[-2]
        assert len(music) > 0.6 * (unheld.held_for - 0.5) / 0.02
        assert any(max(abs(s) for s in decode(p.payload, "PCMU")) > 1000 for p in music)

    with_backend(test, tmp_path, queue_scenario())
