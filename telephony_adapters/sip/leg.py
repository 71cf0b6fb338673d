"""An outgoing SIP leg: an INVITE to an operator's phone (or a trusted peer)
with its own RTP endpoint, reported to the engine as a `Leg`.

`start_leg` must return at once, but the leg's RTP socket is opened on the
loop; so the leg is made first and a tracked task opens the socket and sends
the INVITE. Cancelled before that (a ring-all another phone won in the same
instant), it sends nothing. The backend routes the core's `Leg*` events here
by key: 180/183 -> `ringing_received`, 2xx -> `answer_received` (media
configured from the answer), a final failure -> `failure_received` with the
status's cause (486 busy, 480/408 no answer, 603 rejected ...), BYE ->
`remote_hangup` by the callee.

Once answered, the phone is an operator's, who may act on the conversation
from it: a re-INVITE (or UPDATE) offering a=sendonly, a=inactive or
c=0.0.0.0 puts it on hold (`hold_received(True)`; our RTP to the phone stops
and the relay forwards nothing of the phone's music or silence), a=sendrecv
takes it off. A REFER asks to hand the caller on: its target goes to
`transfer_received` and nowhere else, and the engine's answer becomes 403
(refused, a Warning says why) or 202 and the NOTIFYs of the outcome
(`referrals`). An engine that does not answer within `DECISION_TIMEOUT`
gets the request refused (``no_decision``) so the phone is not left hanging.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flowengine.telephony import HangupCause, Leg
from telephony_adapters.sip.dialog import new_tag
from telephony_adapters.sip.headers import NameAddr, Uri
from telephony_adapters.sip.media import RtpEndpoint
from telephony_adapters.sip.sdp import Negotiated
from telephony_adapters.sip.transactions import Addr

if TYPE_CHECKING:
    from flowengine.telephony.leg import TransferRequest
    from telephony_adapters.sip.backend import SipBackend

log = logging.getLogger("flowengine.sip.leg")

#: seconds the engine has to accept or refuse a phone's REFER (the phone's
#: REFER transaction gives up after 32 s)
DECISION_TIMEOUT = 10.0
#: seconds an accepted transfer may take before its final NOTIFY says it failed
RESULT_TIMEOUT = 600.0


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a leg's INVITE goes: the Request-URI, the next hop, the To header."""

    uri: Uri
    address: Addr
    to: NameAddr


