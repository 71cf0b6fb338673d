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


def add_call_reports(what: Any) -> None:
    """Add the call reports to the `report` command's sub-commands."""
    from flowengine.reports.catalogue import KINDS

    for kind, spec in KINDS.items():
        if kind == "statuses":
            continue  # report.py's own sub-command (JSON-lines files), which also takes --data-dir
        text = spec.title
        p = what.add_parser(kind, help=text, description=f"{text.capitalize()}. See docs/reports.md.")
        add_source_options(p)
        add_period_options(p)
        p.add_argument("--format", choices=["table", "csv", "json"], default="table")
        if kind in ("queues", "operators", "load", "lost"):
            p.add_argument("--queue", action="append", help="only this queue (repeat for several)")
        if kind in ("operators", "transfers"):
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


def add_source_options(p: Any) -> None:
    p.add_argument("files", nargs="*", type=Path,
                   help="event files (JSON lines, from --events-out or a sink), or a data directory")
    p.add_argument("--data-dir", type=Path, help="the data directory of `flowengine serve` (its flowengine.db)")
    p.add_argument("--database", help="a database URL instead (sqlite:///FILE or postgresql://...)")


def add_period_options(p: Any) -> None:
    p.add_argument("--from", dest="start", help="start: 2026-11-23, 2026-11-23T09:00 (in --tz), ISO with zone, or epoch seconds")
    p.add_argument("--to", dest="end", help="end (not included), in the same forms")
    p.add_argument("--tz", help="the centre's time zone for dates, hours and weekdays "
                               "(default: the stored centre's with a data directory, else UTC)")


def database_source(args: argparse.Namespace) -> str | None:
    """The database URL the options name (--database, --data-dir, or a
    directory given as the only file); None: read the event files."""
    if getattr(args, "database", None):
        return str(args.database)
    folder = args.data_dir
    if folder is None and len(args.files) == 1 and args.files[0].is_dir():
        folder = args.files[0]
    if folder is not None:
        if args.files and args.files != [folder]:
            raise FlowEngineError("give event files or a data directory, not both")
        db_file = folder / "flowengine.db"
        if not db_file.is_file():
            raise FlowEngineError(f"{folder}: no flowengine.db in this directory (is it a data directory of flowengine serve?)")
        return f"sqlite:///{db_file}"
    if not args.files:
        raise FlowEngineError("give event files (JSON lines) or --data-dir DIR")
    return None


def cmd_report(args: argparse.Namespace) -> int:
    import math

    from flowengine.reports import Period, parse_instant, parse_zone
    from flowengine.reports.catalogue import COLUMNS, ReportFilter
    from flowengine.reports.output import render

    kind = args.kind
    url = database_source(args)
    db = None
    centre = None
    try:
        if url is not None:
            from flowengine.storage import CentreRepository, open_database

            db = open_database(url, migrate=False)
            centre = CentreRepository(db).load()
        tz = parse_zone(args.tz or (centre.timezone if centre is not None else "UTC"))
        start = parse_instant(args.start, "--from", tz) if args.start else -math.inf
        end = parse_instant(args.end, "--to", tz) if args.end else math.inf
        if end <= start:
            raise FlowEngineError("--to must be after --from")
        period = Period(start, end, tz)
        short = getattr(args, "short_abandon", 5.0)
        if not (math.isfinite(short) and short >= 0):
            raise FlowEngineError("--short-abandon must be a number of seconds, 0 or more")
        thresholds = {q.id: float(q.service_level) for q in centre.queues} if centre is not None else {}
        if getattr(args, "centre", None) is not None:
            thresholds = _thresholds(args.centre)
        filt = ReportFilter(
            queues=frozenset(args.queue) if getattr(args, "queue", None) else None,
            operators=frozenset(args.operator) if getattr(args, "operator", None) else None,
            caller=getattr(args, "caller", None),
            scenario=getattr(args, "scenario", None),
            thresholds=thresholds,
            short_abandon=short,
        )
        if db is not None:
            from flowengine.reports.sql import db_report

            body = db_report(db, kind, period, filt)
        else:
            from flowengine.acd.analysis.export import read_events
            from flowengine.reports.compute import fold_report

            body = fold_report(kind, list(_checked(read_events(args.files))), period, filt)
    finally:
        if db is not None:
            db.close()
    if kind == "load":
        if args.format == "json":  # one object: {"by_hour": [...], "by_weekday": [...]}
            print(json.dumps(body, ensure_ascii=False, indent=1))
            return 0
        print(render(body["by_hour"], args.format))
        print()
        print(render(body["by_weekday"], args.format))
        return 0
    columns = COLUMNS[kind] if kind in ("queues", "operators") else None
    print(render(body["rows"], args.format, columns))
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


def _thresholds(centre: Path) -> dict[str, float]:
    """Each queue's threshold from the centre file."""
    from flowengine.acd import load_centre

    return {q.id: float(q.service_level) for q in load_centre(centre).queues}
