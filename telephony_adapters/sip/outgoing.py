"""Outgoing calls (the UAC side: RFC 3261 §13.2, §9.1, §15), sans-IO.

`OutgoingCalls` belongs to a `SipCore` and shares its transaction layer:
`invite` sends an INVITE with our SDP offer on a client INVITE transaction
(Timers A and B resend and give up), and what the phone answers comes out
as events the backend turns into `Leg` reports:

* 1xx: `LegProgress` (180 ringing, 183 with SDP early media);
* 2xx: the dialog is made from it (remote target from its Contact, route
  set from its Record-Route, reversed: §12.1.2), ACKed at once (and again
  for every resent 2xx), and `LegAnswered` carries the negotiated media;
* 3xx-6xx or Timer B: `LegFailed` with the status (408 for a timeout); the
  transaction has ACKed the response itself.

`cancel` sends CANCEL — only once a provisional response came (§9.1; until
then it is sent as soon as one does); if the phone's 2xx crosses the CANCEL,
the answer is ACKed and hung up with BYE at once and reported as
`LegAnswered` with ``late=True``. `bye` ends an answered leg. From the
phone, in its dialog: BYE (200, `LegHungUp`), INFO dtmf-relay (200,
`LegDtmf`), OPTIONS, a re-INVITE or UPDATE keeping our media (200 with our
SDP, its direction mirroring the offer's, `LegReinvited`: a phone that puts
the conversation on hold offers a=sendonly or a=inactive, or the old
c=0.0.0.0, and we answer recvonly or inactive), and REFER (blind transfer,
`referrals`: `LegReferred`).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from telephony_adapters.sip.core import SipEvent, _dtmf_relay, _q850
from telephony_adapters.sip.dialog import (
    Dialog,
    make_response,
    new_branch,
    new_tag,
    response_address,
)
from telephony_adapters.sip.errors import SdpError, SipParseError
from telephony_adapters.sip.headers import NameAddr, Uri, Via, parse_name_addr
from telephony_adapters.sip.message import Request, Response
from telephony_adapters.sip.referrals import Referrals
from telephony_adapters.sip.sdp import Negotiated, negotiate, parse_sdp, render
from telephony_adapters.sip.transactions import (
    Addr,
    ResponseReceived,
    ServerInviteTransaction,
    TransactionEvent,
    TransactionTimeout,
    client_key,
)

if TYPE_CHECKING:
    from telephony_adapters.sip.core import SipCore

log = logging.getLogger("flowengine.sip.outgoing")
ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REFER"
#: c= addresses that mean "hold" (RFC 2543; RFC 3264 §8.4 keeps them meaningful)
HOLD_ADDRESSES = ("0.0.0.0", "::")


# ---- events ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class LegProgress(SipEvent):
    """A provisional response: 180, or 183 (`early` set when it carried usable SDP)."""

    status: int
    early: Negotiated | None = None


@dataclass(frozen=True, slots=True)
class LegAnswered(SipEvent):
    """The phone answered (ACK sent). `late`: it crossed our CANCEL and is
    being hung up already."""

    negotiated: Negotiated | None
    late: bool = False


@dataclass(frozen=True, slots=True)
class LegFailed(SipEvent):
    """Ringing ended without an answer: the final status (408 for Timer B)."""

    status: int
    q850: int | None = None


@dataclass(frozen=True, slots=True)
class LegHungUp(SipEvent):
    """The phone sent BYE."""

    q850: int | None = None


@dataclass(frozen=True, slots=True)
class LegDtmf(SipEvent):
    """A digit the phone sent as SIP INFO."""

    digit: str


@dataclass(frozen=True, slots=True)
class LegReinvited(SipEvent):
    negotiated: Negotiated


@dataclass(slots=True)
class _Out:
    key: str
    invite: Request
    dest: Addr
    codecs: tuple[str, ...]
    tx_key: tuple[str, ...]
    #: calling -> ringing -> answered -> ended
    state: str = "calling"
    provisional: bool = False
    cancel_pending: bool = False
    cancel_q850: int | None = None
    cancelled: bool = False
    dialog: Dialog | None = None
    negotiated: Negotiated | None = None
    ack: bytes | None = None
    ack_to: Addr | None = None
    #: our SDP's o= session id and version (each answer to a new offer adds one)
    sdp_session: int = 0
    sdp_version: int = 1
    #: the server transaction of the phone's last re-INVITE (its 2xx is resent until the ACK)
    reinvite_tx: ServerInviteTransaction | None = None
    #: that re-INVITE had no SDP: our 2xx made the offer, and the phone's ACK brings the answer
    offer_in_ack: bool = False


class OutgoingCalls:
    """The UAC legs of one core, by key (our From-tag)."""

    def __init__(self, core: SipCore) -> None:
        self.core = core
        self._legs: dict[str, _Out] = {}
        #: client INVITE transaction key -> leg key
        self._by_tx: dict[tuple[str, ...], str] = {}
        #: (Call-ID, our tag) -> leg key, for requests the phone sends in the dialog
        self._dialogs: dict[tuple[str, str], str] = {}
        #: the phones' blind-transfer requests (REFER) and their NOTIFYs
        self.referrals = Referrals(core)

    def __len__(self) -> int:
        return len(self._legs)

    def has_dialog(self, key: str) -> bool:
        """Is leg `key` still in its dialog (ringing or answered)?"""
        return key in self._legs

    # ---- commands ---------------------------------------------------------------------------
    def invite(
        self,
        now: float,
        *,
        key: str | None = None,
        target: Uri,
        dest: Addr,
        to: NameAddr,
        caller: str,
        caller_name: str | None,
        media: Addr,
        codecs: tuple[str, ...],
        headers: list[tuple[str, str]] | None = None,
    ) -> str:
        """Send an INVITE to `target` at `dest` offering `codecs` at `media`;
        the leg's key (`key`, or a new one), which is also our From-tag."""
        core = self.core
        key = key or new_tag()
        host, port = core.local
        user = "".join(c for c in caller if c.isalnum() or c in "+-_.*#") or "anonymous"
        from_ = NameAddr(Uri("sip", user, host, port), caller_name or None, {"tag": key})
        call_id = f"{secrets.token_hex(12)}@{host}"
        via = Via("UDP", host, port, {"branch": new_branch(), "rport": None})
        pts = {"PCMU": 0, "PCMA": 8}
        body = render(
            address=media[0],
            port=media[1],
            session_id=int(now * 1000) % 2**31,
            version=1,
            codecs=tuple((pts[c], c) for c in codecs),
        )
        out: list[tuple[str, str]] = [
            ("Via", str(via)),
            ("Max-Forwards", "70"),
            ("From", str(from_)),
            ("To", str(to)),
            ("Call-ID", call_id),
            ("CSeq", "1 INVITE"),
            ("Contact", core.contact()),
            ("Allow", ALLOW),
            ("User-Agent", core.user_agent),
        ]
        out += headers or []
        out.append(("Content-Type", "application/sdp"))
        req = Request(headers=out, body=body, method="INVITE", uri=target)
        req.vias, req.from_, req.to, req.call_id, req.cseq = [via], from_, to, call_id, (1, "INVITE")
        tx = core.layer.new_client(req, dest, now)
        leg = _Out(key, req, dest, codecs, tx.key, sdp_session=int(now * 1000) % 2**31)
        self._legs[key] = leg
        self._by_tx[tx.key] = key
        return key

    def cancel(self, key: str, now: float, *, q850: int | None = None) -> None:
        """Stop ringing (CANCEL; after an answer that crossed it, ACK + BYE)."""
        leg = self._legs.get(key)
        if leg is None or leg.cancelled:
            return
        leg.cancelled = True
        leg.cancel_q850 = q850
        if leg.state == "answered":
            self.bye(key, now, q850=q850)
        elif leg.provisional:
            self._send_cancel(leg, now)
        else:
            leg.cancel_pending = True

    def bye(self, key: str, now: float, *, q850: int | None = None) -> None:
        """End an answered leg (BYE); a leg still ringing is cancelled instead."""
        leg = self._legs.get(key)
        if leg is None:
            return
        if leg.state != "answered" or leg.dialog is None:
            self.cancel(key, now, q850=q850)
            return
        headers = [("Reason", f"Q.850;cause={q850}")] if q850 else []
        host, port = self.core.local
        req, where = leg.dialog.request("BYE", via_host=host, via_port=port, headers=headers, fallback=leg.dest)
        self.core.layer.new_client(req, where, now)
        self._close(leg)

    # ---- from the core ------------------------------------------------------------------------
    def transaction_event(self, ev: TransactionEvent, now: float) -> bool:
        """A client transaction event; True if it was one of our INVITEs'."""
        key = self._by_tx.get(ev.key)
        if key is None:
            return False
        leg = self._legs.get(key)
        if isinstance(ev, TransactionTimeout):
            self._by_tx.pop(ev.key, None)
            if leg is not None and leg.state in ("calling", "ringing"):
                self._fail(leg, 408)
            return True
        if not isinstance(ev, ResponseReceived):
            return True
        resp = ev.response
        if resp.status >= 300 or leg is None:
            if resp.status >= 300:
                self._by_tx.pop(ev.key, None)
            if leg is not None and leg.state in ("calling", "ringing"):
                self._fail(leg, resp.status, resp)
            return True
        if resp.status < 200:
            self._provisional(leg, resp, now)
        else:
            self._answered(leg, resp, now)
        return True

    def request(self, req: Request, peer: Addr, now: float) -> bool:
        """A request inside one of our dialogs; True if it was (and is answered)."""
        to_tag = req.to.tag if req.to else None
        key = self._dialogs.get((req.call_id, to_tag or ""))
        leg = self._legs.get(key) if key else None
        if leg is None or leg.dialog is None:
            return False
        if req.from_ is not None and req.from_.tag != leg.dialog.remote_tag:
            return False
        core = self.core
        method = req.method
        if method == "ACK":
            tx = leg.reinvite_tx
            if tx is not None and tx.request.cseq[0] == req.cseq[0]:
                tx.ack_received()  # the 2xx of its re-INVITE arrived: stop resending it
                leg.reinvite_tx = None
                if leg.offer_in_ack:
                    leg.offer_in_ack = False
                    self._answer_in_ack(leg, req)
            return True
        if req.cseq[0] <= leg.dialog.remote_seq:
            core._respond_new(req, peer, now, 500, headers=[("Retry-After", "1")])  # out of order (§12.2.2)
            return True
        leg.dialog.remote_seq = req.cseq[0]
        if method == "BYE":
            core._respond_new(req, peer, now, 200)
            self._close(leg)
            core._events.append(LegHungUp(leg.key, _q850(req.get("Reason"))))
        elif method == "INFO":
            core._respond_new(req, peer, now, 200)
            digit = _dtmf_relay(req)
            if digit is not None:
                core._events.append(LegDtmf(leg.key, digit))
        elif method == "OPTIONS":
            core._respond_new(req, peer, now, 200)
        elif method == "INVITE":
            self._reinvite(leg, req, peer, now)
        elif method == "UPDATE":
            self._reinvite(leg, req, peer, now)
        elif method == "REFER":
            self.referrals.received(leg.key, leg.dialog, leg.dest, req, peer, now)
        else:
            core._respond_new(req, peer, now, 405, headers=[("Allow", ALLOW)])
        return True

    # ---- internals -------------------------------------------------------------------------------
    def _provisional(self, leg: _Out, resp: Response, now: float) -> None:
        leg.provisional = True
        if leg.cancel_pending:
            leg.cancel_pending = False
            self._send_cancel(leg, now)
            return
        if resp.status == 100 or leg.cancelled:
            return
        early: Negotiated | None = None
        if resp.body and resp.status == 183:
            try:
                early = negotiate(parse_sdp(resp.body), leg.codecs)
            except SdpError as exc:
                log.info("leg %s: unusable SDP in 183 (%s)", leg.key, exc)
        leg.state = "ringing"
        self.core._events.append(LegProgress(leg.key, resp.status, early))

    def _answered(self, leg: _Out, resp: Response, now: float) -> None:
        if leg.dialog is not None:
            # a resent 2xx (our ACK was lost): ACK it again
            if leg.ack is not None and leg.ack_to is not None and resp.to and resp.to.tag == leg.dialog.remote_tag:
                self.core._stateless.append((leg.ack, leg.ack_to))
            return
        try:
            dialog = _uac_dialog(leg.invite, resp)
        except SipParseError as exc:
            log.info("leg %s: bad 2xx (%s); hanging up", leg.key, exc)
            dialog = None
        negotiated: Negotiated | None = None
        if dialog is not None:
            try:
                negotiated = negotiate(parse_sdp(resp.body), leg.codecs) if resp.body else None
            except SdpError as exc:
                log.info("leg %s: unusable SDP answer (%s)", leg.key, exc)
        if dialog is None:
            self._fail(leg, 502)
            return
        leg.dialog = dialog
        self._dialogs[(dialog.call_id, dialog.local_tag)] = leg.key
        self._send_ack(leg)
        leg.state = "answered"
        leg.negotiated = negotiated
        late = leg.cancelled
        if late or negotiated is None:
            self.bye(leg.key, now, q850=leg.cancel_q850 or (None if late else 47))
            if not late:
                self.core._events.append(_failed(leg.key, 488))
                return
        self.core._events.append(LegAnswered(leg.key, negotiated, late))

    def _send_ack(self, leg: _Out) -> None:
        dialog = leg.dialog
        assert dialog is not None
        host, port = self.core.local
        seq = dialog.local_seq
        dialog.local_seq = leg.invite.cseq[0] - 1
        ack, where = dialog.request("ACK", via_host=host, via_port=port, fallback=leg.dest)
        dialog.local_seq = seq
        leg.ack, leg.ack_to = ack.to_bytes(), where
        self.core._stateless.append((leg.ack, where))

    def _send_cancel(self, leg: _Out, now: float) -> None:
        inv = leg.invite
        headers: list[tuple[str, str]] = [("Via", str(inv.top_via))]
        for name in ("Max-Forwards", "From", "To", "Call-ID"):
            value = inv.get(name)
            if value is not None:
                headers.append((name, value))
        headers.append(("CSeq", f"{inv.cseq[0]} CANCEL"))
        headers.extend(("Route", r) for r in inv.get_all("Route"))
        if leg.cancel_q850:
            headers.append(("Reason", f"Q.850;cause={leg.cancel_q850}"))
        req = Request(headers=headers, method="CANCEL", uri=inv.uri)
        req.vias, req.from_, req.to, req.call_id, req.cseq = [inv.top_via], inv.from_, inv.to, inv.call_id, (inv.cseq[0], "CANCEL")
        if client_key(inv.top_via.branch or "", "CANCEL") in self.core.layer.client:
            return
        self.core.layer.new_client(req, leg.dest, now)

    def _reinvite(self, leg: _Out, req: Request, peer: Addr, now: float) -> None:
        """The phone moves or holds its media (re-INVITE or UPDATE with an
        offer): answer with ours, in the direction that mirrors its offer.
        An UPDATE without a body (a session refresh) just gets 200."""
        core = self.core
        tx = core.layer.new_server(req, response_address(req, peer))
        if req.method == "UPDATE" and not req.body:
            tx.respond(make_response(req, 200, headers=[("Contact", core.contact())], server=core.user_agent), now)
            return
        negotiated: Negotiated | None = None
        if req.method == "INVITE" and not req.body and leg.negotiated is not None:
            # a delayed offer (RFC 3261 §14.2): we offer our media as it is, the ACK answers
            current = leg.negotiated
            body = self._our_sdp(leg, replace(current, direction="sendrecv"))
            leg.offer_in_ack = True
        else:
            try:
                negotiated = negotiate(parse_sdp(req.body), leg.codecs) if req.body else None
            except SdpError as exc:
                log.info("leg %s: unusable offer in a %s (%s)", leg.key, req.method, exc)
                negotiated = None
            if negotiated is None or leg.negotiated is None:
                tx.respond(make_response(req, 488, server=core.user_agent), now)
                return
            negotiated = _hold_by_address(negotiated)
            body = self._our_sdp(leg, negotiated)
        tx.respond(
            make_response(
                req, 200, headers=[("Contact", core.contact()), ("Content-Type", "application/sdp")], body=body,
                server=core.user_agent,
            ),
            now,
        )
        if isinstance(tx, ServerInviteTransaction):
            leg.reinvite_tx = tx
        if leg.offer_in_ack or negotiated is None:
            return  # (a delayed offer: what the phone wants is in its ACK)
        leg.negotiated = negotiated
        core._events.append(LegReinvited(leg.key, negotiated))

    def _our_sdp(self, leg: _Out, negotiated: Negotiated) -> bytes:
        """Our SDP for `negotiated` (one more version of our session)."""
        media = _offer_media(leg.invite)
        leg.sdp_version += 1
        return render(
            address=media[0],
            port=media[1],
            session_id=leg.sdp_session,
            version=leg.sdp_version,
            codecs=((negotiated.payload_type, negotiated.codec),),
            dtmf_payload_type=negotiated.dtmf_payload_type,
            direction=negotiated.direction,
        )

    def _answer_in_ack(self, leg: _Out, ack: Request) -> None:
        """The phone's answer to the offer in our 2xx: where its media goes now,
        and whether it holds. An ACK without a usable answer changes nothing."""
        try:
            negotiated = negotiate(parse_sdp(ack.body), leg.codecs) if ack.body else None
        except SdpError as exc:
            log.info("leg %s: unusable answer in an ACK (%s)", leg.key, exc)
            return
        if negotiated is None:
            return
        negotiated = _hold_by_address(negotiated)
        leg.negotiated = negotiated
        self.core._events.append(LegReinvited(leg.key, negotiated))

    def _fail(self, leg: _Out, status: int, resp: Response | None = None) -> None:
        q850: int | None = None
        if resp is not None:
            q850 = _q850(resp.get("Reason"))
        self._close(leg)
        # also for a cancelled leg (the 487): its owner forgets it then
        self.core._events.append(_failed(leg.key, status, q850))

    def _close(self, leg: _Out) -> None:
        leg.state = "ended"
        self._legs.pop(leg.key, None)
        self._by_tx.pop(leg.tx_key, None)
        if leg.dialog is not None:
            self._dialogs.pop((leg.dialog.call_id, leg.dialog.local_tag), None)
        leg.reinvite_tx = None
        self.referrals.forget_leg(leg.key)


