"""Blind transfer asked by an operator's phone (REFER in the dialog of our
outgoing leg to it, RFC 3515), sans-IO.

The phone's REFER names whom to hand the caller to in Refer-To: a SIP URI
(its user part: ``<sip:905@host>``) or a ``tel:`` number. `Referrals.received`
reads that target and reports `LegReferred`; nothing is dialled here: the
backend hands the target to the engine (`Leg.transfer_received`), which
decides. The answer comes back as a command:

* `refuse(key, now, ref, reason)`: 403 with a ``Warning`` naming why (the
  engine's refusal: unknown_target, dial_blocked, pending ...);
* `accept(key, now, ref)`: 202 Accepted, then NOTIFY ``SIP/2.0 100 Trying``
  (``Event: refer``, ``Subscription-State: active``);
* `finish(key, now, ref, ok=, reason=)`: the final NOTIFY, ``SIP/2.0 200 OK``
  or the failure's status (486 busy, 480 no_answer, 603 rejected, 487
  hangup, 500 failed), ``Subscription-State: terminated;reason=noresource``.

The subscription the REFER made outlives the call's INVITE usage (RFC 5057):
the engine releases the operator's leg (BYE) as soon as it accepts, and the
phone often hangs up itself right after the 202; the final NOTIFY still goes
out in the dialog. A REFER with ``Refer-Sub: false`` (RFC 4488) gets 202 and
no NOTIFY. An attended transfer (Refer-To with ``?Replaces=``) is answered
501: only blind transfer is offered.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote

from telephony_adapters.sip.core import SipEvent
from telephony_adapters.sip.dialog import REASONS, Dialog, make_response, response_address
from telephony_adapters.sip.errors import SipParseError
from telephony_adapters.sip.headers import parse_name_addr
from telephony_adapters.sip.message import Request
from telephony_adapters.sip.transactions import Addr, ServerInviteTransaction, ServerTransaction

if TYPE_CHECKING:
    from telephony_adapters.sip.core import SipCore

log = logging.getLogger("flowengine.sip.referrals")

#: the final NOTIFY's sipfrag status for each way a transfer can fail
FAILURE_STATUS = {"busy": 486, "no_answer": 480, "rejected": 603, "hangup": 487, "failed": 500}
#: how long the phone's subscription to the transfer's progress lasts (the
#: final NOTIFY ends it earlier)
SUBSCRIPTION_SECONDS = 600
MAX_TARGET = 64
_TARGET_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+*#._-")


@dataclass(frozen=True, slots=True)
class LegReferred(SipEvent):
    """The phone of an outgoing leg asks to hand the caller to `target`;
    `ref` (the REFER's CSeq number) names the request in the answer."""

    ref: int
    target: str


@dataclass(slots=True)
class _Referral:
    key: str
    ref: int
    dialog: Dialog
    dest: Addr
    tx: ServerInviteTransaction | ServerTransaction | None
    #: the phone wants NOTIFYs (not ``Refer-Sub: false``)
    subscribed: bool
    #: the NOTIFY's Event header (``refer;id=N`` from the second REFER of a dialog on)
    event: str


class BadRefer(Exception):
    """A REFER we answer with `status` without asking the engine."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status


def refer_target(req: Request) -> str:
    """The number or extension a REFER's Refer-To names (BadRefer if none)."""
    values = req.get_all("Refer-To")
    if len(values) != 1:
        raise BadRefer(400, "a REFER needs exactly one Refer-To")
    try:
        uri = parse_name_addr(values[0], "Refer-To").uri
    except SipParseError as exc:
        raise BadRefer(400, str(exc)) from None
    if uri.is_sip:
        if "replaces" in unquote(uri.headers).lower():
            raise BadRefer(501, "attended transfer (Replaces) is not offered; use blind transfer")
        user = unquote((uri.user or "").split(";")[0])
    elif uri.scheme == "tel":
        # RFC 3966 visual separators are not part of the number
        user = "".join(c for c in unquote((uri.user or "").split(";")[0]) if c not in "-.()")
    else:
        raise BadRefer(416, f"Refer-To scheme {uri.scheme[:10]!r} (sip: or tel: only)")
    if not user:
        raise BadRefer(400, "Refer-To names no number or extension")
    if len(user) > MAX_TARGET or not set(user) <= _TARGET_CHARS:
        raise BadRefer(400, f"Refer-To target {user[:MAX_TARGET]!r} is not a number or extension")
    return user


class Referrals:
    """The REFERs of one core's outgoing legs, by (leg key, REFER CSeq)."""

    def __init__(self, core: SipCore) -> None:
        self.core = core
        self._live: dict[tuple[str, int], _Referral] = {}
        #: REFERs seen per leg key (for the NOTIFY's id parameter)
        self._count: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._live)

    # ---- from OutgoingCalls --------------------------------------------------------------------
    def received(self, key: str, dialog: Dialog, dest: Addr, req: Request, peer: Addr, now: float) -> None:
        """A REFER in the dialog of leg `key`: a clear refusal now, or `LegReferred`."""
        core = self.core
        tx = core.layer.new_server(req, response_address(req, peer))
        try:
            target = refer_target(req)
        except BadRefer as exc:
            reason = f"{REASONS.get(exc.status, 'Unsupported URI Scheme')} ({exc})"
            tx.respond(make_response(req, exc.status, reason=reason, server=core.user_agent), now)
            return
        ref = req.cseq[0]
        count = self._count.get(key, 0) + 1
        self._count[key] = count
        subscribed = (req.get("Refer-Sub") or "true").strip().lower() != "false"
        event = "refer" if count == 1 else f"refer;id={ref}"
        self._live[(key, ref)] = _Referral(key, ref, dialog, dest, tx, subscribed, event)
        core._events.append(LegReferred(key, ref, target))  # noqa: SLF001 (the core's helper module)

    def forget_leg(self, key: str) -> None:
        """Forget what is kept of leg `key` once its dialog is over and no
        referral of it is live."""
        if not self.core.outgoing.has_dialog(key) and not any(k == key for k, _ in self._live):
            self._count.pop(key, None)

    # ---- commands ----------------------------------------------------------------------------------
    def refuse(self, key: str, now: float, ref: int, reason: str) -> None:
        referral = self._live.pop((key, ref), None)
        if referral is None:
            return
        warning = f'399 {self.core.local[0]} "transfer refused: {_safe(reason)}"'
        self._respond(referral, 403, now, reason=f"Forbidden ({_safe(reason)})", headers=[("Warning", warning)])
        self.forget_leg(key)

    def accept(self, key: str, now: float, ref: int) -> None:
        referral = self._live.get((key, ref))
        if referral is None or referral.tx is None:
            return
        headers = [("Contact", self.core.contact())]
        if not referral.subscribed:
            headers.append(("Refer-Sub", "false"))
        self._respond(referral, 202, now, reason="Accepted", headers=headers)
        if not referral.subscribed:
            self.drop(key, ref)
            return
        self._notify(referral, now, 100, f"active;expires={SUBSCRIPTION_SECONDS}")

    def finish(self, key: str, now: float, ref: int, *, ok: bool, reason: str) -> None:
        """The transfer's outcome: the final NOTIFY, which ends the subscription."""
        referral = self._live.pop((key, ref), None)
        if referral is None:
            return
        if referral.tx is not None:  # (not answered yet: the engine accepted and finished at once)
            self._respond(referral, 202, now, reason="Accepted", headers=[("Contact", self.core.contact())])
        status = 200 if ok else FAILURE_STATUS.get(reason, 500)
        if referral.subscribed:
            self._notify(referral, now, status, "terminated;reason=noresource")
        self.forget_leg(key)

    def drop(self, key: str, ref: int) -> None:
        """Forget a referral without a word more (shutdown, or it is settled)."""
        self._live.pop((key, ref), None)
        self.forget_leg(key)

    # ---- internals ---------------------------------------------------------------------------------
    def _respond(
        self, referral: _Referral, status: int, now: float, *, reason: str, headers: list[tuple[str, str]]
    ) -> None:
        tx, referral.tx = referral.tx, None
        if tx is None or tx.state not in ("trying", "proceeding"):
            return  # answered already, or the phone gave up on the REFER (Timer F)
        tx.respond(make_response(tx.request, status, reason=reason, headers=headers, server=self.core.user_agent), now)

    def _notify(self, referral: _Referral, now: float, status: int, state: str) -> None:
        core = self.core
        host, port = core.local
        body = f"SIP/2.0 {status} {REASONS.get(status, 'Unknown')}\r\n".encode("ascii")
        req, where = referral.dialog.request(
            "NOTIFY",
            via_host=host,
            via_port=port,
            contact=core.contact(),
            headers=[
                ("Event", referral.event),
                ("Subscription-State", state),
                ("Content-Type", "message/sipfrag;version=2.0"),
            ],
            body=body,
            fallback=referral.dest,
        )
        core.layer.new_client(req, where, now)


def _safe(text: str) -> str:
    """A refusal reason as a token fit for a reason phrase and a quoted warning."""
    return "".join(c if c.isascii() and (c.isalnum() or c in "_-.") else "_" for c in text)[:60] or "refused"
