"""Estimated waiting time for announcements and expressions.

A running average of past waits lags behind: it tells the caller what the
queue was like ten minutes ago. The estimate here is built from the *current*
state instead — the caller's position, how many operators staff the queue and
how long calls currently take to handle:

    k   = position - free          (departures the caller needs: calls ahead
                                     of them that free operators cannot absorb,
                                     plus their own)
    EWT = max(0, k) * AHT / N

`N` is the number of members logged in with an available status (idle,
ringing, talking or in wrap-up); `free` the members who could be rung right
now; AHT an exponentially weighted mean of recent handle times (talk + wrap-up)
seeded with the queue's ``expected_handle_time``. With all N operators busy and
handle times roughly exponential, operators free up at rate N/AHT whatever
their elapsed times (memorylessness), so the k-th free slot comes after
k·AHT/N on average — the M/M/N waiting time of the customer at that position.
No staff (N = 0) gives no estimate (None), never a made-up number.

Known simplifications: operators shared with other queues are counted fully,
and calls of higher priority arriving later are not foreseen.
"""

from __future__ import annotations

__all__ = ["HandleTime", "estimated_wait"]


class HandleTime:
    """Exponentially weighted mean of handle times (weight `alpha` on the newest)."""

    __slots__ = ("mean", "alpha", "samples")

    def __init__(self, initial: float, alpha: float = 0.05) -> None:
        self.mean = initial
        self.alpha = alpha
        self.samples = 0

    def add(self, seconds: float) -> None:
        # the first samples weigh more, so a wrong initial guess fades fast
        self.samples += 1
        a = max(self.alpha, 1.0 / (self.samples + 1))
        self.mean += a * (seconds - self.mean)


def estimated_wait(position: int, free: int, staffed: int, aht: float) -> float | None:
    """Expected seconds until the caller at `position` (1-based) is offered a call."""
    if staffed <= 0:
        return None
    k = position - free
    if k <= 0:
        return 0.0
    return k * aht / staffed
