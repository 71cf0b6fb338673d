"""The SIP parser and serializer: what RFC 3261 allows peers to write comes
in right, and what it does not comes back as a SipParseError naming the header."""

from __future__ import annotations

import pytest
from sipmsgs import invite

from telephony_adapters.sip.errors import SipParseError
from telephony_adapters.sip.headers import parse_name_addr, parse_uri, parse_via, split_commas
from telephony_adapters.sip.message import Request, Response, parse_message


def test_invite_from_a_peer_is_read_with_its_numbers_and_body() -> None:
    msg = parse_message(invite())
    assert isinstance(msg, Request)
    assert msg.method == "INVITE"
    assert msg.uri.user == "+74951230001"
    assert msg.uri.port == 5080
    assert msg.from_ is not None and msg.from_.display == "Ivan Petrov"
    assert msg.from_.uri.user == "100" and msg.from_.tag == "caller-tag"
    assert msg.to is not None and msg.to.tag is None
    assert msg.cseq == (1, "INVITE")
    assert msg.body.startswith(b"v=0\r\n")


def test_compact_forms_multiple_vias_comma_joined_and_folded_lines() -> None:
    raw = (
        b"OPTIONS sip:ivr@127.0.0.1 SIP/2.0\r\n"
        b"v: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa, SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKb;received=1.2.3.4\r\n"
        b"Via: SIP / 2.0 / UDP proxy.example.com;branch=z9hG4bKc\r\n"
        b"f: <sip:a@b>;tag=1\r\n"
        b"t: sip:ivr@127.0.0.1\r\n"
        b"i: abc\r\n"
        b"CSeq: 7 OPTIONS\r\n"
        b"Subject: first line\r\n"
        b"\t second line\r\n"
        b"m: <sip:a@10.0.0.1>, <sip:a@10.0.0.9>\r\n"
        b"l: 0\r\n\r\n"
    )
    msg = parse_message(raw)
    assert [v.host for v in msg.vias] == ["10.0.0.1", "10.0.0.2", "proxy.example.com"]
    assert msg.vias[1].params["received"] == "1.2.3.4"
    assert msg.call_id == "abc"
    assert msg.get("Subject") == "first line second line"
    assert msg.get_all("Contact") == ["<sip:a@10.0.0.1>", "<sip:a@10.0.0.9>"]
    assert msg.to is not None and msg.to.uri.user == "ivr"


def test_round_trip_keeps_every_header_and_recomputes_content_length() -> None:
    msg = parse_message(invite())
    again = parse_message(msg.to_bytes())
    assert isinstance(again, Request)
    assert again.headers == msg.headers
    assert again.body == msg.body
    response = Response(headers=list(msg.headers), body=b"hello", status=200, reason="OK")
    parsed = parse_message(response.to_bytes())
    assert isinstance(parsed, Response) and parsed.status == 200
    assert parsed.get("Content-Length") == "5" and parsed.body == b"hello"


def test_quoted_display_names_keep_commas_and_escaped_quotes() -> None:
    addr = parse_name_addr('"Petrov, Ivan \\"boss\\"" <sip:100@h>;tag=x', "From")
    assert addr.display == 'Petrov, Ivan "boss"'
    assert addr.tag == "x"
    assert split_commas('"a, b" <sip:x@y>, <sip:z@w;lr>', "Route") == ['"a, b" <sip:x@y>', "<sip:z@w;lr>"]


def test_addr_spec_without_brackets_gives_its_parameters_to_the_header() -> None:
    addr = parse_name_addr("sip:100@h;tag=abc", "From")
    assert addr.tag == "abc" and addr.uri.params == {}


def test_uris_with_ipv6_params_and_password() -> None:
    uri = parse_uri("sip:alice:secret@[2001:db8::1]:5070;transport=udp;lr", "Route")
    assert (uri.user, uri.password, uri.host, uri.port) == ("alice", "secret", "2001:db8::1", 5070)
    assert uri.params == {"transport": "udp", "lr": None}
    assert str(uri) == "sip:alice:secret@[2001:db8::1]:5070;transport=udp;lr"
    assert parse_uri("tel:+74951230001", "To").user == "+74951230001"


