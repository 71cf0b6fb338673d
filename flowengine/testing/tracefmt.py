"""A call trace for people: one line per step, prompts and digits inline."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from flowengine.events import (
    CallHungUp,
    CallStarted,
    DigitsReceived,
    HttpRequested,
    NodeEntered,
    NodeFailed,
    NodeLeft,
    Notified,
    PromptPlayed,
    QueueCallEvent,
    RecordingMade,
    ScenarioEntered,
    SpeechRecognized,
    VariableChanged,
)

if TYPE_CHECKING:
    from flowengine.testing.harness import CallTrace


def _v(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


#: fields every queue event has; the rest are shown as name=value
_QUEUE_CONTEXT = frozenset(
    {"v", "call_id", "seq", "ts", "t", "scenario_id", "scenario_version", "node_id", "queue_id", "operator_id"}
)


def _queue_line(e: QueueCallEvent) -> str:
    """e.g. ``queue sales: offer_missed 901 reason=no_answer ring_time=15``."""
    what = e.name.removeprefix("queue_")
    who = getattr(e, "operator_id", None)
    details = " ".join(
        f"{name}={_v(getattr(e, name))}" for name in e.field_names if name not in _QUEUE_CONTEXT
    )
    return " ".join(part for part in (f"queue {e.queue_id}: {what}", who, details) if part)


def format_trace(trace: CallTrace) -> str:
    lines: list[str] = []

    def detail(text: str) -> None:
        lines.append(f"{'':12}{text}")

    for e in trace.events:
        stamp = f"{e.t:8.2f}s  "
        if isinstance(e, CallStarted):
            scenario = f"scenario {e.scenario_id} v{e.scenario_version}" if e.scenario_id else "no scenario"
            lines.append(f"call {e.call_id}: {e.caller} -> {e.called}, {scenario}, at {e.wall}")
            if trace.route is not None:
                detail(f"routed: {trace.route}")
        elif isinstance(e, NodeEntered):
            lines.append(f"{stamp}{e.node_id} ({e.node_type})")
        elif isinstance(e, NodeLeft):
            detail(f"└ exit {e.exit}")
        elif isinstance(e, VariableChanged):
            detail(f"{e.variable} = {_v(e.value)}")
        elif isinstance(e, PromptPlayed):
            tail = " (interrupted)" if e.interrupted else ""
            detail(f"{e.kind}: {_v(e.text)}{tail}")
        elif isinstance(e, DigitsReceived):
            detail(f"digits: {_v(e.digits)} ({e.reason})")
        elif isinstance(e, SpeechRecognized):
            detail(f"heard: {_v(e.text)} -> {e.matched}")
        elif isinstance(e, RecordingMade):
            detail(f"recorded {e.uri} ({e.duration:.1f}s, {e.reason})")
        elif isinstance(e, Notified):
            detail(f"notify[{e.channel}] {e.message}{'' if e.ok else ' (FAILED)'}")
        elif isinstance(e, HttpRequested):
            detail(f"{e.method} {e.url} -> {e.status} ({e.outcome})")
        elif isinstance(e, NodeFailed):
            col = f", column {e.column}" if e.column else ""
            detail(f"ERROR [{e.code}{col}] {e.message}")
        elif isinstance(e, ScenarioEntered):
            lines.append(f"{stamp}=> scenario {e.scenario_id} v{e.scenario_version} ({e.mode})")
        elif isinstance(e, QueueCallEvent):
            lines.append(f"{stamp}{_queue_line(e)}")
        elif isinstance(e, CallHungUp):
            lines.append(f"{stamp}hangup by {e.by}: {e.cause}")
    lines.append(f"ended: {trace.hangup_cause} after {trace.duration:.2f}s")
    lines.append(f"variables: {_v(trace.variables)}")
    if trace.operators is not None:
        lines.append("operators at the end (status / state, answered, time in each):")
        for op in trace.operators:
            status = op["status"] + (f" ({op['reason']})" if op["reason"] else "")
            spent = ", ".join(f"{name} {seconds:g}s" for name, seconds in op["time"].items())
            lines.append(f"  {op['id']:<6} {status:<22} {op['state']:<8} {op['answered']:>2}  {spent}")
    return "\n".join(lines)
