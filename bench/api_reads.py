"""API read throughput of `flowengine serve` (one worker process).

A data directory gets 100,000 CDRs (as if that many calls had ended) and
the examples; `flowengine serve` runs on it as a subprocess pinned to one
core, and a client on another core (when there is one) keeps `concurrency`
keep-alive requests in flight for a few seconds each:

* `scenario_reads_per_s` — GET /api/v1/scenarios/per_number_ivr (a draft
  with its document, authenticated with an API token: one token lookup per
  request);
* `cdr_lists_per_s` — GET /api/v1/cdrs?limit=50 (the newest page) with the
  100,000 calls stored.

Usage: python bench/api_reads.py [--seconds 5] [--cdrs 100000]
(bench/service.py runs it too and reports `scenario_reads_per_s`).
Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(Path(__file__).resolve().parent))
from served import serving  # noqa: E402  (bench/served.py: flowengine serve as a process)


def _store_cdrs(url: str, count: int) -> None:
    from flowengine.storage import open_database
    from flowengine.storage.schema import cdrs

    db = open_database(url)
    rng = random.Random(1)
    now = time.time()
    rows = []
    for i in range(count):
        start = now - 30 * 86400 + i * 25.0
        talk = rng.expovariate(1 / 180)
        rows.append({
            "call_id": f"bench-{i:07d}", "started_at": start, "answered_at": start + 1, "ended_at": start + 60 + talk,
            "duration": 60 + talk, "caller": f"+7916{i:07d}", "called": "+74951230001", "line": None,
            "scenario_id": "per_number_ivr", "scenario_version": 1, "result": "connected", "queue_id": "sales",
            "operator_id": str(901 + i % 7), "wait": rng.expovariate(1 / 20), "talk": talk,
            "hangup_cause": "normal", "hangup_by": "caller", "events": 30,
        })  # fmt: skip
    with db.begin() as conn:
        for i in range(0, len(rows), 5000):
            conn.execute(cdrs.insert(), rows[i : i + 5000])
    db.close()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _hammer(base: str, token: str, path: str, seconds: float, concurrency: int) -> tuple[float, int]:
    """`concurrency` keep-alive connections, each sending the next request
    as soon as the previous answer is read. A raw HTTP/1.1 client: a full
    client library costs more per request than the server's handler, and the
    point is to load the server, not the client."""
    host, port = base.removeprefix("http://").split(":")
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\r\n"
    ).encode()
    done = 0
    errors = 0

    async def one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        await reader.readexactly(length)
        return head.startswith(b"HTTP/1.1 200")

    async def worker(stop: float) -> None:
        nonlocal done, errors
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while time.perf_counter() < stop:
                if await one(reader, writer):
                    done += 1
                else:
                    errors += 1
        finally:
            writer.close()

    await asyncio.gather(*(worker(time.perf_counter() + 0.5) for _ in range(concurrency)))  # warm up
    done = errors = 0
    started = time.perf_counter()
    await asyncio.gather(*(worker(started + seconds) for _ in range(concurrency)))
    return done / (time.perf_counter() - started), errors


def measure(workdir: Path, *, seconds: float = 5.0, cdr_count: int = 100_000, concurrency: int = 8) -> dict[str, Any]:
    import httpx

    data = workdir / "api-data"
    data.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{data / 'flowengine.db'}"
    _store_cdrs(url, cdr_count)
    # every core of the machine, even when the caller pinned itself to one (bench/service.py)
    cores = list(range(os.cpu_count() or 1)) if hasattr(os, "sched_getaffinity") else []
    previous = set(os.sched_getaffinity(0)) if cores else set()
    served = serving(data, "--examples-dir", str(ROOT / "examples"), core=cores[0] if cores else None)
    with served as server:
        proc, base, session = server.proc, server.base, server.token
        try:
            if len(cores) > 1:
                os.sched_setaffinity(0, {cores[1]})
            token = httpx.post(
                f"{base}/api/v1/tokens", json={"name": "bench", "role": "supervisor"},
                headers={"Authorization": f"Bearer {session}"},
            ).json()["token"]  # fmt: skip
            cpu = _cpu_seconds(proc.pid)
            started = time.perf_counter()
            reads, read_errors = asyncio.run(_hammer(base, token, "/api/v1/scenarios/per_number_ivr", seconds, concurrency))
            read_share = (_cpu_seconds(proc.pid) - cpu) / (time.perf_counter() - started)
            cpu = _cpu_seconds(proc.pid)
            started = time.perf_counter()
            lists, list_errors = asyncio.run(_hammer(base, token, "/api/v1/cdrs?limit=50", seconds, concurrency))
            list_share = (_cpu_seconds(proc.pid) - cpu) / (time.perf_counter() - started)
        finally:
            if previous and hasattr(os, "sched_setaffinity"):
                os.sched_setaffinity(0, previous)
    return {
        "scenario_reads_per_s": round(reads, 1),
        "cdr_lists_per_s": round(lists, 1),
        # per second of the server's own CPU time: what one free core would serve
        "scenario_reads_per_cpu_s": round(reads / read_share, 1) if read_share > 0 else None,
        "cdr_lists_per_cpu_s": round(lists / list_share, 1) if list_share > 0 else None,
        "server_core_share": round(read_share, 2),
        "errors": read_errors + list_errors,
        "cdrs_stored": cdr_count,
        "client_core_separate": len(cores) > 1,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--cdrs", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    print(f"machine: nproc={os.cpu_count()}; server pinned to one core, client on another when there is one")
    with tempfile.TemporaryDirectory(prefix="flowengine-bench-api-") as tmp:
        result = measure(Path(tmp), seconds=args.seconds, cdr_count=args.cdrs, concurrency=args.concurrency)
    print(f"scenario reads: {result['scenario_reads_per_s']:,.0f}/s (target >= 1,000) with the server getting "
          f"{result['server_core_share']:.0%} of a core; {result['scenario_reads_per_cpu_s']:,.0f} per second of server CPU")
    print(f"CDR pages with {result['cdrs_stored']:,} calls stored: {result['cdr_lists_per_s']:,.0f}/s, "
          f"{result['cdr_lists_per_cpu_s']:,.0f} per second of server CPU")  # fmt: skip
    print(json.dumps(result))


if __name__ == "__main__":
    main()
