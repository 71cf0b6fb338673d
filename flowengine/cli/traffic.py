"""`flowengine simulate` and `flowengine erlang`: traffic on scenarios, and the formulas.

Kept apart from the other commands because both print tables of call-centre figures
side by side (simulation next to Erlang), with a progress bar for long runs.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from flowengine.acd.analysis.erlang import QueueMetrics, agents_for_target, erlang_a, erlang_c
from flowengine.acd.analysis.traffic import CV_MIN_R2, CV_MIN_REPLICATIONS
from flowengine.cli import options

#: Sizes beyond which a run would take hours: refused with the option named.
MAX_RATE_PER_HOUR = 1_000_000.0
MAX_SECONDS = 86_400.0
MAX_HOURS = 168.0
MAX_REPLICATIONS = 1000
MAX_OPERATORS = 10_000
#: simulated calls of one `simulate` (arrivals x (hours + warm-up) x replications)
MAX_SIMULATED_CALLS = 1_000_000
#: Erlang load the formulas accept, and staffing searched up to
MAX_ERLANGS = 4_000.0


def _rate(text: str) -> float:
    """`--arrivals`: 400/h, 7/min, 0.1/s, as calls per hour; finite and positive."""
    from flowengine.errors import UsageError
    from flowengine.testing.simulation import parse_rate

    try:
        value = parse_rate(text)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if not math.isfinite(value) or value <= 0 or value > MAX_RATE_PER_HOUR:
        raise argparse.ArgumentTypeError(
            f"arrival rate '{text}' is out of range: more than 0 and at most {MAX_RATE_PER_HOUR:,.0f}/h"
        )
    return value


_SECONDS = options.number(0, MAX_SECONDS)
_POSITIVE_SECONDS = options.number(0, MAX_SECONDS, low_open=True)

ROWS = (
    ("offered", "offered calls", "{:,.0f}"),
    ("answered", "answered", "{:,.0f}"),
    ("abandoned", "abandoned", "{:,.0f}"),
    ("other", "left otherwise (timeout, full)", "{:,.0f}"),
    ("p_abandon", "abandon rate", "{:.1%}"),
    ("sl_answered", "service level: answered in T / answered", "{:.1%}"),
    ("sl_offered", "service level: answered in T / offered", "{:.1%}"),
    ("sl_abandon_good", "service level: abandons in T count as good", "{:.1%}"),
    ("sl_short_excluded", "service level: short abandons excluded", "{:.1%}"),
    ("asa", "ASA over answered calls, s", "{:.1f}"),
    ("asa_all", "ASA over all calls, s", "{:.1f}"),
    ("occupancy", "occupancy", "{:.1%}"),
)


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("simulate", help="traffic simulation of a scenario with its queues (Poisson arrivals)")
    p.add_argument("scenario", type=Path)
    p.add_argument("--arrivals", type=_rate, required=True, metavar="RATE", help="e.g. 400/h, 7/min")
    p.add_argument("--aht", type=_POSITIVE_SECONDS, required=True, metavar="S", help="average handle time, seconds")
    p.add_argument(
        "--operators",
        type=options.whole(1, MAX_OPERATORS),
        metavar="N",
        help="N operators serving every queue (default: the centre's)",
    )
    p.add_argument("--centre", type=Path, help="centre file (queues, strategies, operators)")
    p.add_argument("--patience", type=_POSITIVE_SECONDS, metavar="S", help="mean caller patience, seconds (default: infinite)")
    p.add_argument("--hours", type=options.number(0, MAX_HOURS, low_open=True), default=8.0)
    p.add_argument("--warmup", type=_SECONDS, default=1800.0, metavar="S", help="not counted, seconds (default 1800)")
    p.add_argument("--replications", type=options.whole(1, MAX_REPLICATIONS), default=10)
    p.add_argument("--seed", type=options.whole(0, 2**63 - 1), default=1)
    p.add_argument("--threshold", type=_SECONDS, metavar="S", help="service-level threshold (default: the queue's)")
    p.add_argument("--called", help="number the simulated callers dial")
    p.add_argument(
        "--input", action="append", type=options.digits, default=[], metavar="DIGITS", help="digits callers press at each digit prompt"
    )
    p.add_argument("--answer-after", type=_SECONDS, default=0.0, metavar="S", help="operators answer after S s")
    p.add_argument(
        "--events-out",
        type=Path,
        metavar="FILE",
        help="store every event stream as JSON lines (one replication only), e.g. for `flowengine report`",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_simulate)

    p = sub.add_parser("erlang", help="Erlang C / Erlang A figures and staffing for a target")
    p.add_argument("--arrivals", type=_rate, required=True, metavar="RATE", help="e.g. 400/h")
    p.add_argument("--aht", type=_POSITIVE_SECONDS, required=True, metavar="S")
    p.add_argument("--operators", type=options.whole(1, MAX_OPERATORS), metavar="N", help="figures for N operators")
    p.add_argument("--patience", type=_POSITIVE_SECONDS, metavar="S", help="mean patience: Erlang A (default: Erlang C)")
    p.add_argument("--threshold", type=_SECONDS, default=20.0, metavar="S")
    p.add_argument(
        "--target-sl", type=options.number(0, 1), metavar="P", help="operators needed for this service level (0..1)"
    )
    p.add_argument("--target-asa", type=_SECONDS, metavar="S", help="operators needed for this ASA")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_erlang)


def cmd_simulate(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from flowengine.acd import load_centre
    from flowengine.events import JsonLinesSink
    from flowengine.scenario.loader import load_scenario_file
    from flowengine.testing.simulation import SimulationConfig, simulate_scenario

    calls = args.arrivals * (args.hours + args.warmup / 3600) * args.replications
    if calls > MAX_SIMULATED_CALLS:
        print(
            f"error: --arrivals x (--hours + --warmup) x --replications is about {calls:,.0f} simulated calls; "
            f"at most {MAX_SIMULATED_CALLS:,} (fewer hours or replications)",
            file=sys.stderr,
        )
        return 2
    if args.events_out is not None and args.replications != 1:
        print(
            "error: --events-out stores one simulated day: give --replications 1 with it "
            "(every replication starts at the same time)",
            file=sys.stderr,
        )
        return 2
    sinks = [JsonLinesSink(options.writable(args.events_out, "--events-out"))] if args.events_out is not None else []
    scenario = load_scenario_file(args.scenario)
    centre = load_centre(args.centre) if args.centre else None
    cfg = SimulationConfig(
        arrivals_per_hour=args.arrivals,
        aht=args.aht,
        hours=args.hours,
        warmup=args.warmup,
        replications=args.replications,
        seed=args.seed,
        operators=args.operators,
        patience=args.patience,
        called=args.called,
        inputs=args.input,
        answer_after=args.answer_after,
        threshold=args.threshold,
    )
    if centre is None and args.operators is None:
        print("error: give --operators N or --centre FILE", file=sys.stderr)
        return 2
    with Progress(
        TextColumn("simulating"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(),
        console=_stderr_console(), transient=True,
    ) as bar:
        task = bar.add_task("sim", total=1.0)
        report = simulate_scenario(
            scenario, cfg, centre, progress=lambda f: bar.update(task, completed=f), sinks=sinks
        )
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, default=_json_default))
        return 0
    print(
        f"{scenario.id}: {cfg.arrivals_per_hour:g} calls/h, AHT {cfg.aht:g} s, {report.operators} operators, "
        f"queues {', '.join(report.queues)}, T = {report.threshold:g} s"
    )
    print(
        f"{cfg.replications} replications x {cfg.hours:g} h after {cfg.warmup:g} s warm-up, "
        f"{report.calls:,} simulated calls"
    )
    print_figures(report)
    print("per-operator load (busy share of the measured time):")
    for op, load in sorted(report.loads.items()):
        print(f"  {op:<12} {load:6.1%}  {'#' * round(load * 40)}")
    return 0


def print_figures(report: Any) -> None:
    """The headline table: plain means over replications with their 95 %
    t-interval; the control-variate adjustment only where it is reliable
    (`flowengine.acd.analysis.traffic`); the Erlang figures beside them."""
    erlang = report.erlang
    reliable = report.adjusted_reliable
    shows_adjusted = any(reliable.get(key, False) for key, _label, _fmt in ROWS)
    head = f"{'':46}{'mean':>10}{'95% interval':>20}"
    if shows_adjusted:
        head += f"{'adjusted':>10}"
    if erlang is not None:
        head += f"{erlang.model:>10}"
    print(head)
    for key, label, fmt in ROWS:
        half = report.ci95.get(key, math.inf)
        mean = report.mean[key]
        interval = "" if not math.isfinite(half) else f"{fmt.format(mean - half)} – {fmt.format(mean + half)}"
        line = f"{label:46}{fmt.format(mean):>10}{interval:>20}"
        if shows_adjusted:
            line += f"{fmt.format(report.adjusted[key]) if reliable.get(key) else '':>10}"
        if erlang is not None and hasattr(erlang, key):
            line += f"{fmt.format(getattr(erlang, key)):>10}"
        print(line)
    replications = len(report.replications)
    if replications == 1:
        print("(one replication: no interval; give --replications 10 or more", end="")
    else:
        print(f"(means of {replications} replications with their 95% t-interval", end="")
    if shows_adjusted:
        print("; 'adjusted': regression on the arrivals and handle times drawn (control variates),")
        print(f" shown where reliable: >= {CV_MIN_REPLICATIONS} replications and R² >= {CV_MIN_R2:g})")
    else:
        print(f";\n control-variate adjustment not shown: it needs >= {CV_MIN_REPLICATIONS} replications and R² >= {CV_MIN_R2:g})")


def cmd_erlang(args: argparse.Namespace) -> int:
    rate = args.arrivals / 3600.0
    if args.target_sl is not None and args.target_sl >= 1:
        print(
            "error: --target-sl 1 (every call answered within the threshold) cannot be reached with "
            "random arrivals at any staffing; give less than 1, e.g. 0.99",
            file=sys.stderr,
        )
        return 2
    if rate * args.aht > MAX_ERLANGS:
        print(
            f"error: --arrivals x --aht is {rate * args.aht:,.0f} Erlang; the formulas here go up to {MAX_ERLANGS:,.0f}",
            file=sys.stderr,
        )
        return 2
    rows: list[QueueMetrics] = []
    if args.operators is not None:
        rows.append(_figures(args.operators, rate, args))
    if args.target_sl is not None or args.target_asa is not None:
        try:
            rows.append(
                agents_for_target(
                    rate,
                    args.aht,
                    service_level=args.target_sl,
                    threshold=args.threshold,
                    asa=args.target_asa,
                    patience=args.patience,
                    max_agents=MAX_OPERATORS,
                )
            )
        except ValueError as exc:
            print(f"error: the target cannot be reached: {exc}", file=sys.stderr)
            return 1
    if not rows:
        base = max(1, math.ceil(rate * args.aht))
        rows = [_figures(n, rate, args) for n in range(base, base + 6)]
    if args.json:
        print(json.dumps([r.as_dict() for r in rows], default=_json_default))
        return 0
    print(f"load {rate * args.aht:.2f} Erlang ({rate * 3600:g} calls/h x {args.aht:g} s), T = {args.threshold:g} s")
    print(f"{'model':>9}{'agents':>8}{'P(wait)':>9}{'SL ans':>9}{'SL off':>9}{'ASA s':>9}{'abandon':>9}{'occup.':>9}")
    for r in rows:
        print(
            f"{r.model:>9}{r.agents:>8}{r.p_wait:>9.1%}{r.sl_answered:>9.1%}{r.sl_offered:>9.1%}"
            f"{r.asa:>9.1f}{r.p_abandon:>9.1%}{r.occupancy:>9.1%}"
        )
    return 0


def _figures(agents: int, rate: float, args: argparse.Namespace) -> QueueMetrics:
    if args.patience:
        return erlang_a(agents, rate, args.aht, args.patience, args.threshold)
    return erlang_c(agents, rate, args.aht, args.threshold)


def _json_default(value: Any) -> Any:
    if isinstance(value, float) and math.isinf(value):
        return None
    return str(value)


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)
