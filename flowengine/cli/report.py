"""`flowengine report`: figures computed from recorded event streams."""

from __future__ import annotations

from typing import Any

from flowengine.cli.report_calls import add_call_reports


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("report", help="reports from recorded event streams")
    what = p.add_subparsers(dest="report", required=True)
    add_call_reports(what)
