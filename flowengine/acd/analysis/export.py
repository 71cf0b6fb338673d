"""Export stored event streams (JSON lines) as Asterisk `queue_log` lines.

The ACD events of the streams — `queue_*` in call streams, `callback_*` in
queue streams, `operator_status_changed` in operator streams — each state one
ACD decision (`flowengine.acd.records.decision_from_event` rebuilds it), so
the export runs them through the same `QueueLogWriter` the ACD itself would
use, at each event's `ts`. Streams written by earlier versions are upgraded
on the way in (`flowengine.events.upgrade`), so old files still export.
Operators' initial statuses (``by: start``) are not changes and give no line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from flowengine.acd.analysis.queue_log import QueueLogWriter
from flowengine.acd.records import decision_from_event
from flowengine.errors import FlowEngineError
from flowengine.events import upgrade_stream


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


def queue_log_lines(events: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """queue_log lines for the ACD events among `events` (any stream version)."""
    writer = QueueLogWriter()
    callers: dict[str, str] = {}
    for event in upgrade_stream(events):
        call_id = str(event.get("call_id", ""))
        name = event["event"]
        if name == "call_started":
            callers[call_id] = str(event.get("caller") or "")
            continue
        if name == "call_ended":
            callers.pop(call_id, None)
            continue
        if name == "operator_status_changed" and event.get("by") == "start":
            continue
        try:
            decision = decision_from_event(event, caller=callers.get(call_id, ""))
        except TypeError as exc:
            raise FlowEngineError(f"event {name} of {call_id or event.get('operator_id')}, seq {event.get('seq')}: {exc}") from None
        if decision is not None:
            yield from writer.lines(float(event.get("ts") or 0.0), [decision])
