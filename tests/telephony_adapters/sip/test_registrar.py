"""The registrar through the sans-IO core, on a fake clock: REGISTER bytes
in, responses and registration events out. The client side is the
package's own digest client (`digest.authorization`), the same answer a
phone computes."""

from __future__ import annotations

import pytest

from telephony_adapters.sip.core import SipCore
from telephony_adapters.sip.digest import authorization
from telephony_adapters.sip.message import Response, parse_message
from telephony_adapters.sip.registrar import Account, PhoneRegistered, PhoneUnregistered, Registrar

PHONE = ("127.0.0.1", 5062)


class Phone:
    """A phone's REGISTERs, written as a peer writes them."""

    def __init__(self, user: str = "901", password: str = "right-horse") -> None:
        self.user, self.password = user, password
        self.cseq = 0
        self.branch = 0

    def register(self, *, auth: str | None = None, expires: int | None = 60, contact: str | None = None) -> bytes:
        self.cseq += 1
        self.branch += 1
        contact = contact or f"<sip:{self.user}@127.0.0.1:5062>"
        lines = [
            "REGISTER sip:127.0.0.1:5060 SIP/2.0",
            f"Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-reg-{self.user}-{self.branch};rport",
            f"From: <sip:{self.user}@127.0.0.1:5060>;tag=ph-{self.user}",
            f"To: <sip:{self.user}@127.0.0.1:5060>",
            f"Call-ID: reg-{self.user}@127.0.0.1",
            f"CSeq: {self.cseq} REGISTER",
            f"Contact: {contact}",
            "Max-Forwards: 70",
        ]
        if expires is not None:
            lines.append(f"Expires: {expires}")
        if auth:
            lines.append(f"Authorization: {auth}")
        return ("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode()

    def answer(self, challenge: str, *, nc: int = 1, password: str | None = None) -> str:
        return authorization(
            challenge, method="REGISTER", uri="sip:127.0.0.1:5060", username=self.user,
            password=password or self.password, nc=nc, cnonce="c0ffee",
        )


def core_with(*accounts: Account, nonce_ttl: float = 300.0) -> SipCore:
    core = SipCore(("127.0.0.1", 5060))
    core.registrar = Registrar({a.user: a for a in accounts}, realm="pbx", nonce_ttl=nonce_ttl)
    return core


def send(core: SipCore, data: bytes, now: float) -> Response:
    core.receive(data, PHONE, now)
    out = [parse_message(d) for d, _ in core.datagrams_to_send()]
    responses = [m for m in out if isinstance(m, Response)]
    assert len(responses) == 1, out
    return responses[0]


def events(core: SipCore) -> list[object]:
    found = []
    while (ev := core.next_event()) is not None:
        found.append(ev)
    return found


ANNA = Account("901", "right-horse", "anna")


@pytest.mark.parametrize("algorithm", ["SHA-256", "MD5"])
def test_a_phone_answers_the_challenge_and_is_registered(algorithm: str) -> None:
    core = core_with(ANNA)
    phone = Phone()
    challenge = send(core, phone.register(), 0.0)
    assert challenge.status == 401
    offered = challenge.get_all("WWW-Authenticate")
    assert [c.split("algorithm=")[1].split(",")[0] for c in offered] == ["SHA-256", "MD5"]  # strongest first (RFC 8760)
    chosen = next(c for c in offered if f"algorithm={algorithm}" in c)
    ok = send(core, phone.register(auth=phone.answer(chosen)), 1.0)
    assert ok.status == 200
    assert ok.get("Contact") == "<sip:901@127.0.0.1:5062>;expires=60"
    assert events(core) == [PhoneRegistered("901", "anna")]
    assert core.registrar is not None and core.registrar.is_registered("901")


def test_a_wrong_password_or_an_unknown_user_is_forbidden() -> None:
    core = core_with(ANNA)
    phone = Phone()
    challenge = send(core, phone.register(), 0.0).get("WWW-Authenticate") or ""
    assert send(core, phone.register(auth=phone.answer(challenge, password="wrong")), 1.0).status == 403
    stranger = Phone("999", "whatever")
    challenge = send(core, stranger.register(), 2.0).get("WWW-Authenticate") or ""
    assert send(core, stranger.register(auth=stranger.answer(challenge)), 3.0).status == 403
    assert events(core) == []
    assert core.registrar is not None and not core.registrar.is_registered("901")


def test_a_replayed_nonce_count_is_refused_and_an_old_nonce_is_stale() -> None:
    core = core_with(ANNA, nonce_ttl=30.0)
    phone = Phone()
    challenge = send(core, phone.register(), 0.0).get("WWW-Authenticate") or ""
    first = phone.answer(challenge, nc=1)
    assert send(core, phone.register(auth=first), 1.0).status == 200
    # the very same credentials again (a captured REGISTER replayed): challenged, not accepted
    replay = send(core, phone.register(auth=first), 2.0)
    assert replay.status == 401
    # the next count on the same nonce is fine
    assert send(core, phone.register(auth=phone.answer(challenge, nc=2)), 3.0).status == 200
    # after the nonce's lifetime: 401 with stale=true (the phone retries without asking for a password)
    stale = send(core, phone.register(auth=phone.answer(challenge, nc=3)), 40.0)
    assert stale.status == 401
    assert all("stale=true" in c for c in stale.get_all("WWW-Authenticate"))


def test_a_binding_expires_and_the_phone_is_unregistered_then() -> None:
    core = core_with(ANNA)
    phone = Phone()
    challenge = send(core, phone.register(), 0.0).get("WWW-Authenticate") or ""
    assert send(core, phone.register(auth=phone.answer(challenge, nc=1), expires=60), 1.0).status == 200
    assert events(core) == [PhoneRegistered("901", "anna")]
    assert core.registrar is not None and core.registrar.next_timer() == pytest.approx(61.0)
    core.handle_timer(30.0)
    assert events(core) == []
    core.handle_timer(61.0)
    assert events(core) == [PhoneUnregistered("901", "anna", "expired")]
    assert core.registrar is not None and not core.registrar.is_registered("901")


def test_a_refresh_keeps_the_binding_and_expires_zero_removes_it() -> None:
    core = core_with(ANNA)
    phone = Phone()
    challenge = send(core, phone.register(), 0.0).get("WWW-Authenticate") or ""
    send(core, phone.register(auth=phone.answer(challenge, nc=1), expires=60), 1.0)
    send(core, phone.register(auth=phone.answer(challenge, nc=2), expires=60), 50.0)
    events(core)
    core.handle_timer(61.0)  # the first expiry passed, but the refresh moved it to 110
    assert events(core) == []
    assert core.registrar is not None and core.registrar.is_registered("901")
    assert send(core, phone.register(auth=phone.answer(challenge, nc=3), expires=0), 70.0).status == 200
    assert events(core) == [PhoneUnregistered("901", "anna", "unregistered")]


def test_too_short_an_expiry_gets_423_and_a_phone_may_not_register_another_account() -> None:
    core = core_with(ANNA, Account("902", "other", "boris"))
    phone = Phone()
    challenge = send(core, phone.register(), 0.0).get("WWW-Authenticate") or ""
    brief = send(core, phone.register(auth=phone.answer(challenge, nc=1), expires=5), 1.0)
    assert (brief.status, brief.get("Min-Expires")) == (423, "30")
    # 901's password, but the To names 902
    data = phone.register(auth=phone.answer(challenge, nc=2)).replace(b"To: <sip:901@", b"To: <sip:902@")
    assert send(core, data, 2.0).status == 403
    assert events(core) == []


def test_without_accounts_register_is_not_allowed() -> None:
    core = SipCore(("127.0.0.1", 5060))
    assert send(core, Phone().register(), 0.0).status == 405


def test_an_address_that_keeps_guessing_is_locked_out_even_with_the_right_password() -> None:
    core = core_with(ANNA)
    phone = Phone()
    challenge = send(core, phone.register(), 0.0).get("WWW-Authenticate") or ""
    for nc in range(1, 13):  # a burst of wrong guesses
        assert send(core, phone.register(auth=phone.answer(challenge, nc=nc, password=f"guess-{nc}")), 1.0).status == 403
    locked = send(core, phone.register(auth=phone.answer(challenge, nc=20)), 2.0)
    assert locked.status == 403 and "too many" in locked.reason
    assert core.registrar is not None and not core.registrar.is_registered("901")
    # a minute later the right password works again
    fresh = send(core, phone.register(), 70.0).get("WWW-Authenticate") or ""
    assert send(core, phone.register(auth=phone.answer(fresh, nc=1)), 70.5).status == 200


def test_a_second_device_and_its_expiry_are_told_as_binding_changes() -> None:
    from telephony_adapters.sip.registrar import PhoneBindingsChanged

    core = core_with(ANNA)
    phone = Phone()
    challenge = send(core, phone.register(), 0.0).get("WWW-Authenticate") or ""
    assert send(core, phone.register(auth=phone.answer(challenge, nc=1)), 1.0).status == 200
    softphone = phone.register(auth=phone.answer(challenge, nc=2), contact="<sip:901@127.0.0.1:5064>", expires=30)
    assert send(core, softphone, 2.0).status == 200
    assert events(core) == [PhoneRegistered("901", "anna"), PhoneBindingsChanged("901", "anna", 2)]
    core.handle_timer(33.0)  # the softphone's 30 s are up; the desk phone's 60 s are not
    assert events(core) == [PhoneBindingsChanged("901", "anna", 1)]
    core.handle_timer(62.0)
    assert events(core) == [PhoneUnregistered("901", "anna", "expired")]
