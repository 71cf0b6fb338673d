"""Every report from events in memory (the JSON-lines files of the CLI): fold
the calls (`fold_calls`), then count. `flowengine.reports.sql` computes the
same reports in the database; `tests/flowengine/reports` checks that both
give the same figures.

`fold_report(kind, events, period, filt)` returns the report's body: ``{"rows":
[...]}``, or ``{"by_hour": [...], "by_weekday": [...]}`` for ``load``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from flowengine.reports.calls import CallStory, fold_calls
from flowengine.reports.catalogue import ReportFilter, kind_of
from flowengine.reports.operators import operator_report
from flowengine.reports.period import Period
from flowengine.reports.queues import QueueSettings, queue_report
from flowengine.reports.traffic import (
    caller_history,
    load_report,
    lost_calls,
    scenario_paths,
    transfer_report,
)

__all__ = ["break_totals", "fold_report", "statuses_rows", "with_break_reasons"]


def _in_queues(stories: list[CallStory], queues: frozenset[str] | None) -> list[CallStory]:
    if queues is None:
        return stories
    return [s for s in stories if any(st.queue_id in queues for st in s.stays)]


def fold_report(
    kind: str, events: Sequence[dict[str, Any]], period: Period, filt: ReportFilter | None = None
) -> dict[str, Any]:
    kind_of(kind)
    filt = filt or ReportFilter()
    stories = list(fold_calls(events).values())
    if kind == "queues":
        default = QueueSettings(filt.default_threshold, filt.short_abandon)
        settings = {q: QueueSettings(t, filt.short_abandon) for q, t in filt.thresholds.items()}
        return {"rows": queue_report(stories, period, settings=settings, default=default, queue_events=events,
                                     only=set(filt.queues) if filt.queues is not None else None)}
    if kind == "operators":
        return {"rows": operator_report(
            stories, period, operator_events=events,
            queues=set(filt.queues) if filt.queues is not None else None,
            operators=set(filt.operators) if filt.operators is not None else None)}
    if kind == "statuses":
        return {"rows": statuses_rows(events, period, filt)}
    if kind == "load":
        return load_report(_in_queues(stories, filt.queues), period)
    if kind == "lost":
        return {"rows": lost_calls(_in_queues(stories, filt.queues), period)}
    if kind == "transfers":
        rows = transfer_report(stories, period)
        if filt.operators is not None:
            rows = [r for r in rows if r["operator"] in filt.operators or r["from_operator"] in filt.operators]
        return {"rows": rows}
    if kind == "history":
        if not filt.caller:
            raise ValueError("the history report needs a caller's number")
        return {"rows": caller_history(stories, period, filt.caller)}
    return {"rows": scenario_paths(stories, period, filt.scenario)}


def statuses_rows(events: Sequence[dict[str, Any]], period: Period, filt: ReportFilter) -> list[dict[str, Any]]:
    """Seconds in each status and state, clipped to the period (and to the
    streams' end when they stop before it)."""
    from flowengine.acd.analysis.status_time import status_times

    times, _last = status_times(with_break_reasons(events), period.start, period.end)
    times = break_totals(times)
    return [
        {"operator": op, "seconds": dict(sorted(times[op].items()))}
        for op in sorted(times)
        if filt.operators is None or op in filt.operators
    ]


def with_break_reasons(events: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    """The events, each break with its reason named like ``break:lunch``, so
    time on a break is reported per reason (`break_totals` adds the total
    back under ``break``)."""
    for e in events:
        if e.get("event") == "operator_status_changed" and e.get("status") == "break" and e.get("reason"):
            yield {**e, "status": f"break:{e['reason']}"}
        else:
            yield e


def break_totals(times: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """Each operator's seconds with ``break`` the time on any break: the
    per-reason ``break:REASON`` figures are added, not instead."""
    out: dict[str, dict[str, float]] = {}
    for op, seconds in times.items():
        total = sum(v for k, v in seconds.items() if k == "break" or k.startswith("break:"))
        row = dict(seconds)
        if total > 0:
            row["break"] = round(total, 3)
        out[op] = row
    return out
