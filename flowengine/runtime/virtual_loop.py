"""An asyncio event loop on simulated time.

`loop.time()` returns simulated seconds. When every task is waiting on a
timer, the loop's selector jumps the clock to the next timer instead of
sleeping, so an hour of calls takes as long as the work they do. While a call
does real I/O (marked with `flowengine.runtime.external_io`), the selector
waits for real and the clock follows real time, so HTTP timeouts still mean
what they say.
"""

from __future__ import annotations

import asyncio
import selectors
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class _VirtualSelector(selectors.DefaultSelector):  # type: ignore[misc,valid-type]
    def __init__(self) -> None:
        super().__init__()
        self.loop: VirtualTimeLoop | None = None

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        loop = self.loop
        assert loop is not None
        if timeout is not None and timeout <= 0:
            return super().select(0)
        ready = super().select(0)
        if ready:
            return ready
        if loop._external > 0 or timeout is None:
            started = time.monotonic()
            ready = super().select(timeout)
            loop._now += time.monotonic() - started if timeout is None else min(timeout, time.monotonic() - started)
            if not ready and timeout is not None and loop._external > 0:
                return ready
            return ready
        loop._now += timeout
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    def __init__(self, start: float = 0.0) -> None:
        selector = _VirtualSelector()
        super().__init__(selector)
        selector.loop = self
        self._now = start
        self._external = 0

    def time(self) -> float:
        return self._now

    def begin_external(self) -> None:
        self._external += 1

    def end_external(self) -> None:
        self._external -= 1

    @property
    def external(self) -> int:
        """How many real I/O sections are open now."""
        return self._external


def run_virtual(coro: Coroutine[Any, Any, T], start: float = 0.0) -> T:
    """Run `coro` to completion on a fresh virtual-time loop."""
    loop = VirtualTimeLoop(start)
    try:
        asyncio.set_event_loop(loop)
        return loop.run_until_complete(coro)
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            asyncio.set_event_loop(None)
            loop.close()
