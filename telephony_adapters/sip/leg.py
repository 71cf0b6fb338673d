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

A leg may have several destinations (an operator's account registered from
a desk phone and a softphone): it is forked, back to back, one INVITE per
contact with its own key and RTP port, and one `Leg` to the engine. The
first 2xx wins: the leg takes that INVITE's key and RTP endpoint, the other
INVITEs get CANCEL (Q.850 26, answered elsewhere), and one whose 2xx crossed
the CANCEL gets ACK + BYE. A failure of one INVITE (busy, declined) fails
nothing while another still rings; when all have failed the leg's outcome is
the best of theirs: busy, then rejected, then no answer, then failed (a
person at one of the phones says more than a phone that was off).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flowengine.telephony import DialOutcome, HangupCause, Leg
from flowengine.telephony.causes import ANSWERED_ELSEWHERE, SEND
from telephony_adapters.sip import phonetransfer
from telephony_adapters.sip.core import SipEvent
from telephony_adapters.sip.dialog import new_tag
from telephony_adapters.sip.headers import NameAddr, Uri
from telephony_adapters.sip.media import RtpEndpoint
from telephony_adapters.sip.outgoing import LegAnswered, LegFailed, LegProgress
from telephony_adapters.sip.sdp import Negotiated
from telephony_adapters.sip.transactions import Addr

if TYPE_CHECKING:
    from flowengine.telephony.leg import TransferRequest
    from telephony_adapters.sip.backend import SipBackend

log = logging.getLogger("flowengine.sip.leg")

#: when every INVITE of a forked leg failed, the leg's outcome is the first of these any of them had
_BEST_FAILURE = (DialOutcome.BUSY, DialOutcome.REJECTED, DialOutcome.NO_ANSWER, DialOutcome.FAILED)
#: the Reason of the CANCEL to the phones that lost the race (Q.850 26)
_ELSEWHERE_Q850 = SEND[ANSWERED_ELSEWHERE][1]


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a leg's INVITE goes: the Request-URI, the next hop, the To header."""

    uri: Uri
    address: Addr
    to: NameAddr


class _Branch:
    """One INVITE of a leg: one contact of the account.

    ``dialing`` (no INVITE yet) -> ``calling`` -> ``ringing`` -> ``answered``;
    or ``stopping`` (CANCEL sent: its 487, or a 2xx that crossed it, is
    still to come) and ``ended``."""

    __slots__ = ("key", "destination", "rtp", "state", "cause")

    def __init__(self, key: str, destination: Destination) -> None:
        self.key = key
        self.destination = destination
        self.rtp: RtpEndpoint | None = None
        self.state = "dialing"
        #: why it failed (its final response)
        self.cause: HangupCause | None = None

    @property
    def pending(self) -> bool:
        return self.state in ("dialing", "calling", "ringing")


