"""Pre-drawn calls through the real ACD core: the same inputs any simulator can take.

`draw_calls` draws, once per call, an arrival time, a handle time and a
patience (exponential: the M/M/n+M world); `replay` runs exactly those calls
through an `flowengine.acd.core.ACD` on a simulated clock until every one of
them has finished — completed its conversation, or given up waiting — and
returns each call's wait and outcome. Operators answer the instant they are
rung. Because the draws are fixed per call, another simulator fed the same
lists (``bench/acd.py`` does this with ciw) must produce the same waits call
by call, which checks both, and makes a speed comparison fair: the same calls,
the same amount of work, counted the same way.

Arrival times are accumulated from inter-arrival gaps (``t += gap``), the way
event-driven simulators compute them, so both sides see bit-identical times.
"""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass

from flowengine.acd import decisions as d
from flowengine.acd.core import ACD

__all__ = ["DrawnCalls", "Outcome", "draw_calls", "replay"]

ANSWERED, ABANDONED, OTHER = 1, 2, 3


@dataclass(frozen=True)
class DrawnCalls:
    """Call i arrives `gaps[i]` after call i-1 (the first after 0) at
    `arrivals[i]`, talks `services[i]` if answered and hangs up after waiting
    `patiences[i]` (``inf``: never)."""

    gaps: list[float]
    arrivals: list[float]
    services: list[float]
    patiences: list[float]

    def __len__(self) -> int:
        return len(self.arrivals)


def draw_calls(
    n: int, rate: float, aht: float, patience: float | None, seed: int = 1
) -> DrawnCalls:
    """`n` calls: Poisson arrivals at `rate` per second, exponential handle times
    (mean `aht`) and patience (mean `patience`, None: infinite), from three
    independent seeded streams."""
    r_arr, r_srv, r_pat = (random.Random(seed * 1_000_003 + k) for k in (1, 2, 3))
    gaps = [r_arr.expovariate(rate) for _ in range(n)]
    arrivals = []
    t = 0.0
    for g in gaps:
        t += g
        arrivals.append(t)
    services = [r_srv.expovariate(1.0 / aht) for _ in range(n)]
    if patience is None:
        patiences = [math.inf] * n
    else:
        patiences = [r_pat.expovariate(1.0 / patience) for _ in range(n)]
    return DrawnCalls(gaps, arrivals, services, patiences)


@dataclass
class Outcome:
    """Per call: `waits[i]` (seconds from arrival to answer or to leaving) and
    `kinds[i]` (1 answered, 2 abandoned, 3 left otherwise)."""

    waits: list[float]
    kinds: bytearray

    def answered(self) -> int:
        return self.kinds.count(ANSWERED)

    def abandoned(self) -> int:
        return self.kinds.count(ABANDONED)

    def service_level(self, threshold: float) -> float:
        """Answered within `threshold` seconds / answered."""
        n = self.answered()
        within = sum(
            1 for w, k in zip(self.waits, self.kinds, strict=True) if k == ANSWERED and w <= threshold + 1e-9
        )
        return within / n if n else 0.0

    def asa(self) -> float:
        """Mean wait of the answered calls."""
        got = [w for w, k in zip(self.waits, self.kinds, strict=True) if k == ANSWERED]
        return sum(got) / len(got) if got else 0.0


_ARRIVE, _ABANDON, _COMPLETE = 0, 1, 2


def replay(acd: ACD, queue_id: str, calls: DrawnCalls) -> Outcome:
    """Run `calls` through `acd` (fresh, all its operators answering at once)
    until each has finished; see the module docstring."""
    n = len(calls)
    arrivals = calls.arrivals
    services = calls.services
    patiences = calls.patiences
    ids = [f"c{i}" for i in range(n)]
    index = {cid: i for i, cid in enumerate(ids)}
    waits = [0.0] * n
    kinds = bytearray(n)
    heap: list[tuple[float, int, int]] = []  # (time, kind, call index)
    push = heapq.heappush
    pop = heapq.heappop
    inf = math.inf
    next_timer = acd.next_timer
    arrived = acd.call_arrived
    answer = acd.offer_answered
    complete = acd.call_completed
    abandon = acd.call_abandoned
    timer = acd.handle_timer
    ring, connected, abandoned = d.Ring, d.Connected, d.Abandoned
    leaving = (d.MaxWaitReached, d.NoOperators, d.QueueFull, d.NoAnswer)
    ai = 0
    ta = arrivals[0] if n else inf
    done = 0
    while done < n:
        while heap and heap[0][1] == _ABANDON and kinds[heap[0][2]]:
            pop(heap)  # the patience of a call answered meanwhile: nothing happens
        tt = next_timer()
        te = heap[0][0] if heap else inf
        if tt is not None and tt <= te and tt <= ta:
            now = tt
            out = timer(tt)
        elif ta <= te:
            now = ta
            i = ai
            ai += 1
            ta = arrivals[ai] if ai < n else inf
            p = patiences[i]
            if p != inf:
                push(heap, (now + p, _ABANDON, i))
            out = arrived(now, ids[i], queue_id)
        elif te == inf:
            raise RuntimeError(f"{n - done} calls never finished")  # nothing left to happen
        else:
            now, kind, i = pop(heap)
            if kind == _COMPLETE:
                done += 1
                out = complete(now, ids[i])
            else:
                out = abandon(now, ids[i])
        for x in out:  # answers are appended to `out`: handled after the rest
            t = type(x)
            if t is ring:
                out += answer(now, x.call_id, x.operator_id, x.leg)  # type: ignore[attr-defined]
            elif t is connected:
                i = index[x.call_id]  # type: ignore[attr-defined]
                kinds[i] = ANSWERED
                waits[i] = x.wait  # type: ignore[attr-defined]
                push(heap, (now + services[i], _COMPLETE, i))
            elif t is abandoned:
                i = index[x.call_id]  # type: ignore[attr-defined]
                kinds[i] = ABANDONED
                waits[i] = x.wait  # type: ignore[attr-defined]
                done += 1
            elif isinstance(x, leaving):
                i = index[x.call_id]  # type: ignore[attr-defined]
                kinds[i] = OTHER
                waits[i] = getattr(x, "wait", 0.0)
                done += 1
    return Outcome(waits, kinds)
