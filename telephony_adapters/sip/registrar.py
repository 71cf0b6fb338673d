"""A registrar for operators' phones (RFC 3261 §10), sans-IO.

Each operator with a SIP secret has an account: the user name is the
operator's extension (their id when they have none). A REGISTER is
challenged with digest (RFC 8760 SHA-256 first, RFC 2617 MD5), checked by
`DigestServer` (nonces expire and are signed; a nonce-count that does not
grow is a replay), and then its Contact bindings are stored with their
expiry, clipped to `[min_expires, max_expires]`. ``Expires: 0`` (or a
contact's ``expires=0``) removes a binding, ``Contact: *`` all of them.

What the backend learns comes out as events: `PhoneRegistered` when an
account gets its first binding, `PhoneUnregistered` when its last one goes
(removed, or expired: `handle_timer(now)` drops bindings whose time is up),
`PhoneBindingsChanged` when a registered account gains or loses one of
several (a desk phone beside a softphone).
The ACD is told from those, so an operator whose phone is not registered is
not offered calls.

Answers: 401 with fresh challenges for a request without credentials, a
stale nonce (``stale=true``) or a replayed one; 403 for a wrong password or
an unknown user; 423 for a too-short expiry; 400 for a bad Contact. An
address that keeps guessing (more than `FAILURE_BURST` wrong passwords,
then one per 5 s) gets 403 for everything for `LOCKOUT` seconds, so a
password cannot be found by trying. A password is never logged and never
leaves this module.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from telephony_adapters.sip.core import SipEvent
from telephony_adapters.sip.digest import DigestServer
from telephony_adapters.sip.errors import SipParseError
from telephony_adapters.sip.headers import NameAddr, Uri, parse_name_addr, split_commas
from telephony_adapters.sip.message import Request, Response
from telephony_adapters.sip.ratelimit import RateLimiter
from telephony_adapters.sip.transactions import Addr

log = logging.getLogger("flowengine.sip.registrar")

#: most contacts one account may register at once (a desk phone, a softphone ...)
MAX_BINDINGS = 10
#: wrong passwords one address may try: a burst, then one per 5 s on average;
#: beyond that it is locked out for `LOCKOUT` seconds (right passwords included)
FAILURE_RATE, FAILURE_BURST, LOCKOUT = 0.2, 10.0, 60.0
MAX_LOCKED = 10_000


@dataclass(frozen=True, slots=True)
class Account:
    """One phone account: `user` authenticates with `secret`; calls for
    `operator_id` ring its bindings."""

    user: str
    secret: str = field(repr=False)
    operator_id: str


@dataclass(slots=True)
class Binding:
    contact: Uri
    #: where the REGISTER came from: requests go there (the phone may sit behind NAT)
    source: Addr
    expires_at: float
    call_id: str
    cseq: int
    #: the phone's User-Agent header, shortened (None: it sent none)
    user_agent: str | None = None


@dataclass(frozen=True, slots=True)
class RegistrarEvent(SipEvent):
    """`key` is the account's user name."""

    operator_id: str

    @property
    def user(self) -> str:
        return self.key


@dataclass(frozen=True, slots=True)
class PhoneRegistered(RegistrarEvent):
    """The account's first binding: its phone can be rung."""


@dataclass(frozen=True, slots=True)
class PhoneUnregistered(RegistrarEvent):
    """The account's last binding went (`reason`: unregistered or expired)."""

    reason: str


@dataclass(frozen=True, slots=True)
class PhoneBindingsChanged(RegistrarEvent):
    """A registered account's number of bindings changed; it stays registered."""

    bindings: int


@dataclass(slots=True)
class RegistrarStats:
    registered: int = 0
    challenged: int = 0
    refused: int = 0
    expired: int = 0


