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
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flowengine.telephony import HangupCause, Leg
from telephony_adapters.sip import phonetransfer
from telephony_adapters.sip.dialog import new_tag
from telephony_adapters.sip.headers import NameAddr, Uri
from telephony_adapters.sip.media import RtpEndpoint
from telephony_adapters.sip.sdp import Negotiated
from telephony_adapters.sip.transactions import Addr

if TYPE_CHECKING:
    from flowengine.telephony.leg import TransferRequest
    from telephony_adapters.sip.backend import SipBackend

log = logging.getLogger("flowengine.sip.leg")


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a leg's INVITE goes: the Request-URI, the next hop, the To header."""

    uri: Uri
    address: Addr
    to: NameAddr


class SipLeg(Leg):
    #: the phone's REFER the engine is deciding on: (its CSeq, the engine's request); `phonetransfer`
    transfer_pending: tuple[int, TransferRequest] | None = None

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
        """The phone moved (or held) its media with a re-INVITE."""
        self._configure(negotiated)
        self.hold_received(negotiated.held)  # (a=sendonly, a=inactive or c=0.0.0.0: the operator holds)

    def _configure(self, negotiated: Negotiated) -> None:
        self.negotiated = negotiated
        if self.rtp is not None:
            self.rtp.configure(negotiated.remote, negotiated.codec, negotiated.payload_type, negotiated.dtmf_payload_type)
            # the phone holds: send it nothing, and relay nothing of what it sends (music, silence)
            self.rtp.held = negotiated.held

    # ---- Leg primitives ------------------------------------------------------------------------
    def abort_ringing(self, cause: HangupCause) -> None:
        if self._sent:
            self.sip.command(self.sip.core.outgoing.cancel, self.key, q850=cause.q850)
        self._done(keep_key=self._sent)

    def release(self, cause: HangupCause) -> None:
        phonetransfer.before_release(self)  # (a transfer the engine just accepted: its 202 goes first)
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
