"""`flowengine serve` as a process: SIGTERM stops it cleanly; after a SIGKILL
the next start closes the interrupted calls with cause engine_restart and
keeps every event that had been committed."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[3]
PASSWORD = "serve-test-password"
V1 = "/api/v1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(data_dir: Path) -> Iterator[tuple[subprocess.Popen[bytes], httpx.Client]]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FLOWENGINE_ADMIN_PASSWORD": PASSWORD}
    proc = subprocess.Popen(
        [sys.executable, "-m", "flowengine.cli", "serve", "--data-dir", str(data_dir), "--port", str(port),
         "--examples-dir", str(ROOT / "examples"), "--log-level", "warning"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if client.get("/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"serve did not become ready: {proc.stderr.read().decode() if proc.stderr else ''}")
            time.sleep(0.1)
        token = client.post(f"{V1}/auth/login", json={"username": "admin", "password": PASSWORD}).json()["token"]
        client.headers["Authorization"] = f"Bearer {token}"
        yield proc, client
    finally:
        client.close()
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def start_calls(client: httpx.Client, n: int) -> list[str]:
    ids = []
    for _ in range(n):
        # the call centre example: greeting, menu, queue, an operator talking
        r = client.post(f"{V1}/calls", json={"called": "+74957654321"})
        assert r.status_code == 201, r.text
        ids.append(r.json()["call_id"])
    return ids


def committed(client: httpx.Client, call_id: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = client.get(f"{V1}/calls/{call_id}/events").json()["events"]
    return events


def test_sigkill_then_restart_closes_interrupted_calls(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with serve(data) as (proc, client):
        ids = start_calls(client, 5)
        time.sleep(1.0)
        seen = {call_id: committed(client, call_id) for call_id in ids}  # reading flushes: these are committed
        assert all(events and events[0]["event"] == "call_started" for events in seen.values())
        assert all(not any(e["event"] == "call_ended" for e in events) for events in seen.values())
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    with serve(data) as (_proc, client):
        for call_id, before in seen.items():
            after = committed(client, call_id)
            assert after[: len(before)] == before  # nothing committed was lost
            assert [e["seq"] for e in after] == list(range(1, len(after) + 1))  # no gap, no duplicate
            assert after[-1]["event"] == "call_ended" and after[-1]["hangup_cause"] == "engine_restart"
            cdr = client.get(f"{V1}/calls/{call_id}/cdr").json()
            assert (cdr["hangup_cause"], cdr["result"]) == ("engine_restart", "interrupted")
        # the restarted service takes calls again
        assert client.post(f"{V1}/calls", json={"called": "+74951230001"}).status_code == 201


def test_sigterm_ends_calls_flushes_events_and_exits_zero(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with serve(data) as (proc, client):
        ids = start_calls(client, 3)
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    with serve(data) as (_proc, client):
        for call_id in ids:
            events = committed(client, call_id)
            assert events[-1]["event"] == "call_ended"
            assert events[-1]["hangup_cause"] != "engine_restart"  # ended by the stop, not recovered
