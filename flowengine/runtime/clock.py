"""Small runtime services shared by the interpreter and node handlers.

`external_io()` marks real I/O (an HTTP request, a webhook) made by a call. On
the simulator's virtual-time loop it stops simulated time from jumping ahead
while the loop waits for a real socket, so timeouts keep their meaning; on an
ordinary loop it does nothing. Handlers wrap real network work in it, so the
same scenario behaves the same on both clocks.

`WallClock` maps the loop's clock to wall-clock time: real time on a real
loop, or a chosen start instant plus elapsed simulated seconds. Its
`epoch_offset()` is what event time stamps are made of: `ts` is that offset
plus `loop.time()`, one float addition per event instead of a datetime.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import Iterator

UTC = dt.UTC


@contextlib.contextmanager
def external_io() -> Iterator[None]:
    loop = asyncio.get_running_loop()
    begin = getattr(loop, "begin_external", None)
    if begin is None:
        yield
        return
    begin()
    try:
        yield
    finally:
        loop.end_external()  # type: ignore[attr-defined]


class WallClock:
    """Wall time for a loop: the real clock, or a fixed start plus the loop
    seconds elapsed since the clock was made.

    A clock with a `start` is anchored when it is constructed (the running
    loop's time then, or `anchor`), so `start` is the wall time of that moment
    whether or not anybody asked the time before the first call began.
    """

    __slots__ = ("start", "anchor", "_offset")

    def __init__(self, start: dt.datetime | None = None, *, anchor: float | None = None) -> None:
        if start is not None and start.tzinfo is None:
            raise ValueError("start time must carry a UTC offset, e.g. 2026-11-23T10:00+03:00")
        self.start = start
        if start is not None and anchor is None:
            try:
                anchor = asyncio.get_running_loop().time()
            except RuntimeError:
                raise ValueError(
                    "a WallClock with a start time is made inside the running loop, or given anchor="
                ) from None
        self.anchor = anchor if anchor is not None else 0.0
        self._offset = None if start is None else start.timestamp() - self.anchor

    def now(self) -> dt.datetime:
        if self.start is None:
            return dt.datetime.now(UTC)
        elapsed = asyncio.get_running_loop().time() - self.anchor
        return self.start + dt.timedelta(seconds=elapsed)

    def epoch_offset(self) -> float:
        """Seconds to add to the running loop's `time()` to get epoch seconds.

        Constant for a clock with a start; for the real clock it is measured
        now (wall time minus the loop's monotonic time), so a caller that
        keeps it — a call, for its own events — follows wall-clock
        corrections from one call to the next, never within one.
        """
        if self._offset is not None:
            return self._offset
        return time.time() - asyncio.get_running_loop().time()
