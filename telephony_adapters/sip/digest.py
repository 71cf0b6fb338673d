"""HTTP digest authentication for SIP (RFC 2617 MD5, RFC 8760 SHA-256), sans-IO.

Server side (`DigestServer`): challenges carry a nonce that states its own
birth time and is signed with a server secret (no table of issued nonces to
grow); a nonce older than `nonce_ttl` is refused as *stale* (the peer
retries with the fresh challenge, no password prompt); a nonce-count that
does not grow, or a nonce used twice without qop, is a replay and is
refused. Time is an argument (`now`, seconds).

Client side (`authorization`): the header value that answers a challenge.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass

from telephony_adapters.sip.errors import SipParseError
from telephony_adapters.sip.headers import parse_uri, quote, split_commas

ALGORITHMS: dict[str, Callable[[bytes], str]] = {
    "SHA-256": lambda data: hashlib.sha256(data).hexdigest(),
    "MD5": lambda data: hashlib.md5(data, usedforsecurity=False).hexdigest(),
}
#: most nonces whose counts are remembered at once (oldest forgotten first)
MAX_TRACKED_NONCES = 100_000


def parse_auth_params(value: str, header: str) -> dict[str, str]:
    """`Digest a="b", c=d` -> {"a": "b", "c": "d"}; names lower-cased."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "digest":
        raise SipParseError(f"scheme {scheme[:20]!r} is not Digest", header=header)
    params: dict[str, str] = {}
    for item in split_commas(rest, header):
        name, eq, raw = item.partition("=")
        name = name.strip().lower()
        raw = raw.strip()
        if not eq or not name:
            raise SipParseError(f"bad parameter {item[:30]!r}", header=header)
        if raw.startswith('"'):
            if len(raw) < 2 or not raw.endswith('"'):
                raise SipParseError(f"unterminated quoted value of {name!r}", header=header)
            raw = raw[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        params.setdefault(name, raw)
    return params


def _response(
    hash_: Callable[[bytes], str],
    ha1: str,
    method: str,
    uri: str,
    nonce: str,
    qop: str | None,
    nc: str | None,
    cnonce: str | None,
) -> str:
    ha2 = hash_(f"{method}:{uri}".encode())
    if qop:
        return hash_(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}".encode())
    return hash_(f"{ha1}:{nonce}:{ha2}".encode())


def ha1_of(algorithm: str, username: str, realm: str, password: str) -> str:
    return ALGORITHMS[algorithm](f"{username}:{realm}:{password}".encode())


@dataclass(frozen=True, slots=True)
class AuthResult:
    ok: bool
    username: str | None = None
    #: the nonce had expired: challenge again with stale=true
    stale: bool = False
    #: why it failed, for the log (never sent to the peer)
    reason: str = ""


class DigestServer:
    """Challenges and checks digest credentials for one realm."""

    def __init__(
        self,
        realm: str,
        *,
        nonce_ttl: float = 300.0,
        secret: bytes | None = None,
        algorithms: tuple[str, ...] = ("SHA-256", "MD5"),
    ) -> None:
        unknown = [a for a in algorithms if a not in ALGORITHMS]
        if unknown:
            raise ValueError(f"unknown digest algorithms: {unknown}")
        self.realm = realm
        self.nonce_ttl = nonce_ttl
        self.algorithms = algorithms
        self._secret = secret or os.urandom(32)
        #: nonce -> the highest nonce-count seen (-1: used once without qop)
        self._counts: dict[str, int] = {}

    # ---- challenge ------------------------------------------------------------------------------
    def nonce(self, now: float) -> str:
        stamp = struct.pack(">d", now) + os.urandom(8)
        sig = hmac.new(self._secret, stamp, hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(stamp + sig).decode("ascii").rstrip("=")

    def challenges(self, now: float, *, stale: bool = False) -> list[str]:
        """WWW-Authenticate / Proxy-Authenticate values, strongest first (RFC 8760 §2.4)."""
        nonce = self.nonce(now)
        extra = ", stale=true" if stale else ""
        return [
            f'Digest realm={quote(self.realm)}, nonce="{nonce}", algorithm={alg}, qop="auth"{extra}'
            for alg in self.algorithms
        ]

    def _nonce_time(self, nonce: str) -> float | None:
        try:
            raw = base64.urlsafe_b64decode(nonce + "=" * (-len(nonce) % 4))
        except (ValueError, TypeError):
            return None
        if len(raw) != 32:
            return None
        stamp, sig = raw[:16], raw[16:]
        if not hmac.compare_digest(sig, hmac.new(self._secret, stamp, hashlib.sha256).digest()[:16]):
            return None
        return float(struct.unpack(">d", stamp[:8])[0])

    # ---- verification ------------------------------------------------------------------------------
    def verify(
        self,
        header_value: str,
        *,
        method: str,
        request_uri: str,
        password_for: Callable[[str], str | None],
        now: float,
    ) -> AuthResult:
        """Check an Authorization header. `password_for(username)` returns the
        account's password (None: no such account)."""
        try:
            p = parse_auth_params(header_value, "Authorization")
        except SipParseError as exc:
            return AuthResult(False, reason=str(exc))
        username, nonce, uri, response = p.get("username"), p.get("nonce"), p.get("uri"), p.get("response")
        if not (username and nonce and uri and response):
            return AuthResult(False, username, reason="missing username, nonce, uri or response")
        if p.get("realm") != self.realm:
            return AuthResult(False, username, reason="wrong realm")
        algorithm = p.get("algorithm", "MD5")
        algorithm = "SHA-256" if algorithm.upper() == "SHA-256" else algorithm.upper()
        if algorithm not in self.algorithms:
            return AuthResult(False, username, reason=f"algorithm {algorithm[:20]} not offered")
        if not _same_uri(uri, request_uri):
            return AuthResult(False, username, reason="digest uri differs from the Request-URI")
        born = self._nonce_time(nonce)
        if born is None:
            return AuthResult(False, username, reason="nonce not issued here")
        password = password_for(username)
        if password is None:
            return AuthResult(False, username, reason="no such account")
        qop = p.get("qop")
        nc = p.get("nc")
        cnonce = p.get("cnonce")
        if qop is not None and (qop != "auth" or not nc or not cnonce):
            return AuthResult(False, username, reason="qop needs auth, nc and cnonce")
        hash_ = ALGORITHMS[algorithm]
        expected = _response(hash_, ha1_of(algorithm, username, self.realm, password), method, uri, nonce, qop, nc, cnonce)
        if not hmac.compare_digest(expected, response.lower()):
            return AuthResult(False, username, reason="wrong password")
        if now - born > self.nonce_ttl or born > now + 1.0:
            # the digest was right but the nonce old: stale=true (RFC 2617 §3.2.1)
            return AuthResult(False, username, stale=True, reason="nonce expired")
        # replay: a nonce-count must grow; a nonce without qop is good once
        try:
            count = int(nc or "", 16) if qop else -1
        except ValueError:
            return AuthResult(False, username, reason="bad nonce-count")
        last = self._counts.get(nonce)
        if last is not None and (count == -1 or count <= last):
            return AuthResult(False, username, reason="replayed nonce-count")
        self._remember(nonce, count, now)
        return AuthResult(True, username)

    def _remember(self, nonce: str, count: int, now: float) -> None:
        self._counts[nonce] = count
        if len(self._counts) > MAX_TRACKED_NONCES:
            # forget expired nonces first; they are refused as stale anyway
            for old in list(self._counts):
                born = self._nonce_time(old)
                if born is None or now - born > self.nonce_ttl:
                    del self._counts[old]
            while len(self._counts) > MAX_TRACKED_NONCES:
                del self._counts[next(iter(self._counts))]


def _same_uri(a: str, b: str) -> bool:
    if a == b:
        return True
    try:
        ua, ub = parse_uri(a, "Authorization"), parse_uri(b, "Authorization")
    except SipParseError:
        return False
    return (ua.scheme, ua.user, ua.host, ua.port) == (ub.scheme, ub.user, ub.host, ub.port)


def authorization(
    challenge: str,
    *,
    method: str,
    uri: str,
    username: str,
    password: str,
    nc: int = 1,
    cnonce: str | None = None,
) -> str:
    """The Authorization value answering one WWW-Authenticate `challenge`."""
    p = parse_auth_params(challenge, "WWW-Authenticate")
    algorithm = p.get("algorithm", "MD5").upper()
    algorithm = "SHA-256" if algorithm == "SHA-256" else algorithm
    if algorithm not in ALGORITHMS:
        raise SipParseError(f"unsupported algorithm {algorithm[:20]!r}", header="WWW-Authenticate")
    realm, nonce = p.get("realm", ""), p.get("nonce", "")
    qops = [q.strip() for q in p.get("qop", "").split(",") if q.strip()]
    qop = "auth" if "auth" in qops else None
    nc_text = f"{nc:08x}"
    cnonce = cnonce or os.urandom(8).hex()
    hash_ = ALGORITHMS[algorithm]
    resp = _response(hash_, ha1_of(algorithm, username, realm, password), method, uri, nonce, qop, nc_text, cnonce)
    parts = [
        f"username={quote(username)}",
        f"realm={quote(realm)}",
        f'nonce="{nonce}"',
        f'uri="{uri}"',
        f'response="{resp}"',
        f"algorithm={algorithm}",
    ]
    if qop:
        parts += [f"qop={qop}", f"nc={nc_text}", f'cnonce="{cnonce}"']
    if "opaque" in p:
        parts.append(f"opaque={quote(p['opaque'])}")
    return "Digest " + ", ".join(parts)
