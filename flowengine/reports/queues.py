"""The per-queue report, with the four service-level variants call centres quote.

For every queue, over the calls whose stay in it *began* in the period
(`Period`), with `T` the queue's service-level threshold (centre file
`service_level`, seconds; 20 when the queue is unknown) and `offered` every
stay in the queue — new arrivals and calls overflowed in from another queue:

| figure | definition |
|---|---|
| `sl_offered` | answered within T ÷ offered |
| `sl_offered_minus_short` | answered within T ÷ (offered − abandoned within the short-abandon time) |
| `sl_with_abandons` | (answered within T + abandoned within T) ÷ offered |
| `sl_answered` | answered within T ÷ answered |

Waits are the ACD's: seconds since the call first arrived at the ACD (an
overflowed call keeps its seniority), as `queue_connected` gives them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flowengine.reports.calls import CallStory
from flowengine.reports.catalogue import COLUMNS
from flowengine.reports.period import Period

__all__ = ["QUEUE_COLUMNS", "QueueSettings", "queue_report"]

QUEUE_COLUMNS = COLUMNS["queues"]


@dataclass(frozen=True)
class QueueSettings:
    threshold: float = 20.0
    #: an abandon within this many seconds is "short" (a misdial, not a lost customer)
    short_abandon: float = 5.0


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den > 0 else None


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None


def queue_report(
    stories: Iterable[CallStory],
    period: Period,
    *,
    settings: Mapping[str, QueueSettings] | None = None,
    default: QueueSettings = QueueSettings(),
    queue_events: Iterable[Mapping[str, Any]] = (),
    only: set[str] | None = None,
) -> list[dict[str, Any]]:
    """One row per queue (sorted by id). `queue_events` are the queue stream's
    (`callback_*`) and operator wrap-up events of the period."""
    settings = settings or {}
    rows: dict[str, dict[str, Any]] = {}
    waits: dict[str, dict[str, list[float]]] = {}

    def row(qid: str) -> dict[str, Any]:
        if qid not in rows:
            rows[qid] = {c: 0 for c in QUEUE_COLUMNS}
            rows[qid]["queue"] = qid
            rows[qid]["threshold"] = float(settings.get(qid, default).threshold)
            waits[qid] = {"answered": [], "abandoned": [], "talk": [], "all": [], "wrap": []}
        return rows[qid]

    for story in stories:
        for stay in story.stays:
            if not period.contains(stay.entered) or (only is not None and stay.queue_id not in only):
                continue
            qs = settings.get(stay.queue_id, default)
            r = row(stay.queue_id)
            w = waits[stay.queue_id]
            r["offered"] += 1
            r["overflow_in"] += stay.overflow_in
            wait = stay.wait
            if wait is not None:
                w["all"].append(wait)
            if stay.outcome == "answered":
                r["answered"] += 1
                if wait is not None:
                    w["answered"].append(wait)
                    r["answered_within"] += wait <= qs.threshold
                if stay.talk is not None:
                    w["talk"].append(stay.talk)
            elif stay.outcome == "abandoned":
                r["abandoned"] += 1
                if wait is not None:
                    w["abandoned"].append(wait)
                    r["short_abandoned"] += wait < qs.short_abandon
                    r["_abandoned_within"] = r.get("_abandoned_within", 0) + (wait <= qs.threshold)
            elif stay.outcome == "overflow":
                r["overflow_out"] += 1
            elif stay.outcome == "callback":
                r["callbacks_requested"] += 1
            elif stay.outcome in ("timeout", "no_operators", "full", "no_answer"):
                r[stay.outcome] += 1
    for e in queue_events:
        name = e.get("event")
        qid = e.get("queue_id")
        if not qid or not period.contains(float(e.get("ts") or 0.0)) or (only is not None and qid not in only):
            continue
        if name == "callback_completed":
            row(qid)["callbacks_completed"] += 1
        elif name == "callback_given_up":
            row(qid)["callbacks_given_up"] += 1
        elif name == "operator_wrap_up_started":
            row(qid)
            waits[qid]["wrap"].append(float(e.get("duration") or 0.0))
    for qid, r in rows.items():
        w = waits[qid]
        abandoned_within = r.pop("_abandoned_within", 0)
        r["avg_abandon_wait"] = _mean(w["abandoned"])
        r["asa"] = _mean(w["answered"])
        r["avg_talk"] = _mean(w["talk"])
        r["avg_wrap_up"] = _mean(w["wrap"])
        r["aht"] = round((r["avg_talk"] or 0.0) + (r["avg_wrap_up"] or 0.0), 3) if w["talk"] else None
        r["longest_wait"] = round(max(w["all"]), 3) if w["all"] else None
        r["sl_offered"] = _ratio(r["answered_within"], r["offered"])
        r["sl_offered_minus_short"] = _ratio(r["answered_within"], r["offered"] - r["short_abandoned"])
        r["sl_with_abandons"] = _ratio(r["answered_within"] + abandoned_within, r["offered"])
        r["sl_answered"] = _ratio(r["answered_within"], r["answered"])
    return [rows[q] for q in sorted(rows)]
