"""Wallboard latency over WebSocket against `flowengine serve`: event -> viewer.

`flowengine serve` runs as a subprocess on 127.0.0.1 (pinned to one core; the
clients run on another when there is one) with a centre of 5 queues and 100
operators whose virtual phones answer and then talk for an hour. The bench
places `--calls` test calls through the REST API: 100 reach an operator, the
rest wait in the queues, so that many calls are in flight. `--viewers`
WebSocket clients then watch the wallboard while, for `--seconds`, operators
change status (`--rate` changes per second through the API) and new calls
arrive (`--call-rate` per second, each replacing one hung up, so the number in
flight holds).

Latency of a change = the moment a viewer has the message parsed minus the
event's own time, which the board carries: an operator row's `status_since`
for a status change, a waiting call's `since` for a call entering a queue
(epoch seconds from the engine's clock; client and server share the
machine's clock). The client's own parsing is included, so the figure is
what a viewer would see.

Usage: python bench/monitor_ws.py [--calls 500] [--viewers 50] [--seconds 10] [--rate 20] [--call-rate 10]
Last line: {"p50_ms", "p99_ms", "max_ms", "samples", "viewers", "calls_in_flight", "messages", "resyncs"}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from served import serving  # noqa: E402  (bench/served.py: flowengine serve as a process)

QUEUES = [f"q{i}" for i in range(5)]
OPERATORS = [f"{1000 + i}" for i in range(100)]


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def centre() -> dict[str, Any]:
    return {
        "timezone": "Europe/Moscow",
        "operators": [{"id": op, "extension": op, "name": f"Operator {op}"} for op in OPERATORS],
        "queues": [
            {"id": q, "members": OPERATORS[i::5], "strategy": "longest_idle", "max_wait": 3600, "max_length": 1000,
             "ring_timeout": 30, "wrap_up": 0, "service_level": 20}
            for i, q in enumerate(QUEUES)
        ],
    }  # fmt: skip


def scenario(queue: str) -> dict[str, Any]:
    return {
        "schema": 1, "id": f"bench_{queue}", "name": f"bench {queue}", "version": 1,
        "nodes": [
            {"id": "start", "type": "start", "exits": {"next": "queue"}},
            {"id": "queue", "type": "queue", "params": {"queue": queue}, "exits": {"answered": "bye", "timeout": "bye", "full": "bye", "no_operators": "bye", "callback": "bye"}},
            {"id": "bye", "type": "hangup"},
        ],
    }  # fmt: skip


def number(queue: str) -> str:
    return f"+7495000010{queue[1:]}"


class Viewer:
    """One wallboard viewer: records the latency of every change it can date."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.messages = 0
        self.resyncs = 0
        self.status_since: dict[str, float] = {}
        self.waiting: dict[str, set[str]] = {}
        self.measuring = False

    def _board(self, board: dict[str, Any]) -> None:
        for o in board["operators"]:
            self.status_since[o["id"]] = o.get("status_since") or 0.0
        for q in board["queues"]:
            self.waiting[q["id"]] = {w["call_id"] for w in q.get("waiting") or []}

    def take(self, message: dict[str, Any], now: float) -> None:
        self.messages += 1
        kind = message["type"]
        if kind in ("snapshot", "resync"):
            self.resyncs += kind == "resync"
            self._board(message["board"])
            return
        if kind != "delta":
            return
        for change in message["changes"]:
            row = change["data"]
            if change["kind"] == "operator":
                since = row.get("status_since") or 0.0
                if since > self.status_since.get(change["id"], 0.0):
                    self.status_since[change["id"]] = since
                    if self.measuring:
                        self.latencies.append(now - since)
            elif change["kind"] == "queue":
                seen = self.waiting.setdefault(change["id"], set())
                now_waiting = set()
                for w in row.get("waiting") or []:
                    now_waiting.add(w["call_id"])
                    if w["call_id"] not in seen and self.measuring:
                        self.latencies.append(now - w["since"])
                self.waiting[change["id"]] = now_waiting


async def watch(url: str, viewer: Viewer, stop: asyncio.Event, ready: asyncio.Event) -> None:
    async with websockets.connect(url, max_size=None, open_timeout=60) as ws:
        viewer.take(orjson.loads(await ws.recv()), time.time())
        ready.set()
        while not stop.is_set():
            try:
                raw = await asyncio.wait_for(ws.recv(), timeout=0.5)
            except TimeoutError:
                continue
            viewer.take(orjson.loads(raw), time.time())


