"""Interpreter benchmark: calls per second, memory per in-flight call, and
what the interpreter costs against the same flow written by hand.

Runs examples/per_number_ivr.json on the simulator's virtual clock, pinned to
one core:
1. throughput — batches of complete calls (each: start, assign, notify, menu
   by CalledID, a Gather with its prompt, one key press, a message, hangup),
   with every event going through the engine's event writer into a JSON-lines
   file (a temporary file on disk unless `--events-out FILE`); the median of
   several batches in complete calls per wall-clock second, the time counted
   until the writer has written every event;
2. the same calls through `hand_written_call`: the same flow as one plain
   coroutine on the same simulator (no graph, no expressions, no node
   events), writing the same facts (call started/answered, variables, the
   log line, prompts, digits, hangup, end) through the same writer and file
   sink. Batches of the two alternate in one run; `ratio_vs_handwritten` is
   the interpreter's median rate over the hand-written median (>= 0.5 wanted);
3. memory — 50,000 calls started at once and paused inside the Gather,
   waiting for a digit; the traced Python heap growth divided by the calls.

Usage: python bench/interpreter.py [--calls 5000] [--batches 5] [--paused 50000] [--events-out FILE]
Last line: {"calls_per_s": ..., "kib_per_call": ..., "ratio_vs_handwritten": ...}
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flowengine.events import (  # noqa: E402
    CallAnswered,
    CallEnded,
    CallHungUp,
    CallStarted,
    DigitsReceived,
    EventWriter,
    JsonLinesSink,
    Notified,
    PromptPlayed,
    StreamEvent,
    UUIDv7,
    VariableChanged,
)
from flowengine.runtime.clock import WallClock  # noqa: E402
from flowengine.runtime.engine import Engine  # noqa: E402
from flowengine.runtime.virtual_loop import run_virtual  # noqa: E402
from flowengine.scenario.loader import load_scenario_file  # noqa: E402
from flowengine.telephony import Prompt  # noqa: E402
from flowengine.testing.script import CallerScript, Step  # noqa: E402
from telephony_adapters.sim import SimBackend, SimCall  # noqa: E402

NUMBERS = ["+74951230001", "+78125550002", "+78005553535"]
START = __import__("datetime").datetime.fromisoformat("2026-11-23T10:00:00+03:00")


def _scripts(count: int, steps: list[Step]) -> list[CallerScript]:
    return [
        CallerScript(caller=f"+7916{i:07d}", called=NUMBERS[i % 3], steps=steps, think=0.5)
        for i in range(count)
    ]


#: the per-number IVR's menus, as the hand-written flow has them: prompt,
#: digit -> goodbye message, timeout prompt, invalid prompt, language
MENUS: dict[str, tuple[str, dict[str, str], str, str, str]] = {
    "+74951230001": (
        "Московский офис. Нажмите 1 — отдел продаж, 2 — сервис.",
        {"1": "Отдел продаж Москвы. Спасибо за звонок!", "2": "Сервисный центр Москвы. Спасибо за звонок!"},
        "Мы не услышали ваш выбор.", "Такого пункта нет.", "ru",
    ),
    "+78125550002": (
        "Офис в Санкт-Петербурге. Нажмите 1 — продажи, 2 — доставка.",
        {"1": "Продажи, Санкт-Петербург. Спасибо за звонок!", "2": "Служба доставки Санкт-Петербурга. Спасибо за звонок!"},
        "Мы не услышали ваш выбор.", "Такого пункта нет.", "ru",
    ),
    "+78005553535": (
        "Federal hotline. Press 1 for orders, 2 for complaints.",
        {"1": "Orders desk. Thank you for calling!", "2": "Complaints desk. Thank you for calling!"},
        "We did not hear your choice.", "There is no such option.", "en",
    ),
}
NOTIFY_LOG = logging.getLogger("flowengine.notify")


class HandEvents:
    """The stream of one hand-written call: numbered, stamped and written
    exactly as the engine would, but with no graph behind it."""

    __slots__ = ("call_id", "seq", "t0", "ts0", "loop", "put")

    def __init__(self, call_id: str, put: Callable[[StreamEvent], None], offset: float) -> None:
        self.call_id = call_id
        self.seq = 0
        self.loop = asyncio.get_running_loop()
        self.t0 = self.loop.time()
        self.ts0 = offset + self.t0
        self.put = put

    def emit(self, cls: type[Any], **fields: Any) -> None:
        t = int((self.loop.time() - self.t0) * 1e6 + 0.5) / 1e6
        self.seq += 1
        if getattr(cls, "in_scenario", False):
            fields["scenario_id"] = "per_number_ivr"
            fields["scenario_version"] = 1
        self.put(cls(call_id=self.call_id, seq=self.seq, ts=self.ts0 + t, t=t, **fields))


async def hand_written_call(call: SimCall, ev: HandEvents, wall: str) -> str:
    """The per-number IVR as one coroutine: what the interpreter is measured against."""
    ev.emit(CallStarted, wall=wall, caller=call.caller, called=call.called, scenario_id="per_number_ivr",
            scenario_version=1, backend="sim", platform_id=call.call_id)
    await call.answer()
    ev.emit(CallAnswered, node_id="start", ring_time=0.0)
    called = call.called
    ev.emit(VariableChanged, variable="CALLEDID", value=called, node_id="remember_number")
    message = f"Incoming call to {called} from {call.caller}"
    NOTIFY_LOG.info("call %s, node %s: %s", ev.call_id, "log_number", message)
    ev.emit(Notified, node_id="log_number", channel="log", message=message, level="info")

    async def say(node_id: str, text: str, language: str, barge_in: bool = False) -> None:
        interrupted = await call.play(Prompt("say", text, language), barge_in=barge_in)
        ev.emit(PromptPlayed, node_id=node_id, kind="say", text=text, language=language, interrupted=interrupted)

    choice = ""
    menu = MENUS.get(called)
    if menu is None:
        await say("not_in_service", f"Номер {called} не обслуживается. The number you dialled is not in service.", "ru")
    else:
        prompt, options, timeout_prompt, invalid_prompt, language = menu
        for attempt in range(2):
            await say("menu", prompt, language, barge_in=True)
            got = await call.collect_digits(max_digits=1, first_timeout=5, inter_timeout=3, terminator="#")
            ev.emit(DigitsReceived, node_id="menu", digits=got.digits, reason=got.reason)
            choice = got.digits
            ev.emit(VariableChanged, variable="CHOICE", value=choice, node_id="menu")
            if choice in options:
                await say("thanks", options[choice], language)
                break
            if attempt == 0:
                call.flush_digits()
                await say("menu", timeout_prompt if not choice else invalid_prompt, language)
    await call.hangup("normal")
    ev.emit(CallHungUp, cause="normal", by="engine", node_id="goodbye")
    ev.emit(CallEnded, duration=round(ev.loop.time() - ev.t0, 6), steps=0, hangup_cause="normal")
    return choice


def hand_written_batch(count: int, events_out: Path) -> float:
    scripts = _scripts(count, [Step(input="1")])

    async def main() -> float:
        engine = Engine(clock=WallClock(START))  # the simulator needs one; it runs no call
        backend = SimBackend(engine)
        writer = EventWriter(name="event-writer", queue_size=1_000_000)
        writer.add_sink(JsonLinesSink(events_out))
        offset = engine.clock.epoch_offset()
        new_id = UUIDv7()
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        tasks = []
        for i, script in enumerate(scripts):
            call = SimCall(backend, f"hand-{i}", script)
            # like the engine: its own id and start time for every call
            ev = HandEvents(new_id(call), writer.put, offset)
            wall = engine.clock.now().isoformat()
            tasks.append(loop.create_task(hand_written_call(call, ev, wall), name=f"hand:{i}"))
            call.start_script()
        choices = await asyncio.gather(*tasks)
        await writer.flush()
        elapsed = time.perf_counter() - started
        await writer.close()
        await engine.shutdown()
        if writer.dropped:
            raise SystemExit(f"the event writer dropped {writer.dropped} events")
        if any(c != "1" for c in choices):
            raise SystemExit("hand-written calls did not complete the menu")
        return count / elapsed

    return run_virtual(main())


def throughput_batch(scenario: object, count: int, events_out: Path) -> float:
    scripts = _scripts(count, [Step(input="1")])

    async def main() -> float:
        engine = Engine(clock=WallClock(START), event_queue=1_000_000)
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
    parser.add_argument("--events-out", type=Path, default=None, help="write every event here (default: a temporary file)")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    scenario = load_scenario_file(ROOT / "examples" / "per_number_ivr.json")
    print(f"machine: nproc={os.cpu_count()}, pinned to one core; python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory(prefix="flowengine-bench-") as tmp:
        out = args.events_out or Path(tmp) / "events.jsonl"
        print(f"events: JSON lines into {'a temporary file' if args.events_out is None else out}")
        throughput_batch(scenario, 500, out)  # warm-up: caches, imports
        hand_written_batch(500, out)
        rates, hand = [], []
        for i in range(args.batches):
            out.unlink(missing_ok=True)  # each batch writes a fresh file
            rate = throughput_batch(scenario, args.calls, out)
            size = out.stat().st_size if out.exists() else 0
            out.unlink(missing_ok=True)
            base = hand_written_batch(args.calls, out)
            rates.append(rate)
            hand.append(base)
            print(
                f"batch {i + 1}/{args.batches}: {args.calls} calls, interpreter {rate:,.0f} calls/s "
                f"({size / 1e6:.1f} MB of events), hand-written {base:,.0f} calls/s"
            )
    median = statistics.median(rates)
    hand_median = statistics.median(hand)
    ratio = statistics.median(r / h for r, h in zip(rates, hand, strict=True))
    print(f"median: {median:,.0f} complete calls/s with every event written (target >= 2,000)")
    print(
        f"hand-written flow: {hand_median:,.0f} calls/s; interpreter / hand-written = {ratio:.2f} "
        f"(median of the {len(rates)} pairs; target >= 0.5)"
    )
    kib = paused_memory(scenario, args.paused)
    print(f"memory: {kib:.2f} KiB per call with {args.paused:,} calls paused in a Gather (target <= 10)")
    print(json.dumps({"calls_per_s": round(median, 1), "kib_per_call": round(kib, 3), "ratio_vs_handwritten": round(ratio, 3)}))


if __name__ == "__main__":
    main()
