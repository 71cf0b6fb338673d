"""SDP offer/answer for G.711 and telephone-event (RFC 3264, RFC 4733)."""

from __future__ import annotations

import pytest
from sipmsgs import SDP_OFFER

from telephony_adapters.sip.errors import SdpError
from telephony_adapters.sip.sdp import answer_for, negotiate, parse_sdp


def offer(text: str) -> bytes:
    return text.encode()


def test_first_offered_supported_codec_wins_and_the_dtmf_type_is_kept() -> None:
    sdp = parse_sdp(offer(SDP_OFFER.replace("RTP/AVP 0 8 101", "RTP/AVP 8 0 101")))
    n = negotiate(sdp)
    assert (n.codec, n.payload_type, n.dtmf_payload_type) == ("PCMA", 8, 101)
    assert n.remote == ("127.0.0.1", 6000) and n.direction == "sendrecv"


def test_dynamic_telephone_event_type_and_codecs_by_rtpmap_name() -> None:
    text = SDP_OFFER.replace("RTP/AVP 0 8 101", "RTP/AVP 18 8 96").replace("101 telephone-event", "96 telephone-event")
    n = negotiate(parse_sdp(offer(text)))
    assert n.codec == "PCMA" and n.dtmf_payload_type == 96
    body = answer_for(parse_sdp(offer(text)), n, address="127.0.0.1", port=30000, session_id=5, version=1)
    assert b"m=audio 30000 RTP/AVP 8 96\r\n" in body
    assert b"a=rtpmap:96 telephone-event/8000\r\n" in body


def test_codec_list_of_the_trunk_is_honoured() -> None:
    n = negotiate(parse_sdp(offer(SDP_OFFER)), ("PCMA",))
    assert n.codec == "PCMA"


def test_hold_offers_are_mirrored() -> None:
    for theirs, ours in (("sendonly", "recvonly"), ("recvonly", "sendonly"), ("inactive", "inactive")):
        n = negotiate(parse_sdp(offer(SDP_OFFER + f"a={theirs}\r\n")))
        assert n.direction == ours


def test_answer_keeps_one_m_line_per_offered_stream() -> None:
    text = SDP_OFFER.replace("m=audio", "m=video 7000 RTP/AVP 96\r\nm=audio")
    sdp = parse_sdp(offer(text))
    n = negotiate(sdp)
    body = answer_for(sdp, n, address="127.0.0.1", port=30000, session_id=5, version=1).decode()
    m_lines = [line for line in body.split("\r\n") if line.startswith("m=")]
    assert m_lines == ["m=video 0 RTP/AVP 96", "m=audio 30000 RTP/AVP 0 101"]


@pytest.mark.parametrize(
    ("text", "status", "words"),
    [
        (SDP_OFFER.replace("RTP/AVP 0 8 101", "RTP/AVP 9 101"), 488, "codecs"),
        (SDP_OFFER.replace("RTP/AVP", "RTP/SAVP"), 488, "transport"),
        (SDP_OFFER.replace("m=audio 6000", "m=audio 0"), 488, "no active audio"),
        (SDP_OFFER.replace("c=IN IP4 127.0.0.1", "c=IN IP4 not-an-ip"), 400, "not an IP"),
        (SDP_OFFER.replace("v=0", "v=1"), 400, "version"),
        ("hello", 400, "<type>=<value>"),
        (SDP_OFFER.replace("a=rtpmap:0 PCMU/8000", "a=rtpmap:x PCMU"), 400, "rtpmap"),
    ],
)
def test_bad_or_useless_offers_say_why(text: str, status: int, words: str) -> None:
    with pytest.raises(SdpError, match=words) as err:
        negotiate(parse_sdp(offer(text)))
    assert err.value.status == status
