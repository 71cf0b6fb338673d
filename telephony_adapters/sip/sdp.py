"""SDP (RFC 4566) and the offer/answer model (RFC 3264) for G.711 audio with
RFC 4733 telephone-event, sans-IO.

`parse_sdp(body)` reads what a peer offered or answered (`SdpError`, status
400, on garbage); `answer(offer, ...)` picks the first offered codec we
support (PCMU or PCMA, by static payload type or by rtpmap name), the
offer's telephone-event payload type, and the direction that mirrors the
offer's (sendonly -> recvonly: the far end put us on hold); it raises
`SdpError` with status 488 when nothing offered is usable. `render` writes a
description back; other m-lines of an offer are answered with port 0.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from telephony_adapters.sip.errors import SdpError

#: static payload types we can send and receive (RFC 3551)
STATIC_CODECS = {0: "PCMU", 8: "PCMA"}
SUPPORTED = ("PCMU", "PCMA")
DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
_MIRROR = {"sendrecv": "sendrecv", "sendonly": "recvonly", "recvonly": "sendonly", "inactive": "inactive"}
MAX_MEDIA = 16


@dataclass(frozen=True, slots=True)
class Media:
    """One m= line with the attributes we care about."""

    kind: str
    port: int
    proto: str
    formats: tuple[str, ...]
    rtpmap: dict[int, tuple[str, int]] = field(default_factory=dict)
    fmtp: dict[int, str] = field(default_factory=dict)
    direction: str | None = None
    connection: str | None = None
    ptime: int | None = None


@dataclass(frozen=True, slots=True)
class SessionDescription:
    origin: str
    connection: str | None
    media: tuple[Media, ...]
    direction: str = "sendrecv"

    def audio(self) -> Media | None:
        for m in self.media:
            if m.kind == "audio" and m.port != 0:
                return m
        return None


@dataclass(frozen=True, slots=True)
class Negotiated:
    """What an offer/answer exchange settled for the audio stream."""

    remote: tuple[str, int]
    codec: str
    payload_type: int
    dtmf_payload_type: int | None
    #: our direction as answered: sendrecv, or recvonly when the far end holds us
    direction: str

    @property
    def held(self) -> bool:
        """The far end holds the stream (it offered a=sendonly, a=inactive or
        c=0.0.0.0; we answered recvonly or inactive): we send it nothing."""
        return self.direction in ("recvonly", "inactive")


def parse_sdp(body: bytes) -> SessionDescription:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise SdpError("SDP body is not UTF-8") from None
    origin = ""
    session_conn: str | None = None
    session_dir = "sendrecv"
    media: list[dict[str, object]] = []
    seen_v = False
    for raw in text.replace("\r\n", "\n").split("\n"):
        if not raw:
            continue
        if len(raw) < 2 or raw[1] != "=":
            raise SdpError(f"SDP line is not <type>=<value>: {raw[:40]!r}")
        kind, value = raw[0], raw[2:]
        if kind == "v":
            if value != "0":
                raise SdpError(f"SDP version {value[:10]!r} (expected 0)")
            seen_v = True
        elif kind == "o":
            origin = value
        elif kind == "c":
            address = _connection(value)
            if media:
                media[-1]["connection"] = address
            else:
                session_conn = address
        elif kind == "m":
            if len(media) >= MAX_MEDIA:
                raise SdpError(f"more than {MAX_MEDIA} media lines")
            media.append(_media_line(value))
        elif kind == "a":
            name, _, arg = value.partition(":")
            if name in DIRECTIONS:
                if media:
                    media[-1]["direction"] = name
                else:
                    session_dir = name
            elif media:
                _media_attribute(media[-1], name, arg)
    if not seen_v:
        raise SdpError("SDP has no v= line")
    return SessionDescription(
        origin,
        session_conn,
        tuple(Media(**m) for m in media),  # type: ignore[arg-type]
        session_dir,
    )


def _connection(value: str) -> str:
    parts = value.split()
    if len(parts) != 3 or parts[0] != "IN" or parts[1] not in ("IP4", "IP6"):
        raise SdpError(f"bad c= line {value[:40]!r}")
    address = parts[2].split("/")[0]
    try:
        ipaddress.ip_address(address)
    except ValueError:
        raise SdpError(f"c= address is not an IP address: {address[:40]!r}") from None
    return address


def _number(text: str) -> bool:
    """ASCII digits only: `str.isdigit` also takes '²' and other digits `int` refuses."""
    return text.isascii() and text.isdigit()


def _media_line(value: str) -> dict[str, object]:
    parts = value.split()
    if len(parts) < 4:
        raise SdpError(f"bad m= line {value[:40]!r}")
    port_text = parts[1].split("/")[0]
    if not _number(port_text) or len(port_text) > 5 or int(port_text) > 65535:
        raise SdpError(f"bad m= port {parts[1][:10]!r}")
    return {
        "kind": parts[0],
        "port": int(port_text),
        "proto": parts[2],
        "formats": tuple(parts[3:]),
        "rtpmap": {},
        "fmtp": {},
    }


def _media_attribute(m: dict[str, object], name: str, arg: str) -> None:
    if name == "rtpmap":
        pt_text, _, encoding = arg.partition(" ")
        codec, _, rate = encoding.partition("/")
        rate_text = rate.split("/")[0]
        if not (_number(pt_text) and len(pt_text) <= 3 and _number(rate_text) and len(rate_text) <= 6) or not codec or int(pt_text) > 127:
            raise SdpError(f"bad a=rtpmap {arg[:40]!r}")
        m["rtpmap"][int(pt_text)] = (codec, int(rate_text))  # type: ignore[index]
    elif name == "fmtp":
        pt_text, _, params = arg.partition(" ")
        if _number(pt_text) and len(pt_text) <= 3:
            m["fmtp"][int(pt_text)] = params  # type: ignore[index]
    elif name == "ptime" and _number(arg) and len(arg) <= 4:
        m["ptime"] = int(arg)


def _codec_of(media: Media, fmt: str) -> tuple[str, int] | None:
    if not _number(fmt) or len(fmt) > 3:
        return None
    pt = int(fmt)
    if pt in media.rtpmap:
        name, rate = media.rtpmap[pt]
        return name.upper(), rate
    if pt in STATIC_CODECS:
        return STATIC_CODECS[pt], 8000
    return None


def negotiate(
    offer: SessionDescription, codecs: tuple[str, ...] = SUPPORTED
) -> Negotiated:
    """What to answer to `offer`: the first offered codec among `codecs`."""
    audio = offer.audio()
    if audio is None:
        raise SdpError("the offer has no active audio stream", status=488)
    if audio.proto not in ("RTP/AVP", "RTP/AVPF"):
        raise SdpError(f"unsupported media transport {audio.proto[:20]!r} (RTP/AVP only)", status=488)
    address = audio.connection or offer.connection
    if address is None:
        raise SdpError("no c= address for the audio stream")
    chosen: tuple[str, int] | None = None
    dtmf: int | None = None
    for fmt in audio.formats:
        found = _codec_of(audio, fmt)
        if found is None:
            continue
        name, rate = found
        if chosen is None and name in codecs and rate == 8000:
            chosen = (name, int(fmt))
        elif name == "TELEPHONE-EVENT" and rate == 8000 and dtmf is None:
            dtmf = int(fmt)
    if chosen is None:
        raise SdpError("none of the offered codecs is supported (PCMU, PCMA)", status=488)
    direction = _MIRROR[audio.direction or offer.direction]
    return Negotiated((address, audio.port), chosen[0], chosen[1], dtmf, direction)


def render(
    *,
    address: str,
    port: int,
    session_id: int,
    version: int,
    codecs: tuple[tuple[int, str], ...],
    dtmf_payload_type: int | None = 101,
    direction: str = "sendrecv",
    user: str = "flowengine",
) -> bytes:
    """An SDP description of our one audio stream."""
    family = "IP6" if ":" in address else "IP4"
    formats = [str(pt) for pt, _ in codecs]
    if dtmf_payload_type is not None:
        formats.append(str(dtmf_payload_type))
    lines = [
        "v=0",
        f"o={user} {session_id} {version} IN {family} {address}",
        "s=flowengine",
        f"c=IN {family} {address}",
        "t=0 0",
        f"m=audio {port} RTP/AVP {' '.join(formats)}",
    ]
    lines += [f"a=rtpmap:{pt} {name}/8000" for pt, name in codecs]
    if dtmf_payload_type is not None:
        lines += [f"a=rtpmap:{dtmf_payload_type} telephone-event/8000", f"a=fmtp:{dtmf_payload_type} 0-16"]
    lines += ["a=ptime:20", f"a={direction}"]
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def answer_for(
    offer: SessionDescription,
    negotiated: Negotiated,
    *,
    address: str,
    port: int,
    session_id: int,
    version: int,
) -> bytes:
    """The answer to `offer`: one m-line per offered one, in order; ours for
    the first active audio stream, port 0 for the rest (RFC 3264 §6)."""
    audio = offer.audio()
    before: list[Media] = []
    after: list[Media] = []
    seen = False
    for m in offer.media:
        if m is audio:
            seen = True
        elif seen:
            after.append(m)
        else:
            before.append(m)
    body = render(
        address=address,
        port=port,
        session_id=session_id,
        version=version,
        codecs=((negotiated.payload_type, negotiated.codec),),
        dtmf_payload_type=negotiated.dtmf_payload_type,
        direction=negotiated.direction,
    )
    if not before and not after:
        return body
    text = body.decode("ascii")
    head, _, ours = text.partition("m=audio")
    rejected_before = "".join(f"m={m.kind} 0 {m.proto} {' '.join(m.formats)}\r\n" for m in before)
    rejected_after = "".join(f"m={m.kind} 0 {m.proto} {' '.join(m.formats)}\r\n" for m in after)
    return (head + rejected_before + "m=audio" + ours + rejected_after).encode("ascii")