class SipLeg(Leg):
    #: the phone's REFER the engine is deciding on: (its CSeq, the engine's request); `phonetransfer`
    transfer_pending: tuple[int, TransferRequest] | None = None

    def __init__(
        self,
        backend: SipBackend,
        target: str,
        destination: Destination | Sequence[Destination],
        *,
        ring_timeout: float | None,
        caller_id: str,
        caller_name: str | None,
    ) -> None:
        destinations = [destination] if isinstance(destination, Destination) else list(destination)
        if not destinations:
            raise ValueError(f"a leg to {target} needs a destination")
        branches = [_Branch(new_tag(), d) for d in destinations]
        key = branches[0].key
        super().__init__(target, ring_timeout=ring_timeout, leg_id=key)
        self.sip = backend
        #: the INVITE the leg is: the first one while ringing, the one answered once answered
        self.key = key
        self.destination = destinations[0]
        #: the RTP endpoint of the answered INVITE (None before the answer)
        self.rtp: RtpEndpoint | None = None
        self.negotiated: Negotiated | None = None
        #: one INVITE per destination, by key
        self.branches = {b.key: b for b in branches}
        for b in branches:
            backend.legs[b.key] = self
        backend.spawn(self._dial(caller_id, caller_name), f"sip-leg-{key}")

    async def _dial(self, caller_id: str, caller_name: str | None) -> None:
        sip = self.sip
        for branch in self.branches.values():
            try:
                branch.rtp = await RtpEndpoint.open(sip.settings.host, sip.rtp_pool, self._digit, sip.media_clock)
            except OSError as exc:
                log.warning("leg to %s: %s", self.target, exc)
                self._branch_failed(branch, 503, by="system")
                continue
            if self.outcome().done():  # cancelled before the INVITEs could go
                self._done()
                return
        loop = asyncio.get_running_loop()
        for branch in self.branches.values():
            if branch.state != "dialing" or branch.rtp is None:
                continue
            d = branch.destination
            sip.core.outgoing.invite(
                loop.time(),
                key=branch.key,
                target=d.uri,
                dest=d.address,
                to=d.to,
                caller=caller_id,
                caller_name=caller_name,
                media=(sip.settings.media_address, branch.rtp.port),
                codecs=sip.settings.codecs,
            )
            branch.state = "calling"
        sip.flush()

    def _digit(self, digit: str) -> None:
        """A digit from the phone: heard by the relay (passed through), nothing else."""

    # ---- from the backend ------------------------------------------------------------------
    def branch_event(self, ev: SipEvent) -> bool:
        """An event of one of this leg's INVITEs while the leg rings, or of
        one that lost the race; False for the answered INVITE's own dialog
        (its BYE, re-INVITE ...: the backend's usual handling)."""
        branch = self.branches.get(ev.key)
        if branch is None or (ev.key == self.key and self.answered_at is not None):
            return False
        if isinstance(ev, LegProgress):
            self._branch_progress(branch, ev.early)
        elif isinstance(ev, LegAnswered):
            self._branch_answered(branch, ev.negotiated, ev.late)
        elif isinstance(ev, LegFailed):
            self._branch_failed(branch, ev.status)
        return True

    def progress(self, status: int, early: Negotiated | None) -> None:
        self._branch_progress(self.branches[self.key], early)

    def answered(self, negotiated: Negotiated | None, late: bool) -> None:
        self._branch_answered(self.branches[self.key], negotiated, late)

    def failed(self, status: int, q850: int | None) -> None:
        self._branch_failed(self.branches[self.key], status)

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

    # ---- the INVITEs of a (forked) leg -----------------------------------------------------------
    def _branch_progress(self, branch: _Branch, early: Negotiated | None) -> None:
        if not branch.pending or self.outcome().done():
            return
        branch.state = "ringing"
        if early is not None and branch.rtp is not None:
            branch.rtp.configure(early.remote, early.codec, early.payload_type, early.dtmf_payload_type)
        self.ringing_received(early_media=early is not None)

    def _branch_answered(self, branch: _Branch, negotiated: Negotiated | None, late: bool) -> None:
        if late or not branch.pending or self.outcome().done():
            # it lost the race (another phone answered, or the engine stopped
            # ringing) and its 2xx crossed our CANCEL: the core has sent ACK + BYE
            if not late and branch.state != "ended":
                self.sip.command(self.sip.core.outgoing.bye, branch.key, q850=_ELSEWHERE_Q850)
            self._forget(branch)
            return
        branch.state = "answered"
        self.key, self.destination, self.rtp = branch.key, branch.destination, branch.rtp
        if negotiated is not None:
            self._configure(negotiated)
        for other in self.branches.values():
            if other is not branch:
                self._stop(other, _ELSEWHERE_Q850)
        self.answer_received()

    def _branch_failed(self, branch: _Branch, status: int, *, by: str = "callee") -> None:
        if branch.state == "ended":
            return
        ringing = branch.pending
        branch.cause = HangupCause.from_sip(status, by="system" if by == "system" else "callee")
        self._forget(branch)
        if not ringing or self.outcome().done():
            return
        if any(b.pending for b in self.branches.values()):
            return  # another phone still rings: one busy or declined phone fails nothing yet
        self.failure_received(self._best_failure())
        self._done()

    def _best_failure(self) -> HangupCause:
        causes = [b.cause for b in self.branches.values() if b.cause is not None]
        if not causes:
            return HangupCause.from_sip(503, by="system")

        def rank(cause: HangupCause) -> int:
            outcome = cause.dial_outcome
            return _BEST_FAILURE.index(outcome) if outcome in _BEST_FAILURE else len(_BEST_FAILURE)

        return min(causes, key=rank)

    def _stop(self, branch: _Branch, q850: int | None) -> None:
        """Stop one INVITE ringing: CANCEL it if it went (its key stays until
        the 487 or a crossing 2xx), forget it if it never did."""
        if not branch.pending:
            return
        if branch.state == "dialing":
            self._forget(branch)
            return
        branch.state = "stopping"
        self.sip.command(self.sip.core.outgoing.cancel, branch.key, q850=q850)
        self._release_rtp(branch)

    def _forget(self, branch: _Branch) -> None:
        branch.state = "ended"
        self._release_rtp(branch)
        if self.sip.legs.get(branch.key) is self:
            del self.sip.legs[branch.key]

    def _release_rtp(self, branch: _Branch) -> None:
        rtp, branch.rtp = branch.rtp, None
        if rtp is not None:
            self.sip.release_rtp(rtp)
            if self.rtp is rtp:
                self.rtp = None

    # ---- Leg primitives ------------------------------------------------------------------------
    def abort_ringing(self, cause: HangupCause) -> None:
        for branch in self.branches.values():
            self._stop(branch, cause.q850)
        self._done()

    def release(self, cause: HangupCause) -> None:
        phonetransfer.before_release(self)  # (a transfer the engine just accepted: its 202 goes first)
        self.sip.command(self.sip.core.outgoing.bye, self.key, q850=cause.q850 or 16)
        self._done()

    def _done(self) -> None:
        """Give every RTP port back and forget every INVITE but those whose
        answer to our CANCEL is still to come (the 487 or a crossing 2xx forgets them)."""
        for branch in self.branches.values():
            if branch.state == "stopping":
                continue
            self._forget(branch)