class Registrar:
    """Bindings of the accounts in `accounts` (by user name)."""

    def __init__(
        self,
        accounts: Mapping[str, Account],
        *,
        realm: str = "flowengine",
        algorithms: tuple[str, ...] = ("SHA-256", "MD5"),
        nonce_ttl: float = 300.0,
        min_expires: int = 30,
        max_expires: int = 3600,
        default_expires: int = 3600,
    ) -> None:
        self.accounts = dict(accounts)
        self.digest = DigestServer(realm, nonce_ttl=nonce_ttl, algorithms=algorithms)
        self.min_expires = min_expires
        self.max_expires = max_expires
        self.default_expires = default_expires
        self.stats = RegistrarStats()
        self.events: list[RegistrarEvent] = []
        self._bindings: dict[str, dict[str, Binding]] = {}
        self._heap: list[tuple[float, str, str]] = []
        self._failures = RateLimiter(FAILURE_RATE, FAILURE_BURST)
        #: source address -> until when it is refused
        self._locked: dict[str, float] = {}

    def set_accounts(self, accounts: Mapping[str, Account]) -> None:
        """The centre changed: the accounts it has now. Bindings of accounts
        that are gone, or whose password or operator changed, are forgotten
        (no event: whoever changed the centre knows)."""
        for user in list(self._bindings):
            old, new = self.accounts.get(user), accounts.get(user)
            if old is None or new is None or (old.secret, old.operator_id) != (new.secret, new.operator_id):
                del self._bindings[user]
        self.accounts = dict(accounts)

    # ---- queries --------------------------------------------------------------------------------
    def bindings(self, user: str) -> list[Binding]:
        return list(self._bindings.get(user, {}).values())

    def account_for(self, number: str) -> Account | None:
        """The account whose user name or operator id is `number`."""
        account = self.accounts.get(number)
        if account is not None:
            return account
        for candidate in self.accounts.values():
            if candidate.operator_id == number:
                return candidate
        return None

    def is_registered(self, user: str) -> bool:
        return bool(self._bindings.get(user))

    def knows_source(self, ip: str) -> bool:
        """Is `ip` the address of a registered phone?"""
        return any(b.source[0] == ip for binds in self._bindings.values() for b in binds.values())

    # ---- REGISTER ---------------------------------------------------------------------------------
    def handle(self, req: Request, peer: Addr, now: float, respond: Callable[..., Response]) -> Response:
        """The response to one REGISTER. `respond(status, headers=..., reason=...)`
        builds a response to `req` (the core's `make_response` with our tag)."""
        header = req.get("Authorization")
        if self._locked.get(peer[0], 0.0) > now:
            self.stats.refused += 1
            return respond(403, reason="Forbidden (too many wrong passwords; try later)")
        if header is None:
            return self._challenge(respond, now)
        account: Account | None = None

        def password_for(user: str) -> str | None:
            nonlocal account
            account = self.accounts.get(user)
            return account.secret if account is not None else None

        result = self.digest.verify(
            header, method="REGISTER", request_uri=str(req.uri), password_for=password_for, now=now
        )
        if not result.ok:
            if result.stale or result.reason in ("replayed nonce-count", "nonce not issued here"):
                log.info("REGISTER from %s: %s; challenged again", peer[0], result.reason)
                return self._challenge(respond, now, stale=result.stale)
            self.stats.refused += 1
            log.info("REGISTER from %s refused (%s)", peer[0], result.reason)
            if not self._failures.allow(peer[0], now):
                self._lock(peer[0], now)
            return respond(403, reason="Forbidden")
        assert account is not None
        to = req.to
        if to is None or (to.uri.user or "") != account.user:
            self.stats.refused += 1
            log.info("REGISTER from %s: %s may not register %s", peer[0], account.user, to.uri.user if to else None)
            return respond(403, reason="Forbidden (To is not your account)")
        try:
            return self._update(account, req, peer, now, respond)
        except SipParseError as exc:
            return respond(400, reason=f"Bad Request ({exc})")

    def _lock(self, ip: str, now: float) -> None:
        log.warning("REGISTER from %s: too many wrong passwords; refused for %.0f s", ip, LOCKOUT)
        if len(self._locked) >= MAX_LOCKED:
            for old in [k for k, until in self._locked.items() if until <= now]:
                del self._locked[old]
            while len(self._locked) >= MAX_LOCKED:
                del self._locked[next(iter(self._locked))]
        self._locked[ip] = now + LOCKOUT

    def _challenge(self, respond: Callable[..., Response], now: float, *, stale: bool = False) -> Response:
        self.stats.challenged += 1
        challenges = self.digest.challenges(now, stale=stale)
        return respond(401, reason="Unauthorized", headers=[("WWW-Authenticate", c) for c in challenges])

    def _update(
        self, account: Account, req: Request, peer: Addr, now: float, respond: Callable[..., Response]
    ) -> Response:
        header_expires = _int_or_none(req.get("Expires"))
        contacts = [c for value in req.get_all("Contact") for c in split_commas(value, "Contact")]
        binds = self._bindings.setdefault(account.user, {})
        had = len(binds)
        agent = req.get("User-Agent")
        agent = "".join(c for c in agent if c.isprintable())[:80] if agent else None
        if [c.strip() for c in contacts] == ["*"]:
            if header_expires != 0:
                return respond(400, reason="Bad Request (Contact: * needs Expires: 0)")
            binds.clear()
        else:
            for text in contacts:
                addr = parse_name_addr(text, "Contact")
                expires = _int_or_none(addr.params.get("expires"))
                if expires is None:
                    expires = header_expires if header_expires is not None else self.default_expires
                key = _binding_key(addr.uri)
                if expires == 0:
                    binds.pop(key, None)
                    continue
                if expires < self.min_expires:
                    return respond(423, reason="Interval Too Brief", headers=[("Min-Expires", str(self.min_expires))])
                expires = min(expires, self.max_expires)
                old = binds.get(key)
                if old is not None and old.call_id == req.call_id and req.cseq[0] <= old.cseq:
                    continue  # an old REGISTER arriving late (§10.3 step 7)
                if old is None and len(binds) >= MAX_BINDINGS:
                    return respond(403, reason="Forbidden (too many contacts)")
                binds[key] = Binding(addr.uri, peer, now + expires, req.call_id, req.cseq[0], agent)
                heapq.heappush(self._heap, (now + expires, account.user, key))
        self._announce(account, had, "unregistered")
        self.stats.registered += 1
        headers = [
            ("Contact", f"{NameAddr(b.contact)};expires={max(0, round(b.expires_at - now))}")
            for b in binds.values()
        ]
        return respond(200, headers=headers)

    def _announce(self, account: Account, had: int, reason: str) -> None:
        """Events for an account that had `had` bindings before this change."""
        has = len(self._bindings.get(account.user, ()))
        if has and had and has != had:
            self.events.append(PhoneBindingsChanged(account.user, account.operator_id, has))
        elif has and not had:
            log.info("phone of %s registered", account.user)
            self.events.append(PhoneRegistered(account.user, account.operator_id))
        elif had and not has:
            log.info("phone of %s %s", account.user, reason)
            self._bindings.pop(account.user, None)
            self.events.append(PhoneUnregistered(account.user, account.operator_id, reason))

    # ---- time -----------------------------------------------------------------------------------
    def next_timer(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def handle_timer(self, now: float) -> None:
        while self._heap and self._heap[0][0] <= now:
            _, user, key = heapq.heappop(self._heap)
            binds = self._bindings.get(user)
            binding = binds.get(key) if binds else None
            if binds is None or binding is None or binding.expires_at > now:
                continue  # refreshed or removed since
            del binds[key]
            self.stats.expired += 1
            account = self.accounts.get(user)
            if account is not None:
                self._announce(account, len(binds) + 1, "expired")


def _binding_key(uri: Uri) -> str:
    return f"{uri.scheme}:{uri.user or ''}@{uri.host}:{uri.port or 5060}"


def _int_or_none(text: str | None) -> int | None:
    if text is None:
        return None
    text = text.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    return int(text)
