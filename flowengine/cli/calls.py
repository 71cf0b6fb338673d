"""`flowengine run` and `flowengine test`: calls on the simulator, one at a time."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from flowengine.cli import options
from flowengine.errors import FlowEngineError

#: `--at` must fall within these years (UTC): the call's clock runs on from
#: there, and dates near year 9999 overflow Python's datetime
#: (the same as `flowengine.testing.harness.START_YEARS`).
AT_YEARS = (1970, 2999)
#: longest simulated call `--hangup-after` may ask for, seconds (7 days)
MAX_CALL_SECONDS = 7 * 86_400


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
    try:
        year = value.astimezone(dt.UTC).year
    except OverflowError:
        year = value.year
    if not AT_YEARS[0] <= year <= AT_YEARS[1]:
        raise argparse.ArgumentTypeError(f"'{text}' is out of range: give a time in the years {AT_YEARS[0]}..{AT_YEARS[1]}")
    return value


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("run", help="run one call of a scenario on the simulator and print its trace")
    p.add_argument("file", type=Path)
    p.add_argument("--called", default=None, help="dialled number (default: the scenario's first number; '' for none)")
    p.add_argument("--caller", default="+70000000000", help="caller's number")
    p.add_argument("--line", default=None, metavar="NAME", help="the line (trunk) the call arrives on; line() returns it")
    p.add_argument(
        "--routing",
        type=Path,
        default=None,
        metavar="FILE",
        help="routing table (YAML/JSON): route the call by it among FILE and --lib (docs/routing.md)",
    )
    p.add_argument("--input", action=_OrderedInput, type=options.digits, metavar="DIGITS", help="digits to press at the next digit prompt (repeatable)")
    p.add_argument("--say", action=_OrderedInput, metavar="TEXT", help="phrase to say at the next speech prompt (repeatable)")
    p.add_argument(
        "--hangup-after",
        type=options.number(0, MAX_CALL_SECONDS),
        default=None,
        metavar="S",
        help=f"the caller hangs up after S seconds (0..{MAX_CALL_SECONDS})",
    )
    p.add_argument("--at", type=_iso_time, default=None, help="wall-clock start, e.g. 2026-11-23T10:00+03:00")
    p.add_argument("--lib", action="append", type=Path, default=[], help="another scenario file for Subscenario nodes")
    p.add_argument("--realtime", action="store_true", help="run on the real clock instead of simulated time")
    p.add_argument(
        "--media",
        action="append",
        type=options.folder,
        default=[],
        metavar="DIR",
        help="a folder audio files are played from (repeatable; the scenario's file names are "
        "relative to it and cannot leave it); without one, no audio file is read",
    )
    _centre_options(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--events", action="store_true", help="with --json: include the full event stream")
    p.add_argument(
        "--events-out",
        type=Path,
        metavar="FILE",
        help="append every event (the call's, and with --centre the operators' and queues') to FILE "
        "(JSON lines; a missing directory is created)",
    )
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("test", help="run scenario test cases (*.tests.yaml / *.tests.json)")
    p.add_argument("paths", nargs="+", type=Path)
    p.set_defaults(handler=cmd_test)


def _centre_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--centre", type=Path, help="centre file (operators, queues) for Queue and Transfer nodes")
    p.add_argument(
        "--answer-after", type=options.number(0, 86_400), default=3.0, metavar="S", help="virtual operators answer after S s"
    )
    p.add_argument("--talk", type=options.number(0, 86_400), default=60.0, metavar="S", help="virtual operators talk for S s")
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
    from flowengine.testing.harness import CentreSetup

    statuses = {}
    for item in args.status:
        operator, sep, status = item.partition("=")
        if not sep or not operator or not status:
            raise FlowEngineError(f"--status takes OPERATOR=STATUS, got '{item}'")
        statuses[operator] = status
    return CentreSetup(load_centre(args.centre), answer_after=args.answer_after, talk_time=args.talk, statuses=statuses)


def cmd_run(args: argparse.Namespace) -> int:
    from flowengine.events import EventSink, JsonLinesSink
    from flowengine.scenario.loader import load_scenario_file
    from flowengine.testing.harness import run_scenario
    from flowengine.testing.script import CallerScript, Step

    scenario = load_scenario_file(args.file)
    library = [load_scenario_file(p) for p in args.lib]
    routing = _routing(args.routing, [scenario, *library]) if args.routing is not None else None
    called = args.called if args.called is not None else (scenario.numbers[0] if scenario.numbers else "100")
    steps = [Step(input=v) if kind == "input" else Step(say=v) for kind, v in getattr(args, "answers", None) or []]
    script = CallerScript(
        caller=args.caller, called=called, line=args.line, steps=steps, hangup_after=args.hangup_after
    )
    sinks: list[EventSink] = [] if args.events_out is None else [JsonLinesSink(options.writable(args.events_out, "--events-out"))]
    trace = run_scenario(
        scenario,
        script,
        at=args.at,
        realtime=args.realtime,
        library=library,
        centre=_centre_setup(args),
        routing=routing,
        sinks=sinks,
        media=args.media,
    )
    if args.json:
        print_safely(json.dumps(trace.to_json(with_events=args.events), ensure_ascii=False, default=str))
    else:
        from flowengine.testing.tracefmt import format_trace

        print_safely(format_trace(trace))
    # a call that ended on an unhandled failure is a failed run (scripts and CI see it)
    return 1 if trace.hangup_cause == "error" else 0


def print_safely(text: str) -> None:
    """Print `text` whatever stdout can encode: lone surrogates (from a
    variable or a Notify message) come out escaped instead of crashing the
    command. JSON output stays valid: its surrogates are written as \\u escapes."""
    try:
        print(text)
        return
    except UnicodeEncodeError:
        pass
    if text.startswith(("{", "[")):
        try:
            text = json.dumps(json.loads(text), ensure_ascii=True)
        except ValueError:
            pass
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    print(text.encode(encoding, "backslashreplace").decode(encoding, "replace"))


def _routing(path: Path, scenarios: list[Any]) -> Any:
    """The routing file, checked against the scenarios given on the command line."""
    from flowengine.errors import Problem
    from flowengine.scenario.routing import RoutingError, load_routing_file

    table = load_routing_file(path)
    known = {s.id for s in scenarios}
    problems = []
    for where, ref in table.scenario_refs():
        if ref.scenario_id not in known:
            problems.append(
                Problem(
                    f"scenario '{ref.scenario_id}' is not among the scenario files given "
                    f"({', '.join(sorted(known))}); add it with --lib",
                    path=f"{where}.scenario_id",
                )
            )
        elif ref.version not in (None, 1):
            problems.append(
                Problem(
                    f"version {ref.version} of '{ref.scenario_id}' does not exist here: "
                    "each scenario file is published once, as version 1",
                    path=f"{where}.version",
                )
            )
    if problems:
        raise RoutingError(problems, str(path))
    return table


def cmd_test(args: argparse.Namespace) -> int:
    from flowengine.testing.cases import find_case_files, run_case_file

    files = find_case_files(args.paths)
    if not files:
        print("no test files found (looked for *.tests.yaml, *.tests.yml, *.tests.json)", file=sys.stderr)
        return 1
    passed = failed = 0
    for path in files:
        print_safely(str(path))
        for result in run_case_file(path):
            if result.passed:
                passed += 1
                print_safely(f"  PASSED  {result.name}")
            else:
                failed += 1
                print_safely(f"  FAILED  {result.name}")
                for line in ([result.error] if result.error else result.failures):
                    for part in line.splitlines():  # a load error lists its problems below it
                        print_safely(f"          {part}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


