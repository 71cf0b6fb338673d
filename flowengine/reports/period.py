"""The period a report covers, in the centre's time zone."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flowengine.errors import FlowEngineError

__all__ = ["Period", "parse_instant", "parse_zone"]


@dataclass(frozen=True)
class Period:
    """[start, end) in epoch seconds; `tz` is the zone hours and weekdays are counted in."""

    start: float = float("-inf")
    end: float = float("inf")
    tz: dt.tzinfo = dt.UTC

    def contains(self, ts: float) -> bool:
        return self.start <= ts < self.end

    def local(self, ts: float) -> dt.datetime:
        return dt.datetime.fromtimestamp(ts, self.tz)


def parse_zone(text: str, option: str = "--tz") -> dt.tzinfo:
    if len(text) > 64:
        raise FlowEngineError(f"{option}: a time zone name is at most 64 characters")
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise FlowEngineError(f"{option} {text!r}: not a time zone name (e.g. Europe/Moscow, UTC)") from None


def parse_instant(text: str, option: str, tz: dt.tzinfo | None) -> float:
    """Epoch seconds from `2026-11-23`, `2026-11-23T09:00` (in `tz`), an ISO time with zone, or a number.

    With `tz` None a time must carry its zone."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise FlowEngineError(
            f"{option} {text!r}: not a date (2026-11-23), an ISO time (2026-11-23T09:00:00+03:00) or epoch seconds"
        ) from None
    if when.tzinfo is None:
        if tz is None:
            raise FlowEngineError(f"{option} {text!r}: give the time zone (e.g. +03:00 or Z), or --tz")
        when = when.replace(tzinfo=tz)
    try:
        return when.timestamp()
    except (OverflowError, ValueError):
        raise FlowEngineError(f"{option} {text!r}: out of range") from None
