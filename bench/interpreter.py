"""Interpreter benchmark: calls per second and memory per in-flight call.

Runs examples/per_number_ivr.json on the simulator's virtual clock, pinned to
one core:
1. throughput — batches of complete calls (each: start, assign, notify, menu
   by CalledID, a Gather with its prompt, one key press, a message, hangup);
   the median of several batches in complete calls per wall-clock second;
2. memory — 50,000 calls started at once and paused inside the Gather,
   waiting for a digit; the traced Python heap growth divided by the calls.

With `--events-out FILE` every event of the throughput batches is also
written through the engine's event writer to a `JsonLinesSink` (FILE may be
/dev/null to measure serialisation without the disk); the writer's drops are
reported, and must be 0.

Usage: python bench/interpreter.py [--calls 5000] [--batches 5] [--paused 50000] [--events-out FILE]
Last line: {"calls_per_s": ..., "kib_per_call": ...}
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flowengine.events import JsonLinesSink  # noqa: E402
from flowengine.runtime.clock import WallClock  # noqa: E402
from flowengine.runtime.engine import Engine  # noqa: E402
from flowengine.runtime.virtual_loop import run_virtual  # noqa: E402
from flowengine.scenario.loader import load_scenario_file  # noqa: E402
from flowengine.testing.script import CallerScript, Step  # noqa: E402
from telephony_adapters.sim import SimBackend  # noqa: E402

NUMBERS = ["+74951230001", "+78125550002", "+78005553535"]
START = __import__("datetime").datetime.fromisoformat("2026-11-23T10:00:00+03:00")


def _scripts(count: int, steps: list[Step]) -> list[CallerScript]:
    return [
        CallerScript(caller=f"+7916{i:07d}", called=NUMBERS[i % 3], steps=steps, think=0.5)
        for i in range(count)
    ]


def throughput_batch(scenario: object, count: int, events_out: Path | None = None) -> float:
    scripts = _scripts(count, [Step(input="1")])

    async def main() -> float:
        engine = Engine(clock=WallClock(START), event_queue=1_000_000)
        if events_out is not None:
            engine.add_sink(JsonLinesSink(events_out))
        engine.publish(scenario)  # type: ignore[arg-type]
        backend = SimBackend(engine)
        started = time.perf_counter()
        tasks = [backend.place_call(s)[1] for s in scripts]
        done = await asyncio.gather(*tasks)
        await engine.flush_events()  # written, not just queued
        elapsed = time.perf_counter() - started
        dropped = engine.writer.dropped if engine.writer is not None else 0
        await engine.shutdown()
        if dropped:
            raise SystemExit(f"the event writer dropped {dropped} events")
        bad = [ctx.call.call_id for ctx in done if ctx.variables.get("CHOICE") != "1"]
        if bad:
            raise SystemExit(f"{len(bad)} calls did not complete the menu, e.g. {bad[:3]}")
        return count / elapsed

    return run_virtual(main())


def paused_memory(scenario: object, count: int) -> float:
    scripts = _scripts(count, [])  # silent callers: they stay in the Gather

    async def main() -> float:
        engine = Engine(clock=WallClock(START))
        engine.publish(scenario)  # type: ignore[arg-type]
        backend = SimBackend(engine)
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        calls = [backend.place_call(s)[0] for s in scripts]
        await asyncio.sleep(4.5)  # prompts are done; every call waits for its first digit
        listening = sum(1 for c in calls if c._listen == "digits")
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        if listening != count:
            raise SystemExit(f"only {listening} of {count} calls were paused in the Gather")
        del scripts[:]
        per_call = (after - before) / count / 1024
        await engine.shutdown(timeout=60)
        return per_call

    return run_virtual(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000, help="calls per throughput batch")
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--paused", type=int, default=50_000)
    parser.add_argument("--events-out", type=Path, default=None, help="also write every event here (JSON lines)")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    scenario = load_scenario_file(ROOT / "examples" / "per_number_ivr.json")
    print(f"machine: nproc={os.cpu_count()}, pinned to one core; python {sys.version.split()[0]}")
    throughput_batch(scenario, 500, args.events_out)  # warm-up: caches, imports
    rates = []
    for i in range(args.batches):
        rate = throughput_batch(scenario, args.calls, args.events_out)
        rates.append(rate)
        print(f"batch {i + 1}/{args.batches}: {args.calls} calls, {rate:,.0f} calls/s")
    median = statistics.median(rates)
    print(f"median: {median:,.0f} complete calls/s (target >= 2,000)")
    kib = paused_memory(scenario, args.paused)
    print(f"memory: {kib:.2f} KiB per call with {args.paused:,} calls paused in a Gather (target <= 10)")
    print(json.dumps({"calls_per_s": round(median, 1), "kib_per_call": round(kib, 3)}))


if __name__ == "__main__":
    main()
