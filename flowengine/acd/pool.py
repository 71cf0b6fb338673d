"""Free (offerable) members of one queue, indexed for the strategies' orders.

The ACD must pick "the longest-idle free member", "the next free member after
the last one who got a call", "a random free member" without scanning every
operator on every decision. A `FreePool` holds the members of one queue who
could be rung *right now* and keeps, on demand, the indexes a strategy asks
for:

* a sorted list of free member positions (linear, round robin) — `bisect`;
* a list + position map for O(1) random choice;
* named lazy heaps keyed by a strategy's order (longest idle, priority,
  fewest calls). Entries are never removed eagerly: an entry is valid only if
  its operator is still free *with the same free-epoch* it was pushed with, so
  going busy costs nothing and stale entries are dropped when they surface.
  A heap whose keys all change at once (fewest calls at a recalculation
  boundary) is rebuilt when its `generation` changes.

Indexes are built the first time they are asked for and maintained from then
on, so a queue pays only for the orders its strategies use.
"""

from __future__ import annotations

import heapq
import random
from bisect import bisect_left, insort
from collections.abc import Callable, Hashable

__all__ = ["FreePool", "Accept", "KeyFn"]

Accept = Callable[[str], bool]
KeyFn = Callable[[str], tuple[float | int, ...]]


class _LazyHeap:
    __slots__ = ("key", "generation", "entries")

    def __init__(self, key: KeyFn, generation: Hashable) -> None:
        self.key = key
        self.generation = generation
        self.entries: list[tuple[tuple[float | int, ...], int, int, str]] = []


class FreePool:
    """The members of one queue who are free to be offered a call now."""

    __slots__ = ("members", "index", "free", "_sorted", "_rand", "_rand_pos", "_heaps")

    def __init__(self, members: list[str], index: dict[str, int] | None = None) -> None:
        """`index` (member -> position in `members`) is shared when given: a
        queue's level pools hold some of its members under the queue's positions."""
        self.members = members
        self.index: dict[str, int] = (
            index if index is not None else {m: i for i, m in enumerate(members)}
        )
        #: op id -> free-epoch at which it became free
        self.free: dict[str, int] = {}
        self._sorted: list[int] | None = None
        self._rand: list[str] | None = None
        self._rand_pos: dict[str, int] = {}
        self._heaps: dict[str, _LazyHeap] = {}

    def __len__(self) -> int:
        return len(self.free)

    def add_member(self, op_id: str) -> None:
        """Append a member (dynamic membership); it starts not free."""
        if op_id not in self.index:
            self.index[op_id] = len(self.members)
            self.members.append(op_id)

    # -- maintenance --------------------------------------------------------
    def add(self, op_id: str, epoch: int) -> None:
        """`op_id` became free (its free-epoch is `epoch`)."""
        if op_id in self.free:
            return
        self.free[op_id] = epoch
        idx = self.index[op_id]
        if self._sorted is not None:
            insort(self._sorted, idx)
        if self._rand is not None:
            self._rand_pos[op_id] = len(self._rand)
            self._rand.append(op_id)
        for h in self._heaps.values():
            heapq.heappush(h.entries, (h.key(op_id), idx, epoch, op_id))

    def discard(self, op_id: str) -> None:
        """`op_id` is no longer free (heap entries go stale by themselves)."""
        if self.free.pop(op_id, None) is None:
            return
        if self._sorted is not None:
            s = self._sorted
            del s[bisect_left(s, self.index[op_id])]
        if self._rand is not None:
            pos = self._rand_pos.pop(op_id)
            last = self._rand.pop()
            if last != op_id:
                self._rand[pos] = last
                self._rand_pos[last] = pos

    # -- orders ---------------------------------------------------------------
    def in_member_order(self) -> list[str]:
        """Every free member, in member-list order."""
        if self._sorted is None:
            self._sorted = sorted(self.index[o] for o in self.free)
        members = self.members
        return [members[i] for i in self._sorted]

    def first_in_order(self, accept: Accept, start: int = 0) -> str | None:
        """First free member at or after position `start` (wrapping) that `accept`s."""
        if not self.free:
            return None
        if self._sorted is None:
            self._sorted = sorted(self.index[o] for o in self.free)
        s = self._sorted
        members = self.members
        cut = bisect_left(s, start)
        for i in range(cut, len(s)):
            op = members[s[i]]
            if accept(op):
                return op
        for i in range(cut):
            op = members[s[i]]
            if accept(op):
                return op
        return None

    def random(self, accept: Accept, rng: random.Random) -> str | None:
        """A uniformly random free member among those that `accept`."""
        if not self.free:
            return None
        if self._rand is None:
            self._rand = list(self.free)
            self._rand_pos = {o: i for i, o in enumerate(self._rand)}
        pool = self._rand
        for _ in range(4):
            op = pool[rng.randrange(len(pool))]
            if accept(op):
                return op
        eligible = [o for o in pool if accept(o)]
        return eligible[rng.randrange(len(eligible))] if eligible else None

    def best(self, name: str, key: KeyFn, accept: Accept, generation: Hashable = 0) -> str | None:
        """The free member with the smallest ``(key(op), member position)`` that `accept`s.

        `name` identifies the heap; `key` must not change while an operator
        stays free unless `generation` changes too (which rebuilds the heap).
        """
        h = self._heaps.get(name)
        if h is None or h.generation != generation:
            h = _LazyHeap(key, generation)
            h.entries = [(key(o), self.index[o], ep, o) for o, ep in self.free.items()]
            heapq.heapify(h.entries)
            self._heaps[name] = h
        entries = h.entries
        free = self.free
        stash = []
        found = None
        pop = heapq.heappop
        while entries:
            e = entries[0]
            if free.get(e[3]) != e[2]:
                pop(entries)  # stale: the operator went busy since
                continue
            if accept(e[3]):
                found = e[3]  # left on the heap: it goes stale once rung
                break
            stash.append(pop(entries))
        for e in stash:
            heapq.heappush(entries, e)
        if len(entries) > 4 * len(free) + 64:
            h.entries = [(key(o), self.index[o], ep, o) for o, ep in free.items()]
            heapq.heapify(h.entries)
        return found

    def least(self, key: KeyFn, accept: Accept) -> str | None:
        """Like `best`, by scanning every free member: for orders that depend on
        the call or the instant, which no heap can keep."""
        index = self.index
        best: tuple[float | int, ...] | None = None
        best_pos = 0
        chosen = None
        for o in self.free:
            if not accept(o):
                continue
            k = key(o)
            if best is None or k < best or (k == best and index[o] < best_pos):
                best, best_pos, chosen = k, index[o], o
        return chosen
