"""The inbound user-agent core, sans-IO: datagrams and a fake `now` in,
responses, requests and call events out — what a caller's phone would see."""

from __future__ import annotations

from sipmsgs import SDP_OFFER, cancel, in_dialog, invite

from telephony_adapters.sip.core import (
    CallCancelled,
    CallConfirmed,
    CallFailed,
    CallHungUp,
    CallReinvited,
    DtmfInfo,
    IncomingCall,
    SipCore,
    SipEvent,
)
from telephony_adapters.sip.message import Request, Response, parse_message
from telephony_adapters.sip.sdp import parse_sdp

PEER = ("127.0.0.1", 5070)
MEDIA = ("127.0.0.1", 20000)


class Phone:
    """The far end: sends datagrams into the core, reads what comes back."""

    def __init__(self, core: SipCore | None = None) -> None:
        self.core = core or SipCore(("127.0.0.1", 5080))
        self.now = 0.0

    def send(self, data: bytes, peer: tuple[str, int] = PEER) -> list[Request | Response]:
        self.core.receive(data, peer, self.now)
        return self.out()

    def out(self) -> list[Request | Response]:
        return [parse_message(data) for data, _ in self.core.datagrams_to_send()]

    def events(self) -> list[SipEvent]:
        found = []
        while (ev := self.core.next_event()) is not None:
            found.append(ev)
        return found

    def tick(self, until: float) -> list[Request | Response]:
        sent: list[Request | Response] = []
        while (t := self.core.next_timer()) is not None and t <= until:
            self.now = t
            self.core.handle_timer(t)
            sent += self.out()
        self.now = until
        return sent


def statuses(msgs: list[Request | Response]) -> list[int]:
    return [m.status for m in msgs if isinstance(m, Response)]


def call(phone: Phone) -> tuple[IncomingCall, str]:
    """An INVITE answered with 100; the call's key and our To-tag (same thing)."""
    out = phone.send(invite())
    assert statuses(out) == [100]
    (ev,) = phone.events()
    assert isinstance(ev, IncomingCall)
    return ev, ev.key


def test_invite_ring_answer_ack_bye_from_the_caller() -> None:
    phone = Phone()
    ev, key = call(phone)
    assert ev.invite.uri.user == "+74951230001"
    assert ev.negotiated is not None and ev.negotiated.codec == "PCMU" and ev.negotiated.dtmf_payload_type == 101
    phone.core.ring(key, 0.1)
    (ringing,) = phone.out()
    assert isinstance(ringing, Response) and ringing.status == 180
    assert ringing.to is not None and ringing.to.tag == key
    phone.core.answer(key, 0.2, MEDIA)
    (ok,) = phone.out()
    assert isinstance(ok, Response) and ok.status == 200
    assert ok.get("Contact") == "<sip:127.0.0.1:5080>"
    answer = parse_sdp(ok.body)
    audio = answer.audio()
    assert audio is not None and audio.port == 20000 and audio.formats == ("0", "101")
    assert phone.send(in_dialog("ACK", to_tag=key, branch="z9hG4bK-ack", cseq=1)) == []
    assert phone.events() == [CallConfirmed(key)]
    out = phone.send(in_dialog("BYE", to_tag=key, branch="z9hG4bK-bye", cseq=2, extra="Reason: Q.850;cause=16\r\n"))
    assert statuses(out) == [200]
    assert phone.events() == [CallHungUp(key, 16)]
    assert phone.core.calls == 0
    # the BYE resent (our 200 was lost) gets the same 200, not a 481
    assert statuses(phone.send(in_dialog("BYE", to_tag=key, branch="z9hG4bK-bye", cseq=2))) == [200]


def test_resent_invite_is_not_a_second_call() -> None:
    phone = Phone()
    _, key = call(phone)
    phone.core.ring(key, 0.1)
    phone.out()
    assert statuses(phone.send(invite())) == [180]
    assert phone.events() == []
    assert phone.core.calls == 1
    phone.core.answer(key, 0.2, MEDIA)
    phone.out()
    phone.now = 0.3
    assert phone.send(invite()) == []  # accepted: absorbed, the 2xx has its own timer
    assert phone.core.calls == 1


