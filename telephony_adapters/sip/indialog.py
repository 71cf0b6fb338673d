"""Requests we send inside an answered call's dialog, sans-IO: hold and
resume (re-INVITE with our offer a=sendonly, then a=sendrecv; RFC 3264 §8.4,
RFC 6337) and blind transfer (REFER, RFC 3515; its NOTIFY results come back
as `ReferNotify` events from the core).

Each function builds the request on the call's dialog (route set, CSeq),
starts a client transaction on the core's transaction layer and registers a
callback for its outcome in `core.on_response`. A 2xx to a re-INVITE is
ACKed here (the ACK of a 2xx belongs to the dialog, not the transaction,
§13.2.2.4).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from telephony_adapters.sip.errors import LocalProtocolError
from telephony_adapters.sip.sdp import render
from telephony_adapters.sip.transactions import ResponseReceived, TransactionEvent

if TYPE_CHECKING:
    from telephony_adapters.sip.core import SipCore, _Session

#: what a request's outcome is reported as: the final status (408 for no answer)
Outcome = Callable[[int], None]


def _confirmed(core: SipCore, key: str) -> _Session:
    session = core._sessions.get(key)  # noqa: SLF001 (the core's own helper module)
    if session is None or session.state != "confirmed":
        raise LocalProtocolError(f"call {key!r} is not an established dialog")
    return session


def _status(ev: TransactionEvent) -> int:
    return ev.response.status if isinstance(ev, ResponseReceived) else 408


def reinvite(core: SipCore, key: str, now: float, *, direction: str, done: Outcome) -> None:
    """Offer our media again with `direction` (sendonly: hold; sendrecv: resume)."""
    session = _confirmed(core, key)
    negotiated = session.negotiated
    address, port = session.local_media or (core.local[0], 0)
    session.sdp_version += 1
    if negotiated is not None:
        codecs: tuple[tuple[int, str], ...] = ((negotiated.payload_type, negotiated.codec),)
        dtmf = negotiated.dtmf_payload_type
    else:
        codecs = tuple((0 if name == "PCMU" else 8, name) for name in core.codecs)
        dtmf = 101
    body = render(
        address=address, port=port, session_id=session.sdp_session, version=session.sdp_version,
        codecs=codecs, dtmf_payload_type=dtmf, direction=direction,
    )  # fmt: skip
    session.local_sdp = body  # (a session refresh offers it again)
    req, where = session.dialog.request(
        "INVITE",
        via_host=core.local[0],
        via_port=core.local[1],
        contact=core.contact(),
        headers=[("Content-Type", "application/sdp")],
        body=body,
        fallback=session.peer,
    )
    tx = core.layer.new_client(req, where, now)

    def outcome(ev: TransactionEvent, at: float) -> None:
        if isinstance(ev, ResponseReceived) and ev.response.status < 200:
            return
        if isinstance(ev, ResponseReceived) and 200 <= ev.response.status < 300 and key in core._sessions:  # noqa: SLF001
            ack, to = session.dialog.request(
                "ACK", via_host=core.local[0], via_port=core.local[1], fallback=session.peer
            )
            # the ACK carries the INVITE's CSeq number (§13.2.2.4)
            session.dialog.local_seq -= 1
            ack.set("CSeq", f"{req.cseq[0]} ACK")
            ack.cseq = (req.cseq[0], "ACK")
            core._stateless.append((ack.to_bytes(), to))  # noqa: SLF001
        done(_status(ev))

    core.on_response[tx.key] = outcome


def refer(core: SipCore, key: str, now: float, *, refer_to: str, done: Outcome) -> None:
    """Ask the far end to call `refer_to` (a SIP URI) instead of us."""
    session = _confirmed(core, key)
    req, where = session.dialog.request(
        "REFER",
        via_host=core.local[0],
        via_port=core.local[1],
        contact=core.contact(),
        headers=[("Refer-To", f"<{refer_to}>"), ("Referred-By", core.contact())],
        fallback=session.peer,
    )
    tx = core.layer.new_client(req, where, now)

    def outcome(ev: TransactionEvent, at: float) -> None:
        if isinstance(ev, ResponseReceived) and ev.response.status < 200:
            return
        done(_status(ev))

    core.on_response[tx.key] = outcome


def sipfrag_status(body: bytes) -> int | None:
    """The status of a message/sipfrag body ("SIP/2.0 200 OK"), or None."""
    first = body.split(b"\n", 1)[0].strip().decode("ascii", "replace")
    parts = first.split(" ")
    if len(parts) >= 2 and parts[0] == "SIP/2.0" and parts[1].isdigit() and len(parts[1]) == 3:
        return int(parts[1])
    return None
