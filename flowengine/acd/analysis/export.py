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

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from flowengine.acd.analysis.queue_log import QueueLogWriter
from flowengine.acd.records import decision_from_event
from flowengine.documents import DocumentError, Limits, default_limits, parse_json
from flowengine.errors import FlowEngineError, Problem
from flowengine.events import upgrade_stream


class EventFileError(FlowEngineError):
    """A line of an event file that is not a JSON event (names file and line)."""


class EventFiles:
    """Events from JSON-lines files, one at a time (`read_events`); `where`
    is the file and line of the event read last, so a later stage that finds
    the event wrong can say where it is."""

    def __init__(self, paths: Iterable[Path], limits: Limits | None = None) -> None:
        self.paths = list(paths)
        self.limits = limits or default_limits()
        self.where = ""

    def __iter__(self) -> Iterator[dict[str, Any]]:
        lim = self.limits
        for path in self.paths:
            try:
                if not path.is_file():
                    raise EventFileError(f"{path}: not a regular file" if path.exists() else f"{path}: no such file")
                fh = path.open("rb")
            except OSError as exc:
                raise EventFileError(f"{path}: cannot read file: {exc.strerror or exc}") from None
            with fh:
                for number, raw in enumerate(_bounded_lines(fh, lim.max_bytes + 1), 1):
                    self.where = f"{path}:{number}"
                    if len(raw) > lim.max_bytes:
                        raise EventFileError(f"{path}:{number}: line longer than {lim.max_bytes} bytes (the limit)")
                    try:
                        line = raw.decode("utf-8")
                    except UnicodeDecodeError as exc:
                        raise EventFileError(f"{path}:{number}: not UTF-8 text ({exc.reason})") from None
                    if not line.strip():
                        continue
                    try:
                        event = parse_json(line, lim)
                    except DocumentError as exc:
                        reason = "; ".join(_without_line(p) for p in exc.problems)
                        raise EventFileError(f"{path}:{number}: not a JSON event ({reason})") from None
                    if not isinstance(event, dict) or "event" not in event:
                        raise EventFileError(f"{path}:{number}: not an event object (no 'event' key)")
                    yield event


def read_events(paths: Iterable[Path], limits: Limits | None = None) -> EventFiles:
    """Events from JSON-lines files; a bad line is an error naming file and line.

    Files of any size are read a line at a time, and each line within the
    document limits (`flowengine.documents`): no line longer than
    `Limits.max_bytes` is ever held in memory, and a FIFO or device is
    refused before it is opened. Give the result to `queue_log_lines`, and
    an event that parses but is not a valid ACD event is named by its file
    and line too.
    """
    return EventFiles(paths, limits)


def _bounded_lines(fh: BinaryIO, cap: int) -> Iterator[bytes]:
    while raw := fh.readline(cap):
        yield raw


def _without_line(problem: Problem) -> str:
    """The problem without its line (always 1 in a one-line document): column and path stay."""
    where = [problem.path] if problem.path else []
    if problem.column is not None:
        where.append(f"column {problem.column}")
    return f"{', '.join(where)}: {problem.message}" if where else problem.message


def _upgraded(events: Iterable[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
    """`upgrade_stream`, with an event it cannot make sense of as a `FlowEngineError`."""
    stream = upgrade_stream(events)
    while True:
        try:
            event = next(stream)
        except StopIteration:
            return
        except (TypeError, ValueError, KeyError, AttributeError, ArithmeticError) as exc:
            raise FlowEngineError(f"an event that cannot be read as an ACD event: {exc}") from None
        yield event


def queue_log_lines(events: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """queue_log lines for the ACD events among `events` (any stream version)."""
    where = events if isinstance(events, EventFiles) else None
    try:
        yield from _queue_log_lines(events)
    except EventFileError:
        raise
    except FlowEngineError as exc:
        if where is None or not where.where:
            raise
        raise FlowEngineError(f"{where.where}: {exc}") from None


def _queue_log_lines(events: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    writer = QueueLogWriter()
    callers: dict[str, str] = {}
    for event in _upgraded(events):
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
            lines = writer.lines(float(event.get("ts") or 0.0), [decision]) if decision is not None else []
        except (TypeError, ValueError, KeyError, AttributeError, ArithmeticError) as exc:
            raise FlowEngineError(
                f"event {name} of {call_id or event.get('operator_id')}, seq {event.get('seq')}: {exc}"
            ) from None
        yield from lines
