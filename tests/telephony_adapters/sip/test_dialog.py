"""Dialog routing (RFC 3261 §12): loose and strict routers, names we cannot
resolve, and the responses' Via handling (rport, received)."""

from __future__ import annotations

from sipmsgs import invite

from telephony_adapters.sip.dialog import Dialog, make_response, response_address, stamp_received
from telephony_adapters.sip.message import Request, parse_message


def request(raw: bytes) -> Request:
    msg = parse_message(raw)
    assert isinstance(msg, Request)
    return msg


def test_strict_router_takes_the_request_uri_and_the_target_goes_last() -> None:
    inv = request(invite(extra="Record-Route: <sip:10.0.0.5:5060>\r\n"))
    dialog = Dialog.as_uas(inv, "ours")
    bye, where = dialog.request("BYE", via_host="127.0.0.1", via_port=5080)
    assert str(bye.uri) == "sip:10.0.0.5:5060"
    assert bye.get_all("Route") == ["<sip:100@127.0.0.1:5070>"]
    assert where == ("10.0.0.5", 5060)
    again, _ = dialog.request("BYE", via_host="127.0.0.1", via_port=5080)
    assert again.cseq[0] == bye.cseq[0] + 1  # local CSeq grows
    assert again.top_via.branch != bye.top_via.branch


def test_a_target_we_cannot_resolve_falls_back_to_where_the_invite_came_from() -> None:
    inv = request(invite().replace(b"Contact: <sip:100@127.0.0.1:5070>", b"Contact: <sip:100@phone.example.com>"))
    dialog = Dialog.as_uas(inv, "ours")
    _, where = dialog.request("BYE", via_host="127.0.0.1", via_port=5080, fallback=("192.0.2.9", 5999))
    assert where == ("192.0.2.9", 5999)


def test_responses_go_back_by_rport_or_to_the_via_port() -> None:
    plain = request(invite())
    assert response_address(plain, ("127.0.0.9", 40000)) == ("127.0.0.9", 5070)
    natted = request(invite().replace(b"branch=z9hG4bK-1", b"branch=z9hG4bK-1;rport"))
    stamp_received(natted, ("198.51.100.7", 40000))
    assert response_address(natted, ("198.51.100.7", 40000)) == ("198.51.100.7", 40000)
    resp = make_response(natted, 486, to_tag="t")
    top = parse_message(resp.to_bytes()).top_via
    assert top.params["rport"] == "40000" and top.params["received"] == "198.51.100.7"


def test_reason_phrases_cannot_smuggle_lines() -> None:
    resp = make_response(request(invite()), 400, reason="Bad\r\nX-Injected: yes")
    assert b"X-Injected" not in resp.to_bytes().split(b"\r\n\r\n")[0].split(b"\r\n", 1)[1]
    assert "\n" not in resp.reason
