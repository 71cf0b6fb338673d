"""Small runtime services shared by the interpreter and node handlers.

`external_io()` marks real I/O (an HTTP request, a webhook) made by a call. On
the simulator's virtual-time loop it stops simulated time from jumping ahead
while the loop waits for a real socket, so timeouts keep their meaning; on an
ordinary loop it does nothing. Handlers wrap real network work in it, so the
same scenario behaves the same on both clocks.

`WallClock` maps the loop's clock to wall-clock time: real time on a real
loop, or a chosen start instant plus elapsed simulated seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
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
    """Wall time for a loop: fixed start + elapsed loop seconds, or the real clock."""

    __slots__ = ("start", "_anchor")

    def __init__(self, start: dt.datetime | None = None) -> None:
        if start is not None and start.tzinfo is None:
            raise ValueError("start time must carry a UTC offset, e.g. 2026-11-23T10:00+03:00")
        self.start = start
        self._anchor: float | None = None

    def now(self) -> dt.datetime:
        if self.start is None:
            return dt.datetime.now(UTC)
        loop_now = asyncio.get_running_loop().time()
        if self._anchor is None:
            self._anchor = loop_now
        return self.start + dt.timedelta(seconds=loop_now - self._anchor)