def test_cancel_before_answer_gets_200_and_the_invite_487() -> None:
    phone = Phone()
    _, key = call(phone)
    out = phone.send(cancel())
    assert sorted(statuses(out)) == [200, 487]
    final = next(m for m in out if isinstance(m, Response) and m.status == 487)
    assert final.cseq == (1, "INVITE") and final.to is not None and final.to.tag == key
    assert phone.events() == [CallCancelled(key)]
    # the ACK of the 487 is absorbed by the transaction; the 487 stops being resent
    ack = in_dialog("ACK", to_tag=key, branch="z9hG4bK-1", cseq=1)
    assert phone.send(ack) == []
    assert phone.tick(40.0) == []
    # a CANCEL for nothing gets 481
    assert statuses(phone.send(cancel(branch="z9hG4bK-none"))) == [481]


def test_unacked_error_is_resent_until_timer_h() -> None:
    phone = Phone()
    _, key = call(phone)
    phone.core.reject(key, 486, 0.0)
    assert statuses(phone.out()) == [486]
    resent = phone.tick(40.0)
    assert statuses(resent)[:4] == [486] * 4 and len(resent) < 12


def test_2xx_resent_until_ack_then_bye_at_timer_l() -> None:
    phone = Phone()
    _, key = call(phone)
    phone.core.answer(key, 0.0, MEDIA)
    phone.out()
    sent = phone.tick(32.2)  # Timer L = 64*T1; the BYE's own Timer E would resend it at 32.5
    assert statuses(sent).count(200) >= 8
    bye = [m for m in sent if isinstance(m, Request)]
    assert [m.method for m in bye] == ["BYE"]
    assert phone.events() == [CallFailed(key, "ack_timeout")]


def test_our_bye_waits_for_the_ack_and_carries_the_reason() -> None:
    phone = Phone()
    _, key = call(phone)
    phone.core.answer(key, 0.0, MEDIA)
    phone.out()
    phone.core.hangup(key, 0.1, q850=16)
    assert phone.out() == []  # no BYE before the ACK (§15.1.1)
    out = phone.send(in_dialog("ACK", to_tag=key, branch="z9hG4bK-ack", cseq=1))
    (bye,) = out
    assert isinstance(bye, Request) and bye.method == "BYE"
    assert bye.get("Reason") == "Q.850;cause=16"
    assert str(bye.uri) == "sip:100@127.0.0.1:5070"  # the INVITE's Contact
    assert bye.to is not None and bye.to.tag == "caller-tag"
    assert bye.from_ is not None and bye.from_.tag == key
    # unanswered, the BYE is resent (Timer E) until the far end answers
    assert [m.method for m in phone.tick(2.0) if isinstance(m, Request)] == ["BYE", "BYE"]
    ok = (
        "SIP/2.0 200 OK\r\n"
        f"Via: {bye.get('Via')}\r\nFrom: {bye.get('From')}\r\nTo: {bye.get('To')}\r\n"
        f"Call-ID: {bye.call_id}\r\nCSeq: {bye.cseq[0]} BYE\r\nContent-Length: 0\r\n\r\n"
    ).encode()
    phone.send(ok)
    assert phone.tick(40.0) == []


def test_record_route_is_kept_in_order_and_our_bye_goes_to_the_first_proxy() -> None:
    phone = Phone()
    rr = "Record-Route: <sip:10.0.0.1:5060;lr>, <sip:10.0.0.2:5060;lr>\r\n"
    phone.send(invite(extra=rr))
    (ev,) = phone.events()
    assert isinstance(ev, IncomingCall)
    phone.core.answer(ev.key, 0.0, MEDIA)
    (ok,) = phone.out()
    assert ok.get_all("Record-Route") == ["<sip:10.0.0.1:5060;lr>", "<sip:10.0.0.2:5060;lr>"]
    phone.send(in_dialog("ACK", to_tag=ev.key, branch="z9hG4bK-ack", cseq=1))
    phone.core.hangup(ev.key, 1.0)
    datagrams = phone.core.datagrams_to_send()
    assert [addr for _, addr in datagrams] == [("10.0.0.1", 5060)]
    bye = parse_message(datagrams[0][0])
    assert bye.get_all("Route") == ["<sip:10.0.0.1:5060;lr>", "<sip:10.0.0.2:5060;lr>"]
    assert isinstance(bye, Request) and str(bye.uri) == "sip:100@127.0.0.1:5070"


