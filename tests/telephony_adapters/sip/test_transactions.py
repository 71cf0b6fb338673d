"""Transactions and their timers (RFC 3261 §17), driven by a fake `now`: the
wire times of every retransmission and the moment each transaction gives up."""

from __future__ import annotations

import pytest
from sipmsgs import in_dialog, invite

from telephony_adapters.sip.dialog import make_response
from telephony_adapters.sip.errors import LocalProtocolError
from telephony_adapters.sip.message import Request, Response, parse_message
from telephony_adapters.sip.transactions import (
    AckTimeout,
    ResponseReceived,
    ServerInviteTransaction,
    TransactionLayer,
    TransactionTimeout,
    build_ack,
)

PEER = ("127.0.0.1", 5070)


def request(raw: bytes) -> Request:
    msg = parse_message(raw)
    assert isinstance(msg, Request)
    return msg


def run_until(layer: TransactionLayer, until: float) -> list[tuple[float, bytes]]:
    """Fire every timer due up to `until`; what was sent, with its time."""
    sent: list[tuple[float, bytes]] = []
    while (t := layer.next_timer()) is not None and t <= until:
        layer.handle_timer(t)
        sent += [(t, data) for data, _ in layer.outbox]
        layer.outbox.clear()
    return sent


def response_to(req: Request, status: int) -> Response:
    resp = make_response(req, status, to_tag="callee")
    msg = parse_message(resp.to_bytes())
    assert isinstance(msg, Response)
    return msg


def test_server_invite_resends_its_error_on_timer_g_until_timer_h() -> None:
    layer = TransactionLayer()
    inv = request(invite())
    tx = layer.new_server(inv, PEER)
    assert isinstance(tx, ServerInviteTransaction)
    tx.respond(make_response(inv, 486, to_tag="t"), 0.0)
    layer.outbox.clear()
    sent = run_until(layer, 40.0)
    times = [t for t, _ in sent]
    # T1 doubling, capped at T2 = 4 s: 0.5, 1.5, 3.5, 7.5, 11.5 ... until H at 64*T1 = 32 s
    assert times[:5] == [0.5, 1.5, 3.5, 7.5, 11.5]
    assert all(b2 - b1 == 4.0 for b1, b2 in zip(times[3:], times[4:], strict=False))
    assert max(times) < 32.0
    assert all(data.startswith(b"SIP/2.0 486") for _, data in sent)
    assert layer.events == [AckTimeout(tx.key, 486)]
    assert tx.terminated and layer.match_server(inv) is None


def test_ack_stops_timer_g_and_timer_i_absorbs_resent_acks() -> None:
    layer = TransactionLayer()
    inv = request(invite())
    tx = layer.new_server(inv, PEER)
    tx.respond(make_response(inv, 603, to_tag="t"), 0.0)
    layer.outbox.clear()
    run_until(layer, 0.6)  # one resend
    ack = request(build_ack(inv, response_to(inv, 603)).to_bytes())
    assert layer.match_server(ack) is tx
    tx.request_received(ack, 1.0)
    assert tx.state == "confirmed"
    assert run_until(layer, 5.9) == []  # no more resends
    tx.request_received(ack, 2.0)  # a resent ACK is absorbed
    assert layer.outbox == [] and tx.state == "confirmed"
    run_until(layer, 6.0)  # Timer I = T4 after the ACK
    assert tx.terminated and layer.events == []


def test_resent_invite_gets_the_last_provisional_again() -> None:
    layer = TransactionLayer()
    inv = request(invite())
    tx = layer.new_server(inv, PEER)
    tx.respond(make_response(inv, 100), 0.0)
    tx.respond(make_response(inv, 180, to_tag="t"), 0.1)
    layer.outbox.clear()
    again = layer.match_server(request(invite()))
    assert again is tx
    tx.request_received(request(invite()), 0.5)
    assert [d[:20] for d, _ in layer.outbox] == [b"SIP/2.0 180 Ringing\r"]


def test_2xx_is_resent_until_the_ack_and_given_up_at_timer_l() -> None:
    layer = TransactionLayer()
    inv = request(invite())
    tx = layer.new_server(inv, PEER)
    assert isinstance(tx, ServerInviteTransaction)
    tx.respond(make_response(inv, 200, to_tag="t"), 0.0)
    layer.outbox.clear()
    sent = run_until(layer, 4.0)
    assert [t for t, _ in sent] == [0.5, 1.5, 3.5]
    tx.ack_received()
    assert run_until(layer, 31.0) == []
    run_until(layer, 33.0)
    assert tx.terminated and layer.events == []  # acked: no AckTimeout

    layer2 = TransactionLayer()
    tx2 = layer2.new_server(request(invite(branch="z9hG4bK-2")), PEER)
    tx2.respond(make_response(tx2.request, 200, to_tag="t"), 0.0)
    run_until(layer2, 40.0)
    assert layer2.events == [AckTimeout(tx2.key, 200)]
    # a resent INVITE in the accepted state is absorbed, not answered again (RFC 6026)


