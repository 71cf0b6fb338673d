"""RFC 4028 session timers on the calls the core answers, sans-IO with a fake
clock: what a caller's phone sees (Session-Expires, 422, refreshes, BYE)
when it refreshes, when it stops, and when the engine is the refresher."""

from __future__ import annotations

import pytest
from sipmsgs import SDP_OFFER, in_dialog, invite

from telephony_adapters.sip.core import CallConfirmed, CallFailed, IncomingCall, SipCore, SipEvent
from telephony_adapters.sip.errors import SipParseError
from telephony_adapters.sip.message import Request, Response, parse_message
from telephony_adapters.sip.sessiontimer import (
    Agreed,
    SessionTimers,
    TimerPolicy,
    TooSmall,
    negotiate_uas,
)

PEER = ("127.0.0.1", 5070)
MEDIA = ("127.0.0.1", 20000)
TIMERS = "Supported: timer\r\n"
DEFAULT = TimerPolicy(1800, 90)


class Phone:
    def __init__(self, policy: TimerPolicy | None = DEFAULT) -> None:
        self.core = SipCore(("127.0.0.1", 5080), session_timer=policy)
        self.now = 0.0

    def send(self, data: bytes) -> list[Request | Response]:
        self.core.receive(data, PEER, self.now)
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


def responses(msgs: list[Request | Response]) -> list[Response]:
    return [m for m in msgs if isinstance(m, Response)]


def requests(msgs: list[Request | Response], method: str) -> list[Request]:
    return [m for m in msgs if isinstance(m, Request) and m.method == method]


def reply(req: Request, status: int, extra: str = "") -> bytes:
    """The far end's response to a request we sent."""
    head = [f"SIP/2.0 {status} Whatever"]
    head += [f"Via: {v}" for v in req.get_all("Via")]
    head += [f"From: {req.get('From')}", f"To: {req.get('To')}", f"Call-ID: {req.call_id}"]
    head += [f"CSeq: {req.cseq[0]} {req.cseq[1]}", "Contact: <sip:100@127.0.0.1:5070>"]
    return ("\r\n".join(head) + "\r\n" + extra + "Content-Length: 0\r\n\r\n").encode()


def answered(phone: Phone, extra: str) -> tuple[str, Response]:
    """A call offered with `extra` headers, answered at t=0 and ACKed."""
    phone.send(invite(extra=extra))
    (ev,) = phone.events()
    assert isinstance(ev, IncomingCall)
    phone.core.answer(ev.key, phone.now, MEDIA)
    (ok,) = responses(phone.out())
    assert ok.status == 200
    phone.send(in_dialog("ACK", to_tag=ev.key, branch="z9hG4bK-ack", cseq=1))
    assert phone.events() == [CallConfirmed(ev.key)]
    return ev.key, ok


def test_a_caller_that_refreshes_keeps_the_call_and_one_that_stops_gets_bye() -> None:
    phone = Phone()
    key, ok = answered(phone, TIMERS + "Session-Expires: 120;refresher=uac\r\nAllow: INVITE, ACK, BYE, UPDATE\r\n")
    assert ok.get("Session-Expires") == "120;refresher=uac" and ok.get("Require") == "timer"
    # the caller refreshes with UPDATE at 60 s and a re-INVITE at 120 s: the call lives on past 2 intervals
    assert phone.tick(60.0) == []
    out = phone.send(in_dialog("UPDATE", to_tag=key, branch="z9hG4bK-u1", cseq=2, extra=TIMERS + "Session-Expires: 120;refresher=uac\r\n"))
    (up_ok,) = responses(out)
    assert up_ok.status == 200 and up_ok.get("Session-Expires") == "120;refresher=uac"
    assert phone.tick(120.0) == []
    out = phone.send(
        in_dialog("INVITE", to_tag=key, branch="z9hG4bK-r1", cseq=3, body=SDP_OFFER,
                  extra=TIMERS + "Session-Expires: 120;refresher=uac\r\nContent-Type: application/sdp\r\n")
    )  # fmt: skip
    assert [r.status for r in responses(out)] == [200]
    phone.send(in_dialog("ACK", to_tag=key, branch="z9hG4bK-ack3", cseq=3))
    phone.events()
    assert requests(phone.tick(200.0), "BYE") == [] and phone.core.calls == 1
    # then it stops: BYE at 120 + 120 - 32 s, the call failed as session_expired
    byes = requests(phone.tick(210.0), "BYE")
    assert byes and {b.cseq for b in byes} == {byes[0].cseq} and byes[0].get("Reason") == "Q.850;cause=102"
    assert phone.events() == [CallFailed(key, "session_expired")]
    assert phone.core.calls == 0


