"""SIPp scenarios (XML) the integration tests write into their tmp folder.

`dtmf_caller(digits)`: the caller dials, waits for the answer, presses the
digits with the RFC 2833 pcaps Debian's sip-tester ships, then waits for the
engine's BYE and answers it. `cancelling_caller()`: the caller gives up
while the engine is still in early media (CANCEL before the answer).
"""

from __future__ import annotations

PCAP_DIR = "/usr/share/sip-tester"
_PCAP_NAMES = {"*": "star", "#": "pound"}

_INVITE = """
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
      Subject: flowengine test
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
      a=fmtp:101 0-15
    ]]>
  </send>
"""

_ACK = """
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
"""


def dtmf_caller(digits: str, *, hold_ms: int = 500) -> str:
    presses = "".join(
        f'  <nop><action><exec play_pcap_audio="{PCAP_DIR}/dtmf_2833_{_PCAP_NAMES.get(d, d)}.pcap"/></action></nop>\n'
        f'  <pause milliseconds="{hold_ms}"/>\n'
        for d in digits
    )
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="flowengine dtmf caller">
{_INVITE}
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true"/>
{_ACK}
  <pause milliseconds="300"/>
{presses}
  <recv request="BYE" timeout="20000"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:100@[local_ip]:[local_port]>
      Content-Length: 0
    ]]>
  </send>
  <timewait milliseconds="500"/>
</scenario>
"""


def cancelling_caller(*, after_ms: int = 800) -> str:
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="flowengine cancelling caller">
{_INVITE}
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183"/>
  <pause milliseconds="{after_ms}"/>
  <send>
    <![CDATA[
      CANCEL sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      [last_Via:]
      From: "SIPp caller" <sip:100@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 CANCEL
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv response="200"/>
  <recv response="487"/>
{_ACK.replace("Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]", "[last_Via:]")}
  <timewait milliseconds="500"/>
</scenario>
"""


def holding_caller() -> str:
    """OPTIONS first, then a call that the caller puts on hold (re-INVITE
    a=sendonly), resumes (a=sendrecv) and hangs up."""

    def reinvite(cseq: int, direction: str) -> str:
        expected = {"sendonly": "recvonly", "sendrecv": "sendrecv"}[direction]
        return f"""
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "SIPp caller" <sip:100@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: {cseq} INVITE
      Contact: sip:100@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 {cseq} IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a={direction}
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="200">
    <action>
      <ereg regexp="a={expected}" search_in="body" check_it="true" assign_to="{direction}_answer"/>
    </action>
  </recv>
  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "SIPp caller" <sip:100@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: {cseq} ACK
      Contact: sip:100@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <pause milliseconds="200"/>
"""

    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="flowengine holding caller">
  <send retrans="500">
    <![CDATA[
      OPTIONS sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:100@[local_ip]:[local_port]>;tag=[pid]opt[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 OPTIONS
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv response="200">
    <action>
      <ereg regexp="INVITE" search_in="hdr" header="Allow:" check_it="true" assign_to="allow"/>
    </action>
  </recv>
{_INVITE}
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true"/>
{_ACK}
  <pause milliseconds="300"/>
{reinvite(2, "sendonly")}
{reinvite(3, "sendrecv")}
  <send retrans="500">
    <![CDATA[
      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "SIPp caller" <sip:100@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 4 BYE
      Contact: sip:100@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv response="200" crlf="true"/>
  <Reference variables="allow,sendonly_answer,sendrecv_answer"/>
</scenario>
"""


_BYE_OK = """
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:100@[local_ip]:[local_port]>
      Content-Length: 0
    ]]>
  </send>
"""


def listening_caller(media_port: int, *, early: bool = False) -> str:
    """A caller whose SDP names `media_port` (a test's RTP receiver) for its
    audio. Answered: it waits for the engine's BYE. `early`: the engine plays
    in early media (183) and then refuses the call with 486."""
    invite = _INVITE.replace("m=audio [media_port] RTP/AVP", f"m=audio {media_port} RTP/AVP")
    if early:
        ending = f"""
  <recv response="100" optional="true"/>
  <recv response="183"/>
  <recv response="486" timeout="20000"/>
{_ACK.replace("Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]", "[last_Via:]")}
"""
    else:
        ending = f"""
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true"/>
{_ACK}
  <recv request="BYE" timeout="20000"/>
{_BYE_OK}
"""
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="flowengine listening caller">
{invite}
{ending}
  <timewait milliseconds="300"/>
</scenario>
"""


def talking_caller(*, talk_ms: int, digit: str = "1") -> str:
    """A caller that offers PCMA, plays Debian's g711a.pcap (7 s of speech)
    from the answer, presses `digit` (RFC 2833) after `talk_ms`, then waits
    for the engine's BYE."""
    invite = _INVITE.replace("RTP/AVP 0 101", "RTP/AVP 8 101").replace("a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000")
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="flowengine talking caller">
{invite}
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true"/>
{_ACK}
  <nop><action><exec play_pcap_audio="{PCAP_DIR}/g711a.pcap"/></action></nop>
  <pause milliseconds="{talk_ms}"/>
  <nop><action><exec play_pcap_audio="{PCAP_DIR}/dtmf_2833_{_PCAP_NAMES.get(digit, digit)}.pcap"/></action></nop>
  <recv request="BYE" timeout="20000"/>
{_BYE_OK}
  <timewait milliseconds="300"/>
</scenario>
"""


def talking_then_hanging_up_caller(*, talk_ms: int) -> str:
    """Like `talking_caller`, but the caller hangs up (BYE) after `talk_ms`
    instead of pressing a key."""
    head = talking_caller(talk_ms=talk_ms)
    head = head[: head.index(f'  <nop><action><exec play_pcap_audio="{PCAP_DIR}/dtmf_2833_')]
    return head + """  <send retrans="500">
    <![CDATA[
      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "SIPp caller" <sip:100@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: sip:100@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv response="200"/>
  <timewait milliseconds="300"/>
</scenario>
"""
