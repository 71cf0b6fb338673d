"""SIP messages (RFC 3261 §7): parsing from bytes and writing back.

`parse_message(data)` turns one datagram into a `Request` or `Response`, or
raises `SipParseError` naming the header at fault (and the status a request
that failed that way deserves). It accepts what RFC 3261 allows and real
peers send: compact header names (`v:`, `i:`, `f:` ...), several Via values
in one header (comma-joined) or many, folded (continuation) lines, quoted
display names, leading CRLFs, bare LF line ends. It checks Content-Length
against the body and refuses messages over the size limits, so a hostile
peer cannot make a parse cost more than reading the datagram once.

The mandatory headers (Via, From, To, Call-ID, CSeq) are parsed at once
into `top_via`, `from_`, `to`, `call_id`, `cseq`: every later layer may rely
on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from telephony_adapters.sip.errors import SipParseError
from telephony_adapters.sip.headers import (
    NameAddr,
    Uri,
    Via,
    is_token,
    parse_cseq,
    parse_name_addr,
    parse_uri,
    parse_via,
    split_commas,
)

#: largest message accepted (the largest UDP payload)
MAX_MESSAGE_BYTES = 65507
#: most header fields in one message (after splitting comma-joined lists)
MAX_HEADERS = 128

#: compact forms (RFC 3261 §7.3.3, RFC 3515, RFC 3892, RFC 4028 ...)
COMPACT = {
    "i": "Call-ID",
    "m": "Contact",
    "e": "Content-Encoding",
    "l": "Content-Length",
    "c": "Content-Type",
    "f": "From",
    "s": "Subject",
    "k": "Supported",
    "t": "To",
    "v": "Via",
    "o": "Event",
    "r": "Refer-To",
    "b": "Referred-By",
    "u": "Allow-Events",
    "x": "Session-Expires",
    "a": "Accept-Contact",
    "j": "Reject-Contact",
    "d": "Request-Disposition",
    "y": "Identity",
    "n": "Identity-Info",
}

_CANONICAL = {
    name.lower(): name
    for name in (
        "Via", "From", "To", "Call-ID", "CSeq", "Contact", "Max-Forwards", "Route",
        "Record-Route", "Content-Length", "Content-Type", "Content-Encoding", "Allow",
        "Supported", "Require", "Proxy-Require", "Unsupported", "User-Agent", "Server",
        "Accept", "Expires", "WWW-Authenticate", "Authorization", "Proxy-Authenticate",
        "Proxy-Authorization", "Authentication-Info", "Reason", "Subject", "Event",
        "Refer-To", "Referred-By", "Allow-Events", "Session-Expires", "Min-SE",
        "P-Asserted-Identity", "Diversion", "Retry-After", "Warning", "Timestamp",
        "Accept-Contact", "Reject-Contact", "Request-Disposition", "Identity",
        "Identity-Info", "Min-Expires", "Subscription-State", "RSeq", "RAck",
    )
}
_CANONICAL["call-id"] = "Call-ID"
_CANONICAL["cseq"] = "CSeq"
_CANONICAL["www-authenticate"] = "WWW-Authenticate"

#: headers whose comma-joined values are split into separate fields
_LIST_HEADERS = frozenset(("via", "route", "record-route", "contact"))
_SINGLE = frozenset(("from", "to", "call-id", "cseq", "content-length", "max-forwards"))


def canonical(name: str) -> str:
    """The long, conventionally capitalised form of a header name."""
    lower = name.lower()
    if len(lower) == 1 and lower in COMPACT:
        return COMPACT[lower]
    return _CANONICAL.get(lower, name)


@dataclass(slots=True)
class _Base:
    headers: list[tuple[str, str]]
    body: bytes = b""
    # parsed mandatory headers (filled by the parser or `parse_essentials`)
    vias: list[Via] = field(default_factory=list)
    from_: NameAddr | None = None
    to: NameAddr | None = None
    call_id: str = ""
    cseq: tuple[int, str] = (0, "")

    # ---- header access ------------------------------------------------------------------------
    def get(self, name: str) -> str | None:
        want = canonical(name).lower()
        for key, value in self.headers:
            if key.lower() == want:
                return value
        return None

    def get_all(self, name: str) -> list[str]:
        want = canonical(name).lower()
        return [value for key, value in self.headers if key.lower() == want]

    def set(self, name: str, value: str) -> None:
        """Replace every field of `name` with one, where the first one was."""
        name = canonical(name)
        want = name.lower()
        for i, (key, _) in enumerate(self.headers):
            if key.lower() == want:
                self.headers[i] = (name, value)
                self.headers[i + 1 :] = [h for h in self.headers[i + 1 :] if h[0].lower() != want]
                return
        self.headers.append((name, value))

    def add(self, name: str, value: str, *, first: bool = False) -> None:
        name = canonical(name)
        if first:
            self.headers.insert(0, (name, value))
        else:
            self.headers.append((name, value))

    def remove(self, name: str) -> None:
        want = canonical(name).lower()
        self.headers = [h for h in self.headers if h[0].lower() != want]

    @property
    def top_via(self) -> Via:
        return self.vias[0]

    def _header_lines(self) -> list[str]:
        lines = [f"{k}: {v}" for k, v in self.headers if k.lower() != "content-length"]
        lines.append(f"Content-Length: {len(self.body)}")
        return lines


@dataclass(slots=True)
class Request(_Base):
    method: str = ""
    uri: Uri = field(default_factory=lambda: Uri("sip", None, "invalid"))

    def to_bytes(self) -> bytes:
        head = "\r\n".join([f"{self.method} {self.uri} SIP/2.0", *self._header_lines()])
        return head.encode("utf-8") + b"\r\n\r\n" + self.body


@dataclass(slots=True)
class Response(_Base):
    status: int = 0
    reason: str = ""

    def to_bytes(self) -> bytes:
        head = "\r\n".join([f"SIP/2.0 {self.status} {self.reason}", *self._header_lines()])
        return head.encode("utf-8") + b"\r\n\r\n" + self.body


Message = Request | Response


def parse_message(data: bytes, *, max_bytes: int = MAX_MESSAGE_BYTES, max_headers: int = MAX_HEADERS) -> Message:
    """One SIP message from one datagram; `SipParseError` if it is not one."""
    if len(data) > max_bytes:
        raise SipParseError(f"message of {len(data)} bytes is over the limit of {max_bytes}", status=513)
    data = data.lstrip(b"\r\n")
    if not data:
        raise SipParseError("empty message")
    end = data.find(b"\r\n\r\n")
    sep = 4
    if end < 0:
        end = data.find(b"\n\n")
        sep = 2
    if end < 0:
        raise SipParseError("no blank line after the headers")
    try:
        head = data[:end].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SipParseError(f"headers are not UTF-8 (byte {exc.start})") from None
    body = data[end + sep :]
    norm = head.replace("\r\n", "\n")
    if any((ord(c) < 0x20 and c not in "\t\n") or c == "\x7f" for c in norm):
        raise SipParseError("control characters in the headers")
    lines = norm.split("\n")
    start = lines[0]
    headers = _parse_header_lines(lines[1:], max_headers)
    msg: Message
    if start.startswith("SIP/"):
        msg = _parse_status_line(start, headers)
    else:
        msg = _parse_request_line(start, headers)
    msg.body = _check_body(msg, body)
    parse_essentials(msg)
    return msg


def _parse_request_line(line: str, headers: list[tuple[str, str]]) -> Request:
    parts = line.split(" ")
    if len(parts) != 3:
        raise SipParseError(f"malformed request line {line[:60]!r}")
    method, uri_text, version = parts
    if not is_token(method):
        raise SipParseError(f"bad method {method[:20]!r}")
    if version.upper() != "SIP/2.0":
        raise SipParseError(f"unsupported version {version[:20]!r}", status=505)
    uri = parse_uri(uri_text, "Request-URI")
    return Request(headers=headers, method=method.upper() if method.upper() in _KNOWN_METHODS else method, uri=uri)


_KNOWN_METHODS = frozenset(
    ("INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "INFO", "PRACK", "UPDATE",
     "SUBSCRIBE", "NOTIFY", "REFER", "MESSAGE", "PUBLISH")
)


def _parse_status_line(line: str, headers: list[tuple[str, str]]) -> Response:
    version, _, rest = line.partition(" ")
    code, _, reason = rest.partition(" ")
    if version != "SIP/2.0":
        raise SipParseError(f"unsupported version {version[:20]!r}")
    if len(code) != 3 or not code.isascii() or not code.isdigit() or not 100 <= int(code) <= 699:
        raise SipParseError(f"bad status code {code[:10]!r}")
    return Response(headers=headers, status=int(code), reason=reason)


def _parse_header_lines(lines: list[str], max_headers: int) -> list[tuple[str, str]]:
    fields: list[list[str]] = []
    for line in lines:
        if line[:1] in (" ", "\t"):
            if not fields:
                raise SipParseError("continuation line before any header")
            fields[-1][1] += " " + line.strip(" \t")
            continue
        name, colon, value = line.partition(":")
        name = name.rstrip(" \t")
        if not colon:
            raise SipParseError(f"header line without a colon: {line[:40]!r}")
        if not is_token(name):
            raise SipParseError(f"bad header name {name[:40]!r}")
        fields.append([name, value.strip(" \t")])
        if len(fields) > max_headers:
            raise SipParseError(f"more than {max_headers} header fields", status=513)
    headers: list[tuple[str, str]] = []
    for name, value in fields:
        name = canonical(name)
        lower = name.lower()
        if lower in _LIST_HEADERS and "," in value and value != "*":
            for part in split_commas(value, name):
                headers.append((name, part))
        else:
            headers.append((name, value))
        if len(headers) > max_headers:
            raise SipParseError(f"more than {max_headers} header fields", status=513)
    return headers


def _check_body(msg: Message, body: bytes) -> bytes:
    lengths = msg.get_all("Content-Length")
    if not lengths:
        return body  # allowed over UDP: the body is the rest of the datagram
    if len(set(lengths)) > 1:
        raise SipParseError("several different values", header="Content-Length")
    text = lengths[0]
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise SipParseError(f"not a number: {text[:12]!r}", header="Content-Length")
    declared = int(text)
    if declared > len(body):
        raise SipParseError(
            f"says {declared} bytes but the body has {len(body)}", header="Content-Length"
        )
    return body[:declared]  # RFC 3261 §18.3: extra bytes of a datagram are dropped


def parse_essentials(msg: Message) -> None:
    """Parse and check the headers every message must carry."""
    vias = msg.get_all("Via")
    if not vias:
        raise SipParseError("missing", header="Via")
    msg.vias = [parse_via(v) for v in vias]
    for name in _SINGLE:
        values = msg.get_all(name)
        if len(values) > 1 and name != "content-length":
            raise SipParseError("appears more than once", header=canonical(name))
    from_ = msg.get("From")
    to = msg.get("To")
    call_id = msg.get("Call-ID")
    cseq = msg.get("CSeq")
    if from_ is None:
        raise SipParseError("missing", header="From")
    if to is None:
        raise SipParseError("missing", header="To")
    if not call_id:
        raise SipParseError("missing", header="Call-ID")
    if cseq is None:
        raise SipParseError("missing", header="CSeq")
    if any(c in " \t" for c in call_id):
        raise SipParseError("contains whitespace", header="Call-ID")
    msg.from_ = parse_name_addr(from_, "From")
    msg.to = parse_name_addr(to, "To")
    msg.call_id = call_id
    msg.cseq = parse_cseq(cseq)
    if isinstance(msg, Request) and msg.cseq[1] != msg.method and not (
        msg.method == "ACK" and msg.cseq[1] == "ACK"
    ):
        raise SipParseError(f"method {msg.cseq[1]!r} differs from the request's {msg.method!r}", header="CSeq")
    max_forwards = msg.get("Max-Forwards")
    if max_forwards is not None and (
        not max_forwards.isascii() or not max_forwards.isdigit() or len(max_forwards) > 3 or int(max_forwards) > 255
    ):
        raise SipParseError(f"not a number 0-255: {max_forwards[:12]!r}", header="Max-Forwards")
    for name in ("Contact", "Record-Route", "Route"):
        for value in msg.get_all(name):
            if name == "Contact" and value == "*":
                continue
            parse_name_addr(value, name)
