"""Why a call or a leg ended: `HangupCause`, and how a ring attempt went: `DialOutcome`.

Every platform says "why" in its own words: a SIP final response or BYE
(with perhaps a `Reason` header), an Asterisk channel `cause` (Q.850), a
FreeSWITCH `Hangup-Cause` (Q.850 names). The engine normalises that into a
small vocabulary (`cause`), says who ended it (`by`), and keeps the wire codes
where they are known, so CDRs can show both the plain reason and the exact
code. The mapping tables below are the ones docs/backends.md prints; a backend
uses `from_sip` / `from_q850` on what it receives and `sip_status` / `q850`
of an engine-made cause on what it sends.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final, Literal

#: who ended it: the caller (A side), the engine, the callee (a rung leg's far
#: end), or the system (the platform: transport failure, media timeout, shutdown
#: of the backend underneath a call)
Party = Literal["caller", "engine", "callee", "system"]


class DialOutcome(enum.StrEnum):
    """How ringing a leg ended. Resolves once per leg."""

    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    #: the person declined the call (SIP 603 Decline, Q.850 cause 21)
    REJECTED = "rejected"
    FAILED = "failed"
    #: the engine stopped the ringing itself (SIP CANCEL) before any answer
    CANCELLED = "cancelled"


# ---- the normalised vocabulary ------------------------------------------------------------
NORMAL: Final = "normal"
BUSY: Final = "busy"
NO_ANSWER: Final = "no_answer"
UNAVAILABLE: Final = "unavailable"
REJECTED: Final = "rejected"
FAILED: Final = "failed"
CANCELLED: Final = "cancelled"
#: the engine cancelled this leg because another one was answered (SIP CANCEL
#: with `Reason: SIP;cause=200`, Q.850 26): phones then show no missed call
ANSWERED_ELSEWHERE: Final = "answered_elsewhere"
TRANSFERRED: Final = "transferred"
SHUTDOWN: Final = "shutdown"
ENGINE_RESTART: Final = "engine_restart"
#: no scenario takes the called number: refused before answer ("unallocated number")
NO_ROUTE: Final = "no_route"
#: the call's session timer ran out: no refresh came from a peer that
#: promised one (RFC 4028; SIP BYE with Q.850 102), the peer is presumed gone
SESSION_EXPIRED: Final = "session_expired"

#: cause -> (SIP status to send before answer, Q.850 code). After answer the
#: engine always sends BYE; the Q.850 code then travels in a `Reason` header.
#: Causes not listed (free text from a Hangup node, "error", "transferred")
#: are sent as `normal`.
SEND: Final[dict[str, tuple[int, int | None]]] = {
    NORMAL: (480, 16),
    BUSY: (486, 17),
    NO_ANSWER: (480, 19),
    UNAVAILABLE: (480, 20),
    REJECTED: (603, 21),
    FAILED: (503, 41),
    CANCELLED: (487, None),
    ANSWERED_ELSEWHERE: (487, 26),
    SHUTDOWN: (503, 16),
    ENGINE_RESTART: (503, 16),
    NO_ROUTE: (404, 1),
}

#: SIP final response -> (cause, Q.850). Any other 4xx/5xx/6xx is `failed`
#: with no Q.850 code; a 2xx is `normal`.
FROM_SIP: Final[dict[int, tuple[str, int | None]]] = {
    404: (FAILED, 1),
    484: (FAILED, 28),
    485: (FAILED, 1),
    604: (FAILED, 1),
    410: (FAILED, 22),
    408: (NO_ANSWER, 18),
    480: (NO_ANSWER, 19),
    486: (BUSY, 17),
    600: (BUSY, 17),
    603: (REJECTED, 21),
    487: (CANCELLED, None),
    488: (FAILED, 88),
    500: (FAILED, 41),
    502: (FAILED, 27),
    503: (FAILED, 34),
    504: (FAILED, 102),
}

#: Q.850 cause code -> (cause, SIP status). Any other code is `failed`.
FROM_Q850: Final[dict[int, tuple[str, int | None]]] = {
    16: (NORMAL, None),
    31: (NORMAL, None),
    17: (BUSY, 486),
    18: (NO_ANSWER, 408),
    19: (NO_ANSWER, 480),
    20: (UNAVAILABLE, 480),
    21: (REJECTED, 603),
    26: (ANSWERED_ELSEWHERE, 487),
    1: (FAILED, 404),
    3: (FAILED, 404),
    22: (FAILED, 410),
    27: (FAILED, 502),
    28: (FAILED, 484),
    34: (FAILED, 503),
    38: (FAILED, 503),
    41: (FAILED, 503),
    42: (FAILED, 503),
    88: (FAILED, 488),
    102: (FAILED, 504),
}

#: cause of a leg that never answered -> its dial outcome
_OUTCOME: Final[dict[str, DialOutcome]] = {
    BUSY: DialOutcome.BUSY,
    NO_ANSWER: DialOutcome.NO_ANSWER,
    UNAVAILABLE: DialOutcome.NO_ANSWER,
    REJECTED: DialOutcome.REJECTED,
    CANCELLED: DialOutcome.CANCELLED,
    ANSWERED_ELSEWHERE: DialOutcome.CANCELLED,
    SHUTDOWN: DialOutcome.CANCELLED,
}


@dataclass(frozen=True, slots=True)
class HangupCause:
    """Who ended a call or a leg, why (normalised), and the wire codes if known.

    `cause` is one of the normalised words above, or the free text a Hangup
    node gave (`[a-z_]`); `str(cause)` is that word, which is what traces, CDRs
    and test files (`expect.hangup_cause`) compare. `sip_status` is the SIP
    final response received or sent (487 for a leg we cancelled); `q850` the
    ISDN/ISUP cause code (what Asterisk and FreeSWITCH report).
    """

    by: Party
    cause: str = NORMAL
    sip_status: int | None = None
    q850: int | None = None

    def __str__(self) -> str:
        return self.cause

    @classmethod
    def of(cls, cause: str = NORMAL, *, by: Party = "engine", answered: bool = False) -> HangupCause:
        """A cause the engine decides, with the codes it sends for it (SEND table).

        After answer the end is a BYE, which has no status code: `sip_status`
        is then None and only the Q.850 code (a `Reason` header) remains.
        """
        sip, q850 = SEND.get(cause, SEND[NORMAL])
        return cls(by, cause, None if answered else sip, q850)

    @classmethod
    def from_sip(cls, status: int, *, by: Party = "callee") -> HangupCause:
        """A SIP final response as a cause (FROM_SIP table; 2xx is normal)."""
        if 200 <= status < 300:
            return cls(by, NORMAL, status, 16)
        cause, q850 = FROM_SIP.get(status, (FAILED, None))
        return cls(by, cause, status, q850)

    @classmethod
    def from_q850(cls, code: int, *, by: Party = "callee") -> HangupCause:
        """A Q.850 cause code (ARI `cause`, ESL `Hangup-Cause`) as a cause (FROM_Q850 table)."""
        cause, sip = FROM_Q850.get(code, (FAILED, None))
        return cls(by, cause, sip, code)

    @classmethod
    def coerce(
        cls, cause: HangupCause | str | None, *, by: Party, answered: bool = False
    ) -> HangupCause:
        """`cause` as given, or a word made into a cause said by `by` (codes as `of`)."""
        if isinstance(cause, HangupCause):
            return cause
        return cls.of(cause or NORMAL, by=by, answered=answered)

    @property
    def dial_outcome(self) -> DialOutcome:
        """What this cause means for a leg that ended without an answer."""
        return _OUTCOME.get(self.cause, DialOutcome.FAILED)
