"""An operator's phone asks to hand the caller on (REFER in the dialog of our
leg to it): the engine decides, the phone hears the decision.

The REFER's target (`referrals.LegReferred`) goes to `Leg.transfer_received`
and nowhere else: nothing is dialled on the phone's word. The engine's
answer to the `TransferRequest` goes back through `referrals`: a refusal is
403 with a Warning naming the reason, an acceptance 202 and NOTIFY 100
Trying, and the request's result the final NOTIFY. An engine that does not
answer within `DECISION_TIMEOUT` gets the request refused (``no_decision``)
so the phone's REFER does not die unanswered (its transaction gives up
after 32 s), and the leg takes requests again.

The engine lets the operator go (`Leg.hangup`, our BYE) once it accepts,
possibly in the same breath as `accept()`: `before_release` then sends the
202 before that BYE; the final NOTIFY follows it in the same dialog.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flowengine.telephony.leg import TransferRequest
    from telephony_adapters.sip.leg import SipLeg

log = logging.getLogger("flowengine.sip.leg")

#: seconds the engine has to accept or refuse a phone's REFER
DECISION_TIMEOUT = 10.0
#: seconds an accepted transfer may take before its final NOTIFY says it failed
RESULT_TIMEOUT = 600.0


def referred(leg: SipLeg, ref: int, target: str) -> None:
    """The phone of `leg` asks (REFER with CSeq `ref`) to hand the caller to `target`."""
    request = leg.transfer_received(target)
    leg.sip.spawn(_answer(leg, ref, request), f"sip-refer-{leg.key}-{ref}")


async def _answer(leg: SipLeg, ref: int, request: TransferRequest) -> None:
    """Tell the phone what the engine made of its REFER: 403, or 202 and the NOTIFYs of the outcome."""
    sip = leg.sip
    referrals = sip.core.outgoing.referrals
    key = leg.key
    if not request.accepted().done():  # (else refused at once: not in a call, or another one pending)
        leg.transfer_pending = (ref, request)
    try:
        try:
            accepted = await asyncio.wait_for(asyncio.shield(request.accepted()), DECISION_TIMEOUT)
        except TimeoutError:
            log.warning("leg to %s: the engine did not answer the transfer to %s", leg.target, request.target[:40])
            request.refuse("no_decision")
            if leg.transfer_requested().done() and leg.transfer_requested().result() is request:
                leg.transfer_rearm()
            accepted = False
        if not accepted:
            sip.command(referrals.refuse, key, ref, request.refusal or "refused")
            return
        sip.command(referrals.accept, key, ref)  # (nothing more if `before_release` sent it)
        try:
            ok, reason = await asyncio.wait_for(asyncio.shield(request.result()), RESULT_TIMEOUT)
        except TimeoutError:
            ok, reason = False, "failed"
        sip.command(referrals.finish, key, ref, ok=ok, reason=reason)
    finally:
        if leg.transfer_pending is not None and leg.transfer_pending[0] == ref:
            leg.transfer_pending = None
        referrals.drop(key, ref)


def before_release(leg: SipLeg) -> None:
    """The engine lets `leg` go: if it has just accepted the phone's transfer,
    the 202 and NOTIFY 100 go out now, before our BYE."""
    pending = leg.transfer_pending
    if pending is None:
        return
    ref, request = pending
    if request.accepted().done() and request.accepted().result():
        leg.sip.command(leg.sip.core.outgoing.referrals.accept, leg.key, ref)
