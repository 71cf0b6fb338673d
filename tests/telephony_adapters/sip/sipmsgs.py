"""SIP messages the tests send, written as a peer would write them."""

from __future__ import annotations

SDP_OFFER = (
    "v=0\r\n"
    "o=user1 53655765 2353687637 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "c=IN IP4 127.0.0.1\r\n"
    "t=0 0\r\n"
    "m=audio 6000 RTP/AVP 0 8 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-15\r\n"
)


def invite(
    user: str = "+74951230001",
    *,
    branch: str = "z9hG4bK-1",
    call_id: str = "call-1@127.0.0.1",
    from_tag: str = "caller-tag",
    cseq: int = 1,
    sdp: str | None = SDP_OFFER,
    extra: str = "",
    port: int = 5070,
    to_tag: str | None = None,
    to_user: str | None = None,
) -> bytes:
    body = sdp or ""
    to = f"<sip:{to_user or user}@127.0.0.1:5080>" + (f";tag={to_tag}" if to_tag else "")
    ctype = "Content-Type: application/sdp\r\n" if sdp else ""
    return (
        f"INVITE sip:{user}@127.0.0.1:5080 SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch={branch}\r\n"
        f'From: "Ivan Petrov" <sip:100@127.0.0.1:{port}>;tag={from_tag}\r\n'
        f"To: {to}\r\n"
        f"Call-ID: {call_id}\r\n"
        f"CSeq: {cseq} INVITE\r\n"
        f"Contact: <sip:100@127.0.0.1:{port}>\r\n"
        "Max-Forwards: 70\r\n"
        f"{extra}{ctype}"
        f"Content-Length: {len(body.encode())}\r\n\r\n{body}"
    ).encode()


def in_dialog(
    method: str,
    *,
    to_tag: str,
    branch: str,
    cseq: int,
    call_id: str = "call-1@127.0.0.1",
    from_tag: str = "caller-tag",
    user: str = "+74951230001",
    body: str = "",
    extra: str = "",
    port: int = 5070,
) -> bytes:
    return (
        f"{method} sip:{user}@127.0.0.1:5080 SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch={branch}\r\n"
        f"From: <sip:100@127.0.0.1:{port}>;tag={from_tag}\r\n"
        f"To: <sip:{user}@127.0.0.1:5080>;tag={to_tag}\r\n"
        f"Call-ID: {call_id}\r\n"
        f"CSeq: {cseq} {method}\r\n"
        f"Contact: <sip:100@127.0.0.1:{port}>\r\n"
        "Max-Forwards: 70\r\n"
        f"{extra}"
        f"Content-Length: {len(body.encode())}\r\n\r\n{body}"
    ).encode()


def cancel(*, branch: str = "z9hG4bK-1", call_id: str = "call-1@127.0.0.1", port: int = 5070, user: str = "+74951230001") -> bytes:
    return (
        f"CANCEL sip:{user}@127.0.0.1:5080 SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch={branch}\r\n"
        f"From: \"Ivan Petrov\" <sip:100@127.0.0.1:{port}>;tag=caller-tag\r\n"
        f"To: <sip:{user}@127.0.0.1:5080>\r\n"
        f"Call-ID: {call_id}\r\n"
        "CSeq: 1 CANCEL\r\n"
        "Max-Forwards: 70\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()
