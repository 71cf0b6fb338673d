"""Service benchmark: storage throughput and its effect on calls.

Pinned to one core, on SQLite files in a temporary directory (WAL,
synchronous=NORMAL, as `flowengine serve` opens them):

1. events/s — the events of N complete calls of examples/per_number_ivr.json
   (made once, by the interpreter on the simulator) written through the
   engine's `EventWriter` into `SqlEventSink` (batches of 500, one transaction
   each, CDRs included), median of several rounds; with the writer's queue
   depth and each commit's latency (p99);
2. the same rows inserted with plain `sqlite3` `executemany` into the same
   table (same indexes, same batches, one commit per batch), alternating with
   (1) in the same run: `ratio_vs_raw_sqlite` = (1) / (2). The raw path gets
   the rows already encoded and numbered (stream ids); the sink encodes each
   event, numbers new streams and keeps the CDRs itself. A third path builds
   the rows from the events with the same encoder, then inserts them plainly
   (`ratio_vs_raw_sqlite_encoding`): the cost of the storage layer alone;
3. step delay — events fed at a steady rate (as calls make them) while a
   probe coroutine sleeps 1 ms in a loop on the same event loop; the p99 of
   how late it wakes, with the SQL sink minus with no storage at all:
   what storage adds to a call step;
4. calls/s stored — bench/interpreter.py's throughput batch (complete calls
   through the per-number IVR on the simulated clock) with `SqlEventSink`
   attached instead of the JSON-lines file; counted until every event is
   committed.

Usage: python bench/service.py [--calls 3000] [--rounds 5] [--batches 3] [--no-pin]
Last line: {"events_per_s", "ratio_vs_raw_sqlite", "ratio_vs_raw_sqlite_cpu", "commit_p99_ms",
"step_delay_p99_ms", "calls_per_s_stored", "scenario_reads_per_s",
"scenario_reads_per_cpu_s", "cdr_lists_per_s"} (5. the API's reads: bench/api_reads.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import interpreter as ib  # noqa: E402  (bench/interpreter.py: the same calls and scripts)

from flowengine.events import EventWriter, MemorySink, StreamEvent  # noqa: E402
from flowengine.events.codec import event_line  # noqa: E402
from flowengine.runtime.clock import WallClock  # noqa: E402
from flowengine.runtime.engine import Engine  # noqa: E402
from flowengine.runtime.virtual_loop import run_virtual  # noqa: E402
from flowengine.scenario.loader import load_scenario_file  # noqa: E402
from flowengine.storage import SqlEventSink, open_database  # noqa: E402
from flowengine.storage.events import _event_insert_sql  # noqa: E402
from telephony_adapters.sim import SimBackend  # noqa: E402

BATCH = 500


def p99(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else 0.0


def make_events(scenario: Any, count: int) -> list[StreamEvent]:
    """The event streams of `count` complete calls, as the engine emits them."""
    scripts = ib._scripts(count, [ib.Step(input="1")])

    async def main() -> list[StreamEvent]:
        engine = Engine(clock=WallClock(ib.START), event_queue=10_000_000)
        sink = MemorySink()
        engine.add_sink(sink)
        engine.publish(scenario)
        backend = SimBackend(engine)
        await asyncio.gather(*[backend.place_call(s)[1] for s in scripts])
        await engine.flush_events()
        await engine.shutdown()
        return list(sink.events)

    return run_virtual(main())


def sink_round(events: list[StreamEvent], path: Path) -> tuple[float, list[float], int, float]:
    """(events/s, commit seconds, most events waiting in the writer, events
    per second of CPU, the sink's thread included)."""
    db = open_database(path)

    async def main() -> tuple[float, list[float], int, float]:
        sink = SqlEventSink(db)
        writer = EventWriter([sink], batch_size=BATCH, queue_size=len(events) + 1)
        started = time.perf_counter()
        cpu = time.process_time()
        for e in events:
            writer.put(e)
        depth = writer.pending
        await writer.flush()
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu
        await writer.close()
        if writer.failed or writer.dropped or sink.written != len(events):
            raise SystemExit(f"the sink lost events: failed {writer.failed}, dropped {writer.dropped}")
        return len(events) / elapsed, list(sink.commit_seconds), depth, len(events) / cpu

    try:
        return asyncio.run(main())
    finally:
        db.close()


def encode_rows(events: Sequence[StreamEvent]) -> list[tuple[Any, ...]]:
    """The sink's rows for `events`, built the plain way (stream ids numbered here)."""
    numbers: dict[tuple[str, str], int] = {}
    return [
        (numbers.setdefault((e.stream, e.stream_key), len(numbers) + 1), e.stream, e.stream_key, e.seq, e.ts,
         e.name, getattr(e, "operator_id", None), event_line(e)[:-1].decode())
        for e in events
    ]  # fmt: skip


def raw_encoding_round(events: Sequence[StreamEvent], path: Path) -> float:
    """Plain sqlite3 again, but building the rows from the events as it goes."""
    open_database(path).close()
    started = time.perf_counter()
    rows = encode_rows(events)
    return len(rows) / (time.perf_counter() - started + len(rows) / raw_round(rows, path, migrate=False)[0])


def raw_round(rows: list[tuple[Any, ...]], path: Path, *, migrate: bool = True) -> tuple[float, float]:
    """Plain sqlite3: the same rows, table, batches and pragmas (rows/s, rows per CPU second)."""
    if migrate:
        open_database(path).close()  # the same schema and indexes
    sql = _event_insert_sql(_SqliteOnly())
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA synchronous = NORMAL")
    started = time.perf_counter()
    cpu = time.process_time()
    for i in range(0, len(rows), BATCH):
        with con:
            con.executemany(sql, rows[i : i + BATCH])
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    con.close()
    return len(rows) / elapsed, len(rows) / cpu


class _SqliteOnly:
    """Enough of a `Database` for `_event_insert_sql` (qmark parameters)."""

    class engine:  # noqa: N801
        class dialect:  # noqa: N801
            paramstyle = "qmark"


def step_delay(events: list[StreamEvent], path: Path | None, rate: float) -> list[float]:
    """How late a 1 ms sleep wakes while `events` arrive at `rate` events/s
    and go to the SQL sink (`path`) or nowhere (None)."""
    db = open_database(path) if path is not None else None

    async def main() -> list[float]:
        sinks: list[Any] = [SqlEventSink(db)] if db is not None else [MemorySink(maxlen=1)]
        writer = EventWriter(sinks, batch_size=BATCH, queue_size=len(events) + 1)
        delays: list[float] = []
        done = asyncio.Event()

        async def probe() -> None:
            while not done.is_set():
                t0 = time.perf_counter()
                await asyncio.sleep(0.001)
                delays.append(time.perf_counter() - t0 - 0.001)

        task = asyncio.get_running_loop().create_task(probe(), name="probe")
        chunk = max(1, int(rate / 100))  # every 10 ms
        for i in range(0, len(events), chunk):
            for e in events[i : i + chunk]:
                writer.put(e)
            await asyncio.sleep(0.01)
        await writer.flush()
        done.set()
        await task
        await writer.close()
        return delays

    try:
        return asyncio.run(main())
    finally:
        if db is not None:
            db.close()


def stored_calls_batch(scenario: Any, count: int, path: Path) -> float:
    """bench/interpreter.py's throughput batch with the SQL sink attached."""
    scripts = ib._scripts(count, [ib.Step(input="1")])
    db = open_database(path)

    async def main() -> float:
        engine = Engine(clock=WallClock(ib.START), event_queue=1_000_000)
        sink = SqlEventSink(db)
        engine.add_sink(sink)
        engine.publish(scenario)
        backend = SimBackend(engine)
        started = time.perf_counter()
        done = await asyncio.gather(*[backend.place_call(s)[1] for s in scripts])
        await engine.flush_events()  # committed, not just queued
        elapsed = time.perf_counter() - started
        dropped = engine.writer.dropped if engine.writer is not None else 0
        await engine.shutdown()
        if dropped or (engine.writer is not None and engine.writer.failed):
            raise SystemExit(f"the event writer dropped {dropped} events")
        bad = [ctx for ctx in done if ctx.variables.get("CHOICE") != "1"]
        if bad:
            raise SystemExit(f"{len(bad)} calls did not complete the menu")
        return count / elapsed

    try:
        return run_virtual(main())
    finally:
        db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000, help="calls whose events are written (events/s)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batches", type=int, default=3, help="batches of stored calls")
    parser.add_argument("--batch-calls", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=20_000, help="events/s fed during the step-delay probe")
    parser.add_argument("--no-pin", action="store_true", help="use every core (the database driver works beside the interpreter)")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity") and not args.no_pin:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    pinned = "all cores" if args.no_pin else "pinned to one core"
    print(f"machine: nproc={os.cpu_count()}, {pinned}; python {sys.version.split()[0]}; "
          f"sqlite {sqlite3.sqlite_version}")  # fmt: skip
    scenario = load_scenario_file(ROOT / "examples" / "per_number_ivr.json")
    events = make_events(scenario, args.calls)
    rows = encode_rows(events)  # the raw path is given them ready-made
    print(f"events: {len(events):,} from {args.calls:,} calls ({len(events) / args.calls:.1f} per call)")
    with tempfile.TemporaryDirectory(prefix="flowengine-bench-") as tmp:
        d = Path(tmp)
        sink_rates, raw_rates, raw_enc_rates, commits, depths = [], [], [], [], []
        cpu_ratios = []
        sink_round(events[:2000], d / "warm.db")
        for r in range(args.rounds):
            rate, commit, depth, sink_cpu = sink_round(events, d / f"sink{r}.db")
            raw, raw_cpu = raw_round(rows, d / f"raw{r}.db")
            raw_enc = raw_encoding_round(events, d / f"rawenc{r}.db")
            sink_rates.append(rate)
            raw_rates.append(raw)
            raw_enc_rates.append(raw_enc)
            cpu_ratios.append(sink_cpu / raw_cpu)
            commits.extend(commit)
            depths.append(depth)
            print(f"round {r + 1}/{args.rounds}: SqlEventSink {rate:,.0f} events/s, raw sqlite3 {raw:,.0f} events/s "
                  f"(rows ready-made), {raw_enc:,.0f} events/s (rows built from the events); "
                  f"per CPU second: sink {sink_cpu:,.0f}, raw {raw_cpu:,.0f}")  # fmt: skip
        rate = statistics.median(sink_rates)
        raw = statistics.median(raw_rates)
        raw_enc = statistics.median(raw_enc_rates)
        cpu_ratio = statistics.median(cpu_ratios)
        commit_p99 = p99(commits) * 1000
        print(f"median: {rate:,.0f} events/s stored (target >= 20,000); raw sqlite3 {raw:,.0f}; "
              f"ratio {rate / raw:.2f} (target >= 0.5); against raw sqlite3 that also encodes the events "
              f"({raw_enc:,.0f}/s): {rate / raw_enc:.2f}; per CPU second (robust to a loaded machine): {cpu_ratio:.2f}")  # fmt: skip
        print(f"commit latency ({BATCH}-event batches): median {statistics.median(commits) * 1000:.1f} ms, "
              f"p99 {commit_p99:.1f} ms; writer queue depth at the start {max(depths):,} (every event queued at once)")  # fmt: skip

        probe_events = events[: int(args.rate * 3)]  # three seconds of traffic
        idle = step_delay(probe_events, None, args.rate)
        busy = step_delay(probe_events, d / "probe.db", args.rate)
        added = max(0.0, p99(busy) - p99(idle)) * 1000
        print(f"step delay at {args.rate:,.0f} events/s: p99 {p99(busy) * 1000:.2f} ms with the SQL sink, "
              f"{p99(idle) * 1000:.2f} ms without storage: storage adds {added:.2f} ms (target <= 2)")  # fmt: skip

        stored_calls_batch(scenario, 300, d / "warm-calls.db")
        stored = []
        for b in range(args.batches):
            calls = stored_calls_batch(scenario, args.batch_calls, d / f"calls{b}.db")
            stored.append(calls)
            print(f"batch {b + 1}/{args.batches}: {args.batch_calls} calls, {calls:,.0f} complete calls/s with every event in SQLite")
        calls_stored = statistics.median(stored)
        print(f"median: {calls_stored:,.0f} calls/s stored (target >= 2,000)")

        import api_reads  # bench/api_reads.py: flowengine serve as a process, one worker

        reads = api_reads.measure(d)
        print(f"API: {reads['scenario_reads_per_s']:,.0f} scenario reads/s (target >= 1,000; "
              f"{reads['scenario_reads_per_cpu_s']:,.0f} per second of server CPU), "
              f"{reads['cdr_lists_per_s']:,.0f} CDR pages/s with {reads['cdrs_stored']:,} calls stored")  # fmt: skip
    print(json.dumps({
        "events_per_s": round(rate, 1),
        "ratio_vs_raw_sqlite": round(rate / raw, 3),
        "ratio_vs_raw_sqlite_encoding": round(rate / raw_enc, 3),
        "ratio_vs_raw_sqlite_cpu": round(cpu_ratio, 3),
        "commit_p99_ms": round(commit_p99, 2),
        "step_delay_p99_ms": round(added, 3),
        "calls_per_s_stored": round(calls_stored, 1),
        "scenario_reads_per_s": reads["scenario_reads_per_s"],
        "scenario_reads_per_cpu_s": reads["scenario_reads_per_cpu_s"],
        "cdr_lists_per_s": reads["cdr_lists_per_s"],
    }))  # fmt: skip


if __name__ == "__main__":
    main()
