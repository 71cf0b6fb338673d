"""Token buckets per address: refill over `now`, and a bounded table."""

from __future__ import annotations

from telephony_adapters.sip.ratelimit import RateLimiter


def test_burst_then_rate() -> None:
    limit = RateLimiter(rate=10.0, burst=5)
    assert [limit.allow("a", 0.0) for _ in range(7)] == [True] * 5 + [False] * 2
    assert limit.allow("a", 0.1) is True  # one token back after 100 ms
    assert limit.allow("a", 0.1) is False
    assert limit.allow("b", 0.1) is True  # another address has its own bucket


def test_table_stays_bounded_under_a_spoofed_address_flood() -> None:
    limit = RateLimiter(rate=1.0, burst=2, max_keys=100)
    for i in range(10_000):
        limit.allow(f"10.0.{i // 256}.{i % 256}", float(i) * 0.001)
    assert len(limit) <= 100
