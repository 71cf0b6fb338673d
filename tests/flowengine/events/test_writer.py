"""The event writer and the sinks: a full queue drops and counts without ever
blocking a call; flush and close write everything; a broken sink costs only
its own batch; JSON lines survive odd values."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from flowengine.events import (
    EventWriter,
    JsonLinesSink,
    MemorySink,
    NodeEntered,
    StreamEvent,
    VariableChanged,
    event_from_dict,
)
from flowengine.events.codec import dumps_event, event_line


def entered(seq: int, call_id: str = "c1") -> NodeEntered:
    return NodeEntered(
        call_id=call_id, seq=seq, ts=1_800_000_000.0 + seq, t=float(seq),
        scenario_id="s", scenario_version=1, node_id=f"n{seq}", node_type="say",
    )


class SlowSink(MemorySink):
    """Takes a while per batch, like a database under load."""

    async def write_batch(self, events: Sequence[StreamEvent]) -> None:
        await asyncio.sleep(0.01)
        await super().write_batch(events)


class BrokenSink:
    def __init__(self) -> None:
        self.calls = 0

    async def write_batch(self, events: Sequence[StreamEvent]) -> None:
        self.calls += 1
        raise OSError("disk full")

    async def flush(self) -> None:
        raise OSError("disk full")

    async def close(self) -> None:
        pass


def test_a_full_queue_drops_and_counts_without_blocking(caplog: pytest.LogCaptureFixture) -> None:
    sink = SlowSink()

    async def main() -> EventWriter:
        writer = EventWriter([sink], queue_size=10, batch_size=4)
        for seq in range(1, 26):  # no await in between: the writer cannot drain
            writer.put(entered(seq))
        assert writer.dropped == 15 and writer.pending == 10
        await writer.flush()
        # the queue accepts again once drained; the burst is over
        writer.put(entered(26))
        await writer.close()
        return writer

    with caplog.at_level(logging.WARNING, logger="flowengine.events.writer"):
        writer = asyncio.run(main())
    assert [e.seq for e in sink.events] == [*range(1, 11), 26]
    assert writer.written == 11 and writer.dropped == 15
    warnings = [r.getMessage() for r in caplog.records]
    # one line when the burst starts (naming the first lost event), one when it ends
    assert len(warnings) == 2, warnings
    assert "dropping events" in warnings[0] and "seq 11" in warnings[0]
    assert "after dropping 15" in warnings[1]


def test_flush_waits_for_everything_queued_and_close_closes_the_sinks() -> None:
    sink = SlowSink()

    async def main() -> None:
        writer = EventWriter([sink], batch_size=3)
        for seq in range(1, 11):
            writer.put(entered(seq))
        await writer.flush()
        assert [e.seq for e in sink.events] == list(range(1, 11))
        assert sink.batches == 4 and sink.flushes == 1  # 3 + 3 + 3 + 1, never waiting to fill
        writer.put(entered(11))
        await writer.close()
        assert [e.seq for e in sink.events][-1] == 11 and sink.closed
        writer.put(entered(12))  # after close: dropped, not raised
        assert writer.dropped == 1
        assert all(not t.get_name().startswith("event-writer") for t in asyncio.all_tasks())

    asyncio.run(main())


def test_the_writer_is_one_named_task() -> None:
    async def main() -> set[str]:
        writer = EventWriter([MemorySink()], name="events:test")
        writer.put(entered(1))
        names = {t.get_name() for t in asyncio.all_tasks()}
        await writer.close()
        return names

    assert "events:test" in asyncio.run(main())


def test_a_broken_sink_loses_its_batch_and_nothing_else(caplog: pytest.LogCaptureFixture) -> None:
    good, broken = MemorySink(), BrokenSink()

    async def main() -> EventWriter:
        writer = EventWriter([broken, good])
        for seq in range(1, 4):
            writer.put(entered(seq))
        await writer.close()
        return writer

    writer = asyncio.run(main())
    assert [e.seq for e in good.events] == [1, 2, 3]
    assert broken.calls == 1 and writer.failed == 3
    assert "disk full" in caplog.text


def test_json_lines_never_fail_on_odd_values(tmp_path: Path) -> None:
    odd: dict[str, Any] = {
        "surrogate": "bad \udcff byte",
        "when": dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC),
        "tags": {"b"},
        "raw": b"\xff\xfe",
        "nan": float("nan"),
        1: "int key",
    }
    event = VariableChanged(
        call_id="c", seq=1, ts=1.0, t=0.0, scenario_id="s", scenario_version=1, variable="X", value=odd
    )
    line = event_line(event)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    back = json.loads(line.decode("utf-8"))
    value = back["value"]
    assert value["surrogate"] == "bad \udcff byte"  # escaped, read back as it was
    assert value["when"] == "2026-11-23 10:00:00+00:00" and value["tags"] == ["b"]
    assert value["nan"] == "nan" and value["1"] == "int key"
    # plain events stay plain JSON, non-ASCII text unescaped
    say = dumps_event({"event": "x", "text": "Здравствуйте"})
    assert "Здравствуйте" in say


def test_json_lines_sink_appends_and_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "events.jsonl"

    async def write(events: list[StreamEvent]) -> None:
        sink = JsonLinesSink(path)
        await sink.write_batch(events)
        await sink.close()

    asyncio.run(write([entered(1), entered(2)]))
    asyncio.run(write([entered(1, "c2")]))  # a second run appends
    got = [event_from_dict(json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines()]
    assert got == [entered(1), entered(2), entered(1, "c2")]
