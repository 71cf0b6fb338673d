"""RFC 4028 session timers for the calls we answer, sans-IO.

A dialog whose far end vanished without BYE (a crashed phone, a lost NAT
binding, a proxy that dropped it) would otherwise stay up until the RTP
timeout, or forever for a peer that sends no RTP while silent. A session
timer bounds that: one side (the *refresher*) repeats a re-INVITE or UPDATE
every half interval, and the other ends the call when no refresh came in
time.

`negotiate_uas` reads an INVITE, re-INVITE or UPDATE we received and says
what to answer: `TooSmall` (422 with our Min-SE), `Agreed` (the
Session-Expires, refresher and Require: timer of our 2xx), or None (the
peer knows nothing of timers and asked for none). `agreed_by_response`
reads the 2xx to a refresh we sent. `SessionTimers` holds each call's two
deadlines as data — refresh at half the interval when we refresh, give up at
`interval - min(32, interval / 3)` (§10) either way — behind the core's one
`next_timer` / `due(now)`.

Roles: `refresher=uac` names the side that sent the request which
negotiated the interval. On a call we answer, the caller is the UAC of its
INVITE and its re-INVITEs, but we are the UAC of our own refreshes; so the
state keeps `we_refresh`, not the role word.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from telephony_adapters.sip.errors import SipParseError
from telephony_adapters.sip.headers import parse_params, split_commas
from telephony_adapters.sip.message import Request, Response

#: the smallest interval RFC 4028 lets anyone ask for (§4); our default Min-SE
RFC_MIN_SE = 90
#: longest interval we parse (a day); larger values are clipped to our own
MAX_INTERVAL = 86_400


@dataclass(frozen=True, slots=True)
class TimerPolicy:
    """What we want: the interval we ask for when the peer names none (or
    one above it), and the smallest interval we accept."""

    session_expires: int = 1800
    min_se: int = RFC_MIN_SE


@dataclass(frozen=True, slots=True)
class TooSmall:
    """Answer 422 Session Interval Too Small with ``Min-SE: min_se``."""

    min_se: int


@dataclass(frozen=True, slots=True)
class Agreed:
    interval: int
    #: the refresher as the request's roles say it ("uac" or "uas")
    refresher: str
    #: the peer said `Supported: timer`: our 2xx carries `Require: timer`
    peer_supports: bool

    @property
    def we_refresh(self) -> bool:
        """On a request we received, we are its UAS."""
        return self.refresher == "uas"

    def headers(self) -> list[tuple[str, str]]:
        """The session-timer headers of our 2xx."""
        out = [("Session-Expires", f"{self.interval};refresher={self.refresher}")]
        if self.peer_supports:
            out.append(("Require", "timer"))
        return out


def option_tags(msg: Request | Response, name: str) -> set[str]:
    """The option tags of every `name` header (Supported, Require ...), lower-cased."""
    tags: set[str] = set()
    for value in msg.get_all(name):
        if value.strip():
            tags.update(t.strip().lower() for t in split_commas(value, name))
    return tags


def _delta(text: str, header: str) -> int:
    text = text.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        raise SipParseError(f"{text[:20]!r} is not a number of seconds", header=header)
    return min(int(text), MAX_INTERVAL)


def session_expires(msg: Request | Response) -> tuple[int, str | None] | None:
    """(interval, refresher) of a message's Session-Expires, or None without one.
    SipParseError (naming the header) for a malformed one."""
    value = msg.get("Session-Expires")
    if value is None:
        return None
    number, _, rest = value.partition(";")
    params = parse_params(rest, "Session-Expires")
    refresher = params.get("refresher")
    refresher = refresher.lower() if refresher else None
    if refresher not in (None, "uac", "uas"):
        raise SipParseError(f"refresher must be uac or uas, not {refresher[:20]!r}", header="Session-Expires")
    return _delta(number, "Session-Expires"), refresher


def min_se(msg: Request | Response) -> int | None:
    value = msg.get("Min-SE")
    if value is None:
        return None
    return _delta(value.partition(";")[0], "Min-SE")


def negotiate_uas(req: Request, policy: TimerPolicy) -> Agreed | TooSmall | None:
    """Our answer to the session-timer part of a request we received (§9)."""
    supports = "timer" in option_tags(req, "Supported") or "timer" in option_tags(req, "Require")
    asked = session_expires(req)
    floor = max(policy.min_se, min_se(req) or 0)
    if asked is None:
        if not supports:
            return None  # (the RTP timeout still ends a call whose peer vanished)
        # the peer can do timers but named no interval: ours, and it refreshes
        return Agreed(max(policy.session_expires, floor), "uac", True)
    interval, refresher = asked
    if interval < policy.min_se:
        return TooSmall(policy.min_se)
    # we may shorten a long interval, never below the request's Min-SE (§9)
    interval = max(min(interval, policy.session_expires), floor)
    if not supports:
        refresher = "uas"  # a proxy asked for it; the caller cannot refresh
    return Agreed(interval, refresher or "uac", supports)


def agreed_by_response(resp: Response) -> tuple[int, bool] | None:
    """(interval, we_refresh) from the 2xx to a refresh we sent (we were its
    UAC); None when it has no Session-Expires (the timer is off, §7.4)."""
    got = session_expires(resp)
    if got is None:
        return None
    interval, refresher = got
    return interval, refresher != "uas"


def expiry_margin(interval: float) -> float:
    """How long before the interval ends the call is given up (§10)."""
    return min(32.0, interval / 3)


@dataclass(slots=True)
class _Timer:
    interval: float
    we_refresh: bool
    started: float
    generation: int


class SessionTimers:
    """Each call's refresh and expiry deadlines; `due(now)` hands out what is up."""

    def __init__(self) -> None:
        self._timers: dict[str, _Timer] = {}
        self._heap: list[tuple[float, int, str, str]] = []
        self._generation = 0

    def __contains__(self, key: str) -> bool:
        return key in self._timers

    def __len__(self) -> int:
        return len(self._timers)

    def get(self, key: str) -> tuple[float, bool] | None:
        """(interval, we_refresh) of a running timer."""
        t = self._timers.get(key)
        return None if t is None else (t.interval, t.we_refresh)

    def start(self, key: str, interval: float, we_refresh: bool, now: float) -> None:
        """(Re)start the call's timer: the interval counts from `now`."""
        self._generation += 1
        timer = _Timer(interval, we_refresh, now, self._generation)
        self._timers[key] = timer
        if we_refresh:
            heapq.heappush(self._heap, (now + interval / 2, timer.generation, key, "refresh"))
        heapq.heappush(self._heap, (now + interval - expiry_margin(interval), timer.generation, key, "expire"))

    def retry(self, key: str, at: float) -> None:
        """Refresh again at `at` (our refresh was refused, e.g. 491 glare);
        the expiry deadline stands."""
        timer = self._timers.get(key)
        if timer is not None:
            heapq.heappush(self._heap, (at, timer.generation, key, "refresh"))

    def stop(self, key: str) -> None:
        self._timers.pop(key, None)

    def _live(self, entry: tuple[float, int, str, str]) -> bool:
        timer = self._timers.get(entry[2])
        return timer is not None and timer.generation == entry[1]

    def next_timer(self) -> float | None:
        while self._heap and not self._live(self._heap[0]):
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None

    def due(self, now: float) -> list[tuple[str, str]]:
        """(call key, "refresh" | "expire") for each deadline reached. An
        expired call's timer is stopped; a refresh stays armed for expiry."""
        out: list[tuple[str, str]] = []
        while self._heap and self._heap[0][0] <= now:
            entry = heapq.heappop(self._heap)
            if not self._live(entry):
                continue
            _, _, key, action = entry
            if action == "expire":
                self._timers.pop(key, None)
            out.append((key, action))
        return out
