"""Monitor benchmark: event -> viewer latency of the live wallboard.

500 calls in flight in 5 queues with 100 operators, 50 wallboard viewers on
one asyncio loop (the WebSocket hop is not included: bench/monitor_ws.py
measures it end to end against `flowengine serve`). Calls
enter queues, get offered, connected and completed, operators change state —
the events a real centre emits — published in bursts of one loop turn at a
time at `--rate` events per second of real time. For each delta, the time from
the publish of its first event to each viewer receiving it is recorded.

Usage: python bench/monitor.py [--calls 500] [--viewers 50] [--events 60000] [--rate 20000]
Last line: {"delta_p50_ms": ..., "delta_p99_ms": ..., "events_per_s": ..., "resyncs": ...}
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flowengine.events import (  # noqa: E402
    OperatorStateChanged,
    QueueCompleted,
    QueueConnected,
    QueueEntered,
)
from flowengine.monitor import MonitorHub, QueueInfo, Wallboard  # noqa: E402

QUEUES = [f"q{i}" for i in range(5)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--viewers", type=int, default=50)
    parser.add_argument("--events", type=int, default=60_000)
    parser.add_argument("--rate", type=float, default=20_000, help="events per second offered")
    args = parser.parse_args()
    ops = [f"op{i}" for i in range(100)]
    members = {q: tuple(ops[i::5]) for i, q in enumerate(QUEUES)}
    board = Wallboard({q: QueueInfo(members=members[q]) for q in QUEUES}, tz="Europe/Moscow")
    rng = random.Random(1)
    print(f"machine: nproc={os.cpu_count()}; python {sys.version.split()[0]}")

    async def run() -> tuple[list[float], float, int]:
        hub = MonitorHub(board, queue_limit=1024)
        sent_at: dict[int, float] = {}
        latencies: list[float] = []
        subs = [hub.subscribe() for _ in range(args.viewers)]

        async def view(sub: object) -> None:
            async for message in sub:  # type: ignore[attr-defined]
                if message["type"] == "delta":
                    latencies.append(time.perf_counter() - sent_at[message["version"]])

        readers = [asyncio.create_task(view(s)) for s in subs]
        seq = 0
        base = 1_800_000_000.0
        burst = max(1, int(args.rate / 1000))  # one burst a millisecond
        started = time.perf_counter()
        published = 0
        while published < args.events:
            first = time.perf_counter()
            for _ in range(burst):
                seq += 1
                call = f"c{rng.randrange(args.calls)}"
                q = rng.choice(QUEUES)
                op = rng.choice(members[q])
                ts = base + seq * 0.001
                common = {"call_id": call, "seq": seq, "ts": ts, "t": 0.0, "scenario_id": "s",
                          "scenario_version": 1, "node_id": "q", "queue_id": q}
                kind = seq % 4
                if kind == 0:
                    event = QueueEntered(position=1, **common)
                elif kind == 1:
                    event = QueueConnected(operator_id=op, wait=rng.random() * 30, ring_time=2.0, **common)
                elif kind == 2:
                    event = QueueCompleted(operator_id=op, wait=5.0, talk_time=60.0, orig_position=1, by="caller", **common)
                else:
                    event = OperatorStateChanged(operator_id=op, seq=seq, ts=ts, state="talking", previous="ringing", call_id=call)
                hub.publish(event)
            sent_at[hub.version + 1] = first
            published += burst
            await asyncio.sleep(0.001)
        elapsed = time.perf_counter() - started
        await asyncio.sleep(0.2)
        for s in subs:
            s.close()
        await asyncio.gather(*readers)
        return latencies, elapsed, sum(s.resyncs for s in subs)

    latencies, elapsed, resyncs = asyncio.run(run())
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99)] * 1000
    print(f"{len(latencies):,} deltas received by {args.viewers} viewers; "
          f"{args.events / elapsed:,.0f} events/s published")
    print(f"event -> viewer latency: p50 {p50:.2f} ms, p99 {p99:.2f} ms (target p99 <= 100 ms); resyncs {resyncs}")
    print(json.dumps({"delta_p50_ms": round(p50, 3), "delta_p99_ms": round(p99, 3),
                      "events_per_s": round(args.events / elapsed), "resyncs": resyncs}))


if __name__ == "__main__":
    main()
