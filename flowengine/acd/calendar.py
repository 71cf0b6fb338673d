"""Calendar windows for the ACD: "this hour" and "today" in the centre's time zone.

The core's clock is whatever its driver uses (the event loop's monotonic
clock, a simulated clock); `Calendar` maps it to the wall clock with one
offset (`offset`: epoch seconds at core time 0, set by the driver from the
engine's clock) and finds where the current hour and the current day began,
in core time, in the centre's ``timezone``. Without a driver the offset is 0,
so core times are read as epoch seconds (tests pass ``now`` like that).

Boundaries are computed, not scheduled: a strategy asking at 10:00:01 for
"calls this hour" counts from 10:00:00 whether or not anything happened at
10:00 — the count resets on the wall clock, with no event needed.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

__all__ = ["Calendar"]


class Calendar:
    """The centre's time zone and the core clock's offset to the epoch."""

    __slots__ = ("tz", "offset", "_day", "_hour")

    def __init__(self, timezone: str = "UTC", offset: float = 0.0) -> None:
        self.tz = ZoneInfo(timezone)
        #: epoch seconds at core time 0
        self.offset = offset
        #: cache: (start, end) of the last day asked for, in epoch seconds
        self._day = (0.0, -1.0)
        #: cache: start of the last hour asked for, in epoch seconds
        self._hour = (0.0, -1.0)

    def hour_start(self, now: float) -> float:
        """Core time at which the wall-clock hour containing `now` began (in the
        time zone: a zone 30 minutes off UTC has hours starting at :30 UTC)."""
        epoch = now + self.offset
        start, end = self._hour
        if not start <= epoch < end:
            local = dt.datetime.fromtimestamp(epoch, self.tz)
            start = local.replace(minute=0, second=0, microsecond=0).timestamp()
            end = start + 3600.0
            self._hour = (start, end)
        return start - self.offset

    def day_start(self, now: float) -> float:
        """Core time of the local midnight that began the day containing `now`."""
        epoch = now + self.offset
        start, end = self._day
        if not start <= epoch < end:
            local = dt.datetime.fromtimestamp(epoch, self.tz)
            midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
            start = midnight.timestamp()
            nxt = (midnight + dt.timedelta(days=1)).replace(tzinfo=None)
            end = nxt.replace(tzinfo=self.tz).timestamp()  # a 23- or 25-hour day too
            self._day = (start, end)
        return start - self.offset

    def window_start(self, window: str, now: float) -> float:
        """Start of the calendar `window` (``hour`` or ``day``) containing `now`."""
        return self.hour_start(now) if window == "hour" else self.day_start(now)
