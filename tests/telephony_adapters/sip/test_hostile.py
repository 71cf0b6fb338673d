"""Malformed and hostile SIP: the corpus in tests/data/hostile/sip/ (the file
name says the answer: a status, or `drop`), and a property-based fuzzer
against the parser and the core. Every bad message becomes a SipParseError
(never another exception), a 4xx/5xx or a dropped datagram; the core keeps
answering good calls meanwhile; no parse takes long."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sipmsgs import SDP_OFFER, in_dialog, invite

from telephony_adapters.sip.core import IncomingCall, SipCore
from telephony_adapters.sip.errors import SdpError, SipParseError
from telephony_adapters.sip.message import Request, Response, parse_message
from telephony_adapters.sip.sdp import negotiate, parse_sdp

CORPUS = Path(__file__).resolve().parents[2] / "data" / "hostile" / "sip"
FILES = sorted(CORPUS.glob("*.sip"))
PEER = ("127.0.0.1", 5070)


def test_the_corpus_is_there() -> None:
    assert len(FILES) >= 25


def _answers(core: SipCore, data: bytes) -> list[int]:
    core.receive(data, PEER, 0.0)
    out = []
    for raw, addr in core.datagrams_to_send():
        assert addr == PEER
        msg = parse_message(raw)  # what we send is always well-formed
        assert isinstance(msg, Response)
        out.append(msg.status)
    return out


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_corpus_message_gets_its_answer_and_the_server_keeps_working(path: Path) -> None:
    expected = path.name.split("-")[0]
    core = SipCore(("127.0.0.1", 5080), max_bytes=65507)
    data = path.read_bytes()
    if len(data) <= 65507:
        with pytest.raises(SipParseError) if expected in ("drop", "400", "505", "513") and not _sdp_case(path) else _nothing():
            parse_message(data)
    answers = _answers(core, data)
    finals = [s for s in answers if s >= 200]
    if expected == "drop":
        assert answers == []
    else:
        assert finals == [int(expected)]
    assert core.next_event() is None  # nothing reached the application
    # the same server answers a good call right after
    assert _answers(core, invite(branch="z9hG4bK-good", call_id="good")) == [100]
    assert isinstance(core.next_event(), IncomingCall)


def _sdp_case(path: Path) -> bool:
    """Files whose SIP is fine and whose fault is in the SDP, the Contact or
    the codecs: the parser takes them, the core refuses them."""
    return any(word in path.name for word in ("sdp", "codec", "without-contact"))


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return False


# ---- the fuzzer ---------------------------------------------------------------------------------------------
GOOD = [
    invite(),
    invite(sdp=None),
    in_dialog("BYE", to_tag="t", branch="z9hG4bK-b", cseq=2),
    in_dialog("INFO", to_tag="t", branch="z9hG4bK-i", cseq=3, body="Signal=1\r\n", extra="Content-Type: application/dtmf-relay\r\n"),
    b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\n"
    b"To: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n",
]
SIP_ALPHABET = st.sampled_from(
    [b"\r\n", b"\n", b" ", b"\t", b":", b";", b",", b"=", b'"', b"\\", b"<", b">", b"@", b"[", b"]", b"/",
     b"sip:", b"SIP/2.0", b"Via", b"v", b"To", b"t", b"From", b"Call-ID", b"CSeq", b"Content-Length",
     b"l", b"tag", b"branch=z9hG4bK", b"0", b"1", b"65536", b"-1", b"INVITE", b"\x00", b"\xff", b"\xc3",
     b"m=audio", b"c=IN IP4 ", b"v=0", b"a=rtpmap:", b"Record-Route", b"Contact", b"*", b"lr",
     "²".encode(), "١".encode(), b"9" * 5000, b"Reason: Q.850;cause=", b"Require: x", b"Content-Type: application/dtmf-relay"]
)
FUZZ = settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(GOOD)))
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.integers(0, 3))
        at = draw(st.integers(0, len(data)))
        if kind == 0:
            data[at:at] = draw(SIP_ALPHABET)
        elif kind == 1:
            end = min(len(data), at + draw(st.integers(1, 40)))
            del data[at:end]
        elif kind == 2:
            data[at:at] = draw(st.binary(max_size=30))
        else:
            end = min(len(data), at + draw(st.integers(1, 60)))
            chunk = bytes(data[at:end])
            data[at:at] = chunk * draw(st.integers(1, 20))
    return bytes(data)


def _parse_or_error(data: bytes) -> Request | Response | None:
    started = time.perf_counter()
    try:
        return parse_message(data)
    except SipParseError as exc:
        assert str(exc)  # a message a person can read
        return None
    finally:
        assert time.perf_counter() - started < 1.0


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes_never_raise_anything_but_a_parse_error(data: bytes) -> None:
    _parse_or_error(data)


@FUZZ
@given(mutated())
def test_mutated_messages_parse_or_fail_cleanly_and_round_trip(data: bytes) -> None:
    msg = _parse_or_error(data)
    if msg is not None:
        again = parse_message(msg.to_bytes())
        assert type(again) is type(msg)
        assert (again.call_id, again.cseq, again.body) == (msg.call_id, msg.cseq, msg.body)


@FUZZ
@given(st.lists(mutated(), min_size=1, max_size=8))
def test_the_core_survives_any_sequence_and_still_answers_calls(datagrams: list[bytes]) -> None:
    core = SipCore(("127.0.0.1", 5080))
    for i, data in enumerate(datagrams):
        core.receive(data, PEER, float(i))
        for raw, _ in core.datagrams_to_send():
            parse_message(raw)  # whatever we answer is itself valid SIP
        while core.next_event() is not None:
            pass
        core.handle_timer(float(i) + 0.5)
    core.receive(invite(branch="z9hG4bK-after", call_id="after@fuzz", sdp=SDP_OFFER), PEER, 100.0)
    sent = [parse_message(raw) for raw, _ in core.datagrams_to_send()]
    # (earlier transactions may still be resending their own answers)
    assert [m.status for m in sent if isinstance(m, Response) and m.call_id == "after@fuzz"] == [100]
    assert isinstance(core.next_event(), IncomingCall)


SDP_ALPHABET = st.sampled_from(
    ["\r\n", "v=0", "o=", "c=IN IP4 ", "c=IN IP6 ::1", "m=audio ", "m=video ", "RTP/AVP", "RTP/SAVP", " ", "0", "8",
     "101", "96", "²", "١", "9" * 5000, "65536", "-1", "a=rtpmap:", "a=fmtp:", "a=ptime:", "a=sendonly", "a=inactive",
     "PCMU/8000", "PCMA/8000", "telephone-event/8000", "/", ":", "127.0.0.1", "\x00", "é"]
)


_SDP_PIECES = re.split(r"([ :/=\r\n])", SDP_OFFER)
TRICKY_NUMBERS = st.sampled_from(["²", "١٢", "9" * 5000, "65536", "-1", "", "0x10", "128", "1e3"])


@st.composite
def mutated_sdp(draw: st.DrawFn) -> str:
    """The valid offer with a few of its pieces (numbers, names, separators)
    replaced by tricky numbers or other SDP fragments."""
    pieces = list(_SDP_PIECES)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(pieces) - 1))
        pieces[at] = draw(st.one_of(TRICKY_NUMBERS, SDP_ALPHABET))
    return "".join(pieces)


SDP_TEXTS = st.one_of(mutated_sdp(), st.lists(SDP_ALPHABET, max_size=40).map("".join))


@FUZZ
@given(SDP_TEXTS)
def test_sdp_garbage_is_an_sdp_error_or_an_answer(text: str) -> None:
    try:
        negotiate(parse_sdp(text.encode("utf-8")))
    except SdpError as exc:
        assert exc.status in (400, 488) and str(exc)


@FUZZ
@given(SDP_TEXTS)
def test_invites_with_garbage_sdp_get_a_final_answer_never_an_exception(text: str) -> None:
    core = SipCore(("127.0.0.1", 5080))
    core.receive(invite(sdp=text or None), PEER, 0.0)
    sent = [parse_message(raw) for raw, _ in core.datagrams_to_send()]
    statuses = [m.status for m in sent if isinstance(m, Response)]
    ev = core.next_event()
    if isinstance(ev, IncomingCall):
        assert statuses == [100]  # usable: the application answers it
    else:
        assert statuses[-1] in (400, 415, 488), statuses
