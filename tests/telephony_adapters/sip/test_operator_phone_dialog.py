"""What an operator's phone does inside the dialog of our leg to it, through
the sans-IO core on a fake clock, byte for byte as the phone sees it: hold
and resume (re-INVITE / UPDATE), blind transfer (REFER -> 403, or 202 and
the NOTIFYs of the outcome), an attended transfer refused."""

from __future__ import annotations

from telephony_adapters.sip.core import SipCore
from telephony_adapters.sip.headers import NameAddr, Uri
from telephony_adapters.sip.message import Request, Response, parse_message
from telephony_adapters.sip.outgoing import LegAnswered, LegHungUp, LegReinvited
from telephony_adapters.sip.referrals import LegReferred

PHONE = ("127.0.0.1", 5062)
ANSWER_SDP = (
    "v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 7000 RTP/AVP 8 96\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:96 telephone-event/8000\r\n"
)


class Phone:
    """The far end of one answered leg: writes requests in its dialog."""

    def __init__(self, core: SipCore) -> None:
        self.core = core
        self.key = core.outgoing.invite(
            0.0,
            target=Uri("sip", "901", "127.0.0.1", 5062),
            dest=PHONE,
            to=NameAddr(Uri("sip", "901", "127.0.0.1", 5060)),
            caller="+74951234567",
            caller_name=None,
            media=("127.0.0.1", 40000),
            codecs=("PCMU", "PCMA"),
        )
        (self.invite,) = self.requests()
        inv = self.invite
        to = f"{inv.get('To')};tag=phone-tag"
        ok = (
            f"SIP/2.0 200 OK\r\nVia: {inv.get('Via')}\r\nFrom: {inv.get('From')}\r\nTo: {to}\r\n"
            f"Call-ID: {inv.call_id}\r\nCSeq: 1 INVITE\r\nContact: <sip:901@127.0.0.1:5062>\r\n"
            f"Content-Type: application/sdp\r\nContent-Length: {len(ANSWER_SDP)}\r\n\r\n{ANSWER_SDP}"
        ).encode()
        core.receive(ok, PHONE, 0.1)
        assert isinstance(self.events()[0], LegAnswered)
        assert [r.method for r in self.requests()] == ["ACK"]
        self.cseq = 1
        self.branch = 0

    def send(self, method: str, now: float, *, headers: str = "", sdp: str = "", cseq: int | None = None) -> None:
        self.branch += 1
        if cseq is None:
            self.cseq += 1
            cseq = self.cseq
        ctype = "Content-Type: application/sdp\r\n" if sdp else ""
        inv = self.invite
        message = (
            f"{method} sip:127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-p{self.branch}\r\n"
            f"From: {inv.get('To')};tag=phone-tag\r\nTo: {inv.get('From')}\r\nCall-ID: {inv.call_id}\r\n"
            f"CSeq: {cseq} {method}\r\nContact: <sip:901@127.0.0.1:5062>\r\n"
            f"{headers}{ctype}Content-Length: {len(sdp)}\r\n\r\n{sdp}"
        )
        self.core.receive(message.encode(), PHONE, now)

    def answer(self, req: Request, now: float, status: int = 200) -> None:
        """The phone's response to a request we sent it."""
        resp = (
            f"SIP/2.0 {status} Whatever\r\nVia: {req.get('Via')}\r\nFrom: {req.get('From')}\r\nTo: {req.get('To')}\r\n"
            f"Call-ID: {req.call_id}\r\nCSeq: {req.cseq[0]} {req.cseq[1]}\r\nContent-Length: 0\r\n\r\n"
        )
        self.core.receive(resp.encode(), PHONE, now)

    def sent(self) -> list[Request | Response]:
        return [parse_message(d) for d, _ in self.core.datagrams_to_send()]

    def requests(self) -> list[Request]:
        return [m for m in self.sent() if isinstance(m, Request)]

    def events(self) -> list[object]:
        found = []
        while (ev := self.core.next_event()) is not None:
            found.append(ev)
        return found


def offer(direction: str, *, address: str = "127.0.0.1", version: int = 2) -> str:
    return (
        f"v=0\r\no=phone 1 {version} IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 {address}\r\nt=0 0\r\n"
        f"m=audio 7000 RTP/AVP 8 96\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:96 telephone-event/8000\r\na={direction}\r\n"
    )


def only_response(phone: Phone) -> Response:
    (resp,) = phone.sent()
    assert isinstance(resp, Response)
    return resp


