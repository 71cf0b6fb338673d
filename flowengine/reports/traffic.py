"""Load, lost calls, transfers, caller history and scenario paths: the call
reports that are counts over each call's story (`flowengine.reports.calls`).

* **load** — calls by hour of day and by weekday in the centre's time zone:
  offered (calls that arrived), answered (the caller talked to a person:
  a queue operator or a Transfer), lost (the caller entered a queue and never
  talked to anyone), and the peak of calls in progress at once in that hour;
* **lost calls** — every lost call with its reason and the caller's number,
  to call them back;
* **transfers** — what each Transfer target (an operator, or a number) did
  with the calls rung to it, and what became of the operators' own transfers
  per operator and target;
* **caller history** — every call of a number: when, the path through the
  scenario, queue, operator, result;
* **scenario paths** — per node of each scenario version: calls that entered
  it, the exits they took, and callers who hung up there (the editor's heatmap).
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from flowengine.reports.calls import CallStory
from flowengine.reports.period import Period

__all__ = [
    "call_result", "caller_history", "load_report", "lost_calls", "lost_reason", "scenario_paths", "talked_to",
    "transfer_key", "transfer_report",
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: Schedule exits that mean the centre was closed
CLOSED_EXITS = frozenset({"closed", "holiday"})


def _in(stories: Iterable[CallStory], period: Period) -> list[CallStory]:
    return [s for s in stories if s.started is not None and period.contains(s.started)]


def lost_reason(story: CallStory) -> tuple[str, str] | None:
    """(reason, detail) when the call is lost, None when it was not.

    Reasons: ``abandoned`` (hung up waiting in a queue; detail: after N s),
    ``max_wait`` (the queue's wait limit), ``no_operators``, ``queue_full``,
    ``no_answer`` (nobody answered the rounds), ``outside_hours`` (a Schedule
    node said closed or holiday), ``ivr_hangup`` (hung up in the scenario;
    detail: the node), ``no_route`` (no scenario took the call).
    """
    if story.talked:
        return None
    for stay in reversed(story.stays):
        wait = f"after {stay.wait:.0f} s" if stay.wait is not None else ""
        if stay.outcome == "abandoned":
            return "abandoned", wait
        if stay.outcome == "timeout":
            return "max_wait", wait
        if stay.outcome in ("no_operators", "no_answer"):
            return stay.outcome, wait
        if stay.outcome == "full":
            return "queue_full", ""
    if story.hangup_cause == "no_route":
        return "no_route", ""
    if any(node_type == "schedule" and exit in CLOSED_EXITS for _, node_type, exit in story.path):
        return "outside_hours", ""
    if story.hangup_by == "caller" and story.path:
        return "ivr_hangup", f"at node {story.hangup_node or story.path[-1][0]}"
    return None


def load_report(stories: Iterable[CallStory], period: Period) -> dict[str, list[dict[str, Any]]]:
    chosen = _in(stories, period)
    by_hour: list[dict[str, Any]] = [{"hour": h, "offered": 0, "answered": 0, "lost": 0, "peak_concurrent": 0} for h in range(24)]
    by_day: list[dict[str, Any]] = [{"weekday": d, "offered": 0, "answered": 0, "lost": 0} for d in WEEKDAYS]
    for s in chosen:
        assert s.started is not None
        local = period.local(s.started)
        for r in (by_hour[local.hour], by_day[local.weekday()]):
            r["offered"] += 1
            if s.talked:
                r["answered"] += 1
            elif s.stays and lost_reason(s) is not None:
                r["lost"] += 1
    # peak calls in progress, per hour of day: sweep start/end instants in order
    points: list[tuple[float, int]] = []
    for s in chosen:
        assert s.started is not None
        points.append((s.started, 1))
        points.append((s.ended if s.ended is not None else s.started, -1))
    heapq.heapify(points)
    current = 0
    while points:
        ts, step = heapq.heappop(points)
        current += step
        if step > 0:
            r = by_hour[period.local(ts).hour]
            r["peak_concurrent"] = max(r["peak_concurrent"], current)
    return {"by_hour": by_hour, "by_weekday": by_day}


def lost_calls(stories: Iterable[CallStory], period: Period) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for s in _in(stories, period):
        found = lost_reason(s)
        if found is None:
            continue
        assert s.started is not None
        rows.append({
            "call_id": s.call_id, "started": period.local(s.started).isoformat(timespec="seconds"),
            "caller": s.caller, "called": s.called, "queue": s.stays[-1].queue_id if s.stays else None,
            "reason": found[0], "detail": found[1],
        })
    rows.sort(key=lambda r: (r["started"], r["call_id"]))
    return rows


#: how an operator transfer that was rung can end
OPERATOR_TRANSFER_OUTCOMES = ("answered", "busy", "no_answer", "rejected", "failed", "hangup")


def _transfer_row(target: str, operator: str | None, transfer: str, from_operator: str | None) -> dict[str, Any]:
    return {"target": target, "operator": operator, "attempts": 0, "answered": 0, "busy": 0, "no_answer": 0,
            "rejected": 0, "failed": 0, "success_rate": None, "transfer": transfer, "from_operator": from_operator,
            "target_kind": None, "hangup": 0, "refused": 0, "refused_reasons": {}}  # fmt: skip


def transfer_key(r: dict[str, Any]) -> tuple[str, str, str]:
    """The order of the transfers report: by target, then the kind, then who transferred."""
    return (r["target"], r["transfer"], r["from_operator"] or "")


def transfer_report(stories: Iterable[CallStory], period: Period) -> list[dict[str, Any]]:
    """Per target of a Transfer: attempts, answered, each failure, success
    rate; and per operator and target of the operators' own transfers: the
    same, with the caller leaving first (`hangup`) and refusals by reason.
    A request with no answer yet counts as an attempt only."""
    rows: dict[tuple[str, str | None], dict[str, Any]] = {}
    kinds: dict[tuple[str, str | None], set[str]] = {}
    answerers: dict[tuple[str, str | None], set[str]] = {}
    for s in stories:
        for d in s.dials:
            if not period.contains(d.at):
                continue
            target = d.operator_id or d.target
            r = rows.get((target, None))
            if r is None:
                r = rows[(target, None)] = _transfer_row(target, d.operator_id, "scenario", None)
                r["target_kind"] = "number"
            r["attempts"] += 1
            if d.operator_id is not None:
                r["target_kind"] = "operator"
            if d.outcome in ("answered", "busy", "no_answer", "rejected"):
                r[d.outcome] += 1
            else:
                r["failed"] += 1
        for x in s.op_transfers:
            if not period.contains(x.at) or x.operator_id is None:
                continue
            key: tuple[str, str | None] = (x.target, x.operator_id)
            r = rows.get(key)
            if r is None:
                r = rows[key] = _transfer_row(x.target, None, "operator", x.operator_id)
                kinds[key], answerers[key] = set(), set()
            r["attempts"] += 1
            if x.kind:
                kinds[key].add(x.kind)
            if x.outcome == "refused":
                r["refused"] += 1
                reason = x.reason or ""
                r["refused_reasons"][reason] = r["refused_reasons"].get(reason, 0) + 1
            elif x.outcome in OPERATOR_TRANSFER_OUTCOMES:
                r[x.outcome] += 1
            if x.kind == "operator" and x.to_operator_id is not None:
                answerers[key].add(x.to_operator_id)
    for k, r in rows.items():
        r["success_rate"] = round(r["answered"] / r["attempts"], 4)
        if r["transfer"] == "operator":
            r["target_kind"] = max(kinds[k], default=None)
            r["operator"] = max(answerers[k], default=None)
            r["refused_reasons"] = dict(sorted(r["refused_reasons"].items()))
    return sorted(rows.values(), key=transfer_key)


def talked_to(story: CallStory) -> str | None:
    """Who the caller talked to: the last queue operator, else the first
    answered Transfer target (its operator, or the number)."""
    answered = [st for st in story.stays if st.outcome == "answered"]
    if answered:
        return answered[-1].operator_id
    return next((d.operator_id or d.target for d in story.dials if d.outcome == "answered"), None)


def call_result(story: CallStory) -> str:
    """talked, the lost reason, or ivr (the caller history's result)."""
    if story.talked:
        return "talked"
    lost = lost_reason(story)
    return lost[0] if lost else "ivr"


def caller_history(stories: Iterable[CallStory], period: Period, number: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for s in _in(stories, period):
        if s.caller != number:
            continue
        assert s.started is not None
        rows.append({
            "call_id": s.call_id, "started": period.local(s.started).isoformat(timespec="seconds"),
            "called": s.called, "scenario": f"{s.scenario_id} v{s.scenario_version}",
            "path": " > ".join(node for node, _, _ in s.path),
            "queue": s.stays[-1].queue_id if s.stays else None, "operator": talked_to(s),
            "result": call_result(s),
        })
    rows.sort(key=lambda r: (r["started"], r["call_id"]))
    return rows


def scenario_paths(stories: Iterable[CallStory], period: Period, scenario_id: str | None = None) -> list[dict[str, Any]]:
    entered: Counter[tuple[str, int, str]] = Counter()
    exits: dict[tuple[str, int, str], Counter[str]] = defaultdict(Counter)
    hangups: Counter[tuple[str, int, str]] = Counter()
    for s in _in(stories, period):
        if scenario_id is not None and s.scenario_id != scenario_id:
            continue
        for node, _, exit in s.path:
            key = (s.scenario_id, s.scenario_version, node)
            entered[key] += 1
            if exit is not None:
                exits[key][exit] += 1
        if s.hangup_by == "caller" and s.hangup_node:
            hangups[(s.scenario_id, s.scenario_version, s.hangup_node)] += 1
    return [
        {"scenario": k[0], "version": k[1], "node": k[2], "entered": n, "exits": dict(sorted(exits[k].items())),
         "caller_hangups": hangups[k]}
        for k, n in sorted(entered.items())
    ]
