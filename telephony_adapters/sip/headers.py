"""The grammar of SIP header values (RFC 3261 §20, §25): URIs, name-addr with
display names and parameters, Via, CSeq, and comma-separated lists that
respect quoted strings and angle brackets.

Every function takes the header's name for its errors, so a peer's garbage
comes back as a `SipParseError` that names the header it was found in.
Values are immutable dataclasses; `str()` writes them back in wire form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from telephony_adapters.sip.errors import SipParseError

#: RFC 3261 `token` characters (besides letters and digits)
_TOKEN_EXTRA = frozenset("-.!%*_+`'~")
_WS = " \t"


def is_token(text: str) -> bool:
    return bool(text) and all(c.isascii() and (c.isalnum() or c in _TOKEN_EXTRA) for c in text)


def split_commas(value: str, header: str) -> list[str]:
    """Split a list header (Via, Contact, Route ...) on the commas that are not
    inside a quoted string or angle brackets."""
    parts: list[str] = []
    start = 0
    quoted = False
    angle = False
    i = 0
    n = len(value)
    while i < n:
        c = value[i]
        if quoted:
            if c == "\\":
                i += 1
            elif c == '"':
                quoted = False
        elif c == '"':
            quoted = True
        elif c == "<":
            angle = True
        elif c == ">":
            angle = False
        elif c == "," and not angle:
            parts.append(value[start:i].strip(_WS))
            start = i + 1
        i += 1
    if quoted:
        raise SipParseError("unterminated quoted string", header=header)
    parts.append(value[start:].strip(_WS))
    if any(not p for p in parts):
        raise SipParseError("empty element in a comma-separated list", header=header)
    return parts


def _unquote(text: str, header: str) -> str:
    """The content of a quoted-string (with its quotes), escapes resolved."""
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise SipParseError("malformed quoted string", header=header)
    out: list[str] = []
    i = 1
    end = len(text) - 1
    while i < end:
        c = text[i]
        if c == "\\":
            if i + 1 >= end:
                raise SipParseError("quoted string ends in a backslash", header=header)
            i += 1
            c = text[i]
        elif c == '"':
            raise SipParseError("stray quote inside a quoted string", header=header)
        out.append(c)
        i += 1
    return "".join(out)


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_params(text: str, header: str) -> dict[str, str | None]:
    """`;a=b;c;d="x y"` (leading semicolon optional) → {"a": "b", "c": None,
    "d": "x y"}; names are lower-cased, the first occurrence wins."""
    params: dict[str, str | None] = {}
    if not text.strip(_WS):
        return params
    for raw in _split_outside_quotes(text, ";", header):
        item = raw.strip(_WS)
        if not item:
            continue
        name, eq, val = item.partition("=")
        name = name.strip(_WS).lower()
        if not is_token(name):
            raise SipParseError(f"bad parameter name {name[:40]!r}", header=header)
        value: str | None = None
        if eq:
            val = val.strip(_WS)
            if val.startswith('"'):
                value = _unquote(val, header)
            else:
                if not val or any(c in _WS or c in '"<>,' for c in val):
                    raise SipParseError(f"bad value of parameter {name!r}", header=header)
                value = val
        params.setdefault(name, value)
    return params


def _split_outside_quotes(text: str, sep: str, header: str) -> list[str]:
    parts: list[str] = []
    start = 0
    quoted = False
    i = 0
    while i < len(text):
        c = text[i]
        if quoted:
            if c == "\\":
                i += 1
            elif c == '"':
                quoted = False
        elif c == '"':
            quoted = True
        elif c == sep:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    if quoted:
        raise SipParseError("unterminated quoted string", header=header)
    parts.append(text[start:])
    return parts


def format_params(params: dict[str, str | None]) -> str:
    out = []
    for name, value in params.items():
        if value is None:
            out.append(f";{name}")
        elif value and all(c.isascii() and (c.isalnum() or c in _TOKEN_EXTRA or c in ":[]/") for c in value):
            out.append(f";{name}={value}")
        else:
            out.append(f";{name}={quote(value)}")
    return "".join(out)


# ---- URIs ----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Uri:
    """A SIP URI (sip:, sips:) split into parts, or another absolute URI (tel:,
    urn:) with only `scheme` and `user` (the part after the colon) filled."""

    scheme: str
    user: str | None
    host: str
    port: int | None = None
    params: dict[str, str | None] = field(default_factory=dict)
    password: str | None = None
    headers: str = ""

    @property
    def is_sip(self) -> bool:
        return self.scheme in ("sip", "sips")

    def host_port(self, default: int = 5060) -> tuple[str, int]:
        return self.host, self.port if self.port is not None else default

    def __str__(self) -> str:
        if not self.is_sip:
            return f"{self.scheme}:{self.user or ''}"
        userinfo = ""
        if self.user is not None:
            userinfo = self.user + (f":{self.password}" if self.password is not None else "") + "@"
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = f":{self.port}" if self.port is not None else ""
        tail = f"?{self.headers}" if self.headers else ""
        return f"{self.scheme}:{userinfo}{host}{port}{format_params(self.params)}{tail}"


def parse_uri(text: str, header: str) -> Uri:
    text = text.strip(_WS)
    scheme, colon, rest = text.partition(":")
    scheme_l = scheme.lower()
    if not colon or not scheme or not (scheme[0].isascii() and scheme[0].isalpha()) or not all(
        c.isascii() and (c.isalnum() or c in "+-.") for c in scheme
    ):
        raise SipParseError(f"not a URI: {text[:60]!r}", header=header)
    if any(c in _WS or ord(c) < 0x20 or c in "<>\"" for c in rest) or not rest:
        raise SipParseError(f"bad characters in URI {text[:60]!r}", header=header)
    if scheme_l not in ("sip", "sips"):
        return Uri(scheme_l, rest, "")
    rest, _, uri_headers = rest.partition("?")
    user: str | None = None
    password: str | None = None
    if "@" in rest:
        userinfo, _, rest = rest.rpartition("@")
        user, pcolon, pw = userinfo.partition(":")
        password = pw if pcolon else None
        if not user:
            raise SipParseError(f"empty user part in URI {text[:60]!r}", header=header)
    hostport, _, ptext = rest.partition(";")
    params = parse_params(ptext, header) if ptext else {}
    host, port = _host_port(hostport, header)
    return Uri(scheme_l, user, host, port, params, password, uri_headers)


def _host_port(text: str, header: str) -> tuple[str, int | None]:
    port: int | None = None
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise SipParseError("unterminated IPv6 reference", header=header)
        host = text[1:end]
        after = text[end + 1 :]
        if after:
            if not after.startswith(":"):
                raise SipParseError("junk after an IPv6 reference", header=header)
            port = _port(after[1:], header)
    else:
        host, colon, ptext = text.partition(":")
        if colon:
            port = _port(ptext, header)
    if not host or not all(c.isascii() and (c.isalnum() or c in "-._:") for c in host):
        raise SipParseError(f"bad host {host[:60]!r}", header=header)
    return host.lower(), port


def _port(text: str, header: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 5 or not 0 < int(text) < 65536:
        raise SipParseError(f"bad port {text[:10]!r}", header=header)
    return int(text)


# ---- name-addr (From, To, Contact, Route, Record-Route, P-Asserted-Identity) ----------------------------
@dataclass(frozen=True, slots=True)
class NameAddr:
    uri: Uri
    display: str | None = None
    params: dict[str, str | None] = field(default_factory=dict)

    @property
    def tag(self) -> str | None:
        return self.params.get("tag")

    def with_tag(self, tag: str) -> NameAddr:
        return NameAddr(self.uri, self.display, {**self.params, "tag": tag})

    def __str__(self) -> str:
        display = f"{quote(self.display)} " if self.display else ""
        return f"{display}<{self.uri}>{format_params(self.params)}"


def parse_name_addr(value: str, header: str) -> NameAddr:
    """`"Name" <sip:u@h>;tag=x`, `Name <sip:u@h>` or `sip:u@h;tag=x` (then the
    parameters belong to the header, not to the URI: RFC 3261 §20.10)."""
    text = value.strip(_WS)
    display: str | None = None
    if text.startswith('"'):
        i = 1
        while i < len(text):
            if text[i] == "\\":
                i += 2
                continue
            if text[i] == '"':
                break
            i += 1
        else:
            raise SipParseError("unterminated quoted display name", header=header)
        display = _unquote(text[: i + 1], header)
        text = text[i + 1 :].lstrip(_WS)
        if not text.startswith("<"):
            raise SipParseError("a quoted display name must be followed by <URI>", header=header)
    lt = text.find("<")
    if lt >= 0:
        if display is None:
            token_display = text[:lt].strip(_WS)
            display = token_display or None
        gt = text.find(">", lt)
        if gt < 0:
            raise SipParseError("missing '>' after the URI", header=header)
        uri = parse_uri(text[lt + 1 : gt], header)
        rest = text[gt + 1 :].strip(_WS)
        if rest and not rest.startswith(";"):
            raise SipParseError(f"junk after the URI: {rest[:30]!r}", header=header)
        return NameAddr(uri, display, parse_params(rest, header))
    if not text:
        raise SipParseError("empty address", header=header)
    addr, _, ptext = text.partition(";")
    return NameAddr(parse_uri(addr, header), None, parse_params(ptext, header))


# ---- Via, CSeq ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Via:
    transport: str
    host: str
    port: int | None
    params: dict[str, str | None] = field(default_factory=dict)

    @property
    def branch(self) -> str | None:
        return self.params.get("branch")

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = f":{self.port}" if self.port is not None else ""
        return f"SIP/2.0/{self.transport} {host}{port}{format_params(self.params)}"


_VIA = re.compile(r"SIP[ \t]*/[ \t]*2\.0[ \t]*/[ \t]*([^ \t;/]+)[ \t]+(.*)", re.IGNORECASE | re.DOTALL)


def parse_via(value: str, header: str = "Via") -> Via:
    """`SIP/2.0/UDP host:port;branch=z9hG4bK...` (whitespace allowed around the slashes)."""
    match = _VIA.fullmatch(value.strip(_WS))
    if match is None or not is_token(match.group(1)):
        raise SipParseError(f"expected SIP/2.0/<transport> <host>, got {value[:40]!r}", header=header)
    hostport, _, ptext = match.group(2).partition(";")
    host, port = _host_port(hostport.strip(_WS), header)
    params = parse_params(ptext, header)
    return Via(match.group(1).upper(), host, port, params)


def parse_cseq(value: str, header: str = "CSeq") -> tuple[int, str]:
    num, _, method = value.strip(_WS).partition(" ")
    method = method.strip(_WS)
    if not num.isascii() or not num.isdigit() or len(num) > 10 or int(num) >= 2**31:
        raise SipParseError(f"bad sequence number {num[:12]!r}", header=header)
    if not is_token(method):
        raise SipParseError(f"bad method {method[:20]!r}", header=header)
    return int(num), method