def test_hold_and_resume_by_reinvite_are_answered_mirrored_and_the_200_stops_at_the_ack() -> None:
    core = SipCore(("127.0.0.1", 5060))
    phone = Phone(core)
    phone.send("INVITE", 1.0, sdp=offer("sendonly"))
    ok = only_response(phone)
    assert ok.status == 200 and b"a=recvonly" in ok.body
    (ev,) = phone.events()
    assert isinstance(ev, LegReinvited) and ev.negotiated.direction == "recvonly"
    # our answer keeps the o= session of our offer, with a higher version (RFC 3264 §8)
    first_o = next(line for line in phone.invite.body.split(b"\r\n") if line.startswith(b"o="))
    held_o = next(line for line in ok.body.split(b"\r\n") if line.startswith(b"o="))
    assert held_o.split()[1] == first_o.split()[1] and int(held_o.split()[2]) == int(first_o.split()[2]) + 1
    # no ACK yet: the 200 is sent again (T1)
    core.handle_timer(1.6)
    assert [getattr(m, "status", None) for m in phone.sent()] == [200]
    phone.send("ACK", 1.7, cseq=phone.cseq)
    core.handle_timer(3.0)
    core.handle_timer(6.0)
    assert phone.sent() == []  # the ACK stopped the resends
    phone.send("INVITE", 7.0, sdp=offer("inactive", version=3))
    assert b"a=inactive" in only_response(phone).body
    phone.send("ACK", 7.1, cseq=phone.cseq)
    phone.send("INVITE", 8.0, sdp=offer("sendrecv", version=4))
    assert b"a=sendrecv" in only_response(phone).body
    assert [e.negotiated.direction for e in phone.events() if isinstance(e, LegReinvited)] == ["inactive", "sendrecv"]


def test_hold_the_old_way_with_c_zero_and_by_update() -> None:
    core = SipCore(("127.0.0.1", 5060))
    phone = Phone(core)
    phone.send("INVITE", 1.0, sdp=offer("sendrecv", address="0.0.0.0"))
    assert b"a=recvonly" in only_response(phone).body
    (ev,) = phone.events()
    assert isinstance(ev, LegReinvited) and ev.negotiated.direction == "recvonly"
    phone.send("ACK", 1.1, cseq=phone.cseq)
    phone.send("UPDATE", 2.0, sdp=offer("sendrecv", version=3))
    resp = only_response(phone)
    assert resp.status == 200 and resp.cseq[1] == "UPDATE" and b"a=sendrecv" in resp.body
    (ev,) = phone.events()
    assert isinstance(ev, LegReinvited) and ev.negotiated.direction == "sendrecv"
    phone.send("UPDATE", 3.0)  # a session refresh without an offer
    resp = only_response(phone)
    assert resp.status == 200 and resp.body == b""
    assert phone.events() == []


def test_a_request_older_than_the_last_is_refused_with_500() -> None:
    core = SipCore(("127.0.0.1", 5060))
    phone = Phone(core)
    phone.send("INVITE", 1.0, sdp=offer("sendonly"), cseq=5)
    assert only_response(phone).status == 200
    phone.send("INVITE", 1.5, sdp=offer("sendrecv"), cseq=4)
    assert only_response(phone).status == 500


def test_refer_asks_the_engine_and_a_refusal_is_a_403_that_says_why() -> None:
    core = SipCore(("127.0.0.1", 5060))
    phone = Phone(core)
    phone.send("REFER", 1.0, headers="Refer-To: <sip:+79991234567@127.0.0.1:5060>\r\nReferred-By: <sip:901@127.0.0.1>\r\n")
    assert phone.sent() == []  # nothing until the engine decides
    (ev,) = phone.events()
    assert ev == LegReferred(phone.key, phone.cseq, "+79991234567")
    core.outgoing.referrals.refuse(phone.key, 1.1, phone.cseq, "dial_blocked")
    resp = only_response(phone)
    assert resp.status == 403 and "dial_blocked" in resp.reason
    assert "dial_blocked" in (resp.get("Warning") or "")
    assert len(core.outgoing.referrals) == 0


def test_an_accepted_transfer_gets_202_a_trying_notify_then_the_outcome_even_after_the_bye() -> None:
    core = SipCore(("127.0.0.1", 5060))
    phone = Phone(core)
    phone.send("REFER", 1.0, headers="r: <sip:905@127.0.0.1>\r\n")  # the compact form
    (ev,) = phone.events()
    assert isinstance(ev, LegReferred) and ev.target == "905"
    core.outgoing.referrals.accept(phone.key, 1.1, ev.ref)
    accepted, trying = phone.sent()
    assert isinstance(accepted, Response) and accepted.status == 202
    assert isinstance(trying, Request) and trying.method == "NOTIFY"
    assert (trying.get("Event"), trying.get("Content-Type")) == ("refer", "message/sipfrag;version=2.0")
    assert (trying.get("Subscription-State") or "").startswith("active")
    assert trying.body.startswith(b"SIP/2.0 100 Trying")
    assert trying.uri == Uri("sip", "901", "127.0.0.1", 5062)  # the phone's Contact
    phone.answer(trying, 1.2)
    # the phone hangs up right after the 202, as blind transfer goes: only the leg ends
    phone.send("BYE", 1.3)
    assert [getattr(m, "status", None) for m in phone.sent()] == [200]
    assert phone.events() == [LegHungUp(phone.key, None)]
    assert len(core.outgoing) == 0
    # the transfer's outcome still reaches the phone, in the same dialog, CSeq going on
    core.outgoing.referrals.finish(phone.key, 9.0, ev.ref, ok=False, reason="busy")
    (final,) = phone.requests()
    assert final.method == "NOTIFY" and final.call_id == phone.invite.call_id
    assert final.cseq[0] > trying.cseq[0]
    assert final.get("Subscription-State") == "terminated;reason=noresource"
    assert final.body == b"SIP/2.0 486 Busy Here\r\n"
    assert len(core.outgoing.referrals) == 0


