"""Dialogs (RFC 3261 §12) and the messages built inside them, sans-IO.

A `Dialog` is identified by Call-ID, local tag and remote tag. The UAS side
builds it from the INVITE it answers: the remote target is the INVITE's
Contact, the route set its Record-Route values *in order* (§12.1.1; the
caller's side reverses them, we do not), the remote sequence number its
CSeq. Requests we send inside the dialog (BYE, re-INVITE) follow the route
set: loose routing puts the remote target in the Request-URI and the route
set in Route headers; a strict first route (no `lr`) takes the Request-URI
itself (§12.2.1.1). `make_response` builds responses per §8.2.6.
"""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass, field

from telephony_adapters.sip.headers import NameAddr, Uri, Via, parse_name_addr
from telephony_adapters.sip.message import Request, Response
from telephony_adapters.sip.transactions import MAGIC_COOKIE, Addr

REASONS = {
    100: "Trying",
    180: "Ringing",
    183: "Session Progress",
    200: "OK",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    420: "Bad Extension",
    480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    491: "Request Pending",
    500: "Server Internal Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    505: "Version Not Supported",
    513: "Message Too Large",
    603: "Decline",
}


def new_tag() -> str:
    return secrets.token_hex(8)


def new_branch() -> str:
    return MAGIC_COOKIE + secrets.token_hex(10)


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def make_response(
    request: Request,
    status: int,
    *,
    reason: str | None = None,
    to_tag: str | None = None,
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
    server: str = "flowengine",
) -> Response:
    """A response to `request`: Via, From, Call-ID, CSeq copied; To with our
    tag added if it has none (§8.2.6.2; never on 100 Trying)."""
    out: list[tuple[str, str]] = [("Via", v) for v in request.get_all("Via")]
    out.append(("From", request.get("From") or ""))
    to_value = request.get("To") or ""
    to = request.to
    if to_tag and status != 100 and to is not None and to.tag is None:
        to_value = f"{to_value};tag={to_tag}"
    out.append(("To", to_value))
    out.append(("Call-ID", request.call_id))
    out.append(("CSeq", f"{request.cseq[0]} {request.cseq[1]}"))
    if status != 100:
        out.append(("Server", server))
    if headers:
        out.extend(headers)
    response = Response(headers=out, body=body, status=status, reason=_safe_reason(reason or REASONS.get(status, "Unknown")))
    response.vias = request.vias
    response.call_id = request.call_id
    response.cseq = request.cseq
    return response


def _safe_reason(text: str) -> str:
    """A reason phrase cannot carry CR, LF or other control characters."""
    cleaned = "".join(c if c.isprintable() else " " for c in text)
    return cleaned[:120] or "Unknown"


def response_address(request: Request, peer: Addr) -> Addr:
    """Where a response goes (§18.2.2 with RFC 3581 rport): the source address
    of the request, at the Via port unless the client asked for rport."""
    via = request.top_via
    if "rport" in via.params:
        return peer
    return peer[0], via.port or 5060


def stamp_received(request: Request, peer: Addr) -> None:
    """Add `received` (and fill `rport`) on the top Via, in the message's own
    headers, so the responses built from it carry them (§18.2.1, RFC 3581)."""
    via = request.top_via
    params = dict(via.params)
    changed = False
    if via.host != peer[0]:
        params["received"] = peer[0]
        changed = True
    if "rport" in params and params["rport"] is None:
        params["rport"] = str(peer[1])
        changed = True
    if not changed:
        return
    stamped = Via(via.transport, via.host, via.port, params)
    request.vias[0] = stamped
    for i, (name, _) in enumerate(request.headers):
        if name == "Via":
            request.headers[i] = ("Via", str(stamped))
            break


@dataclass(slots=True)
class Dialog:
    call_id: str
    local_tag: str
    remote_tag: str
    local_uri: NameAddr
    remote_uri: NameAddr
    remote_target: Uri
    #: Record-Route values as the UAS keeps them (in order), as header text
    route_set: list[str] = field(default_factory=list)
    local_seq: int = 0
    remote_seq: int = 0

    @classmethod
    def as_uas(cls, invite: Request, local_tag: str) -> Dialog:
        assert invite.from_ is not None and invite.to is not None
        contact = invite.get("Contact")
        target = parse_name_addr(contact, "Contact").uri if contact else invite.from_.uri
        return cls(
            call_id=invite.call_id,
            local_tag=local_tag,
            remote_tag=invite.from_.tag or "",
            local_uri=invite.to,
            remote_uri=invite.from_,
            remote_target=target,
            route_set=invite.get_all("Record-Route"),
            local_seq=secrets.randbelow(10_000) + 1,
            remote_seq=invite.cseq[0],
        )

    def request(
        self,
        method: str,
        *,
        via_host: str,
        via_port: int,
        contact: str | None = None,
        headers: list[tuple[str, str]] | None = None,
        body: bytes = b"",
        fallback: Addr | None = None,
    ) -> tuple[Request, Addr]:
        """A new request inside the dialog and the address to send it to
        (the first route, or the remote target; `fallback` when that host is
        a name rather than an address)."""
        self.local_seq += 1
        uri = self.remote_target
        routes = list(self.route_set)
        if routes:
            first = parse_name_addr(routes[0], "Route").uri
            if "lr" not in first.params:  # strict router (§12.2.1.1)
                uri = first
                routes = routes[1:] + [f"<{self.remote_target}>"]
            next_hop = first
        else:
            next_hop = self.remote_target
        via = Via("UDP", via_host, via_port, {"branch": new_branch(), "rport": None})
        local = NameAddr(self.local_uri.uri, self.local_uri.display, {**self.local_uri.params, "tag": self.local_tag})
        remote = NameAddr(self.remote_uri.uri, self.remote_uri.display, {**self.remote_uri.params, "tag": self.remote_tag})
        out: list[tuple[str, str]] = [
            ("Via", str(via)),
            ("Max-Forwards", "70"),
            ("From", str(local)),
            ("To", str(remote)),
            ("Call-ID", self.call_id),
            ("CSeq", f"{self.local_seq} {method}"),
        ]
        out.extend(("Route", r) for r in routes)
        if contact:
            out.append(("Contact", contact))
        if headers:
            out.extend(headers)
        req = Request(headers=out, body=body, method=method, uri=uri)
        req.vias = [via]
        req.from_, req.to, req.call_id, req.cseq = local, remote, self.call_id, (self.local_seq, method)
        host, port = next_hop.host_port(5061 if next_hop.scheme == "sips" else 5060)
        if "maddr" in next_hop.params and next_hop.params["maddr"]:
            host = str(next_hop.params["maddr"])
        if not is_ip(host) and fallback is not None:
            return req, fallback
        return req, (host, port)
