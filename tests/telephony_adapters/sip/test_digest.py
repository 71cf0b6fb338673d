"""Digest authentication: RFC 2617 MD5 and RFC 8760 SHA-256 answers are
accepted, wrong passwords refused, expired nonces stale, replays refused."""

from __future__ import annotations

import pytest

from telephony_adapters.sip.digest import DigestServer, authorization, parse_auth_params

URI = "sip:127.0.0.1:5080"


def accounts(name: str) -> str | None:
    return {"901": "s3cret", "902": "other"}.get(name)


@pytest.mark.parametrize("algorithm", ["SHA-256", "MD5"])
def test_right_password_is_accepted_with_either_algorithm(algorithm: str) -> None:
    server = DigestServer("flowengine")
    challenge = next(c for c in server.challenges(100.0) if f"algorithm={algorithm}" in c)
    value = authorization(challenge, method="REGISTER", uri=URI, username="901", password="s3cret")
    result = server.verify(value, method="REGISTER", request_uri=URI, password_for=accounts, now=101.0)
    assert result.ok and result.username == "901"


def test_challenges_offer_sha256_before_md5() -> None:
    first, second = DigestServer("fe").challenges(0.0)
    assert "algorithm=SHA-256" in first and "algorithm=MD5" in second
    assert parse_auth_params(first, "WWW-Authenticate")["qop"] == "auth"


def test_known_rfc2617_vector() -> None:
    """RFC 2617 §3.5's worked example (qop=auth, MD5), checked by our server."""
    from telephony_adapters.sip import digest

    ha1 = digest.ha1_of("MD5", "Mufasa", "testrealm@host.com", "Circle Of Life")
    response = digest._response(
        digest.ALGORITHMS["MD5"], ha1, "GET", "/dir/index.html",
        "dcd98b7102dd2f0e8b11d0f600bfb0c093", "auth", "00000001", "0a4f113b",
    )
    assert response == "6629fae49393a05397450978507c4ef1"


def test_wrong_password_unknown_user_and_foreign_nonce_are_refused() -> None:
    server = DigestServer("fe")
    challenge = server.challenges(0.0)[0]
    wrong = authorization(challenge, method="INVITE", uri=URI, username="901", password="guess")
    assert server.verify(wrong, method="INVITE", request_uri=URI, password_for=accounts, now=1.0).reason == "wrong password"
    nobody = authorization(challenge, method="INVITE", uri=URI, username="777", password="x")
    assert not server.verify(nobody, method="INVITE", request_uri=URI, password_for=accounts, now=1.0).ok
    foreign = authorization(DigestServer("fe").challenges(0.0)[0], method="INVITE", uri=URI, username="901", password="s3cret")
    assert server.verify(foreign, method="INVITE", request_uri=URI, password_for=accounts, now=1.0).reason == "nonce not issued here"


def test_answer_for_another_method_or_uri_is_refused() -> None:
    server = DigestServer("fe")
    value = authorization(server.challenges(0.0)[0], method="REGISTER", uri=URI, username="901", password="s3cret")
    assert not server.verify(value, method="INVITE", request_uri=URI, password_for=accounts, now=1.0).ok
    assert not server.verify(value, method="REGISTER", request_uri="sip:10.0.0.1", password_for=accounts, now=1.0).ok


def test_expired_nonce_is_stale_and_replays_are_refused() -> None:
    server = DigestServer("fe", nonce_ttl=60.0)
    challenge = server.challenges(0.0)[0]
    first = authorization(challenge, method="REGISTER", uri=URI, username="901", password="s3cret", nc=1)
    assert server.verify(first, method="REGISTER", request_uri=URI, password_for=accounts, now=10.0).ok
    replay = server.verify(first, method="REGISTER", request_uri=URI, password_for=accounts, now=11.0)
    assert not replay.ok and replay.reason == "replayed nonce-count"
    second = authorization(challenge, method="REGISTER", uri=URI, username="901", password="s3cret", nc=2)
    assert server.verify(second, method="REGISTER", request_uri=URI, password_for=accounts, now=12.0).ok
    late = authorization(challenge, method="REGISTER", uri=URI, username="901", password="s3cret", nc=3)
    stale = server.verify(late, method="REGISTER", request_uri=URI, password_for=accounts, now=61.0)
    assert not stale.ok and stale.stale
    assert "stale=true" in server.challenges(61.0, stale=True)[0]


def test_garbage_authorization_is_refused_not_raised() -> None:
    server = DigestServer("fe")
    for junk in ("Basic abc", "Digest", 'Digest username="901', "Digest nonce=, uri=x"):
        assert not server.verify(junk, method="INVITE", request_uri=URI, password_for=accounts, now=0.0).ok
