"""Registering our trunks with their providers (RFC 3261 §10, client side).

`TrunkRegistration` is sans-IO: `due(now)` says when it wants to act,
`tick(core, now)` sends a REGISTER through the core's transaction layer
when it is time, and the core hands back the response (or the timeout).
A 401/407 is answered once per challenge with digest credentials
(MD5 or SHA-256, `digest.authorization`); a 2xx records the expiry the
registrar granted (the Contact's `expires`, else Expires) and the next
REGISTER goes out at half of it, so the binding never lapses while we run;
a failure is retried after `RETRY_AFTER` seconds (or the 423's
Min-Expires / a Retry-After). `stop` sends ``Expires: 0``.

`Registrations` drives them on the asyncio loop of the SIP backend.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import TYPE_CHECKING

from telephony_adapters.sip.dialog import new_branch, new_tag
from telephony_adapters.sip.digest import authorization
from telephony_adapters.sip.errors import SipParseError
from telephony_adapters.sip.headers import parse_name_addr
from telephony_adapters.sip.message import Request, Response, parse_message
from telephony_adapters.sip.transactions import (
    ResponseReceived,
    TransactionEvent,
    TransactionTimeout,
)

if TYPE_CHECKING:
    from telephony_adapters.sip.backend import SipBackend
    from telephony_adapters.sip.core import SipCore
    from telephony_adapters.sip.trunks import Trunk

log = logging.getLogger("flowengine.sip.register")

RETRY_AFTER = 30.0
#: refresh this long before the expiry at the latest
MARGIN = 5.0


class TrunkRegistration:
    def __init__(self, trunk: Trunk) -> None:
        assert trunk.register is not None
        self.trunk = trunk
        self.account = trunk.register
        #: idle, registering, registered, failed, unregistered
        self.state = "idle"
        #: what the last failure was (status and reason), for logs and the API
        self.last_error = ""
        self.expires_at: float | None = None
        self.refreshes = 0
        self._next: float | None = 0.0
        self._call_id = secrets.token_hex(12)
        self._tag = new_tag()
        self._cseq = 0
        self._authorized_once = False
        self._waiting = False
        self._expires = self.account.expires

    @property
    def registered(self) -> bool:
        return self.state == "registered"

    def due(self) -> float | None:
        return None if self._waiting else self._next

    def tick(self, core: SipCore, now: float) -> None:
        if self._waiting or self._next is None or now < self._next:
            return
        self._send(core, now, authorization_value=None)

    def stop(self, core: SipCore, now: float) -> None:
        """Remove our binding (Expires: 0) if we hold one."""
        self._next = None
        if self.state == "registered":
            self._expires = 0
            self._send(core, now, authorization_value=None)
            self.state = "unregistered"

    def _send(self, core: SipCore, now: float, *, authorization_value: str | None) -> None:
        a = self.account
        host, port = a.registrar_addr
        local_host, local_port = core.local
        self._cseq += 1
        uri = f"sip:{a.domain or host}" + ("" if a.domain or port == 5060 else f":{port}")
        lines = [
            f"REGISTER {uri} SIP/2.0",
            f"Via: SIP/2.0/UDP {local_host}:{local_port};branch={new_branch()};rport",
            "Max-Forwards: 70",
            f"From: <{a.aor}>;tag={self._tag}",
            f"To: <{a.aor}>",
            f"Call-ID: {self._call_id}",
            f"CSeq: {self._cseq} REGISTER",
            f"Contact: <sip:{a.username}@{local_host}:{local_port}>;expires={self._expires}",
            f"Expires: {self._expires}",
            f"User-Agent: {core.user_agent}",
        ]
        if authorization_value:
            lines.append(authorization_value)
        lines.append("Content-Length: 0")
        msg = parse_message(("\r\n".join(lines) + "\r\n\r\n").encode())
        assert isinstance(msg, Request)
        tx = core.layer.new_client(msg, (host, port), now)
        core.on_response[tx.key] = lambda ev, at: self._on_response(core, msg, ev, at)
        self._waiting = True
        if self.state not in ("registered", "unregistered") and self._expires:
            self.state = "registering"

    def _on_response(self, core: SipCore, sent: Request, ev: TransactionEvent, now: float) -> None:
        if isinstance(ev, ResponseReceived) and ev.response.status < 200:
            return  # provisional: the core keeps us listening for the final
        self._waiting = False
        goodbye = self._expires == 0
        if goodbye and not (isinstance(ev, ResponseReceived) and ev.response.status in (401, 407)):
            return  # the goodbye: whatever else the answer, we are done
        if isinstance(ev, TransactionTimeout):
            self._failed(now, "no answer from the registrar")
            return
        assert isinstance(ev, ResponseReceived)
        resp = ev.response
        if 200 <= resp.status < 300:
            granted = _granted(resp, self._expires)
            self.refreshes += 1 if self.state == "registered" else 0
            self.state = "registered"
            self.last_error = ""
            self.expires_at = now + granted
            self._authorized_once = False
            self._next = now + max(1.0, min(granted / 2, granted - MARGIN))
            log.info("trunk %s: registered at %s for %d s", self.trunk.name, self.account.registrar, granted)
            return
        if resp.status in (401, 407) and not self._authorized_once:
            header = "WWW-Authenticate" if resp.status == 401 else "Proxy-Authenticate"
            challenge = resp.get(header)
            if challenge:
                a = self.account
                try:
                    value = authorization(
                        challenge,
                        method="REGISTER",
                        uri=str(sent.uri),
                        username=a.auth_username or a.username,
                        password=a.password,
                    )
                except SipParseError as exc:
                    if not goodbye:
                        self._failed(now, f"{resp.status} with a challenge we cannot answer ({exc})")
                    return
                self._authorized_once = True
                name = "Authorization" if resp.status == 401 else "Proxy-Authorization"
                self._send(core, now, authorization_value=f"{name}: {value}")
                return
        if goodbye:
            return
        if resp.status == 423:
            minimum = resp.get("Min-Expires") or ""
            if minimum.isdigit():
                self._expires = int(minimum)
                self._authorized_once = False
                self._next = now
                return
        retry = resp.get("Retry-After") or ""
        self._failed(now, f"{resp.status} {resp.reason}", float(retry) if retry.isdigit() else None)

    def _failed(self, now: float, why: str, retry: float | None = None) -> None:
        self._authorized_once = False
        was = self.state
        self.state = "failed"
        self.last_error = why
        self._next = now + (retry if retry is not None else RETRY_AFTER)
        if was != "failed":
            log.warning("trunk %s: registration at %s failed: %s", self.trunk.name, self.account.registrar, why)


def _granted(resp: Response, asked: int) -> int:
    """The expiry the registrar granted: our Contact's `expires`, else Expires, else what we asked."""
    for value in resp.get_all("Contact"):
        for part in value.split(","):
            try:
                contact = parse_name_addr(part, "Contact")
            except SipParseError:
                continue
            expires = contact.params.get("expires")
            if isinstance(expires, str) and expires.isdigit():
                return int(expires)
    header = resp.get("Expires") or ""
    return int(header) if header.isdigit() else asked


class Registrations:
    """The backend's trunk registrations, driven by one loop timer."""

    def __init__(self, backend: SipBackend) -> None:
        self.backend = backend
        self.items = [TrunkRegistration(t) for t in backend.settings.trunks if t.register is not None]
        self._handle: asyncio.TimerHandle | None = None

    def start(self) -> None:
        if self.items:
            self._run()

    def _run(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        core = self.backend.core
        for item in self.items:
            try:
                item.tick(core, now)
            except Exception:  # one trunk's trouble must not stop the others
                log.exception("trunk %s: registration failed", item.trunk.name)
        if self.backend.transport is not None:
            self.backend.transport.flush()
        dues = [d for d in (item.due() for item in self.items) if d is not None]
        wake = min(dues, default=now + 1.0)
        self._handle = loop.call_at(max(wake, now + 0.05) if dues else now + 0.5, self._run)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        now = asyncio.get_running_loop().time()
        for item in self.items:
            item.stop(self.backend.core, now)
        if self.backend.transport is not None:
            self.backend.transport.flush()

    @property
    def registered(self) -> int:
        return sum(1 for item in self.items if item.registered)
