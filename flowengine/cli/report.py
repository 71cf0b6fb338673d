"""`flowengine report`: figures computed from recorded event streams.

    flowengine report statuses EVENTS... --from 2026-11-23T09:00:00+03:00 --to 2026-11-23T18:00:00+03:00 [--json]
    flowengine report queues|operators|load|lost|transfers|history|paths EVENTS...  (report_calls)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path
from typing import Any

from flowengine.cli.report_calls import add_call_reports, database_source
from flowengine.errors import FlowEngineError
from flowengine.reports.period import parse_instant, parse_zone


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("report", help="reports from recorded event streams")
    what = p.add_subparsers(dest="report", required=True)
    s = what.add_parser(
        "statuses",
        help="seconds each operator spent in each status and state between two instants",
        description=(
            "Seconds each operator spent in each status (available, break...) and state "
            "(idle, ringing, talking, wrap_up) between --from and --to, from the operator "
            "stream; intervals crossing either edge are clipped to it."
        ),
    )
    s.add_argument("files", nargs="*", type=Path, help="event files (JSON lines, from --events-out or a sink), or a data directory")
    s.add_argument("--data-dir", type=Path, help="the data directory of `flowengine serve` (its flowengine.db)")
    s.add_argument("--database", help="a database URL instead (sqlite:///FILE or postgresql://...)")
    s.add_argument("--from", dest="start", required=True, help="start: ISO time with zone (2026-11-23T09:00:00+03:00) or epoch seconds")
    s.add_argument("--to", dest="end", required=True, help="end: ISO time with zone or epoch seconds")
    s.add_argument(
        "--until",
        help="the streams ran until this time (ISO or epoch), though the last event is earlier; "
        "default: the last event's time",
    )
    s.add_argument("--tz", help="time zone of times given without one (default: they must carry one)")
    s.add_argument("--json", action="store_true", help="one JSON object: operator -> {name: seconds}")
    s.set_defaults(handler=cmd_statuses)
    add_call_reports(what)


def cmd_statuses(args: argparse.Namespace) -> int:
    from flowengine.acd.analysis.export import read_events
    from flowengine.acd.analysis.status_time import STATE_NAMES, status_times

    tz = parse_zone(args.tz) if args.tz is not None else None
    start = parse_instant(args.start, "--from", tz)
    end = parse_instant(args.end, "--to", tz)
    if end < start:
        raise FlowEngineError("--to is before --from")
    until = parse_instant(args.until, "--until", tz) if args.until is not None else None
    url = database_source(args)
    if url is not None:
        report, last = _stored_statuses(url, start, end, until)
    else:
        from flowengine.reports.compute import break_totals, with_break_reasons

        report, last = status_times(with_break_reasons(read_events(args.files)), start, end, until=until)
        report = break_totals(report)
    if last is not None and last < end and not args.json:
        shown = dt.datetime.fromtimestamp(last, dt.UTC).isoformat()
        print(f"note: the events end at {shown}; what was still going on is counted until then")
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
        return 0
    names = sorted({n for times in report.values() for n in times if n not in STATE_NAMES})
    names += [n for n in STATE_NAMES if any(n in times for times in report.values())]
    if not report:
        print("no operator events in the period")
        return 0
    width = max(8, *(len(op) for op in report))
    print("operator".ljust(width) + "".join(f"{n:>14}" for n in names))
    for op, times in report.items():
        print(op.ljust(width) + "".join(f"{times.get(n, 0.0):>14.1f}" for n in names))
    return 0


def _stored_statuses(
    url: str, start: float, end: float, until: float | None
) -> tuple[dict[str, dict[str, float]], float | None]:
    from flowengine.reports.period import Period
    from flowengine.reports.sql import stored_statuses
    from flowengine.storage import open_database

    db = open_database(url, migrate=False)
    try:
        return stored_statuses(db, Period(start, end), until=until)
    finally:
        db.close()
