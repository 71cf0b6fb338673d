"""Keyed timers on a heap with lazy deletion, for sans-IO state machines.

A timer is identified by a key (any hashable tuple); scheduling a key again
replaces its deadline, cancelling forgets it, and neither touches the heap:
stale heap entries are recognised by their sequence number and dropped when
they reach the top. The heap is compacted when stale entries dominate, so
memory stays proportional to the live timers. No clock: deadlines are plain
numbers on the owner's clock.

Deadlines that differ by float rounding only (``t0 + 10 + 5 + 10 + 5`` and
``t0 + 30``) are one instant: deadlines are compared on a grid of
`RESOLUTION` seconds, and timers of one instant fire by `rank` (given when
scheduling; lower first), then in the order they were scheduled. So what
happens at one instant is ordered by meaning, not by the last bit of a float.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable

__all__ = ["RESOLUTION", "TimerHeap"]

#: deadlines closer than this (on a grid) are the same instant
RESOLUTION = 1e-6
_SCALE = 1 / RESOLUTION


class TimerHeap:
    __slots__ = ("_heap", "_live", "_seq")

    def __init__(self) -> None:
        #: (instant on the grid, rank, sequence number, deadline, key)
        self._heap: list[tuple[int, int, int, float, Hashable]] = []
        self._live: dict[Hashable, int] = {}
        self._seq = 0

    def __len__(self) -> int:
        return len(self._live)

    def schedule(self, when: float, key: Hashable, rank: int = 0) -> None:
        """Arm (or re-arm) `key` for `when`; `rank` orders timers of one instant."""
        self._seq += 1
        self._live[key] = self._seq
        heapq.heappush(self._heap, (round(when * _SCALE), rank, self._seq, when, key))
        if len(self._heap) > 4 * len(self._live) + 4096:
            live = self._live
            self._heap = [e for e in self._heap if live.get(e[4]) == e[2]]
            heapq.heapify(self._heap)

    def cancel(self, key: Hashable) -> None:
        """Forget `key` (no-op if not armed)."""
        self._live.pop(key, None)

    def next_deadline(self) -> float | None:
        """The deadline of the timer to fire next, or None."""
        heap = self._heap
        live = self._live
        while heap:
            top = heap[0]
            if live.get(top[4]) == top[2]:
                return top[3]
            heapq.heappop(heap)
        return None

    def pop_due(self, now: float) -> tuple[float, Hashable] | None:
        """Disarm and return the next ``(deadline, key)`` if its deadline is at
        or before `now` (the next one: earliest instant, then lowest rank)."""
        heap = self._heap
        live = self._live
        while heap and heap[0][3] <= now:
            _, _, seq, when, key = heapq.heappop(heap)
            if live.get(key) == seq:
                del live[key]
                return when, key
        return None
