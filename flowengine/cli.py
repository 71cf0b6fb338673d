"""The `flowengine` command line.

    flowengine validate FILE... [--json]
    flowengine schema [--output FILE]
    flowengine run FILE --called N [--caller N] [--input 1 --input '#'] [--say TEXT]
                   [--at 2026-11-23T10:00+03:00] [--lib FILE] [--realtime] [--json]
    flowengine test PATH...
    flowengine components [--json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import uuid
from pathlib import Path
from typing import Any

from flowengine.errors import FlowEngineError, ScenarioError


class _OrderedInput(argparse.Action):
    """--input and --say keep their command-line order in one list."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option_string: str | None = None) -> None:
        items = getattr(namespace, "answers", None) or []
        items.append(("input" if option_string == "--input" else "say", values))
        namespace.answers = items


def _iso_time(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not an ISO time like 2026-11-23T10:00+03:00") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"'{text}' needs a UTC offset, e.g. 2026-11-23T10:00+03:00")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flowengine", description="Call-scenario engine for call centres")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check scenario files and report every problem")
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--centre", type=Path, help="centre file: queues and operators the scenarios may name")

    p = sub.add_parser("schema", help="print the JSON Schema of scenario documents")
    p.add_argument("--output", type=Path)

    p = sub.add_parser("run", help="run one call of a scenario on the simulator and print its trace")
    p.add_argument("file", type=Path)
    p.add_argument("--called", default=None, help="dialled number (default: the scenario's first number)")
    p.add_argument("--caller", default="+70000000000", help="caller's number")
    p.add_argument("--input", action=_OrderedInput, metavar="DIGITS", help="digits to press at the next digit prompt (repeatable)")
    p.add_argument("--say", action=_OrderedInput, metavar="TEXT", help="phrase to say at the next speech prompt (repeatable)")
    p.add_argument("--hangup-after", type=float, default=None, metavar="S")
    p.add_argument("--at", type=_iso_time, default=None, help="wall-clock start, e.g. 2026-11-23T10:00+03:00")
    p.add_argument("--lib", action="append", type=Path, default=[], help="another scenario file for Subscenario nodes")
    p.add_argument("--realtime", action="store_true", help="run on the real clock instead of simulated time")
    _centre_options(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--events", action="store_true", help="with --json: include the full event stream")
    p.add_argument("--events-out", type=Path, metavar="FILE", help="append the call's events to FILE (JSON lines)")

    p = sub.add_parser("test", help="run scenario test cases (*.tests.yaml / *.tests.json)")
    p.add_argument("paths", nargs="+", type=Path)

    p = sub.add_parser("export", help="export recorded events in other formats")
    p.add_argument("format", choices=["queue-log"], help="queue-log: Asterisk queue_log lines")
    p.add_argument("files", nargs="+", type=Path, help="event files (JSON lines, from --events-out)")
    p.add_argument("--output", "-o", type=Path, help="write here instead of standard output")

    from flowengine.cli_traffic import add_parsers

    add_parsers(sub)

    p = sub.add_parser("components", help="list the node types (components)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--markdown", action="store_true", help="the full reference (docs/components.md)")
    return parser


def _centre_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--centre", type=Path, help="centre file (operators, queues) for Queue and Transfer nodes")
    p.add_argument("--answer-after", type=float, default=3.0, metavar="S", help="virtual operators answer after S s")
    p.add_argument("--talk", type=float, default=60.0, metavar="S", help="virtual operators talk for S s")
    p.add_argument(
        "--status",
        action="append",
        default=[],
        metavar="OP=STATUS",
        help="set an operator's status first, e.g. 902=break:lunch (repeatable)",
    )


def _centre_setup(args: argparse.Namespace) -> Any:
    if args.centre is None:
        return None
    from flowengine.acd import load_centre
    from telephony_adapters.sim.harness import CentreSetup

    statuses = {}
    for item in args.status:
        operator, sep, status = item.partition("=")
        if not sep or not operator or not status:
            raise FlowEngineError(f"--status takes OPERATOR=STATUS, got '{item}'")
        statuses[operator] = status
    return CentreSetup(load_centre(args.centre), answer_after=args.answer_after, talk_time=args.talk, statuses=statuses)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from flowengine.cli_traffic import cmd_erlang, cmd_simulate

    handler = {
        "simulate": cmd_simulate,
        "erlang": cmd_erlang,
        "validate": cmd_validate,
        "schema": cmd_schema,
        "run": cmd_run,
        "test": cmd_test,
        "components": cmd_components,
        "export": cmd_export,
    }[args.command]
    try:
        return handler(args)
    except ScenarioError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except FlowEngineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # output piped into head/less that closed early
        sys.stderr.close()
        return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from flowengine.validation import format_problem, validate_files

    known = None
    if args.centre is not None:
        from flowengine.acd import load_centre

        centre = load_centre(args.centre)
        known = {"queue": {q.id for q in centre.queues}, "operator": {o.id for o in centre.operators}}
    results = validate_files(args.files, known=known)
    errors = sum(1 for problems in results.values() for p in problems if p.severity == "error")
    warnings = sum(1 for problems in results.values() for p in problems if p.severity != "error")
    if args.json:
        out = [dict(p.to_dict(), file=str(path)) for path, problems in results.items() for p in problems]
        print(json.dumps({"errors": errors, "warnings": warnings, "problems": out}, ensure_ascii=False, indent=2))
    else:
        for path, problems in results.items():
            for p in problems:
                print(format_problem(path, p))
            if not problems:
                print(f"{path}: ok")
        print(f"{len(results)} file(s): {errors} error(s), {warnings} warning(s)")
        if args.centre is None and any(_uses_acd(path) for path in args.files):
            print("note: queue and operator names were not checked; pass --centre FILE to check them")
    return 1 if errors else 0


def _uses_acd(path: Path) -> bool:
    """Whether a scenario file has Queue or Transfer nodes (for the validate note)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    nodes = data.get("nodes") if isinstance(data, dict) else None
    return isinstance(nodes, list) and any(
        isinstance(n, dict) and n.get("type") in ("queue", "transfer") for n in nodes
    )


def cmd_schema(args: argparse.Namespace) -> int:
    from flowengine.scenario.schema import scenario_json_schema

    text = json.dumps(scenario_json_schema(), ensure_ascii=False, indent=2)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from flowengine.scenario.loader import load_scenario_file
    from telephony_adapters.sim.harness import run_scenario
    from telephony_adapters.sim.script import CallerScript, Step

    scenario = load_scenario_file(args.file)
    library = [load_scenario_file(p) for p in args.lib]
    called = args.called or (scenario.numbers[0] if scenario.numbers else "100")
    steps = [Step(input=v) if kind == "input" else Step(say=v) for kind, v in getattr(args, "answers", None) or []]
    script = CallerScript(caller=args.caller, called=called, steps=steps, hangup_after=args.hangup_after)
    trace = run_scenario(
        scenario,
        script,
        at=args.at,
        realtime=args.realtime,
        library=library,
        centre=_centre_setup(args),
        call_id=f"run-{uuid.uuid4().hex[:12]}",
    )
    if args.events_out is not None:
        write_events(args.events_out, trace.events)
    if args.json:
        print(json.dumps(trace.to_json(with_events=args.events), ensure_ascii=False, default=str))
    else:
        from flowengine.tracefmt import format_trace

        print(format_trace(trace))
    return 0


def cmd_test(args: argparse.Namespace) -> int:
    from flowengine.testcases import find_case_files, run_case_file

    files = find_case_files(args.paths)
    if not files:
        print("no test files found (looked for *.tests.yaml, *.tests.yml, *.tests.json)", file=sys.stderr)
        return 1
    passed = failed = 0
    for path in files:
        print(path)
        for result in run_case_file(path):
            if result.passed:
                passed += 1
                print(f"  PASSED  {result.name}")
            else:
                failed += 1
                print(f"  FAILED  {result.name}")
                for line in ([result.error] if result.error else result.failures):
                    print(f"          {line}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def write_events(path: Path, events: Any) -> None:
    """Append events as JSON lines (the input of `flowengine export`)."""
    with path.open("a", encoding="utf-8") as fh:
        for event in events:
            fh.write(json.dumps(event.to_dict(), ensure_ascii=False, default=str) + "\n")


def cmd_export(args: argparse.Namespace) -> int:
    from flowengine.acd.export import queue_log_lines, read_events

    lines = queue_log_lines(read_events(args.files))
    if args.output is not None:
        with args.output.open("w", encoding="utf-8") as fh:
            count = 0
            for line in lines:
                fh.write(line + "\n")
                count += 1
        print(f"{count} queue_log lines written to {args.output}", file=sys.stderr)
    else:
        for line in lines:
            print(line)
    return 0


def cmd_components(args: argparse.Namespace) -> int:
    from flowengine.registry import builtin_registry

    if args.markdown:
        from flowengine.catalogue import catalogue_markdown

        print(catalogue_markdown(), end="")
        return 0
    rows = [
        {
            "type": name,
            "title_en": cls.title_en,
            "title_ru": cls.title_ru,
            "description": cls.description,
            "exits": list(cls.exits) + (["(from params)"] if "exit_names" in vars(cls) else []),
        }
        for name, cls in builtin_registry().items()
    ]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for r in rows:
            print(f"{r['type']:<12} {r['title_en']} / {r['title_ru']}: {r['description']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