def test_reinvite_hold_is_answered_recvonly_and_reported() -> None:
    phone = Phone()
    _, key = call(phone)
    phone.core.answer(key, 0.0, MEDIA)
    phone.out()
    phone.send(in_dialog("ACK", to_tag=key, branch="z9hG4bK-ack", cseq=1))
    phone.events()
    held = SDP_OFFER.replace("c=IN IP4 127.0.0.1", "c=IN IP4 127.0.0.2") + "a=sendonly\r\n"
    out = phone.send(in_dialog("INVITE", to_tag=key, branch="z9hG4bK-re", cseq=2, body=held, extra="Content-Type: application/sdp\r\n"))
    assert statuses(out) == [100, 200] or statuses(out) == [200]
    ok = next(m for m in out if isinstance(m, Response) and m.status == 200)
    answer = parse_sdp(ok.body)
    assert answer.audio() is not None and answer.audio().direction == "recvonly"  # type: ignore[union-attr]
    assert b"o=flowengine" in ok.body and b" 2 IN IP4" in ok.body  # version bumped
    (ev,) = phone.events()
    assert isinstance(ev, CallReinvited)
    assert ev.negotiated.direction == "recvonly" and ev.negotiated.remote == ("127.0.0.2", 6000)


def test_options_info_dtmf_and_unknown_dialogs() -> None:
    phone = Phone()
    options = in_dialog("OPTIONS", to_tag="x", branch="z9hG4bK-o", cseq=1).replace(b";tag=x", b"")
    (ok,) = phone.send(options)
    assert isinstance(ok, Response) and ok.status == 200 and "INVITE" in (ok.get("Allow") or "")
    _, key = call(phone)
    phone.core.answer(key, 0.0, MEDIA)
    phone.out()
    phone.send(in_dialog("ACK", to_tag=key, branch="z9hG4bK-ack", cseq=1))
    phone.events()
    info = in_dialog("INFO", to_tag=key, branch="z9hG4bK-i", cseq=2, body="Signal=5\r\nDuration=160\r\n",
                     extra="Content-Type: application/dtmf-relay\r\n")
    assert statuses(phone.send(info)) == [200]
    assert phone.events() == [DtmfInfo(key, "5")]
    assert statuses(phone.send(in_dialog("BYE", to_tag="nobody", branch="z9hG4bK-b2", cseq=3))) == [481]
    # a CSeq that goes backwards inside the dialog is refused
    assert statuses(phone.send(in_dialog("INFO", to_tag=key, branch="z9hG4bK-i0", cseq=1))) == [500]


def test_untrusted_address_gets_403_unless_allowed() -> None:
    strict = Phone(SipCore(("127.0.0.1", 5080), trusted=lambda ip: ip == "10.9.9.9"))
    assert statuses(strict.send(invite())) == [403]
    assert strict.events() == [] and strict.core.stats.refused_untrusted == 1
    open_ = Phone(SipCore(("127.0.0.1", 5080), trusted=lambda ip: False, allow_untrusted=True))
    assert statuses(open_.send(invite())) == [100]


def test_malformed_requests_get_400_naming_the_header_or_are_dropped() -> None:
    phone = Phone()
    bad = invite().replace(b"CSeq: 1 INVITE", b"CSeq: 1 INVITE\r\nMax-Forwards: lots")
    (resp,) = phone.send(bad)
    assert isinstance(resp, Response) and resp.status == 400 and "Max-Forwards" in resp.reason
    assert resp.to is not None and resp.to.tag
    assert phone.send(b"\x00\x01garbage\r\n\r\n") == []
    assert phone.send(b"SIP/2.0 200 OK\r\nVia: nonsense\r\n\r\n") == []
    assert phone.send(b"\r\n\r\n") == []  # keep-alive
    assert phone.core.stats.dropped_malformed == 3
    no_sdp_sense = invite(sdp="v=0\r\nm=audio x RTP/AVP 0\r\n")
    out = phone.send(no_sdp_sense)
    assert statuses(out) == [100, 400] and "m= port" in out[1].reason  # type: ignore[union-attr]
    video_only = invite(branch="z9hG4bK-v", call_id="v", sdp=SDP_OFFER.replace("m=audio 6000 RTP/AVP 0 8 101", "m=audio 6000 RTP/AVP 9"))
    assert statuses(phone.send(video_only)) == [100, 488]
    required = invite(branch="z9hG4bK-r", call_id="r", extra="Require: 100rel\r\n")
    out = phone.send(required)
    assert statuses(out) == [420] and out[0].get("Unsupported") == "100rel"
    assert phone.events() == []


