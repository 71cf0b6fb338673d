"""Time each operator spent in each status and state over any period, from the operator stream.

The ACD's running totals (`OperatorRuntime.time_in`) count from when the
process started; a report for "yesterday 09:00-18:00" or "the last hour"
needs the stored operator stream instead. Every change is an event there:
`operator_status_changed` (available, not_available, break, custom statuses;
the first one, ``by: start``, is the status the operator had when the ACD
started) and `operator_state_changed` (idle, ringing, talking, wrap_up).
Between two changes the operator was in the earlier one's status (state), so
the seconds in each are the lengths of those intervals clipped to the
period: an interval that began before `start` counts from `start`, one still
open at `end` counts until `end` — or until the streams end, if they end
before it: the time of the latest event given (of any stream), or `until`;
what happened after that is not known.

The ACD starts every operator idle, and says so only through the status
event ``by: start``: from there the state is idle until the first
`operator_state_changed` (whose `previous` confirms it). Before an
operator's first event nothing is known, so nothing is counted; a stream
that begins inside the period counts from its first event. Statuses and states are reported side by side, by name (the
centre file forbids a custom status named like a state).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from flowengine.errors import FlowEngineError
from flowengine.events import upgrade_stream

__all__ = ["STATE_NAMES", "status_times", "time_in_status"]

STATE_NAMES = ("idle", "ringing", "talking", "wrap_up")

_KIND = {"operator_status_changed": "status", "operator_state_changed": "state"}


def time_in_status(
    events: Iterable[Mapping[str, Any]], start: float, end: float, *, until: float | None = None
) -> dict[str, dict[str, float]]:
    """`status_times` without the streams' end."""
    return status_times(events, start, end, until=until)[0]


def status_times(
    events: Iterable[Mapping[str, Any]], start: float, end: float, *, until: float | None = None
) -> tuple[dict[str, dict[str, float]], float | None]:
    """Seconds per operator in each status and state between `start` and `end`
    (epoch seconds, the events' `ts`), rounded to the millisecond; names with
    no time are left out, operators with no events too.

    `events` may hold every stream mixed (other events are skipped), of any
    stream version, in any order: each operator's events are taken in their
    stream order (`ts`, then `seq`). Also returns where the streams end
    (`until`, else the latest `ts` read; None: no event at all)."""
    if not end >= start:
        raise FlowEngineError(f"the period ends ({end}) before it starts ({start})")
    changes: dict[str, list[tuple[float, int, str, str]]] = {}
    latest = [-math.inf]
    for event in _operator_events(_noting_latest(events, latest)):
        kind = _KIND[event["event"]]
        try:
            op = str(event["operator_id"])
            ts = float(event["ts"])
            seq = int(event.get("seq") or 0)
            name = str(event[kind])
        except (KeyError, TypeError, ValueError) as exc:
            raise FlowEngineError(f"{event['event']} event without a usable {exc}") from None
        moves = changes.setdefault(op, [])
        moves.append((ts, seq, kind, name))
        if kind == "status" and event.get("by") == "start":
            moves.append((ts, seq, "state", "idle"))  # the ACD (re)started: idle
    horizon = min(end, until if until is not None else latest[0])
    report: dict[str, dict[str, float]] = {}
    for op, moves in changes.items():
        moves.sort(key=lambda m: (m[0], m[1]))
        totals: dict[str, float] = {}
        current: dict[str, tuple[str, float]] = {}  # kind -> (name, since)
        for ts, _seq, kind, name in moves:
            was = current.get(kind)
            if was is not None:
                _add(totals, was[0], was[1], ts, start, end)
            current[kind] = (name, ts)
        for name, since in current.values():
            _add(totals, name, since, horizon, start, end)
        kept = {n: round(s, 3) for n, s in totals.items() if s > 0}
        if kept:
            report[op] = kept
    known = until if until is not None else (latest[0] if latest[0] > -math.inf else None)
    return dict(sorted(report.items())), known


def _noting_latest(events: Iterable[Mapping[str, Any]], latest: list[float]) -> Iterable[Mapping[str, Any]]:
    for event in events:
        ts = event.get("ts")
        if isinstance(ts, int | float) and ts > latest[0]:
            latest[0] = float(ts)
        yield event


def _add(totals: dict[str, float], name: str, a: float, b: float, start: float, end: float) -> None:
    seconds = min(b, end) - max(a, start)
    if seconds > 0:
        totals[name] = totals.get(name, 0.0) + seconds


def _operator_events(events: Iterable[Mapping[str, Any]]) -> Iterable[dict[str, Any]]:
    stream = upgrade_stream(e for e in events if e.get("event") in _KIND)
    while True:
        try:
            event = next(stream)
        except StopIteration:
            return
        except (TypeError, ValueError, KeyError, AttributeError, ArithmeticError) as exc:
            raise FlowEngineError(f"an operator event that cannot be read: {exc}") from None
        if event.get("event") in _KIND:
            yield event
