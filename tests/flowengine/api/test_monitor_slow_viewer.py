"""A wallboard viewer that stops reading its WebSocket, against a real
uvicorn server on 127.0.0.1: it is sent a resync when it reads again, while
the engine and a viewer that keeps up go on unhindered."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from websockets.sync.client import connect

from flowengine.api import ServeSettings, create_app
from flowengine.events import OperatorStatusChanged

PASSWORD = "admin-password-for-tests"
EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Any, asyncio.AbstractEventLoop]]:
    """(base URL, the app, the server's loop): uvicorn in a thread of its own."""
    settings = ServeSettings(data_dir=tmp_path / "data", admin_password=PASSWORD, examples_dir=EXAMPLES)
    app = create_app(settings)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on",
                            ws_per_message_deflate=False)  # fmt: skip
    srv = uvicorn.Server(config)
    srv.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(srv.serve(),), name="uvicorn", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    end = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert time.monotonic() < end and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    try:
        yield base, app, loop
    finally:
        srv.should_exit = True
        thread.join(timeout=30)
        assert not thread.is_alive(), "the server did not stop"


def stalled_viewer(base: str, token: str) -> socket.socket:
    """A WebSocket client that completes the handshake, then reads nothing
    (a tiny receive buffer, so the server's side backs up soon)."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET /api/v1/monitor/wallboard?token={token} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:  # byte by byte: nothing after the headers is read
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


class FrameReader:
    """Server frames (unmasked, unfragmented text) off a raw socket."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = bytearray()

    def _take(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.sock.recv(1 << 16)
            assert chunk, "the server closed the connection"
            self.buf.extend(chunk)
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def until(self, kind: str, seconds: float = 30.0) -> list[dict[str, Any]]:
        """Messages up to and including the next one of type `kind`."""
        self.sock.settimeout(seconds)
        got: list[dict[str, Any]] = []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            first, second = self._take(2)
            size = second & 0x7F
            if size == 126:
                size = int.from_bytes(self._take(2), "big")
            elif size == 127:
                size = int.from_bytes(self._take(8), "big")
            payload = self._take(size)
            if first & 0x0F == 1:  # a text frame
                got.append(json.loads(payload))
                if got[-1]["type"] == kind:
                    return got
        raise AssertionError(f"no {kind!r} message within {seconds} s: {len(got)} others")


def test_a_viewer_that_stops_reading_gets_a_resync_and_holds_nobody_up(server: Any) -> None:
    base, app, loop = server
    token = httpx.post(f"{base}/api/v1/auth/login", json={"username": "admin", "password": PASSWORD}).json()["token"]
    service = app.state.service
    slow = stalled_viewer(base, token)
    fast_messages: list[dict[str, Any]] = []
    count = 3000
    reason = "x" * 5000  # 5 kB a delta, 15 MB in all: more than the kernel buffers for a socket
    last = f"{reason}{count - 1}"

    def keep_up(ws: Any) -> None:
        """Read every message as it comes, until the last change."""
        end = time.monotonic() + 60
        while time.monotonic() < end:
            message = json.loads(ws.recv(timeout=30))
            fast_messages.append(message)
            if any(c["data"].get("reason") == last for c in message.get("changes", [])):
                return

    with connect(f"{base.replace('http', 'ws')}/api/v1/monitor/wallboard?token={token}", max_size=None) as fast:
        fast_messages.append(json.loads(fast.recv(timeout=10)))
        reader = threading.Thread(target=keep_up, args=(fast,), name="fast-viewer")
        reader.start()

        async def burst() -> float:
            """Status changes of operator 901 through the engine, about a thousand a
            second (the test's reader thread shares this process's interpreter)."""
            started = time.perf_counter()
            for i in range(count):
                service.engine.publish_event(OperatorStatusChanged(
                    operator_id="901", seq=10_000 + i, ts=time.time(), status="break", previous="break",
                    reason=f"{reason}{i}", by="test", available=False))  # fmt: skip
                await asyncio.sleep(0.001)
            return time.perf_counter() - started

        took = asyncio.run_coroutine_threadsafe(burst(), loop).result(timeout=60)
        # the engine's side never waited for the stalled viewer
        assert took < 40, f"{count} events took {took:.1f} s to publish"
        reader.join(timeout=70)
    assert any(c["data"].get("reason") == last for c in fast_messages[-1].get("changes", [])), "no last change"
    # the viewer that kept up got every delta, in order, and no resync
    versions = [m["version"] for m in fast_messages[1:]]
    assert versions == list(range(versions[0], versions[0] + len(versions)))
    assert all(m["type"] == "delta" for m in fast_messages[1:])
    # the stalled one fell behind: once it reads, a resync carries the board as it is now
    frames = FrameReader(slow)
    got = frames.until("resync")
    resync = got[-1]
    [row] = [o for o in resync["board"]["operators"] if o["id"] == "901"]
    seen = int(row["reason"].removeprefix(reason))  # the change the board had reached at the resync
    assert seen > len(got)  # what it missed in between was replaced, not queued
    # deltas go on after it, to the last change
    after = frames.until("delta")
    while not any(c["data"].get("reason") == last for c in after[-1]["changes"]):
        after += frames.until("delta")
    assert [m["version"] for m in after] == list(range(resync["version"] + 1, resync["version"] + 1 + len(after)))
    slow.close()