def test_too_small_an_interval_gets_422_with_our_min_se() -> None:
    phone = Phone(TimerPolicy(1800, 90))
    out = phone.send(invite(extra=TIMERS + "Session-Expires: 60\r\n"))
    final = [r for r in responses(out) if r.status >= 200]
    assert [r.status for r in final] == [422] and final[0].get("Min-SE") == "90"
    assert phone.events() == [] and phone.core.calls == 0
    # asked again with the Min-SE, it is a call
    phone.send(invite(branch="z9hG4bK-2", call_id="call-2", extra=TIMERS + "Session-Expires: 90\r\nMin-SE: 90\r\n"))
    assert isinstance(phone.events()[0], IncomingCall)


def test_engine_refreshes_with_update_when_it_is_the_refresher() -> None:
    phone = Phone()
    key, ok = answered(phone, TIMERS + "Session-Expires: 100;refresher=uas\r\nAllow: INVITE, ACK, BYE, UPDATE\r\n")
    assert ok.get("Session-Expires") == "100;refresher=uas"
    assert requests(phone.tick(49.9), "UPDATE") == []
    (update,) = requests(phone.tick(50.1), "UPDATE")
    assert update.get("Session-Expires") == "100;refresher=uac" and update.body == b""
    phone.send(reply(update, 200, "Session-Expires: 100;refresher=uac\r\nRequire: timer\r\n"))
    # counted again from the 2xx: the next refresh at 100 s, and no BYE while they are answered
    assert requests(phone.tick(100.0), "UPDATE") == []
    (second,) = requests(phone.tick(100.2), "UPDATE")
    phone.send(reply(second, 200, "Session-Expires: 100;refresher=uac\r\n"))
    assert requests(phone.tick(140.0), "BYE") == [] and phone.core.calls == 1
    # a far end that lost the dialog (481) ends the call
    (third,) = requests(phone.tick(150.3), "UPDATE")
    out = phone.send(reply(third, 481))
    assert len(requests(out, "BYE")) == 1
    assert phone.events() == [CallFailed(key, "session_expired")]


def test_engine_refreshes_with_reinvite_without_update_and_acks_it() -> None:
    phone = Phone()
    key, ok = answered(phone, TIMERS + "Session-Expires: 100;refresher=uas\r\n")
    (reinvite,) = requests(phone.tick(50.1), "INVITE")
    # the same SDP as our answer, unchanged (RFC 3264 §8: same version)
    assert reinvite.body == ok.body and reinvite.get("Session-Expires") == "100;refresher=uac"
    out = phone.send(reply(reinvite, 200, "Session-Expires: 100;refresher=uac\r\n"))
    (ack,) = requests(out, "ACK")
    assert ack.cseq == (reinvite.cseq[0], "ACK")
    assert requests(phone.tick(100.0), "BYE") == []
    assert len(requests(phone.tick(100.2), "INVITE")) == 1


def test_a_refused_refresh_is_tried_again_and_the_call_lives_on() -> None:
    phone = Phone()
    key, _ = answered(phone, TIMERS + "Session-Expires: 100;refresher=uas\r\nAllow: UPDATE\r\n")
    (first,) = requests(phone.tick(50.1), "UPDATE")
    phone.send(reply(first, 491))  # glare: the far end was sending its own re-INVITE
    assert requests(phone.tick(51.9), "UPDATE") == []
    (again,) = requests(phone.tick(52.2), "UPDATE")
    assert again.cseq[0] > first.cseq[0]
    phone.send(reply(again, 200, "Session-Expires: 100;refresher=uac\r\n"))
    assert requests(phone.tick(100.0), "BYE") == [] and phone.core.calls == 1
    assert phone.events() == []