class SipLeg(Leg):
    def __init__(
        self,
        backend: SipBackend,
        target: str,
        destination: Destination,
        *,
        ring_timeout: float | None,
        caller_id: str,
        caller_name: str | None,
    ) -> None:
        key = new_tag()
        super().__init__(target, ring_timeout=ring_timeout, leg_id=key)
        self.sip = backend
        self.key = key
        self.destination = destination
        self.rtp: RtpEndpoint | None = None
        self.negotiated: Negotiated | None = None
        self._sent = False
        #: the phone's REFER the engine is answering: (its CSeq, the engine's request)
        self._transfer_ref: tuple[int, TransferRequest] | None = None
        self._accepted_refs: set[int] = set()
        backend.legs[key] = self
        backend.spawn(self._dial(caller_id, caller_name), f"sip-leg-{key}")

    async def _dial(self, caller_id: str, caller_name: str | None) -> None:
        sip = self.sip
        try:
            rtp = await RtpEndpoint.open(sip.settings.host, sip.rtp_pool, self._digit, sip.media_clock)
        except OSError as exc:
            log.warning("leg to %s: %s", self.target, exc)
            self.failure_received(HangupCause.from_sip(503, by="system"))
            self._done()
            return
        if self.outcome().done():  # cancelled before the INVITE could go
            sip.release_rtp(rtp)
            self._done()
            return
        self.rtp = rtp
        d = self.destination
        loop = asyncio.get_running_loop()
        sip.core.outgoing.invite(
            loop.time(),
            key=self.key,
            target=d.uri,
            dest=d.address,
            to=d.to,
            caller=caller_id,
            caller_name=caller_name,
            media=(sip.settings.media_address, rtp.port),
            codecs=sip.settings.codecs,
        )
        self._sent = True
        sip.flush()

    def _digit(self, digit: str) -> None:
        """A digit from the phone: heard by the relay (passed through), nothing else."""

    # ---- from the backend ------------------------------------------------------------------
    def progress(self, status: int, early: Negotiated | None) -> None:
        if early is not None:
            self._configure(early)
        self.ringing_received(early_media=early is not None)

    def answered(self, negotiated: Negotiated | None, late: bool) -> None:
        if negotiated is not None:
            self._configure(negotiated)
        self.answer_received()
        if late:
            self._done()

    def failed(self, status: int, q850: int | None) -> None:
        cause = HangupCause.from_sip(status, by="callee")
        self.failure_received(cause)
        self._done()

    def hung_up(self, q850: int | None) -> None:
        cause = HangupCause.from_q850(q850, by="callee") if q850 else HangupCause("callee", "normal", None, 16)
        self.remote_hangup(cause)
        self._done()

    def progress_media(self, negotiated: Negotiated) -> None:
        """The phone moved its media, or put the conversation on hold or
        took it off, with a re-INVITE or UPDATE."""
        self._configure(negotiated)
        self.hold_received(_holding(negotiated))

    def _configure(self, negotiated: Negotiated) -> None:
        self.negotiated = negotiated
        if self.rtp is not None:
            self.rtp.configure(negotiated.remote, negotiated.codec, negotiated.payload_type, negotiated.dtmf_payload_type)
            # the phone holds: send it nothing, and relay nothing of what it sends (music, silence)
            self.rtp.held = _holding(negotiated)

    def referred(self, ref: int, target: str) -> None:
        """The phone asks (REFER) to hand the caller to `target`: the engine decides."""
        request = self.transfer_received(target)
        self.sip.spawn(self._answer_transfer(ref, request), f"sip-refer-{self.key}-{ref}")

    async def _answer_transfer(self, ref: int, request: TransferRequest) -> None:
        """Tell the phone what the engine made of its REFER: 403, or 202 and
        the NOTIFYs of the outcome."""
        referrals = self.sip.core.outgoing.referrals
        if not request.accepted().done():  # (refused at once: not in a call, or another one pending)
            self._transfer_ref = (ref, request)
        try:
            try:
                accepted = await asyncio.wait_for(asyncio.shield(request.accepted()), DECISION_TIMEOUT)
            except TimeoutError:
                log.warning("leg to %s: the engine did not answer the transfer to %s", self.target, request.target[:40])
                request.refuse("no_decision")
                if self.transfer_requested().done() and self.transfer_requested().result() is request:
                    self.transfer_rearm()
                accepted = False
            if not accepted:
                self.sip.command(referrals.refuse, self.key, ref, request.refusal or "refused")
                return
            self._transfer_accepted(ref)
            try:
                ok, reason = await asyncio.wait_for(asyncio.shield(request.result()), RESULT_TIMEOUT)
            except TimeoutError:
                ok, reason = False, "failed"
            self.sip.command(referrals.finish, self.key, ref, ok=ok, reason=reason)
        finally:
            if self._transfer_ref is not None and self._transfer_ref[0] == ref:
                self._transfer_ref = None
            referrals.drop(self.key, ref)

    def _transfer_accepted(self, ref: int) -> None:
        """202 and NOTIFY 100 Trying (once: `release` may have sent them first)."""
        if ref not in self._accepted_refs:
            self._accepted_refs.add(ref)
            self.sip.command(self.sip.core.outgoing.referrals.accept, self.key, ref)

    # ---- Leg primitives ------------------------------------------------------------------------
    def abort_ringing(self, cause: HangupCause) -> None:
        if self._sent:
            self.sip.command(self.sip.core.outgoing.cancel, self.key, q850=cause.q850)
        self._done(keep_key=self._sent)

    def release(self, cause: HangupCause) -> None:
        pending = self._transfer_ref
        if pending is not None and pending[1].accepted().done() and pending[1].accepted().result():
            # the engine accepted the phone's transfer and let the leg go in the
            # same breath: the 202 goes out before our BYE, the NOTIFYs after it
            self._transfer_accepted(pending[0])
        self.sip.command(self.sip.core.outgoing.bye, self.key, q850=cause.q850 or 16)
        self._done()

    def _done(self, *, keep_key: bool = False) -> None:
        """Give the RTP port back; forget the key unless an answer may still
        cross our CANCEL (then the 487 or that answer forgets it)."""
        if self.rtp is not None:
            self.sip.release_rtp(self.rtp)
            self.rtp = None
        if not keep_key:
            self.sip.legs.pop(self.key, None)


def _holding(negotiated: Negotiated) -> bool:
    """Does the phone's offer hold the conversation? (Our mirrored direction
    is recvonly for its sendonly and for c=0.0.0.0, inactive for inactive.)"""
    return negotiated.direction in ("recvonly", "inactive")
