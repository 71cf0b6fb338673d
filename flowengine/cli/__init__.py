"""The `flowengine` command line: one module per command group.

    flowengine validate FILE... [--lib DIR] [--json] [--centre F]  (scenarios)
    flowengine schema [--output FILE]                         (scenarios)
    flowengine components [--json | --markdown]               (scenarios)
    flowengine run FILE --called N [--input 1] [--say TEXT]   (calls)
    flowengine test PATH...                                   (calls)
    flowengine simulate / erlang                              (traffic)
    flowengine export queue-log FILE...                       (export)
    flowengine report statuses FILE... --from T --to T        (report)
    flowengine report queues|operators|load|lost|... FILE...  (report)
"""

from __future__ import annotations

import argparse
import sys

from flowengine.cli import calls, export, report, scenarios, traffic
from flowengine.errors import FlowEngineError, ScenarioError

#: command groups, in the order `--help` lists them
GROUPS = (scenarios, calls, traffic, export, report)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flowengine", description="Call-scenario engine for call centres")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.add_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except ScenarioError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except FlowEngineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # output piped into head/less that closed early
        sys.stderr.close()
        return 0
    except OSError as exc:  # a file that vanished or became unreadable while we worked
        where = f" '{exc.filename}'" if exc.filename else ""
        print(f"error:{where} {exc.strerror or exc}", file=sys.stderr)
        return 1
