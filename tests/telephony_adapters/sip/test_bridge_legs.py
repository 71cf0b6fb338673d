"""Outgoing legs in the sans-IO core on a fake clock: our INVITE, what the
phone answers, and what we send back (ACK, CANCEL, BYE), byte for byte
through the parser, as a phone would see it."""

from __future__ import annotations

from telephony_adapters.sip.core import SipCore
from telephony_adapters.sip.headers import NameAddr, Uri
from telephony_adapters.sip.message import Request, parse_message
from telephony_adapters.sip.outgoing import LegAnswered, LegFailed, LegHungUp, LegProgress

PHONE = ("127.0.0.1", 5062)
CONTACT = "<sip:901-x@127.0.0.1:5062>"
ANSWER_SDP = (
    "v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 7000 RTP/AVP 8 96\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:96 telephone-event/8000\r\n"
)


def start_leg(core: SipCore, now: float = 0.0) -> tuple[str, Request]:
    key = core.outgoing.invite(
        now,
        target=Uri("sip", "901-x", "127.0.0.1", 5062),
        dest=PHONE,
        to=NameAddr(Uri("sip", "901", "127.0.0.1", 5060)),
        caller="+74951234567",
        caller_name="Ivan",
        media=("127.0.0.1", 40000),
        codecs=("PCMU", "PCMA"),
    )
    sent = sent_requests(core)
    assert [r.method for r in sent] == ["INVITE"]
    return key, sent[0]


def sent_requests(core: SipCore) -> list[Request]:
    return [m for d, _ in core.datagrams_to_send() if isinstance(m := parse_message(d), Request)]


def response(invite: Request, status: int, *, to_tag: str | None = "phone-tag", body: str = "", cseq: str | None = None) -> bytes:
    to = invite.get("To") or ""
    if to_tag:
        to += f";tag={to_tag}"
    lines = [
        f"SIP/2.0 {status} Whatever",
        f"Via: {invite.get('Via')}",
        f"From: {invite.get('From')}",
        f"To: {to}",
        f"Call-ID: {invite.call_id}",
        f"CSeq: {cseq or f'{invite.cseq[0]} INVITE'}",
        f"Contact: {CONTACT}",
    ]
    if body:
        lines.append("Content-Type: application/sdp")
    return ("\r\n".join(lines) + f"\r\nContent-Length: {len(body)}\r\n\r\n{body}").encode()


def events(core: SipCore) -> list[object]:
    found = []
    while (ev := core.next_event()) is not None:
        found.append(ev)
    return found


def test_an_answered_leg_is_acked_at_its_contact_and_ends_with_the_phones_bye() -> None:
    core = SipCore(("127.0.0.1", 5060))
    key, invite = start_leg(core)
    assert invite.from_ is not None and invite.from_.tag == key and invite.from_.uri.user == "+74951234567"
    assert b"m=audio 40000 RTP/AVP 0 8 101" in invite.body
    core.handle_timer(0.5)  # Timer A: no answer yet, resent
    assert [r.method for r in sent_requests(core)] == ["INVITE"]
    core.receive(response(invite, 180), PHONE, 0.6)
    core.receive(response(invite, 200, body=ANSWER_SDP), PHONE, 1.0)
    ringing, answered = events(core)
    assert ringing == LegProgress(key, 180, None)
    assert isinstance(answered, LegAnswered) and not answered.late
    assert answered.negotiated is not None and (answered.negotiated.codec, answered.negotiated.dtmf_payload_type) == ("PCMA", 96)
    (ack,) = sent_requests(core)
    assert (ack.method, str(ack.uri), ack.cseq) == ("ACK", "sip:901-x@127.0.0.1:5062", (1, "ACK"))
    # the 2xx again (our ACK was lost): ACKed again, reported once
    core.receive(response(invite, 200, body=ANSWER_SDP), PHONE, 1.5)
    assert [r.method for r in sent_requests(core)] == ["ACK"]
    assert events(core) == []
    bye = (
        "BYE sip:127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-bye1\r\n"
        f"From: {invite.get('To')};tag=phone-tag\r\nTo: {invite.get('From')}\r\nCall-ID: {invite.call_id}\r\n"
        "CSeq: 2 BYE\r\nReason: Q.850;cause=16\r\nContent-Length: 0\r\n\r\n"
    ).encode()
    core.receive(bye, PHONE, 5.0)
    assert events(core) == [LegHungUp(key, 16)]
    (ok,) = [parse_message(d) for d, _ in core.datagrams_to_send()]
    assert getattr(ok, "status", None) == 200
    assert len(core.outgoing) == 0


def test_a_busy_phone_fails_the_leg_and_its_486_is_acked() -> None:
    core = SipCore(("127.0.0.1", 5060))
    key, invite = start_leg(core)
    core.receive(response(invite, 486), PHONE, 0.2)
    assert events(core) == [LegFailed(key, 486, None)]
    (ack,) = sent_requests(core)
    assert ack.method == "ACK" and ack.cseq == (1, "ACK")


def test_cancel_waits_for_a_provisional_response_then_the_487_ends_the_leg() -> None:
    core = SipCore(("127.0.0.1", 5060))
    key, invite = start_leg(core)
    core.outgoing.cancel(key, 0.1, q850=26)
    assert sent_requests(core) == []  # RFC 3261 §9.1: not before a provisional response
    core.receive(response(invite, 100, to_tag=None), PHONE, 0.2)
    (cancel,) = sent_requests(core)
    assert (cancel.method, cancel.cseq, cancel.top_via.branch) == ("CANCEL", (1, "CANCEL"), invite.top_via.branch)
    assert cancel.get("Reason") == "Q.850;cause=26"
    core.receive(response(invite, 200, cseq="1 CANCEL", to_tag=None), PHONE, 0.3)
    core.receive(response(invite, 487), PHONE, 0.3)
    assert events(core) == [LegFailed(key, 487, None)]
    assert [r.method for r in sent_requests(core)] == ["ACK"]
    assert len(core.outgoing) == 0


def test_an_answer_that_crosses_the_cancel_is_acked_and_hung_up() -> None:
    core = SipCore(("127.0.0.1", 5060))
    key, invite = start_leg(core)
    core.receive(response(invite, 180), PHONE, 0.1)
    events(core)
    core.outgoing.cancel(key, 0.2, q850=26)
    assert [r.method for r in sent_requests(core)] == ["CANCEL"]
    core.receive(response(invite, 200, body=ANSWER_SDP), PHONE, 0.25)
    (answered,) = events(core)
    assert isinstance(answered, LegAnswered) and answered.late
    assert [r.method for r in sent_requests(core)] == ["ACK", "BYE"]


def test_a_phone_that_never_answers_times_out_with_408() -> None:
    core = SipCore(("127.0.0.1", 5060))
    key, _ = start_leg(core)
    now = 0.0
    while (at := core.next_timer()) is not None and at <= 40.0:
        now = at
        core.handle_timer(now)
    assert events(core) == [LegFailed(key, 408, None)]
    assert now >= 32.0  # Timer B: 64 * T1