def test_oversized_datagram_is_dropped() -> None:
    phone = Phone(SipCore(("127.0.0.1", 5080), max_bytes=2000))
    assert phone.send(invite(extra="X-Pad: " + "a" * 3000 + "\r\n")) == []
    assert phone.core.stats.dropped_oversized == 1


def test_bye_while_ringing_ends_the_invite_with_487() -> None:
    phone = Phone()
    _, key = call(phone)
    out = phone.send(in_dialog("BYE", to_tag=key, branch="z9hG4bK-eb", cseq=2))
    assert sorted(statuses(out)) == [200, 487]
    assert phone.events() == [CallCancelled(key)]


def test_peers_without_rfc3261_branches_are_matched_by_the_fallback_fields() -> None:
    """An RFC 2543 peer's branch lacks the magic cookie: its resent INVITE,
    its CANCEL and the ACK of our 487 are still matched (§17.2.3)."""
    phone = Phone()
    assert statuses(phone.send(invite(branch="old1"))) == [100]
    (ev,) = phone.events()
    assert isinstance(ev, IncomingCall)
    assert statuses(phone.send(invite(branch="old1"))) == [100]  # resent: same answer, same call
    assert phone.events() == [] and phone.core.calls == 1
    assert sorted(statuses(phone.send(cancel(branch="old1")))) == [200, 487]
    assert phone.events() == [CallCancelled(ev.key)]
    assert phone.send(in_dialog("ACK", to_tag=ev.key, branch="old1", cseq=1)) == []
    assert phone.tick(40.0) == []  # the ACK stopped the 487's resends


def test_invite_flood_from_one_address_gets_503_and_others_still_get_in() -> None:
    phone = Phone(SipCore(("127.0.0.1", 5080), invite_rate=2.0, invite_burst=3))
    answers = [statuses(phone.send(invite(branch=f"z9hG4bK-f{i}", call_id=f"f{i}"))) for i in range(5)]
    assert answers == [[100], [100], [100], [503], [503]]
    assert phone.core.stats.rate_limited == 2 and phone.core.calls == 3
    other = statuses(phone.send(invite(branch="z9hG4bK-o", call_id="o"), ("127.0.0.2", 5070)))
    assert other == [100]
    phone.now = 1.0  # two more tokens a second later
    assert statuses(phone.send(invite(branch="z9hG4bK-late", call_id="late"))) == [100]


def test_untrusted_flood_gets_a_few_403s_then_silence() -> None:
    phone = Phone(SipCore(("127.0.0.1", 5080), trusted=lambda ip: False))
    sent = [statuses(phone.send(invite(branch=f"z9hG4bK-u{i}", call_id=f"u{i}"))) for i in range(50)]
    assert sum(1 for s in sent if s == [403]) == 10
    assert phone.core.stats.refused_untrusted == 50 and phone.core.calls == 0


def test_bye_without_the_ack_stops_our_2xx_resends() -> None:
    phone = Phone()
    _, key = call(phone)
    phone.core.answer(key, 0.0, MEDIA)
    phone.out()
    # the ACK is lost; the caller hangs up
    assert statuses(phone.send(in_dialog("BYE", to_tag=key, branch="z9hG4bK-bye", cseq=2))) == [200]
    assert phone.events() == [CallHungUp(key, None)]
    assert phone.tick(40.0) == []  # no 200 to the INVITE resent into a dead call
