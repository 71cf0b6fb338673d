"""Outbound HTTP for every call (HTTP request nodes, Notify webhooks): one
shared connection pool, fair between origins.

One engine serves many calls, and their requests go to a few origins (a CRM,
a webhook receiver). A dead origin must not take the pool from the healthy
ones: 110 calls waiting on a CRM that accepts connections and never answers
used to hold every connection of the shared client, and requests to a
healthy origin timed out waiting for one.

So each origin (scheme, host, port) has its own limit of requests in flight
(`HttpLimits.per_origin`), the pool is large enough for several origins at
their limit (`HttpLimits.connections`), and a request waits at most
`HttpLimits.wait` seconds (and never longer than its own timeout) for its
turn and a connection. When that wait expires the request is not sent and
`NoConnection` says so, naming the origin and how many requests are in flight
there: the HTTP node reports outcome ``pool_timeout`` and takes its
``timeout`` exit, a webhook counts it as failed.

Not a protocol: this module only orders requests and owns the client.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class HttpLimits:
    """How outbound HTTP shares the network (an `Engine` setting).

    `per_origin`: requests in flight to one origin at a time.
    `connections`: connections in the pool across all origins.
    `wait`: seconds a request may wait for its turn and a connection
    (capped by the request's own timeout).
    """

    per_origin: int = 32
    connections: int = 512
    wait: float = 1.0

    def __post_init__(self) -> None:
        if not 1 <= self.per_origin <= self.connections:
            raise ValueError("HttpLimits: need 1 <= per_origin <= connections")
        if not self.wait > 0:
            raise ValueError("HttpLimits: wait must be positive")


class NoConnection(Exception):
    """No turn and connection for the origin within the wait: not sent."""


class _Origin:
    __slots__ = ("slots", "users", "active")

    def __init__(self, size: int) -> None:
        self.slots = asyncio.Semaphore(size)
        self.users = 0  # requests holding or waiting for a turn
        self.active = 0  # requests holding one


def origin_of(url: httpx.URL) -> str:
    port = url.port or _DEFAULT_PORTS.get(url.scheme, 0)
    return f"{url.scheme}://{url.host}:{port}"


class OutboundHttp:
    """The engine's outbound HTTP: `stream()` is `httpx.AsyncClient.stream`
    with the origin's turn taken first."""

    def __init__(self, limits: HttpLimits | None = None) -> None:
        self.limits = limits or HttpLimits()
        self._client: httpx.AsyncClient | None = None
        self._origins: dict[str, _Origin] = {}

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            import httpx

            limits = self.limits
            self._client = httpx.AsyncClient(
                follow_redirects=False,
                limits=httpx.Limits(
                    max_connections=limits.connections,
                    max_keepalive_connections=min(limits.connections, 100),
                ),
            )
        return self._client

    def use_client(self, client: httpx.AsyncClient) -> None:
        """Send through `client` (the test runner's declared answers), with the
        same turns per origin; `aclose` closes it."""
        self._client = client

    def in_flight(self, origin: str) -> int:
        """Requests holding a turn at `origin` now."""
        entry = self._origins.get(origin)
        return entry.active if entry is not None else 0

    @contextlib.asynccontextmanager
    async def stream(
        self,
        method: str,
        url: httpx.URL,
        *,
        headers: httpx.Headers,
        content: bytes | None,
        timeout: float,
    ) -> AsyncIterator[httpx.Response]:
        """Send the request once the origin has a free turn; `NoConnection`
        when none comes within `min(limits.wait, timeout)` seconds."""
        import httpx

        origin = origin_of(url)
        wait = min(self.limits.wait, timeout)
        entry = self._origins.get(origin)
        if entry is None:
            entry = self._origins[origin] = _Origin(self.limits.per_origin)
        entry.users += 1
        try:
            try:
                async with asyncio.timeout(wait):
                    await entry.slots.acquire()
            except TimeoutError:
                raise NoConnection(self._busy(origin, wait)) from None
            entry.active += 1
            try:
                async with self.client.stream(
                    method,
                    url,
                    headers=headers,
                    content=content,
                    timeout=httpx.Timeout(timeout, pool=wait),
                ) as answer:
                    yield answer
            except httpx.PoolTimeout:
                raise NoConnection(self._busy(origin, wait, pool=True)) from None
            finally:
                entry.active -= 1
                entry.slots.release()
        finally:
            entry.users -= 1
            if entry.users == 0:
                del self._origins[origin]

    def _busy(self, origin: str, wait: float, *, pool: bool = False) -> str:
        if pool:
            why = f"all {self.limits.connections} connections of the pool are in use"
        else:
            why = f"{self.in_flight(origin)} requests in flight there, the limit per origin"
        return f"no free connection to {origin} within {wait:g} s ({why})"

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