def test_unanswered_refresh_ends_the_call_by_the_expiry_deadline() -> None:
    phone = Phone()
    key, _ = answered(phone, TIMERS + "Session-Expires: 90;refresher=uas\r\nAllow: UPDATE\r\n")
    assert requests(phone.tick(59.0), "BYE") == []  # UPDATE at 45 s, resent, never answered
    assert requests(phone.tick(61.0), "BYE")  # given up at 90 - 30 s
    assert CallFailed(key, "session_expired") in phone.events()


def test_what_the_2xx_says_for_each_kind_of_caller() -> None:
    # no timers asked, none known: no session timer (today's behaviour)
    _, ok = answered(Phone(), "")
    assert ok.get("Session-Expires") is None and ok.get("Require") is None
    # supported but no interval named: ours, and the caller refreshes
    _, ok = answered(Phone(TimerPolicy(600, 90)), TIMERS)
    assert ok.get("Session-Expires") == "600;refresher=uac" and ok.get("Require") == "timer"
    # a proxy asked for it, the caller cannot refresh: we do, without Require
    _, ok = answered(Phone(), "Session-Expires: 300\r\n")
    assert ok.get("Session-Expires") == "300;refresher=uas" and ok.get("Require") is None
    # a longer interval than ours is shortened, never below the caller's Min-SE
    _, ok = answered(Phone(TimerPolicy(600, 90)), TIMERS + "Session-Expires: 7200\r\nMin-SE: 900\r\n")
    assert ok.get("Session-Expires") == "900;refresher=uac"


def test_require_timer_is_accepted_only_when_timers_are_on() -> None:
    out = Phone(None).send(invite(extra="Require: timer\r\nSession-Expires: 1800\r\n"))
    assert [(r.status, r.get("Unsupported")) for r in responses(out)] == [(420, "timer")]
    out = Phone().send(invite(extra="Require: timer, 100rel\r\nSession-Expires: 1800\r\n"))
    assert [(r.status, r.get("Unsupported")) for r in responses(out)] == [(420, "100rel")]
    phone = Phone()
    phone.send(invite(extra="Require: timer\r\nSession-Expires: 1800\r\n"))
    assert isinstance(phone.events()[0], IncomingCall)


def test_a_malformed_session_expires_gets_400_naming_the_header() -> None:
    out = Phone().send(invite(extra="Session-Expires: soon\r\n"))
    final = [r for r in responses(out) if r.status >= 200]
    assert [r.status for r in final] == [400] and "Session-Expires" in final[0].reason
    with pytest.raises(SipParseError, match="refresher"):
        negotiate_uas(parse_message(invite(extra="Session-Expires: 100;refresher=me\r\n")), TimerPolicy())  # type: ignore[arg-type]


def test_negotiation_and_deadlines_as_data() -> None:
    agreed = negotiate_uas(parse_message(invite(extra=TIMERS + "x: 95;refresher=uas\r\n")), TimerPolicy(1800, 90))  # type: ignore[arg-type]
    assert agreed == Agreed(95, "uas", True) and agreed.we_refresh
    assert negotiate_uas(parse_message(invite(extra="x: 30\r\n")), TimerPolicy(1800, 90)) == TooSmall(90)  # type: ignore[arg-type]
    timers = SessionTimers()
    timers.start("a", 90, True, 0.0)
    timers.start("b", 90, False, 0.0)
    assert timers.next_timer() == 45.0
    assert timers.due(45.0) == [("a", "refresh")]
    assert timers.next_timer() == 60.0  # 90 - min(32, 90 / 3)
    timers.start("a", 90, True, 50.0)  # refreshed: its old expiry no longer counts
    assert sorted(timers.due(60.0)) == [("b", "expire")]
    assert "b" not in timers and timers.next_timer() == 95.0


def test_settings_default_to_the_rfc_and_name_the_path_of_a_mistake() -> None:
    from flowengine.errors import UsageError
    from telephony_adapters.sip.config import sip_settings

    assert sip_settings({}).timer_policy == TimerPolicy(1800, 90)
    assert sip_settings({"session_expires": None}).timer_policy is None
    with pytest.raises(UsageError, match=r"sip\.min_se: .*90"):
        sip_settings({"min_se": 30})
    with pytest.raises(UsageError, match="session_expires 100 must be at least min_se 120"):
        sip_settings({"session_expires": 100, "min_se": 120})
