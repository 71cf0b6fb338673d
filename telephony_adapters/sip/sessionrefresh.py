"""The session refresh we send when we are the refresher (RFC 4028 §7.4, §10), sans-IO.

An UPDATE without a body when the caller's INVITE allowed UPDATE (RFC 3311:
nothing about the media changes, no offer/answer), else a re-INVITE offering
the SDP we last sent, unchanged. The outcome:

* 2xx: the timer counts again from the response, with the interval and
  refresher it names (none: the far end turned the timer off, §7.4);
* 422: asked again at once with the far end's Min-SE;
* 408, 481 or no answer at all: the far end is gone, the call ends
  (`SipCore.session_expired`);
* anything else (491 glare with a re-INVITE of the far end or of ours, 500
  ...): tried again `RETRY_AFTER` s later, until the expiry deadline, still
  armed, ends the call (unless the far end refreshes it meanwhile).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from telephony_adapters.sip.errors import SipParseError
from telephony_adapters.sip.sessiontimer import agreed_by_response, min_se, option_tags
from telephony_adapters.sip.transactions import (
    ResponseReceived,
    TransactionEvent,
    TransactionTimeout,
)

if TYPE_CHECKING:
    from telephony_adapters.sip.core import SipCore, _Session

log = logging.getLogger("flowengine.sip.sessiontimer")
#: seconds before a refused refresh is tried again (RFC 3261 §14.1 has the
#: dialog's callee retry a 491 after 0-2 s)
RETRY_AFTER = 2.0


def send_refresh(core: SipCore, session: _Session, now: float, interval: float | None = None) -> None:
    """Refresh `session`'s timer with the far end (see the module docstring)."""
    running = core.timers.get(session.key)
    if running is None or session.state != "confirmed":
        return  # (not ACKed yet at half the interval: Timer L or the expiry ends it)
    interval = int(interval or running[0])
    policy = core.timer_policy
    headers = [("Session-Expires", f"{interval};refresher=uac"), ("Supported", "timer")]
    if policy is not None:
        headers.append(("Min-SE", str(policy.min_se)))
    try:
        update = "update" in option_tags(session.invite, "Allow")
    except SipParseError:
        update = False
    method = "UPDATE" if update else "INVITE"
    body = b"" if update else session.local_sdp or core._answer_sdp(session)  # noqa: SLF001
    if body:
        headers.append(("Content-Type", "application/sdp"))
    req, where = session.dialog.request(
        method, via_host=core.local[0], via_port=core.local[1], contact=core.contact(),
        headers=headers, body=body, fallback=session.peer,
    )  # fmt: skip
    tx = core.layer.new_client(req, where, now)
    key = session.key

    def outcome(ev: TransactionEvent, at: float) -> None:
        if key not in core._sessions:  # noqa: SLF001 (ended meanwhile)
            return
        if isinstance(ev, TransactionTimeout):
            log.info("call %s: no answer to our session refresh", req.call_id)
            core.session_expired(session, at)
            return
        if not isinstance(ev, ResponseReceived) or ev.response.status < 200:
            return
        resp = ev.response
        status = resp.status
        if 200 <= status < 300:
            if method == "INVITE":
                _ack(core, session, req.cseq[0])
            try:
                agreed = agreed_by_response(resp)
            except SipParseError:
                agreed = (interval, True)  # a garbled header: keep what we asked for
            if agreed is None:
                core.timers.stop(key)
            else:
                core.timers.start(key, agreed[0], agreed[1], at)
        elif status == 422:
            try:
                wanted = min_se(resp)
            except SipParseError:
                wanted = None
            if wanted is not None and wanted > interval:
                core.timers.start(key, wanted, True, at)
                send_refresh(core, session, at, wanted)
        elif status in (408, 481):
            log.info("call %s: the far end answered %d to our session refresh", req.call_id, status)
            core.session_expired(session, at)
        else:
            core.timers.retry(key, at + RETRY_AFTER)

    core.on_response[tx.key] = outcome


def _ack(core: SipCore, session: _Session, seq: int) -> None:
    """The ACK of a 2xx to our re-INVITE (the dialog's, §13.2.2.4; its CSeq is the INVITE's)."""
    ack, to = session.dialog.request("ACK", via_host=core.local[0], via_port=core.local[1], fallback=session.peer)
    session.dialog.local_seq -= 1
    ack.set("CSeq", f"{seq} ACK")
    ack.cseq = (seq, "ACK")
    core._stateless.append((ack.to_bytes(), to))  # noqa: SLF001
