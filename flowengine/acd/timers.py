"""Keyed timers on a heap with lazy deletion, for sans-IO state machines.

A timer is identified by a key (any hashable tuple); scheduling a key again
replaces its deadline, cancelling forgets it, and neither touches the heap:
stale heap entries are recognised by their sequence number and dropped when
they reach the top. The heap is compacted when stale entries dominate, so
memory stays proportional to the live timers. No clock: deadlines are plain
numbers on the owner's clock.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable

__all__ = ["TimerHeap"]


class TimerHeap:
    __slots__ = ("_heap", "_live", "_seq")

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Hashable]] = []
        self._live: dict[Hashable, int] = {}
        self._seq = 0

    def __len__(self) -> int:
        return len(self._live)

    def schedule(self, when: float, key: Hashable) -> None:
        """Arm (or re-arm) `key` for `when`."""
        self._seq += 1
        self._live[key] = self._seq
        heapq.heappush(self._heap, (when, self._seq, key))
        if len(self._heap) > 4 * len(self._live) + 4096:
            live = self._live
            self._heap = [e for e in self._heap if live.get(e[2]) == e[1]]
            heapq.heapify(self._heap)

    def cancel(self, key: Hashable) -> None:
        """Forget `key` (no-op if not armed)."""
        self._live.pop(key, None)

    def next_deadline(self) -> float | None:
        """The earliest live deadline, or None."""
        heap = self._heap
        live = self._live
        while heap:
            when, seq, key = heap[0]
            if live.get(key) == seq:
                return when
            heapq.heappop(heap)
        return None

    def pop_due(self, now: float) -> tuple[float, Hashable] | None:
        """Disarm and return the earliest ``(deadline, key)`` due at or before `now`."""
        heap = self._heap
        live = self._live
        while heap and heap[0][0] <= now:
            when, seq, key = heapq.heappop(heap)
            if live.get(key) == seq:
                del live[key]
                return when, key
        return None
