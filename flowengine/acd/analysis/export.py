"""Export call event streams (JSON lines) as Asterisk `queue_log` lines.

The queue events of every call carry the ACD decision they were recorded from
(`flowengine.acd.driver.decision_from_event` rebuilds it), so the export runs
them through the same `QueueLogWriter` the ACD itself would use, with each
event's wall-clock time: the call's `call_started.wall` plus the event's `t`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from flowengine.acd.analysis.queue_log import QueueLogWriter
from flowengine.acd.driver import decision_from_event
from flowengine.errors import FlowEngineError


def read_events(paths: Iterable[Path]) -> Iterator[dict[str, Any]]:
    """Events from JSON-lines files; a bad line is an error naming file and line."""
    for path in paths:
        with path.open(encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    event = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise FlowEngineError(f"{path}:{number}: not a JSON event ({exc.msg})") from None
                if not isinstance(event, dict) or "event" not in event:
                    raise FlowEngineError(f"{path}:{number}: not an event object (no 'event' key)")
                yield event


def queue_log_lines(events: Iterable[dict[str, Any]]) -> Iterator[str]:
    writer = QueueLogWriter()
    starts: dict[str, float] = {}
    for event in events:
        call_id = str(event.get("call_id", ""))
        if event["event"] == "call_started" and event.get("wall"):
            starts[call_id] = dt.datetime.fromisoformat(event["wall"]).timestamp()
        elif event["event"] == "queue_event":
            decision = decision_from_event(event)
            if decision is not None:
                now = starts.get(call_id, 0.0) + float(event.get("t", 0.0))
                yield from writer.lines(now, [decision])