def test_outcome_statuses_a_tel_target_and_refer_sub_false() -> None:
    core = SipCore(("127.0.0.1", 5060))
    phone = Phone(core)
    phone.send("REFER", 1.0, headers="Refer-To: <tel:+7-999-123-45-67;phone-context=+7>\r\nRefer-Sub: false\r\n")
    (ev,) = phone.events()
    assert isinstance(ev, LegReferred) and ev.target == "+79991234567"
    core.outgoing.referrals.accept(phone.key, 1.1, ev.ref)
    resp = only_response(phone)  # 202 and no NOTIFY at all
    assert resp.status == 202 and resp.get("Refer-Sub") == "false"
    core.outgoing.referrals.finish(phone.key, 2.0, ev.ref, ok=True, reason="answered")
    assert phone.sent() == []
    for n, (ok, reason, frag) in enumerate(
        [(True, "answered", b"SIP/2.0 200 OK"), (False, "no_answer", b"SIP/2.0 480"), (False, "rejected", b"SIP/2.0 603"),
         (False, "failed", b"SIP/2.0 500"), (False, "hangup", b"SIP/2.0 487")]
    ):
        phone.send("REFER", 3.0 + n, headers="Refer-To: <sip:905@127.0.0.1>\r\n")
        (ev,) = phone.events()
        core.outgoing.referrals.accept(phone.key, 3.1 + n, ev.ref)
        accepted, trying = phone.sent()
        assert trying.get("Event") == f"refer;id={ev.ref}"  # not the dialog's first REFER: the id says which
        core.outgoing.referrals.finish(phone.key, 3.2 + n, ev.ref, ok=ok, reason=reason)
        (final,) = phone.requests()
        assert final.body.startswith(frag), (reason, final.body)


def test_attended_transfer_and_unreadable_targets_are_refused_without_asking_the_engine() -> None:
    core = SipCore(("127.0.0.1", 5060))
    phone = Phone(core)
    cases = [
        ("Refer-To: <sip:905@127.0.0.1?Replaces=abc%40host%3Bto-tag%3D1%3Bfrom-tag%3D2>\r\n", 501),
        ("", 400),
        ("Refer-To: <sip:127.0.0.1>\r\n", 400),
        ("Refer-To: <sip:9%0A05@127.0.0.1>\r\n", 400),
        ("Refer-To: <mailto:boss@example.com>\r\n", 416),
        ("Refer-To: <sip:905@127.0.0.1>\r\nRefer-To: <sip:906@127.0.0.1>\r\n", 400),
    ]
    for n, (headers, status) in enumerate(cases):
        phone.send("REFER", 1.0 + n, headers=headers)
        resp = only_response(phone)
        assert resp.status == status, (headers, resp.status, resp.reason)
    assert phone.events() == []
    assert len(core.outgoing.referrals) == 0


def test_a_reinvite_without_sdp_gets_our_offer_and_the_ack_answer_holds() -> None:
    """A delayed offer (RFC 3261 §14.2): the phone's re-INVITE carries no
    SDP, our 200 offers our media as it is, and the phone's answer comes in
    its ACK — here a hold (sendonly), then a resume the same way."""
    core = SipCore(("127.0.0.1", 5060))
    phone = Phone(core)
    phone.send("INVITE", 1.0)
    ok = only_response(phone)
    assert ok.status == 200 and b"m=audio 40000" in ok.body and b"a=sendrecv" in ok.body
    assert phone.events() == []  # nothing is known until the answer
    phone.send("ACK", 1.1, cseq=phone.cseq, sdp=offer("sendonly"))
    (ev,) = phone.events()
    assert isinstance(ev, LegReinvited) and ev.negotiated.held and ev.negotiated.remote == ("127.0.0.1", 7000)
    core.handle_timer(3.0)
    assert phone.sent() == []  # the ACK stopped our 200's resends
    phone.send("INVITE", 5.0)
    assert only_response(phone).status == 200
    phone.send("ACK", 5.1, cseq=phone.cseq, sdp=offer("sendrecv", version=3))
    (ev,) = phone.events()
    assert isinstance(ev, LegReinvited) and not ev.negotiated.held
