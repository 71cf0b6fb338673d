"""The ACD's workload counts rebuilt from the operator stream after a restart.

The fewest_calls strategy ranks operators by the calls they answered in the
last hour or day (or this hour, today), and breaks ties by who has been idle
longest; a restarted ACD knows neither, and would hand the next calls to
whoever answered most before the restart. Both are in the operator stream:
every answer is an `operator_state_changed` into ``talking``, every end of a
conversation one out of it. `counts_from_events` reads them back (from any
mix of streams, in any order, of any version: JSON lines as stored) and
`restore_counts` gives them to a fresh `ACD` before it takes any call, so it
decides as the one before the restart would have.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flowengine.acd.core import ACD
from flowengine.errors import FlowEngineError, UsageError
from flowengine.events import upgrade_stream

__all__ = ["OperatorCounts", "counts_from_events", "restore_counts"]


@dataclass
class OperatorCounts:
    """One operator's answers (epoch seconds, oldest first) and when their
    last conversation ended (epoch seconds; None: none seen)."""

    answered: list[float] = field(default_factory=list)
    last_call_end: float | None = None


def counts_from_events(events: Iterable[Mapping[str, Any]]) -> dict[str, OperatorCounts]:
    """Every operator's answers and last conversation end, from their stream."""
    moves: dict[str, list[tuple[float, int, str, str]]] = {}
    wanted = (e for e in events if e.get("event") == "operator_state_changed")
    try:
        for event in upgrade_stream(wanted):
            if event.get("event") != "operator_state_changed":
                continue
            moves.setdefault(str(event["operator_id"]), []).append(
                (float(event["ts"]), int(event.get("seq") or 0), str(event["state"]), str(event.get("previous") or ""))
            )
    except (KeyError, TypeError, ValueError) as exc:
        raise FlowEngineError(f"an operator_state_changed event without a usable {exc}") from None
    counts: dict[str, OperatorCounts] = {}
    for op, seen in moves.items():
        seen.sort(key=lambda m: (m[0], m[1]))
        c = counts[op] = OperatorCounts()
        for ts, _seq, state, previous in seen:
            if state == "talking":
                c.answered.append(ts)
            elif previous == "talking":
                c.last_call_end = ts
    return counts


def restore_counts(acd: ACD, counts: Mapping[str, OperatorCounts]) -> None:
    """Give a fresh `acd` the counts (operators it does not know are skipped).
    Times are converted to its clock with ``acd.calendar.offset``; do it
    before the first call (the free-operator orders are built from them)."""
    if acd.has_had_calls():
        raise UsageError("restore the counts before the ACD takes its first call")
    offset = acd.calendar.offset
    known = set(acd.operator_ids())
    for op_id, c in counts.items():
        if op_id not in known:
            continue
        end = None if c.last_call_end is None else c.last_call_end - offset
        acd.operator(op_id).restore_answers([t - offset for t in c.answered], end, acd.now)