def test_server_non_invite_answers_resends_and_forgets_after_timer_j() -> None:
    layer = TransactionLayer()
    bye = request(in_dialog("BYE", to_tag="t", branch="z9hG4bK-bye", cseq=2))
    tx = layer.new_server(bye, PEER)
    tx.request_received(bye, 0.0)  # a resend while trying: absorbed
    assert layer.outbox == []
    tx.respond(make_response(bye, 200), 0.1)
    layer.outbox.clear()
    tx.request_received(bye, 1.0)
    assert [d[:14] for d, _ in layer.outbox] == [b"SIP/2.0 200 OK"]
    run_until(layer, 0.1 + 32.0)
    assert tx.terminated and layer.match_server(bye) is None


def test_client_invite_timer_a_doubles_and_timer_b_times_out() -> None:
    layer = TransactionLayer()
    inv = request(invite(branch="z9hG4bK-out"))
    tx = layer.new_client(inv, PEER, 0.0)
    assert len(layer.outbox) == 1
    layer.outbox.clear()
    sent = run_until(layer, 40.0)
    assert [t for t, _ in sent] == [0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
    assert layer.events == [TransactionTimeout(tx.key, "INVITE")]
    assert tx.terminated


def test_client_invite_acks_an_error_once_and_again_for_each_resend() -> None:
    layer = TransactionLayer()
    inv = request(invite(branch="z9hG4bK-out"))
    tx = layer.new_client(inv, PEER, 0.0)
    layer.outbox.clear()
    ringing = response_to(inv, 180)
    assert layer.response_received(ringing, 0.2)
    assert run_until(layer, 10.0) == []  # Timer A stopped by the 1xx
    busy = response_to(inv, 486)
    layer.response_received(busy, 11.0)
    acks = [d for d, _ in layer.outbox]
    assert len(acks) == 1 and acks[0].startswith(b"ACK sip:+74951230001@127.0.0.1:5080 SIP/2.0")
    ack = request(acks[0])
    assert ack.top_via.branch == "z9hG4bK-out" and ack.cseq == (1, "ACK")
    assert ack.to is not None and ack.to.tag == "callee"
    layer.outbox.clear()
    layer.response_received(busy, 12.0)  # resent final: ACK again, not reported again
    assert len(layer.outbox) == 1
    statuses = [e.response.status for e in layer.events if isinstance(e, ResponseReceived)]
    assert statuses == [180, 486]
    run_until(layer, 11.0 + 32.0)  # Timer D
    assert tx.terminated


def test_client_non_invite_timer_e_caps_at_t2_and_timer_f_times_out() -> None:
    layer = TransactionLayer()
    bye = request(in_dialog("BYE", to_tag="t", branch="z9hG4bK-mybye", cseq=5))
    tx = layer.new_client(bye, PEER, 0.0)
    layer.outbox.clear()
    sent = run_until(layer, 40.0)
    times = [t for t, _ in sent]
    assert times[:5] == [0.5, 1.5, 3.5, 7.5, 11.5]
    assert times[-1] == 31.5
    assert layer.events == [TransactionTimeout(tx.key, "BYE")]


def test_client_non_invite_completes_then_timer_k_absorbs_resends() -> None:
    layer = TransactionLayer()
    bye = request(in_dialog("BYE", to_tag="t", branch="z9hG4bK-mybye", cseq=5))
    tx = layer.new_client(bye, PEER, 0.0)
    layer.outbox.clear()
    ok = response_to(bye, 200)
    layer.response_received(ok, 0.2)
    layer.response_received(ok, 0.3)
    assert [e.response.status for e in layer.events if isinstance(e, ResponseReceived)] == [200]
    assert tx.state == "completed"
    assert run_until(layer, 5.15) == [] and tx.state == "completed"
    run_until(layer, 5.2)  # Timer K = T4 after the final response
    assert tx.terminated


def test_illegal_transitions_are_our_bug_not_the_peers() -> None:
    layer = TransactionLayer()
    inv = request(invite())
    tx = layer.new_server(inv, PEER)
    tx.respond(make_response(inv, 486, to_tag="t"), 0.0)
    with pytest.raises(LocalProtocolError, match="completed"):
        tx.respond(make_response(inv, 200, to_tag="t"), 0.1)
    with pytest.raises(LocalProtocolError, match="already exists"):
        layer.new_server(inv, PEER)