def test_extra_bytes_after_content_length_are_dropped() -> None:
    raw = invite(sdp=None).replace(b"Content-Length: 0\r\n\r\n", b"Content-Length: 2\r\n\r\nhello")
    assert parse_message(raw).body == b"he"


def test_leading_crlf_and_bare_lf_are_accepted() -> None:
    head, _, body = invite().partition(b"\r\n\r\n")
    raw = b"\r\n\r\n" + head.replace(b"\r\n", b"\n") + b"\n\n" + body
    msg = parse_message(raw)
    assert isinstance(msg, Request) and msg.cseq == (1, "INVITE")


@pytest.mark.parametrize(
    ("raw", "header", "words"),
    [
        (invite().replace(b"Content-Length: ", b"Content-Length: 9"), "Content-Length", "body has"),
        (invite().replace(b"Content-Length: ", b"Content-Length: x"), "Content-Length", "not a number"),
        (invite().replace(b"CSeq: 1 INVITE", b"CSeq: 1 BYE"), "CSeq", "differs"),
        (invite().replace(b"CSeq: 1 INVITE", b"CSeq: one INVITE"), "CSeq", "sequence number"),
        (invite().replace(b"Via: SIP/2.0/UDP", b"Via: SIP/3.0/UDP"), "Via", "SIP/2.0"),
        (invite().replace(b"From: \"Ivan Petrov\"", b"From: \"Ivan Petrov"), "From", "quoted"),
        (invite().replace(b"To: <sip:", b"To: <sap"), "To", "URI"),
        (invite().replace(b"Call-ID: call-1@127.0.0.1\r\n", b""), "Call-ID", "missing"),
        (invite().replace(b"Max-Forwards: 70", b"Max-Forwards: 700"), "Max-Forwards", "0-255"),
        (invite().replace(b"Contact: <sip:100@127.0.0.1:5070>", b"Contact: <sip:100@127.0.0.1:99999>"), "Contact", "port"),
    ],
)
def test_bad_headers_are_named_in_the_error(raw: bytes, header: str, words: str) -> None:
    with pytest.raises(SipParseError) as err:
        parse_message(raw)
    assert err.value.header == header
    assert words in str(err.value)
    assert header in str(err.value)


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"", "empty"),
        (b"INVITE sip:a@b SIP/2.0\r\nVia: x", "blank line"),
        (b"INVITE sip:a@b SIP/2.0 extra\r\n\r\n", "request line"),
        (b"INVITE sip:a@b SIP/1.0\r\n\r\n", "version"),
        (b"SIP/2.0 99 Odd\r\n\r\n", "status code"),
        (b"INVITE sip:a@b SIP/2.0\r\nno colon here\r\n\r\n", "colon"),
        (b"INVITE sip:a@b SIP/2.0\r\n folded first\r\n\r\n", "continuation"),
        (b"INVITE sip:a@b SIP/2.0\r\nX-A: \xff\xfe\r\n\r\n", "UTF-8"),
    ],
)
def test_broken_framing_is_a_parse_error(raw: bytes, words: str) -> None:
    with pytest.raises(SipParseError, match=words):
        parse_message(raw)


def test_size_limits_refuse_big_messages_and_header_floods() -> None:
    with pytest.raises(SipParseError) as err:
        parse_message(invite() + b"x" * 70_000)
    assert err.value.status == 513
    flood = invite().replace(b"Max-Forwards: 70\r\n", b"X-Junk: 1\r\n" * 200)
    with pytest.raises(SipParseError, match="more than 128 header fields"):
        parse_message(flood)
    comma_flood = invite().replace(b"Max-Forwards: 70\r\n", b"Route: " + b", ".join([b"<sip:p@h;lr>"] * 200) + b"\r\n")
    with pytest.raises(SipParseError, match="header fields"):
        parse_message(comma_flood)


def test_via_parameters_and_rport() -> None:
    via = parse_via("SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1;rport")
    assert via.port == 5070 and via.branch == "z9hG4bK1" and via.params["rport"] is None
    assert str(via) == "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1;rport"
