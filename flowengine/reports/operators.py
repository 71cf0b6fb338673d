"""The per-operator report: offers, answers, misses, talk and wrap-up, and how
each operator compares with the average of the operators in the report.

Counted over the offers made in the period (`queue_offered` time). A *miss*
is an offer the operator failed (no answer, busy, rejected, failed); an offer
stopped because someone else answered or the caller left is *cancelled* and
no fault of theirs. Talk is the conversation time of the queue calls they
answered; `ended_by_caller` / `ended_by_operator` say who hung up. Wrap-up is
the after-call work the operator stream records (`operator_wrap_up_ended`).
Hold is the time the operator kept the caller on hold (`leg_held` ..
`leg_unheld`), counted for the holds begun in the period. Transfers made are
the operator's own requests to hand the caller on (`operator_transfer_*`),
counted when asked; the `transfers_attempted` / `direct_answered` columns are
something else: the scenario's Transfer calls rung to the operator's phone.

The `*_vs_avg` columns are the operator's figure minus the mean over the
operators in the report: filter by queue (`--queue`) to compare within a
department. When an operator stands out from the average, look into it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flowengine.reports.calls import CallStory
from flowengine.reports.catalogue import COLUMNS
from flowengine.reports.period import Period

__all__ = ["MISS_REASONS", "OPERATOR_COLUMNS", "finish_hold", "operator_report", "versus_average"]

MISS_REASONS = ("no_answer", "busy", "rejected", "failed")

OPERATOR_COLUMNS = COLUMNS["operators"]


def operator_report(
    stories: Iterable[CallStory],
    period: Period,
    *,
    operator_events: Iterable[Mapping[str, Any]] = (),
    queues: set[str] | None = None,
    operators: set[str] | None = None,
) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    rings: dict[str, list[float]] = {}

    def row(op: str) -> dict[str, Any]:
        if op not in rows:
            rows[op] = dict.fromkeys(OPERATOR_COLUMNS, 0)
            rows[op]["operator"] = op
            rings[op] = []
        return rows[op]

    def wanted(op: str | None, qid: str | None = None) -> bool:
        if op is None or (operators is not None and op not in operators):
            return False
        return queues is None or qid is None or qid in queues

    def _chosen(op: str | None, qid: str | None) -> bool:
        """A hold or transfer counts under a queue filter only in that queue's calls."""
        return wanted(op) and (queues is None or (qid is not None and qid in queues))

    for story in stories:
        for offer in story.offers:
            if not period.contains(offer.at) or not wanted(offer.operator_id, offer.queue_id):
                continue
            r = row(offer.operator_id)
            r["offered"] += 1
            if offer.outcome == "answered":
                r["answered"] += 1
                if offer.ring_time is not None:
                    rings[offer.operator_id].append(float(offer.ring_time))
            elif offer.outcome == "missed":
                r["missed"] += 1
                if offer.reason in MISS_REASONS:
                    r[f"missed_{offer.reason}"] += 1
            elif offer.outcome == "cancelled":
                r["cancelled"] += 1
        for stay in story.stays:
            if stay.outcome != "answered" or stay.left is None or not period.contains(stay.left):
                continue
            if not wanted(stay.operator_id, stay.queue_id):
                continue
            assert stay.operator_id is not None
            r = row(stay.operator_id)
            r["talk_total"] += stay.talk or 0.0
            if stay.completed_by == "caller":
                r["ended_by_caller"] += 1
            elif stay.completed_by is not None:
                r["ended_by_operator"] += 1
        for hold in story.holds:
            if period.contains(hold.at) and _chosen(hold.operator_id, hold.queue_id):
                assert hold.operator_id is not None
                r = row(hold.operator_id)
                r["hold_count"] += 1
                r["hold_total"] += story.held(hold)
        for x in story.op_transfers:
            if period.contains(x.at) and _chosen(x.operator_id, x.queue_id):
                assert x.operator_id is not None
                r = row(x.operator_id)
                r["transfers_requested"] += 1
                if x.outcome is not None and x.outcome != "refused":
                    r["transfers_made"] += 1
                    r["transfers_made_answered" if x.outcome == "answered" else "transfers_made_failed"] += 1
        for dial in story.dials:
            if period.contains(dial.at) and queues is None and wanted(dial.operator_id):
                assert dial.operator_id is not None
                r = row(dial.operator_id)
                r["transfers_attempted"] += 1
                if dial.outcome == "answered":
                    r["direct_answered"] += 1
                else:
                    r["transfers_failed"] += 1
    for e in operator_events:
        if e.get("event") != "operator_wrap_up_ended" or not period.contains(float(e.get("ts") or 0.0)):
            continue
        op = e.get("operator_id")
        if wanted(op) and (queues is None or op in rows):
            row(str(op))["wrap_up_total"] += float(e.get("duration") or 0.0)
    for op, r in rows.items():
        r["answer_rate"] = round(r["answered"] / r["offered"], 4) if r["offered"] else None
        r["avg_ring_time"] = round(sum(rings[op]) / len(rings[op]), 3) if rings[op] else None
        r["talk_total"] = round(r["talk_total"], 3)
        r["wrap_up_total"] = round(r["wrap_up_total"], 3)
        r["talk_avg"] = round(r["talk_total"] / r["answered"], 3) if r["answered"] else None
        finish_hold(r)
    versus_average(rows)
    return [rows[o] for o in sorted(rows)]


def finish_hold(r: dict[str, Any]) -> None:
    """Round the hold total and give the mean hold (None: no hold)."""
    r["hold_total"] = round(float(r["hold_total"]), 3)
    r["hold_avg"] = round(r["hold_total"] / r["hold_count"], 3) if r["hold_count"] else None


def versus_average(rows: dict[str, dict[str, Any]]) -> None:
    """Fill the `*_vs_avg` columns: each operator's figure minus the mean."""
    _versus_average(rows, "answered", "answered_vs_avg")
    _versus_average(rows, "talk_avg", "talk_avg_vs_avg")
    _versus_average(rows, "missed", "missed_vs_avg")
    _versus_average(rows, "avg_ring_time", "avg_ring_time_vs_avg")
    _versus_average(rows, "hold_total", "hold_total_vs_avg")
    _versus_average(rows, "transfers_made", "transfers_made_vs_avg")


def _versus_average(rows: dict[str, dict[str, Any]], column: str, into: str) -> None:
    values = [r[column] for r in rows.values() if r[column] is not None]
    mean = sum(values) / len(values) if values else None
    for r in rows.values():
        r[into] = None if mean is None or r[column] is None else round(r[column] - mean, 3)
