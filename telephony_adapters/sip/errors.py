"""The SIP backend's exceptions, under flowengine's one tree.

They say who is at fault (the habit of h11's Local/RemoteProtocolError):
`SipParseError` and the other `RemoteProtocolError`s are the peer's garbage
and become a 400 or a dropped datagram, never a crash; `LocalProtocolError`
is this program misusing the core (a bug, or a call in the wrong state).
"""

from __future__ import annotations

from flowengine.errors import FlowEngineError


class SipError(FlowEngineError):
    """Root of the SIP backend's errors."""


class RemoteProtocolError(SipError):
    """The peer sent something the protocol does not allow."""


class SipParseError(RemoteProtocolError):
    """A SIP message could not be parsed. `header` names the header at fault
    (None for the start line or the framing); `status` is the response a
    request that failed this way deserves (400, or 413/513 for size)."""

    def __init__(self, message: str, *, header: str | None = None, status: int = 400) -> None:
        where = f"header {header}: " if header else ""
        super().__init__(f"{where}{message}")
        self.header = header
        self.status = status
        self.reason = message


class SdpError(RemoteProtocolError):
    """An SDP body could not be parsed (the INVITE gets 400) or offers nothing
    we can use (488 Not Acceptable Here)."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class LocalProtocolError(SipError):
    """The core was asked to do something its state does not allow."""
