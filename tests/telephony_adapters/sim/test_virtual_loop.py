"""The virtual-time event loop: instant waits, exact clock, real I/O kept real."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from flowengine.runtime.clock import external_io
from flowengine.runtime.virtual_loop import run_virtual


def test_an_hour_of_sleep_takes_no_wall_time() -> None:
    async def main() -> float:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await asyncio.sleep(3600)
        return loop.time() - t0

    started = time.monotonic()
    assert run_virtual(main()) == 3600
    assert time.monotonic() - started < 0.5


def test_timers_fire_in_order_at_their_exact_times() -> None:
    async def main() -> list[tuple[str, float]]:
        loop = asyncio.get_running_loop()
        fired: list[tuple[str, float]] = []

        async def sleeper(name: str, seconds: float) -> None:
            await asyncio.sleep(seconds)
            fired.append((name, loop.time()))

        await asyncio.gather(sleeper("c", 30.25), sleeper("a", 0.5), sleeper("b", 7))
        return fired

    assert run_virtual(main(), start=100.0) == [("a", 100.5), ("b", 107), ("c", 130.25)]


def test_asyncio_timeout_fires_at_the_right_virtual_time() -> None:
    async def main() -> float:
        loop = asyncio.get_running_loop()
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(5):
                await asyncio.sleep(3600)
        return loop.time()

    started = time.monotonic()
    assert run_virtual(main()) == 5
    assert time.monotonic() - started < 0.5


@pytest.fixture
def slow_server() -> Iterator[int]:
    """A 127.0.0.1 server in a thread that answers each request after 0.2 s of real time."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(10)

    def serve() -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            try:
                conn.recv(1024)
                time.sleep(0.2)
                conn.sendall(b"pong\n")
            except OSError:
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    listener.close()
    thread.join(timeout=5)


async def ask(port: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"ping\n")
    await writer.drain()
    try:
        return await reader.readline()
    finally:
        writer.close()


def test_external_io_keeps_virtual_time_from_jumping(slow_server: int) -> None:
    async def main() -> tuple[bytes, float, bool]:
        loop = asyncio.get_running_loop()
        # another call's timer far away: without external_io the clock would jump to it
        other = asyncio.ensure_future(asyncio.sleep(3600))
        t0 = loop.time()
        with external_io():
            async with asyncio.timeout(5):
                answer = await ask(slow_server)
        elapsed = loop.time() - t0
        pending = not other.done()
        other.cancel()
        return answer, elapsed, pending

    started = time.monotonic()
    answer, elapsed, other_pending = run_virtual(main())
    wall = time.monotonic() - started
    assert answer == b"pong\n"
    assert 0.15 <= elapsed <= wall + 0.05  # the clock followed real time
    assert other_pending  # and did not jump an hour ahead
    assert wall < 2


def test_without_external_io_the_virtual_timeout_fires_at_once(slow_server: int) -> None:
    # The contrast that shows what external_io is for: the 5 s timeout is
    # virtual, and nothing holds the clock back while the socket is pending.
    async def main() -> float:
        loop = asyncio.get_running_loop()
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(5):
                await ask(slow_server)
        return loop.time()

    started = time.monotonic()
    assert run_virtual(main()) >= 5
    assert time.monotonic() - started < 0.2


def test_external_io_is_harmless_on_an_ordinary_loop() -> None:
    async def main() -> str:
        with external_io():
            await asyncio.sleep(0)
        return "ok"

    assert asyncio.run(main()) == "ok"
