"""`flowengine report KIND`: the call reports of `flowengine.reports` over
recorded event files (docs/reports.md).

    flowengine report queues EVENTS... [--from D] [--to D] [--tz Z] [--queue Q] [--centre F] [--format table|csv|json]
    flowengine report operators|load|lost|transfers|paths EVENTS... [...]
    flowengine report history EVENTS... --caller +79160000000
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from flowengine.errors import FlowEngineError

KINDS = {
    "queues": "per queue: offered, answered, abandoned, the four service levels, ASA, AHT",
    "operators": "per operator: offers, answers, misses, talk, wrap-up, against the average",
    "load": "calls by hour of day and weekday: offered, answered, lost, peak at once",
    "lost": "every lost call with its reason and the caller's number",
    "transfers": "per Transfer target: attempts, answered, failures, success rate",
    "history": "every call of one caller (--caller): path, queue, operator, result",
    "paths": "per scenario node: calls that entered, exits taken, caller hangups",
}


def add_call_reports(what: Any) -> None:
    """Add the call reports to the `report` command's sub-commands."""
    for kind, text in KINDS.items():
        p = what.add_parser(kind, help=text, description=f"{text.capitalize()}. See docs/reports.md.")
        p.add_argument("files", nargs="+", type=Path, help="event files (JSON lines, from --events-out or a sink)")
        p.add_argument("--from", dest="start", help="start: 2026-11-23, 2026-11-23T09:00 (in --tz), ISO with zone, or epoch seconds")
        p.add_argument("--to", dest="end", help="end (not included), in the same forms")
        p.add_argument("--tz", default="UTC", help="the centre's time zone for dates, hours and weekdays (default UTC)")
        p.add_argument("--format", choices=["table", "csv", "json"], default="table")
        if kind in ("queues", "operators"):
            p.add_argument("--queue", action="append", help="only this queue (repeat for several)")
        if kind == "operators":
            p.add_argument("--operator", action="append", help="only this operator (repeat for several)")
        if kind == "queues":
            p.add_argument("--centre", type=Path, help="centre file: each queue's own service-level threshold")
            p.add_argument("--short-abandon", type=float, default=5.0,
                           help="an abandon within this many seconds is short (default 5)")
        if kind == "history":
            p.add_argument("--caller", required=True, help="the caller's number, as the events record it")
        if kind == "paths":
            p.add_argument("--scenario", help="only this scenario id")
        p.set_defaults(handler=cmd_report, kind=kind)


def cmd_report(args: argparse.Namespace) -> int:
    import math

    from flowengine.acd.analysis.export import read_events
    from flowengine.reports import (
        OPERATOR_COLUMNS,
        QUEUE_COLUMNS,
        Period,
        QueueSettings,
        caller_history,
        fold_calls,
        load_report,
        lost_calls,
        operator_report,
        parse_instant,
        parse_zone,
        queue_report,
        scenario_paths,
        transfer_report,
    )
    from flowengine.reports.output import render

    tz = parse_zone(args.tz)
    start = parse_instant(args.start, "--from", tz) if args.start else -math.inf
    end = parse_instant(args.end, "--to", tz) if args.end else math.inf
    if end <= start:
        raise FlowEngineError("--to must be after --from")
    period = Period(start, end, tz)
    events = list(_checked(read_events(args.files)))
    stories = fold_calls(events).values()
    kind = args.kind
    columns: tuple[str, ...] | None = None
    rows: list[dict[str, Any]]
    if kind == "queues":
        if not (math.isfinite(args.short_abandon) and args.short_abandon >= 0):
            raise FlowEngineError("--short-abandon must be a number of seconds, 0 or more")
        settings = _queue_settings(args.centre, args.short_abandon)
        rows = queue_report(stories, period, settings=settings, default=QueueSettings(20.0, args.short_abandon),
                            queue_events=events,
                            only=set(args.queue) if args.queue else None)
        columns = QUEUE_COLUMNS
    elif kind == "operators":
        rows = operator_report(stories, period, operator_events=events,
                               queues=set(args.queue) if args.queue else None,
                               operators=set(args.operator) if args.operator else None)
        columns = OPERATOR_COLUMNS
    elif kind == "load":
        load = load_report(stories, period)
        if args.format == "json":  # one object: {"by_hour": [...], "by_weekday": [...]}
            print(json.dumps(load, ensure_ascii=False, indent=1))
            return 0
        print(render(load["by_hour"], args.format))
        print()
        print(render(load["by_weekday"], args.format))
        return 0
    elif kind == "lost":
        rows = lost_calls(stories, period)
    elif kind == "transfers":
        rows = transfer_report(stories, period)
    elif kind == "history":
        rows = caller_history(stories, period, args.caller)
    else:
        rows = scenario_paths(stories, period, args.scenario)
    print(render(rows, args.format, columns))
    return 0


def _checked(events: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The stream (any version) with every event checked against its type: a
    missing field is an error naming the event, not a row for queue "None"."""
    from flowengine.events import EventFormatError, event_from_dict, upgrade_stream

    for data in upgrade_stream(events):
        try:
            yield event_from_dict(data).to_dict()
        except (EventFormatError, TypeError) as exc:
            where = data.get("call_id") or data.get("operator_id") or data.get("queue_id")
            raise FlowEngineError(f"event {data.get('event')!r} of {where!r}, seq {data.get('seq')}: {exc}") from None


def _queue_settings(centre: Path | None, short: float) -> dict[str, Any]:
    """Each queue's threshold from the centre file (none given: the default for all)."""
    from flowengine.reports import QueueSettings

    if centre is None:
        return {}
    from flowengine.acd import load_centre

    return {q.id: QueueSettings(float(q.service_level), short) for q in load_centre(centre).queues}
