"""The user-agent core for inbound calls, sans-IO (RFC 3261 §8.2, §13.3, §15).

`SipCore` takes datagrams with the time they arrived and turns them into
calls: bytes and `now` in (`receive`), events and bytes out (`next_event`,
`datagrams_to_send`), and one timer (`next_timer` / `handle_timer`). The
asyncio transport only moves those bytes and re-arms `loop.call_at`; tests
drive it with a fake `now`.

What it does on its own, so no caller of it can forget:

* 100 Trying at once; retransmitted INVITEs, BYEs and CANCELs absorbed by
  their transactions (a resend never becomes a second call or a 481);
* a request from an address that `trusted(ip)` refuses gets 403, unless
  `allow_untrusted` (at most a few per second per address; the rest are
  dropped); new INVITEs beyond `invite_rate` per address get 503;
* garbage is answered with 400 naming the header when the message is
  otherwise a request we can answer, else dropped; oversized datagrams are
  dropped (counted in `stats`);
* an INVITE whose SDP cannot be parsed gets 400, one with nothing usable 488,
  an unsupported `Require` 420 — all before the application hears of it;
* CANCEL before the answer: 200 to the CANCEL, 487 to the INVITE;
* session timers (RFC 4028, `sessiontimer`) when `session_timer` is given:
  a too-short Session-Expires gets 422, our 2xx names the interval and the
  refresher, we refresh at half the interval when that is us, and a call
  whose refresh did not come in time gets BYE (`CallFailed("session_expired")`);
* BYE from the far end: 200; re-INVITE (hold, resume, new address): 200
  with our answer, version bumped; OPTIONS: 200; INFO with
  application/dtmf-relay: 200 and a digit;
* our BYE waits for the ACK of our 2xx (§15.1.1), and the 2xx is resent
  until the ACK comes (or the call is given up with BYE at Timer L).

The application commands a call by its key: `ring`, `progress`, `answer`,
`reject`, `hangup`.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from telephony_adapters.sip.dialog import (
    Dialog,
    make_response,
    new_tag,
    response_address,
    stamp_received,
)
from telephony_adapters.sip.errors import LocalProtocolError, SdpError, SipParseError
from telephony_adapters.sip.headers import parse_cseq, parse_name_addr, parse_via
from telephony_adapters.sip.indialog import sipfrag_status
from telephony_adapters.sip.message import (
    MAX_MESSAGE_BYTES,
    Request,
    Response,
    parse_message,
)
from telephony_adapters.sip.ratelimit import RateLimiter
from telephony_adapters.sip.sdp import (
    SUPPORTED,
    Negotiated,
    SessionDescription,
    answer_for,
    negotiate,
    parse_sdp,
    render,
)
from telephony_adapters.sip.sessionrefresh import send_refresh
from telephony_adapters.sip.sessiontimer import (
    Agreed,
    SessionTimers,
    TimerPolicy,
    TooSmall,
    negotiate_uas,
    option_tags,
)
from telephony_adapters.sip.transactions import (
    AckTimeout,
    Addr,
    ResponseReceived,
    ServerInviteTransaction,
    ServerTransaction,
    TimerValues,
    TransactionEvent,
    TransactionLayer,
    TransactionTimeout,
    server_key,
)

if TYPE_CHECKING:
    from telephony_adapters.sip.registrar import Registrar

log = logging.getLogger("flowengine.sip.core")

ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, NOTIFY"
#: 403s sent to one untrusted address per second (beyond: dropped unanswered)
UNTRUSTED_REFUSALS_PER_S = 5.0
UNTRUSTED_REFUSALS_BURST = 10.0
_DTMF_INFO = frozenset("0123456789*#ABCD")
#: the Q.850 cause in the Reason of a BYE for an expired session: "recovery on timer expiry"
SESSION_EXPIRED_Q850 = 102


# ---- events -------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SipEvent:
    """Base of what the core reports; `key` names the call."""

    key: str


@dataclass(frozen=True, slots=True)
class IncomingCall(SipEvent):
    invite: Request
    peer: Addr
    #: the caller's offer (None: an INVITE without SDP, the offer is ours)
    offer: SessionDescription | None
    negotiated: Negotiated | None


@dataclass(frozen=True, slots=True)
class CallConfirmed(SipEvent):
    """The ACK of our 2xx arrived: media may flow both ways."""


@dataclass(frozen=True, slots=True)
class CallCancelled(SipEvent):
    """The caller gave up before the answer (CANCEL, or BYE in the early dialog)."""


@dataclass(frozen=True, slots=True)
class CallHungUp(SipEvent):
    """The far end sent BYE. `q850` from its Reason header, when it had one."""

    q850: int | None = None


@dataclass(frozen=True, slots=True)
class CallFailed(SipEvent):
    """The call is lost to the network: the ACK never came (`ack_timeout`),
    or no session refresh came in time (`session_expired`; BYE sent)."""

    reason: str


@dataclass(frozen=True, slots=True)
class CallReinvited(SipEvent):
    """A re-INVITE changed the media: `negotiated.direction` is "recvonly"
    when the far end holds us, "sendrecv" when it resumes."""

    negotiated: Negotiated


@dataclass(frozen=True, slots=True)
class ReferNotify(SipEvent):
    """A NOTIFY of our REFER's progress: the sipfrag's status (100, 180, 200, 486 ...)."""

    status: int


@dataclass(frozen=True, slots=True)
class DtmfInfo(SipEvent):
    """A digit sent as SIP INFO (application/dtmf-relay)."""

    digit: str


# ---- per-call state -------------------------------------------------------------------------------------
@dataclass(slots=True)
class _Session:
    key: str
    invite: Request
    peer: Addr
    tx: ServerInviteTransaction
    dialog: Dialog
    offer: SessionDescription | None
    negotiated: Negotiated | None
    #: ringing -> answered (2xx sent, no ACK yet) -> confirmed -> ended
    state: str = "ringing"
    local_media: Addr | None = None
    sdp_version: int = 1
    sdp_session: int = 0
    bye_pending: bool = False
    reason_q850: int | None = None
    #: the session timer our 2xx to the INVITE carries (None: no timer)
    timer: Agreed | None = None
    #: the SDP we last sent (a refresh re-INVITE offers it again, unchanged)
    local_sdp: bytes = b""


@dataclass(slots=True)
class CoreStats:
    received: int = 0
    dropped_oversized: int = 0
    dropped_malformed: int = 0
    answered_400: int = 0
    refused_untrusted: int = 0
    rate_limited: int = 0
    calls: int = 0


class SipCore:
    """One SIP endpoint at `local` (the address in our Via and Contact)."""

    def __init__(
        self,
        local: Addr,
        *,
        trusted: Callable[[str], bool] = lambda ip: True,
        allow_untrusted: bool = False,
        timers: TimerValues | None = None,
        max_bytes: int = MAX_MESSAGE_BYTES,
        codecs: tuple[str, ...] = SUPPORTED,
        user_agent: str = "flowengine",
        invite_rate: float | None = None,
        invite_burst: float = 20.0,
        codecs_for: Callable[[str], tuple[str, ...]] | None = None,
        session_timer: TimerPolicy | None = None,
    ) -> None:
        self.local = local
        #: the codecs an INVITE from an IP may use (its trunk's); None: `codecs`
        self.codecs_for = codecs_for
        self.trusted = trusted
        self.allow_untrusted = allow_untrusted
        self.max_bytes = max_bytes
        self.codecs = codecs
        self.user_agent = user_agent
        self.layer = TransactionLayer(timers)
        #: RFC 4028 session timers (None: Session-Expires is ignored, Require: timer gets 420)
        self.timer_policy = session_timer
        self.timers = SessionTimers()
        self.stats = CoreStats()
        self._events: deque[SipEvent] = deque()
        self._sessions: dict[str, _Session] = {}
        #: (Call-ID, local tag) -> key
        self._dialogs: dict[tuple[str, str], str] = {}
        #: the initial INVITE's server transaction key -> call key (CANCEL, Timer L)
        self._by_tx: dict[tuple[str, ...], str] = {}
        #: our BYE's client transaction key -> call key
        self._byes: dict[tuple[str, ...], str] = {}
        #: other client transactions' users (REGISTER, REFER ...): told of the
        #: final response or the timeout (provisional responses too, and kept)
        self.on_response: dict[tuple[str, ...], Callable[[TransactionEvent, float], None]] = {}
        self._stateless: list[tuple[bytes, Addr]] = []
        #: new INVITEs per source address (None: unlimited)
        self._invite_limit = RateLimiter(invite_rate, invite_burst) if invite_rate else None
        #: 403s we are willing to send to one untrusted address
        self._refusal_limit = RateLimiter(UNTRUSTED_REFUSALS_PER_S, UNTRUSTED_REFUSALS_BURST)
        from telephony_adapters.sip.outgoing import OutgoingCalls  # (it imports this module)

        #: our outgoing legs (UAC INVITEs to phones)
        self.outgoing = OutgoingCalls(self)
        #: operators' phones' registrations; None: REGISTER gets 405
        self.registrar: Registrar | None = None

    # ---- output ---------------------------------------------------------------------------------
    def datagrams_to_send(self) -> list[tuple[bytes, Addr]]:
        out = self._stateless + self.layer.outbox
        self._stateless = []
        self.layer.outbox = []
        return out

    def next_event(self) -> SipEvent | None:
        return self._events.popleft() if self._events else None

    def next_timer(self) -> float | None:
        at = self.layer.next_timer()
        session_at = self.timers.next_timer()
        if session_at is not None and (at is None or session_at < at):
            at = session_at
        if self.registrar is not None:
            expiry = self.registrar.next_timer()
            if expiry is not None and (at is None or expiry < at):
                at = expiry
        return at

    def handle_timer(self, now: float) -> None:
        self.layer.handle_timer(now)
        self._drain_layer(now)
        for key, action in self.timers.due(now):
            session = self._sessions.get(key)
            if session is None:
                continue
            if action == "refresh":
                send_refresh(self, session, now)
            else:
                log.info("call %s: no session refresh in time; ending it", session.invite.call_id)
                self.session_expired(session, now)
        if self.registrar is not None:
            self.registrar.handle_timer(now)
            self._drain_registrar()

    def _drain_registrar(self) -> None:
        assert self.registrar is not None
        self._events.extend(self.registrar.events)
        self.registrar.events = []

    @property
    def calls(self) -> int:
        return len(self._sessions)

    def contact(self) -> str:
        host, port = self.local
        return f"<sip:{host}:{port}>"

    # ---- input ------------------------------------------------------------------------------------
    def receive(self, data: bytes, peer: Addr, now: float) -> None:
        """One datagram from `peer`. Never raises for anything the peer sent."""
        self.stats.received += 1
        if len(data) > self.max_bytes:
            self.stats.dropped_oversized += 1
            return
        if not data.strip(b"\r\n"):
            return  # keep-alive (RFC 5626 CRLF)
        try:
            msg = parse_message(data, max_bytes=self.max_bytes)
        except SipParseError as exc:
            self._bad_message(data, peer, exc)
            return
        try:
            if isinstance(msg, Request):
                self._request(msg, peer, now)
            else:
                self._response(msg, now)
        except (SipParseError, SdpError) as exc:
            # a header parsed lazily (Contact, Record-Route ...) was bad
            if isinstance(msg, Request) and msg.method != "ACK":
                self._send_stateless(make_response(msg, 400, reason=f"Bad Request ({exc})"), msg, peer)
            self.stats.dropped_malformed += 1
        self._drain_layer(now)

    def _bad_message(self, data: bytes, peer: Addr, exc: SipParseError) -> None:
        """Answer 400 (or 413/505/513) if the garbage is a request whose Via,
        From, To, Call-ID and CSeq can still be read; else drop it."""
        self.stats.dropped_malformed += 1
        salvaged = _salvage_request(data)
        if salvaged is None or not (self.allow_untrusted or self.trusted(peer[0])):
            return
        lines, top_via = salvaged
        status = exc.status if exc.status in (400, 505, 513) else 400
        reason = {400: "Bad Request", 505: "Version Not Supported", 513: "Message Too Large"}[status]
        head = [f"SIP/2.0 {status} {_ascii_reason(f'{reason} ({exc})')}"]
        head += [
            f"{name}: {value};tag={new_tag()}" if name == "To" and ";tag=" not in value else f"{name}: {value}"
            for name, value in lines
        ]
        head += [f"Server: {self.user_agent}", "Content-Length: 0"]
        _, port = top_via
        self._stateless.append((("\r\n".join(head) + "\r\n\r\n").encode("utf-8"), (peer[0], port or peer[1])))
        self.stats.answered_400 += 1

    # ---- requests -------------------------------------------------------------------------------------
    def _request(self, req: Request, peer: Addr, now: float) -> None:
        stamp_received(req, peer)
        tx = self.layer.match_server(req)
        if tx is not None:
            tx.request_received(req, now)
            if req.method == "ACK" and isinstance(tx, ServerInviteTransaction) and tx.status >= 300:
                return
            if req.method != "ACK":
                return
        if req.to is not None and req.to.tag and self.outgoing.request(req, peer, now):
            return  # inside a dialog of one of our outgoing legs
        if req.method == "ACK":
            self._ack(req, now)
            return
        if req.method == "REGISTER" and self.registrar is not None:
            # digest authentication guards it, not the source address: phones roam
            self._register(req, peer, now)
            return
        if not self.allow_untrusted and not self.trusted(peer[0]):
            self.stats.refused_untrusted += 1
            if self._refusal_limit.allow(peer[0], now):
                self._send_stateless(make_response(req, 403, to_tag=new_tag(), server=self.user_agent), req, peer)
            return
        if req.method == "CANCEL":
            self._cancel(req, peer, now)
            return
        unsupported = option_tags(req, "Require") - ({"timer"} if self.timer_policy else set())
        if unsupported:
            self._respond_new(req, peer, now, 420, headers=[("Unsupported", ", ".join(sorted(unsupported)))])
            return
        to_tag = req.to.tag if req.to else None
        if to_tag:
            self._in_dialog(req, peer, now, to_tag)
            return
        if req.method == "INVITE":
            if self._invite_limit is not None and not self._invite_limit.allow(peer[0], now):
                self.stats.rate_limited += 1
                self._respond_new(req, peer, now, 503, headers=[("Retry-After", "5")])
                return
            self._invite(req, peer, now)
        elif req.method == "OPTIONS":
            self._respond_new(req, peer, now, 200, headers=self._capabilities())
        elif req.method in ("BYE", "INFO"):
            self._respond_new(req, peer, now, 481)
        else:
            self._respond_new(req, peer, now, 405, headers=[("Allow", ALLOW)])

    def _register(self, req: Request, peer: Addr, now: float) -> None:
        assert self.registrar is not None
        tx = self.layer.new_server(req, response_address(req, peer))
        tag = new_tag()

        def respond(status: int, *, headers: list[tuple[str, str]] | None = None, reason: str | None = None) -> Response:
            return make_response(req, status, reason=reason, to_tag=tag, headers=headers, server=self.user_agent)

        tx.respond(self.registrar.handle(req, peer, now, respond), now)
        self._drain_registrar()

    def _capabilities(self) -> list[tuple[str, str]]:
        return [("Allow", ALLOW), ("Accept", "application/sdp"), ("Contact", self.contact()), *self._supported()]

    def _respond_new(
        self, req: Request, peer: Addr, now: float, status: int, *, headers: list[tuple[str, str]] | None = None
    ) -> None:
        tx = self.layer.new_server(req, response_address(req, peer))
        tag = None if req.to is not None and req.to.tag else new_tag()
        tx.respond(make_response(req, status, to_tag=tag, headers=headers, server=self.user_agent), now)

    def _send_stateless(self, response: Response, req: Request, peer: Addr) -> None:
        self._stateless.append((response.to_bytes(), response_address(req, peer)))

    def _invite(self, req: Request, peer: Addr, now: float) -> None:
        where = response_address(req, peer)
        tx = self.layer.new_server(req, where)
        assert isinstance(tx, ServerInviteTransaction)
        key = new_tag()
        tx.respond(make_response(req, 100, server=self.user_agent), now)
        offer: SessionDescription | None = None
        negotiated: Negotiated | None = None
        try:
            if req.get("Contact") is None:
                raise SipParseError("missing (an INVITE must carry one)", header="Contact")
            dialog = Dialog.as_uas(req, key)
            if req.body:
                ctype = (req.get("Content-Type") or "").split(";")[0].strip().lower()
                if ctype != "application/sdp":
                    raise SdpError(f"unsupported body type {ctype[:40]!r}", status=415)
                offer = parse_sdp(req.body)
                negotiated = negotiate(offer, self.codecs_for(peer[0]) if self.codecs_for else self.codecs)
            timer = negotiate_uas(req, self.timer_policy) if self.timer_policy else None
        except SipParseError as exc:
            tx.respond(make_response(req, exc.status, reason=f"Bad Request ({exc})", to_tag=key, server=self.user_agent), now)
            return
        except SdpError as exc:
            extra = [("Accept", "application/sdp")] if exc.status == 415 else None
            reason = {400: "Bad Request", 415: "Unsupported Media Type", 488: "Not Acceptable Here"}.get(exc.status, "Error")
            tx.respond(
                make_response(req, exc.status, reason=f"{reason} ({exc})", to_tag=key, headers=extra, server=self.user_agent),
                now,
            )
            return
        if isinstance(timer, TooSmall):
            tx.respond(self._too_small(req, timer, key), now)
            return
        session = _Session(key, req, peer, tx, dialog, offer, negotiated, sdp_session=int(now * 1000) % 2**31)
        session.timer = timer
        self._sessions[key] = session
        self._dialogs[(req.call_id, key)] = key
        self._by_tx[tx.key] = key
        self.stats.calls += 1
        self._events.append(IncomingCall(key, req, peer, offer, negotiated))

    def _cancel(self, req: Request, peer: Addr, now: float) -> None:
        invite_tx = self.layer.server.get(server_key(req, "INVITE"))
        session = None
        if isinstance(invite_tx, ServerInviteTransaction):
            session = self._sessions.get(self._by_tx.get(invite_tx.key, ""))
        if invite_tx is None:
            self._respond_new(req, peer, now, 481)
            return
        self._respond_new(req, peer, now, 200)
        if session is not None and session.state == "ringing":
            self._end_unanswered(session, 487, now)
            self._events.append(CallCancelled(session.key))

    def _in_dialog(self, req: Request, peer: Addr, now: float, to_tag: str) -> None:
        key = self._dialogs.get((req.call_id, to_tag))
        session = self._sessions.get(key) if key else None
        if session is None or (req.from_ is not None and req.from_.tag != session.dialog.remote_tag):
            self._respond_new(req, peer, now, 481)
            return
        seq = req.cseq[0]
        if seq <= session.dialog.remote_seq and not (req.method == "INVITE" and seq > session.invite.cseq[0]):
            self._respond_new(req, peer, now, 500, headers=[("Retry-After", "1")])
            return
        session.dialog.remote_seq = seq
        method = req.method
        if method == "BYE":
            self._respond_new(req, peer, now, 200)
            if session.state == "ringing":
                self._end_unanswered(session, 487, now)
                self._events.append(CallCancelled(session.key))
            else:
                # a BYE proves the far end has our 2xx even if its ACK was lost: stop resending it
                session.tx.ack_received()
                self._close(session)
                self._events.append(CallHungUp(session.key, _q850(req.get("Reason"))))
        elif method == "INVITE":
            self._reinvite(session, req, peer, now)
        elif method == "OPTIONS":
            self._respond_new(req, peer, now, 200, headers=self._capabilities())
        elif method == "INFO":
            self._respond_new(req, peer, now, 200)
            digit = _dtmf_relay(req)
            if digit is not None:
                self._events.append(DtmfInfo(session.key, digit))
        elif method == "UPDATE":
            self._update(session, req, peer, now)
        elif method == "NOTIFY" and (req.get("Event") or "").split(";")[0].strip().lower() == "refer":
            self._respond_new(req, peer, now, 200)
            status = sipfrag_status(req.body)
            if status is not None:
                self._events.append(ReferNotify(session.key, status))
        else:
            self._respond_new(req, peer, now, 405, headers=[("Allow", ALLOW)])

    def _reinvite(self, session: _Session, req: Request, peer: Addr, now: float) -> None:
        if session.state not in ("confirmed",):
            # our answer is not ACKed yet (or we are still ringing): §14.2
            self._respond_new(req, peer, now, 500, headers=[("Retry-After", "1")])
            return
        tx = self.layer.new_server(req, response_address(req, peer))
        assert isinstance(tx, ServerInviteTransaction)
        timer = self._timer_answer(req, tx, now)
        if isinstance(timer, TooSmall):
            return
        if not req.body:
            # a session refresh (or a request for our offer): our current SDP,
            # unchanged; the answer in the ACK is taken as unchanged too
            body = session.local_sdp or self._answer_sdp(session)
            tx.respond(self._ok(req, session, body, extra=self._restart_timer(session, timer, now)), now)
            return
        try:
            offer = parse_sdp(req.body)
            negotiated = negotiate(offer, (session.negotiated.codec,) if session.negotiated else self.codecs)
        except SdpError as exc:
            tx.respond(make_response(req, exc.status, reason=f"Not Acceptable Here ({exc})", server=self.user_agent), now)
            return
        contact = req.get("Contact")
        if contact:
            session.dialog.remote_target = parse_name_addr(contact, "Contact").uri
        session.offer, session.negotiated = offer, negotiated
        session.sdp_version += 1
        body = self._answer_sdp(session)
        tx.respond(self._ok(req, session, body, extra=self._restart_timer(session, timer, now)), now)
        self._events.append(CallReinvited(session.key, negotiated))

    def _timer_answer(
        self, req: Request, tx: ServerInviteTransaction | ServerTransaction, now: float
    ) -> Agreed | TooSmall | None:
        """The session-timer part of a re-INVITE or UPDATE; a 400 (bad
        header) or 422 (interval too short) is answered here, as TooSmall."""
        if self.timer_policy is None:
            return None
        try:
            timer = negotiate_uas(req, self.timer_policy)
        except SipParseError as exc:
            tx.respond(make_response(req, 400, reason=f"Bad Request ({exc})", server=self.user_agent), now)
            return TooSmall(self.timer_policy.min_se)
        if isinstance(timer, TooSmall):
            tx.respond(self._too_small(req, timer, None), now)
        return timer

    def _too_small(self, req: Request, timer: TooSmall, to_tag: str | None) -> Response:
        return make_response(
            req, 422, reason="Session Interval Too Small", to_tag=to_tag,
            headers=[("Min-SE", str(timer.min_se))], server=self.user_agent,
        )  # fmt: skip

    def _restart_timer(self, session: _Session, timer: Agreed | None, now: float) -> list[tuple[str, str]]:
        """A refresh the far end sent was accepted: the timer counts again
        from now (or stops, when the request no longer asks for one). The
        headers of our 2xx."""
        if session.state == "ringing":  # (an UPDATE before the answer: the 2xx to the INVITE will say it)
            session.timer = timer or session.timer
            return timer.headers() if timer else []
        if timer is None:
            self.timers.stop(session.key)
            return []
        self.timers.start(session.key, timer.interval, timer.we_refresh, now)
        return timer.headers()

    def _update(self, session: _Session, req: Request, peer: Addr, now: float) -> None:
        """UPDATE (RFC 3311): a session refresh without a body gets 200; with
        an offer it moves or holds the media like a re-INVITE."""
        tx = self.layer.new_server(req, response_address(req, peer))
        timer = self._timer_answer(req, tx, now)
        if isinstance(timer, TooSmall):
            return
        if not req.body:
            headers = [("Contact", self.contact()), *self._restart_timer(session, timer, now), *self._supported()]
            tx.respond(make_response(req, 200, headers=headers, server=self.user_agent), now)
            return
        try:
            offer = parse_sdp(req.body)
            negotiated = negotiate(offer, (session.negotiated.codec,) if session.negotiated else self.codecs)
        except SdpError as exc:
            tx.respond(make_response(req, 488, reason=f"Not Acceptable Here ({exc})", server=self.user_agent), now)
            return
        session.offer, session.negotiated = offer, negotiated
        session.sdp_version += 1
        tx.respond(self._ok(req, session, self._answer_sdp(session), extra=self._restart_timer(session, timer, now)), now)
        self._events.append(CallReinvited(session.key, negotiated))

    def _ack(self, req: Request, now: float) -> None:
        to_tag = req.to.tag if req.to else None
        key = self._dialogs.get((req.call_id, to_tag or ""))
        session = self._sessions.get(key) if key else None
        if session is None:
            return
        for tx in (session.tx, *self._reinvite_txs(session, req)):
            if tx.state == "accepted" and tx.request.cseq[0] == req.cseq[0]:
                tx.ack_received()
        if session.state == "answered" and req.cseq[0] == session.invite.cseq[0]:
            session.state = "confirmed"
            self._events.append(CallConfirmed(session.key))
            if session.bye_pending:
                self._send_bye(session, now)

    def _reinvite_txs(self, session: _Session, req: Request) -> list[ServerInviteTransaction]:
        found = self.layer.match_server(req)
        return [found] if isinstance(found, ServerInviteTransaction) and found is not session.tx else []

    # ---- responses to our requests ----------------------------------------------------------------------
    def _response(self, resp: Response, now: float) -> None:
        self.layer.response_received(resp, now)

    def _drain_layer(self, now: float) -> None:
        events = self.layer.events
        self.layer.events = []
        for ev in events:
            handler = self.on_response.pop(ev.key, None)
            if handler is not None:
                if isinstance(ev, ResponseReceived) and ev.response.status < 200:
                    self.on_response[ev.key] = handler
                handler(ev, now)
                continue
            if isinstance(ev, AckTimeout):
                session = self._sessions.get(self._by_tx.get(ev.key, ""))
                if session is not None and session.state == "answered":
                    # §13.3.1.4: no ACK for our 2xx: end the dialog
                    self._events.append(CallFailed(session.key, "ack_timeout"))
                    self._send_bye(session, now)
            elif isinstance(ev, (ResponseReceived, TransactionTimeout)):
                if self.outgoing.transaction_event(ev, now):
                    continue
                key = self._byes.pop(ev.key, None)
                if key is not None and isinstance(ev, ResponseReceived) and ev.response.status < 200:
                    self._byes[ev.key] = key  # provisional: still waiting for the final

    # ---- commands ------------------------------------------------------------------------------------
    def _session(self, key: str) -> _Session:
        session = self._sessions.get(key)
        if session is None:
            raise LocalProtocolError(f"no live call {key!r}")
        return session

    def ring(self, key: str, now: float) -> None:
        """180 Ringing (no SDP)."""
        session = self._session(key)
        if session.state != "ringing":
            return
        session.tx.respond(self._provisional(session, 180), now)

    def progress(self, key: str, now: float, media: Addr) -> None:
        """183 Session Progress with our SDP answer: early media to `media`."""
        session = self._session(key)
        if session.state != "ringing":
            return
        session.local_media = media
        body = self._answer_sdp(session) if session.offer is not None else b""
        session.tx.respond(self._provisional(session, 183, body), now)

    def answer(self, key: str, now: float, media: Addr) -> None:
        """200 OK with our SDP (the answer, or our offer for an INVITE without one)."""
        session = self._session(key)
        if session.state != "ringing":
            raise LocalProtocolError(f"call {key} is {session.state}: cannot answer")
        session.local_media = media
        timer = session.timer
        extra = timer.headers() if timer is not None else []
        session.tx.respond(self._ok(session.invite, session, self._answer_sdp(session), extra=extra), now)
        session.state = "answered"
        if timer is not None:  # the interval counts from our 2xx (RFC 4028 §10)
            self.timers.start(key, timer.interval, timer.we_refresh, now)

    def reject(self, key: str, status: int, now: float, reason: str | None = None) -> None:
        """A final non-2xx response before the answer (486, 603, 480 ...)."""
        session = self._session(key)
        if session.state != "ringing":
            raise LocalProtocolError(f"call {key} is {session.state}: cannot reject")
        self._end_unanswered(session, status, now, reason)

    def hangup(self, key: str, now: float, *, q850: int | None = None, status: int = 480) -> None:
        """End the call from our side: BYE (after the ACK of our 2xx, §15.1.1),
        or the final response `status` if it was never answered. Does nothing
        for an ended call."""
        session = self._sessions.get(key)
        if session is None:
            return
        session.reason_q850 = q850
        if session.state == "ringing":
            self._end_unanswered(session, status if 300 <= status < 700 else 480, now)
        elif session.state == "answered":
            session.bye_pending = True
        elif session.state == "confirmed":
            self._send_bye(session, now)

    # ---- internals -------------------------------------------------------------------------------------
    def _provisional(self, session: _Session, status: int, body: bytes = b"") -> Response:
        headers = [("Contact", self.contact())]
        headers += [("Record-Route", rr) for rr in session.invite.get_all("Record-Route")]
        if body:
            headers.append(("Content-Type", "application/sdp"))
        return make_response(session.invite, status, to_tag=session.key, headers=headers, body=body, server=self.user_agent)

    def _ok(self, req: Request, session: _Session, body: bytes, *, extra: list[tuple[str, str]] | None = None) -> Response:
        headers = [("Contact", self.contact()), ("Allow", ALLOW), *self._supported(), *(extra or [])]
        headers += [("Record-Route", rr) for rr in req.get_all("Record-Route")]
        if body:
            headers.append(("Content-Type", "application/sdp"))
            session.local_sdp = body
        return make_response(req, 200, to_tag=session.key, headers=headers, body=body, server=self.user_agent)

    def _supported(self) -> list[tuple[str, str]]:
        return [("Supported", "timer")] if self.timer_policy is not None else []

    def session_expired(self, session: _Session, now: float) -> None:
        """No refresh came in time, or our refresh was refused with 408/481:
        the far end is gone. BYE (Q.850 102, recovery on timer expiry)."""
        self.timers.stop(session.key)
        if session.state == "ended":
            return
        self._events.append(CallFailed(session.key, "session_expired"))
        session.reason_q850 = SESSION_EXPIRED_Q850
        if session.state == "confirmed":
            self._send_bye(session, now)
        else:
            session.bye_pending = True  # (after the ACK; Timer L ends it if none comes)

    def _answer_sdp(self, session: _Session) -> bytes:
        address, port = session.local_media or (self.local[0], 0)
        if session.offer is not None and session.negotiated is not None:
            return answer_for(
                session.offer,
                session.negotiated,
                address=address,
                port=port,
                session_id=session.sdp_session,
                version=session.sdp_version,
            )
        codecs = tuple((0 if name == "PCMU" else 8, name) for name in self.codecs)
        return render(address=address, port=port, session_id=session.sdp_session, version=session.sdp_version, codecs=codecs)

    def _end_unanswered(self, session: _Session, status: int, now: float, reason: str | None = None) -> None:
        if session.tx.state == "proceeding":
            headers = [("Retry-After", "30")] if status == 503 else None
            session.tx.respond(
                make_response(session.invite, status, reason=reason, to_tag=session.key, headers=headers, server=self.user_agent),
                now,
            )
        self._close(session)

    def _send_bye(self, session: _Session, now: float) -> None:
        session.bye_pending = False
        headers: list[tuple[str, str]] = []
        if session.reason_q850 is not None:
            headers.append(("Reason", f"Q.850;cause={session.reason_q850}"))
        req, where = session.dialog.request(
            "BYE", via_host=self.local[0], via_port=self.local[1], headers=headers, fallback=session.peer
        )
        tx = self.layer.new_client(req, where, now)
        self._byes[tx.key] = session.key
        self._close(session)

    def _close(self, session: _Session) -> None:
        session.state = "ended"
        self.timers.stop(session.key)
        self._sessions.pop(session.key, None)
        self._dialogs.pop((session.dialog.call_id, session.key), None)
        self._by_tx.pop(session.tx.key, None)


def _q850(reason: str | None) -> int | None:
    if not reason or not reason.upper().startswith("Q.850"):
        return None
    for part in reason.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "cause" and value.isascii() and value.isdigit() and len(value) < 4:
            return int(value)
    return None


def _dtmf_relay(req: Request) -> str | None:
    ctype = (req.get("Content-Type") or "").split(";")[0].strip().lower()
    if ctype != "application/dtmf-relay":
        return None
    for line in req.body.decode("utf-8", "replace").splitlines():
        name, _, value = line.partition("=")
        if name.strip().lower() == "signal":
            digit = value.strip().upper()
            return digit if len(digit) == 1 and digit in _DTMF_INFO else None
    return None


def _ascii_reason(text: str) -> str:
    return "".join(c if 32 <= ord(c) < 127 else "?" for c in text)[:120]


def _salvage_request(data: bytes) -> tuple[list[tuple[str, str]], tuple[str, int | None]] | None:
    """The Via, From, To, Call-ID and CSeq of a malformed request, when each
    of them is itself well-formed, so the 400 addressed with them is valid
    SIP the client can match; None for a response, an ACK, or a request
    whose own identity is broken (then it is dropped)."""
    text = data[:8192].decode("utf-8", "replace").lstrip("\r\n")
    lines = text.replace("\r\n", "\n").split("\n")
    first = lines[0].split(" ")
    if len(first) != 3 or first[0].startswith("SIP/") or first[0] == "ACK" or not first[0].isalpha():
        return None
    wanted = {"via": "Via", "v": "Via", "from": "From", "f": "From", "to": "To", "t": "To",
              "call-id": "Call-ID", "i": "Call-ID", "cseq": "CSeq"}
    found: dict[str, str] = {}
    vias: list[str] = []
    for line in lines[1:]:
        if not line:
            break
        name, colon, value = line.partition(":")
        canonical = wanted.get(name.strip().lower())
        if not colon or canonical is None:
            continue
        value = value.strip()
        if any(ord(c) < 32 or ord(c) == 127 or c == "\ufffd" for c in value) or len(value) > 1024:
            return None
        if canonical == "Via":
            vias.append(value)
        elif canonical in found:
            return None  # two From / To / Call-ID / CSeq: whose identity would we answer?
        else:
            found[canonical] = value
    if not vias or set(found) != {"From", "To", "Call-ID", "CSeq"}:
        return None
    try:
        parsed_vias = [parse_via(v) for via in vias for v in via.split(",")]
        parse_name_addr(found["From"], "From")
        parse_name_addr(found["To"], "To")
        parse_cseq(found["CSeq"])
    except SipParseError:
        return None
    if not found["Call-ID"] or any(c in " \t" for c in found["Call-ID"]) or len(parsed_vias) > 32:
        return None
    top = parsed_vias[0]
    headers = [("Via", str(v)) for v in parsed_vias] + [(n, found[n]) for n in ("From", "To", "Call-ID", "CSeq")]
    return headers, (top.host, top.port)
