"""`flowengine serve` as a process for the benchmarks that measure it from
outside (api_reads, monitor_ws, editor): started on a free port, waited for
until ready, signed in as admin, stopped afterwards."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench-admin-password"


@dataclass
class Served:
    base: str
    proc: subprocess.Popen[bytes]
    #: an admin session token
    token: str


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(data_dir: Path, *args: str, env: dict[str, str] | None = None, core: int | None = None,
            quiet: bool = False) -> Iterator[Served]:
    """`flowengine serve --data-dir DATA_DIR ARGS...`; `core` pins the server to one CPU."""
    port = free_port()
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), "FLOWENGINE_ADMIN_PASSWORD": PASSWORD, **(env or {})}
    out = subprocess.DEVNULL if quiet else None
    proc = subprocess.Popen(
        [sys.executable, "-m", "flowengine.cli", "serve", "--data-dir", str(data_dir), "--port", str(port),
         "--log-level", "warning", *args],
        env=full_env, stdout=out, stderr=out,
        preexec_fn=(lambda: os.sched_setaffinity(0, {core})) if core is not None else None,  # noqa: PLW1509
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("flowengine serve did not start")
            time.sleep(0.1)
        token = httpx.post(f"{base}/api/v1/auth/login", json={"username": "admin", "password": PASSWORD}).json()["token"]
        yield Served(base, proc, token)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
