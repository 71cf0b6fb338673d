"""The engine: publication, number routing, one tracked task per call, event sinks."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import pytest
from scenario_builders import check_stream, doc, hangup, load, say, script, start

from flowengine.errors import UsageError
from flowengine.events import MemorySink
from flowengine.runtime.clock import WallClock
from flowengine.runtime.engine import Engine
from flowengine.runtime.virtual_loop import run_virtual
from flowengine.testing.harness import trace_of
from telephony_adapters.sim import SimBackend


def greeting(scenario_id: str, text: str, numbers: list[str], version: int = 1) -> Any:
    return load(
        doc([start("hello"), say("hello", text, "bye"), hangup()], scenario_id=scenario_id, numbers=numbers, version=version)
    )


def test_called_number_picks_the_scenario_and_unknown_numbers_get_the_explicit_default() -> None:
    sales = greeting("sales", "Sales", ["100", "101"])
    support = greeting("support", "Support", ["200"])
    engine = Engine(keep_events=True)
    with pytest.raises(UsageError, match="no default scenario"):
        engine.scenario_for("100")
    engine.publish(sales)
    engine.publish(support)
    assert engine.scenario_for("100").id == "sales" and engine.scenario_for("101").id == "sales"
    assert engine.scenario_for("200").id == "support"
    with pytest.raises(UsageError, match="number 999 not bound, and no default scenario"):
        engine.scenario_for("999")  # the first published is no catch-all
    engine.publish(support, default=True)
    assert engine.scenario_for("999").id == "support"
    engine.publish(greeting("sales", "Sales v2", ["100", "101"]))
    assert engine.scenario("sales").version == 2  # type: ignore[union-attr]
    assert engine.scenario_for("101").version == 2


def test_calls_run_the_scenario_of_their_number() -> None:
    async def main() -> list[list[str]]:
        engine = Engine(keep_events=True)
        engine.publish(greeting("sales", "Sales", ["100"]), default=True)
        engine.publish(greeting("support", "Support", ["200"]))
        backend = SimBackend(engine)
        tasks = [backend.place_call(script(called=n))[1] for n in ("200", "100", "555")]
        return [trace_of(ctx).prompts for ctx in await asyncio.gather(*tasks)]

    assert run_virtual(main()) == [["Support"], ["Sales"], ["Sales"]]


def test_call_tasks_are_named_and_tracked() -> None:
    async def main() -> None:
        engine = Engine(keep_events=True)
        engine.publish(greeting("sales", "Sales", ["100"]))
        backend = SimBackend(engine)
        call, task = backend.place_call(script(), call_id="abc-1")
        assert engine.active_calls == 1
        ctx = await task
        # the engine names the call itself; the backend's id stays on call_started
        assert task.get_name() == f"call:{ctx.call_id}" and ctx.call_id != "abc-1"
        assert call.call_id == "abc-1" and ctx.events[0].platform_id == "abc-1"
        await asyncio.sleep(0)
        assert engine.active_calls == 0

    run_virtual(main())


def test_sinks_see_every_event_and_a_broken_sink_breaks_nothing(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[Any] = []

    def broken(_event: Any) -> None:
        raise RuntimeError("sink down")

    async def main() -> Any:
        engine = Engine(keep_events=True)
        engine.publish(greeting("sales", "Sales", ["100"]))
        engine.add_listener(broken)
        engine.add_listener(seen.append)
        _call, task = SimBackend(engine).place_call(script())
        return trace_of(await task)

    trace = run_virtual(main())
    assert trace.prompts == ["Sales"] and trace.hangup_cause == "normal"
    assert seen == trace.events
    check_stream(seen)
    assert "sink down" in caplog.text


def test_keep_events_false_keeps_nothing_but_sinks_still_hear() -> None:
    seen: list[Any] = []

    async def main() -> Any:
        engine = Engine(keep_events=False)
        engine.publish(greeting("sales", "Sales", ["100"]))
        engine.add_listener(seen.append)
        _call, task = SimBackend(engine).place_call(script())
        return await task

    ctx = run_virtual(main())
    assert ctx.events is None
    assert [e.name for e in seen][0] == "call_started" and seen[-1].name == "call_ended"


def test_wall_clock_follows_simulated_time_from_the_chosen_start() -> None:
    start_at = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=3)))

    async def main() -> tuple[dt.datetime, dt.datetime]:
        clock = WallClock(start_at)
        first = clock.now()
        await asyncio.sleep(90 * 60)
        return first, clock.now()

    first, later = run_virtual(main())
    assert first == start_at
    assert later - first == dt.timedelta(minutes=90)
    with pytest.raises(ValueError, match="UTC offset"):
        WallClock(dt.datetime(2026, 1, 1))


def test_sinks_get_every_call_stream_through_the_writer_and_shutdown_flushes_them() -> None:
    sink = MemorySink()

    async def main() -> list[Any]:
        engine = Engine()  # keeps nothing per call: the sink has the streams
        engine.add_sink(sink)
        engine.publish(greeting("sales", "Sales", ["100"]))
        backend = SimBackend(engine)
        tasks = [backend.place_call(script(called="100"))[1] for _ in range(3)]
        ctxs = await asyncio.gather(*tasks)
        assert all(ctx.events is None for ctx in ctxs)
        await engine.shutdown()
        assert engine.writer is not None and engine.writer.dropped == 0
        return [ctx.call_id for ctx in ctxs]

    ids = run_virtual(main())
    assert sink.closed
    by_call: dict[str, list[Any]] = {}
    for e in sink.events:
        by_call.setdefault(e.call_id, []).append(e)
    assert sorted(by_call) == sorted(ids)
    for stream in by_call.values():
        check_stream(stream)
        assert [e.seq for e in stream] == list(range(1, len(stream) + 1))


def test_engine_call_ids_are_uuid7_sortable_by_start() -> None:
    async def main() -> list[str]:
        engine = Engine()
        engine.publish(greeting("sales", "Sales", ["100"]))
        backend = SimBackend(engine)
        ids = []
        for _ in range(5):
            _call, task = backend.place_call(script(called="100"))
            ids.append((await task).call_id)
        return ids

    ids = run_virtual(main())
    assert ids == sorted(ids) and len(set(ids)) == 5
    for call_id in ids:
        assert uuid.UUID(call_id).version == 7


def test_uuid7_layout_and_monotonic_within_one_millisecond(monkeypatch: pytest.MonkeyPatch) -> None:
    from flowengine.events import ids as ids_module

    fixed = 1_795_420_800_123_000_000  # ns
    monkeypatch.setattr(ids_module.time, "time_ns", lambda: fixed)
    make = ids_module.UUIDv7()
    made = [make() for _ in range(1000)]
    assert made == sorted(made) and len(set(made)) == 1000
    for text in made[:3]:
        u = uuid.UUID(text)
        assert u.version == 7 and u.variant == uuid.RFC_4122
        assert u.int >> 80 == fixed // 1_000_000  # the millisecond timestamp
    # the clock stepping back does not break the order
    monkeypatch.setattr(ids_module.time, "time_ns", lambda: fixed - 5_000_000)
    assert make() > made[-1]


def test_event_time_stamps_follow_the_wall_clock() -> None:
    start_at = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=3)))

    async def main() -> Any:
        engine = Engine(clock=WallClock(start_at), keep_events=True)
        engine.publish(greeting("sales", "Sales", ["100"]))
        await asyncio.sleep(60)  # the call starts a minute after the clock's start
        _call, task = SimBackend(engine).place_call(script(called="100"))
        return trace_of(await task)

    trace = run_virtual(main())
    first, last = trace.events[0], trace.events[-1]
    assert first.ts == start_at.timestamp() + 60
    assert first.wall == "2026-11-23T10:01:00+03:00"
    assert last.ts == first.ts + last.t and last.t > 0
