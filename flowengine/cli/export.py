"""`flowengine export`: recorded event streams in other formats."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from flowengine.cli import options


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("export", help="export recorded events in other formats")
    p.add_argument("format", choices=["queue-log"], help="queue-log: Asterisk queue_log lines")
    p.add_argument("files", nargs="+", type=Path, help="event files (JSON lines, from --events-out; any stream version)")
    p.add_argument("--output", "-o", type=Path, help="write here instead of standard output")
    p.set_defaults(handler=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    from flowengine.acd.analysis.export import queue_log_lines, read_events

    lines = queue_log_lines(read_events(args.files))
    if args.output is not None:
        with options.writable(args.output, "--output").open("w", encoding="utf-8") as fh:
            count = 0
            for line in lines:
                fh.write(line + "\n")
                count += 1
        print(f"{count} queue_log lines written to {args.output}", file=sys.stderr)
    else:
        for line in lines:
            print(line)
    return 0


