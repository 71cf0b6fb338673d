"""Token buckets per source address, sans-IO (`now` is an argument).

Used by the core against floods: new INVITEs per source (`invite_rate`,
answered with 503 and Retry-After beyond it) and the 403s we spend on
untrusted peers (beyond their budget such requests are dropped unanswered,
so a scanner cannot make us a traffic amplifier). The table of buckets is
bounded: when full, the buckets that have refilled completely are forgotten
first (they carry no state worth keeping), then the oldest.
"""

from __future__ import annotations


class RateLimiter:
    __slots__ = ("rate", "burst", "max_keys", "_buckets")

    def __init__(self, rate: float, burst: float, *, max_keys: int = 10_000) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self.max_keys = max_keys
        #: key -> (tokens, time of the last update)
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, key: str, now: float) -> bool:
        tokens, last = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        if key not in self._buckets and len(self._buckets) >= self.max_keys:
            self._prune(now)
        self._buckets[key] = (tokens, now)
        return allowed

    def _prune(self, now: float) -> None:
        full = [k for k, (t, last) in self._buckets.items() if t + (now - last) * self.rate >= self.burst]
        for k in full:
            del self._buckets[k]
        while len(self._buckets) >= self.max_keys:
            del self._buckets[next(iter(self._buckets))]

    def __len__(self) -> int:
        return len(self._buckets)