async def run(base: str, token: str, args: argparse.Namespace) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as api:
        say("setting up the centre and scenarios")
        r = await api.put("/api/v1/centre", json={"centre": centre()})
        r.raise_for_status()
        r = await api.post("/api/v1/scenarios/import", json={"scenarios": [scenario(q) for q in QUEUES], "publish": True})
        r.raise_for_status()
        for q in QUEUES:
            (await api.put(f"/api/v1/routing/numbers/{number(q)}", json={"scenario_id": f"bench_{q}"})).raise_for_status()
        for op in OPERATORS:
            (await api.put(f"/api/v1/operators/{op}/status", json={"status": "available"})).raise_for_status()

        calls: list[str] = []

        async def place(i: int) -> None:
            r = await api.post("/api/v1/calls", json={"called": number(QUEUES[i % 5]), "caller": f"+7916{i:07d}"})
            r.raise_for_status()
            calls.append(r.json()["call_id"])

        say(f"placing {args.calls} calls")
        for i in range(0, args.calls, 20):
            await asyncio.gather(*(place(j) for j in range(i, min(args.calls, i + 20))))
        in_flight = len((await api.get("/api/v1/calls")).json())

        say(f"{in_flight} calls in flight; connecting {args.viewers} viewers")
        url = base.replace("http://", "ws://") + f"/api/v1/monitor/wallboard?token={token}"
        viewers = [Viewer() for _ in range(args.viewers)]
        stop = asyncio.Event()
        readies = [asyncio.Event() for _ in viewers]
        tasks = [asyncio.create_task(watch(url, v, stop, r)) for v, r in zip(viewers, readies, strict=True)]
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), timeout=120)
        await asyncio.sleep(1.0)
        for v in viewers:
            v.measuring = True

        say(f"measuring for {args.seconds:g} s")
        ends = time.monotonic() + args.seconds
        n = args.calls

        async def statuses() -> None:
            i = 0
            while time.monotonic() < ends:
                op = OPERATORS[i % len(OPERATORS)]
                status = "break" if (i // len(OPERATORS)) % 2 == 0 else "available"
                await api.put(f"/api/v1/operators/{op}/status", json={"status": status, "reason": "bench"})
                i += 1
                await asyncio.sleep(1 / args.rate)

        async def arrivals() -> None:
            nonlocal n
            while time.monotonic() < ends:
                if calls:
                    await api.post(f"/api/v1/calls/{calls.pop(0)}/hangup")
                await place(n)
                n += 1
                await asyncio.sleep(1 / args.call_rate)

        await asyncio.gather(statuses(), arrivals())
        await asyncio.sleep(1.0)  # the last messages
        stop.set()
        await asyncio.gather(*tasks)
    latencies = sorted(x for v in viewers for x in v.latencies)
    if not latencies:
        raise SystemExit("no change reached the viewers")
    return {
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 2),
        "max_ms": round(latencies[-1] * 1000, 2),
        "samples": len(latencies),
        "viewers": args.viewers,
        "calls_in_flight": in_flight,
        "messages": sum(v.messages for v in viewers),
        "resyncs": sum(v.resyncs for v in viewers),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--viewers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=20.0, help="operator status changes per second")
    parser.add_argument("--call-rate", type=float, default=10.0, help="new calls per second (each replaces one)")
    args = parser.parse_args()
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    print(f"machine: nproc={os.cpu_count()}; server pinned to one core, the viewers on another when there is one; "
          f"python {sys.version.split()[0]}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="flowengine-bench-ws-") as tmp:
        env = {
            "FLOWENGINE_MAX_TEST_CALLS": str(args.calls * 2), "FLOWENGINE_OPERATOR_TALK_TIME": "3600",
            "FLOWENGINE_OPERATOR_ANSWER_AFTER": "1",
        }  # fmt: skip
        with serving(Path(tmp) / "data", "--no-examples", env=env, core=cores[0] if cores else None) as server:
            if len(cores) > 1:
                os.sched_setaffinity(0, {cores[1]})
            result = asyncio.run(run(server.base, server.token, args))
    print(f"{result['calls_in_flight']} calls in flight, {result['viewers']} WebSocket viewers, "
          f"{result['messages']:,} messages received, {result['resyncs']} resyncs")
    print(f"event -> WebSocket viewer: p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms "
          f"(target p99 <= 100 ms), max {result['max_ms']:.1f} ms over {result['samples']:,} dated changes")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
