"""What the API shows of a call, live or ended, read off its event stream.

The stored CDR (`flowengine.storage`) is written when a call ends; a test
console also needs a call in flight: who called what, which scenario and
version it runs, why it was routed there, and its hangup cause once known.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from flowengine.storage import ENGINE_RESTART


def build_cdr(events: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
    """The CDR of one call's events (dicts in `seq` order); None without a start."""
    cdr: dict[str, Any] | None = None
    for e in events:
        name = e.get("event")
        if name == "call_started":
            cdr = {
                "call_id": e["call_id"],
                "start": e.get("wall") or _iso(e.get("ts")),
                "caller": e.get("caller", ""),
                "called": e.get("called", ""),
                "line": e.get("line"),
                "scenario_id": e.get("scenario_id", ""),
                "scenario_version": e.get("scenario_version", 0),
                "route": e.get("route", ""),
                "answered_after": None,
                "ended_after": None,
                "duration": None,
                "result": "in_progress",
                "queue_id": None,
                "operator_id": None,
                "wait": None,
                "talk": None,
                "hangup_cause": None,
                "hangup_by": None,
            }
            continue
        if cdr is None:
            continue
        if name == "call_answered" and cdr["answered_after"] is None:
            cdr["answered_after"] = e.get("t")
        elif name == "queue_entered":
            cdr["queue_id"] = e.get("queue_id")
        elif name == "queue_connected":
            cdr["operator_id"] = e.get("operator_id")
            cdr["wait"] = e.get("wait")
            cdr["queue_id"] = e.get("queue_id")
        elif name == "queue_completed":
            cdr["talk"] = e.get("talk_time")
        elif name in ("queue_abandoned", "queue_timeout") and cdr["wait"] is None:
            cdr["wait"] = e.get("wait")
        elif name == "call_hung_up" and cdr["hangup_cause"] is None:
            cdr["hangup_cause"] = e.get("cause")
            cdr["hangup_by"] = e.get("by")
        elif name == "call_ended":
            cdr["ended_after"] = e.get("t")
            cdr["duration"] = e.get("duration")
            cause = e.get("hangup_cause")
            if cause == ENGINE_RESTART or cdr["hangup_cause"] is None:
                cdr["hangup_cause"] = cause
            cdr["result"] = _result(cdr, cause)
    return cdr


def _result(cdr: dict[str, Any], cause: str | None) -> str:
    if cause == ENGINE_RESTART:
        return "interrupted"
    if cause in ("no_route",):
        return "refused"
    if cause == "error":
        return "failed"
    if cdr["operator_id"] is not None:
        return "connected"
    if cdr["queue_id"] is not None:
        return "abandoned"
    return "completed"


def _iso(ts: Any) -> str:
    try:
        return dt.datetime.fromtimestamp(float(ts), dt.UTC).isoformat()
    except (TypeError, ValueError, OverflowError, OSError):
        return ""