def _failed(key: str, status: int, q850: int | None = None) -> LegFailed:
    return LegFailed(key, status, q850)


def _offer_media(invite: Request) -> Addr:
    offer = parse_sdp(invite.body)
    audio = offer.audio()
    address = (audio.connection if audio else None) or offer.connection or "127.0.0.1"
    return address, audio.port if audio else 0


def _uac_dialog(invite: Request, resp: Response) -> Dialog:
    """The dialog a 2xx to our INVITE makes (§12.1.2)."""
    if resp.to is None or not resp.to.tag:
        raise SipParseError("a 2xx without a To-tag", header="To")
    contact = resp.get("Contact")
    if not contact:
        raise SipParseError("a 2xx without Contact", header="Contact")
    assert invite.from_ is not None and invite.to is not None
    routes = [r.strip() for value in reversed(resp.get_all("Record-Route")) for r in reversed(value.split(","))]
    return Dialog(
        call_id=invite.call_id,
        local_tag=invite.from_.tag or "",
        remote_tag=resp.to.tag,
        local_uri=NameAddr(invite.from_.uri, invite.from_.display),
        remote_uri=NameAddr(resp.to.uri, resp.to.display),
        remote_target=parse_name_addr(contact, "Contact").uri,
        route_set=routes,
        local_seq=invite.cseq[0],
        remote_seq=0,
    )


def _hold_by_address(negotiated: Negotiated) -> Negotiated:
    """The old way to hold, c=0.0.0.0 with sendrecv, read as a hold."""
    if negotiated.remote[0] in HOLD_ADDRESSES and negotiated.direction == "sendrecv":
        return replace(negotiated, direction="recvonly")
    return negotiated
