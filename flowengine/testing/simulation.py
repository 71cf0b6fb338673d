"""Traffic simulation of a whole scenario: `flowengine simulate`.

Unlike the core-only harness (`flowengine.acd.analysis.traffic`), this runs the real
scenario — greeting, menus, Queue nodes, overflow — through the interpreter on
the simulator's virtual clock: callers arrive as a Poisson stream, press the
given digits, wait with exponential patience; virtual operators talk for an
exponentially drawn handle time. The ACD's decisions are counted by the same
`Tally` the core harness uses, so the four service-level variants, ASA over
answered and over all calls, occupancy and per-operator load mean the same in
both, and `flowengine erlang` gives the formulas to compare with.

Replications are seeded by index and run one after another; a warm-up period
at the start of each is not counted.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flowengine.acd import decisions as d
from flowengine.acd.analysis.erlang import QueueMetrics, erlang_a, erlang_c
from flowengine.acd.analysis.traffic import ReplicationResult, Tally, finite_or_none, summarize
from flowengine.acd.model import Centre
from flowengine.errors import UsageError
from flowengine.events import EventSink
from flowengine.runtime.clock import WallClock
from flowengine.runtime.engine import Engine, platform_call_ids
from flowengine.scenario.compiled import Scenario

SHORT_ABANDON = 5.0
BUSY_STATES = ("ringing", "talking", "wrap_up")


@dataclass
class SimulationConfig:
    arrivals_per_hour: float
    aht: float
    hours: float = 8.0
    warmup: float = 1800.0
    replications: int = 10
    seed: int = 1
    operators: int | None = None
    patience: float | None = None
    called: str | None = None
    inputs: list[str] = field(default_factory=list)
    answer_after: float = 0.0
    threshold: float | None = None

    def __post_init__(self) -> None:
        if self.arrivals_per_hour <= 0 or self.aht <= 0 or self.hours <= 0:
            raise UsageError("arrivals, AHT and hours must be positive")
        if self.replications < 1:
            raise UsageError("replications must be at least 1")
        if self.operators is not None and self.operators < 1:
            raise UsageError("operators must be at least 1")


@dataclass
class SimulationReport:
    config: SimulationConfig
    queues: list[str]
    threshold: float
    operators: int
    replications: list[ReplicationResult]
    mean: dict[str, float]
    stderr: dict[str, float]
    #: means adjusted with control variates (arrivals and handle times drawn
    #: against their known expectations), which remove most sampling noise
    adjusted: dict[str, float]
    adjusted_stderr: dict[str, float]
    loads: dict[str, float]
    erlang: QueueMetrics | None
    calls: int
    #: half-width of the plain mean's 95 % t-interval (the headline's spread)
    ci95: dict[str, float] = field(default_factory=dict)
    #: whether the adjustment may be shown (`flowengine.acd.analysis.traffic`)
    adjusted_reliable: dict[str, bool] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "config": {k: v for k, v in vars(self.config).items()},
            "queues": self.queues,
            "threshold": self.threshold,
            "operators": self.operators,
            "mean": self.mean,
            "stderr": self.stderr,
            "ci95": finite_or_none(self.ci95),
            "adjusted": self.adjusted,
            "adjusted_stderr": self.adjusted_stderr,
            "adjusted_reliable": self.adjusted_reliable,
            "per_operator_load": self.loads,
            "erlang": self.erlang.as_dict() if self.erlang else None,
            "simulated_calls": self.calls,
        }


def parse_rate(text: str) -> float:
    """'400/h', '6.5/min', '0.1/s' or a bare number (per hour) -> calls per hour."""
    value, _, unit = text.strip().partition("/")
    try:
        number = float(value)
    except ValueError:
        raise UsageError(f"arrival rate '{text}' is not like 400/h") from None
    factor = {"": 1.0, "h": 1.0, "hour": 1.0, "min": 60.0, "m": 60.0, "s": 3600.0, "sec": 3600.0}.get(unit.strip())
    if factor is None:
        raise UsageError(f"arrival rate '{text}': unit must be /h, /min or /s")
    return number * factor


def queues_of(scenario: Scenario) -> list[str]:
    return sorted({node.params.queue for node in scenario.nodes.values() if node.type_name == "queue"})  # type: ignore[attr-defined]


def staffed_centre(scenario: Scenario, centre: Centre | None, operators: int | None, aht: float) -> Centre:
    """The centre to simulate: as given, or with `operators` identical people
    serving every queue the scenario uses (longest idle first, no wrap-up)."""
    queues = queues_of(scenario)
    if not queues:
        raise UsageError("the scenario has no Queue node: there is nothing to simulate")
    if centre is not None and operators is None:
        missing = [q for q in queues if q not in {s.id for s in centre.queues}]
        if missing:
            raise UsageError(f"queues not in the centre file: {', '.join(missing)}")
        return centre
    count = operators or 1
    ops = [{"id": f"op{i + 1:03d}", "extension": str(1000 + i + 1)} for i in range(count)]
    base = {q.id: q for q in centre.queues} if centre is not None else {}
    specs = []
    for qid in queues:
        spec: dict[str, Any] = {"id": qid, "strategy": "longest_idle", "expected_handle_time": aht}
        if qid in base:
            known = base[qid]
            spec.update(
                service_level=known.service_level,
                max_wait=known.max_wait,
                max_length=known.max_length,
                wrap_up=known.wrap_up,
                ring_timeout=known.ring_timeout,
            )
        spec["members"] = [o["id"] for o in ops]
        specs.append(spec)
    return Centre.model_validate({"operators": ops, "queues": specs})


def simulate_scenario(
    scenario: Scenario,
    cfg: SimulationConfig,
    centre: Centre | None = None,
    progress: Callable[[float], None] | None = None,
    sinks: Sequence[EventSink] = (),
) -> SimulationReport:
    """Run the replications; `progress` gets the fraction done (0..1).
    `sinks` store every stream of every replication (one after another;
    each replication's clock starts at the same time, so a store meant for
    reports takes one replication)."""
    staffed = staffed_centre(scenario, centre, cfg.operators, cfg.aht)
    queues = queues_of(scenario)
    first = next(q for q in staffed.queues if q.id == queues[0])
    threshold = cfg.threshold if cfg.threshold is not None else first.service_level
    reps: list[ReplicationResult] = []
    for rep in range(cfg.replications):

        def tick(fraction: float, rep: int = rep) -> None:
            if progress is not None:
                progress((rep + fraction) / cfg.replications)

        reps.append(_replicate(scenario, staffed, cfg, rep, threshold, tick, sinks))
    expected_calls = cfg.arrivals_per_hour * cfg.hours
    controls = [
        [(r.calls_in_window - expected_calls) / expected_calls, (r.ctl_service - cfg.aht) / cfg.aht]
        for r in reps
    ]
    summary = summarize(reps, controls)
    erlang = None
    if len(queues) == 1 and not first.wrap_up and not cfg.answer_after:
        agents = len(first.members)
        rate = cfg.arrivals_per_hour / 3600.0
        if cfg.patience:
            erlang = erlang_a(agents, rate, cfg.aht, cfg.patience, threshold, SHORT_ABANDON)
        elif rate * cfg.aht < agents:
            erlang = erlang_c(agents, rate, cfg.aht, threshold)
    return SimulationReport(
        config=cfg,
        queues=queues,
        threshold=threshold,
        operators=len(staffed.operators),
        replications=reps,
        mean=summary.mean,
        stderr=summary.stderr,
        adjusted=summary.adjusted,
        adjusted_stderr=summary.adjusted_stderr,
        loads=summary.loads,
        erlang=erlang,
        calls=sum(r.calls for r in reps),
        ci95=summary.ci95,
        adjusted_reliable=summary.adjusted_reliable,
    )


def _replicate(
    scenario: Scenario,
    centre: Centre,
    cfg: SimulationConfig,
    rep: int,
    threshold: float,
    tick: Callable[[float], None],
    sinks: Sequence[EventSink] = (),
) -> ReplicationResult:
    from flowengine.runtime.virtual_loop import run_virtual
    from flowengine.testing.harness import CentreSetup, attach_centre, scripted_backend
    from flowengine.testing.script import CallerScript, Step

    seed = cfg.seed * 1_000_003 + rep * 7919
    start, end = cfg.warmup, cfg.warmup + cfg.hours * 3600.0
    rate = cfg.arrivals_per_hour / 3600.0
    steps = [Step(input=i) for i in cfg.inputs]
    called = cfg.called or (scenario.numbers[0] if scenario.numbers else "100")

    async def main() -> ReplicationResult:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        # call ids of its own (r<replication>-<n>): a replication's random choices
        # (ctx.rng is seeded from the call id) must not change from run to run
        engine = Engine(
            clock=WallClock(dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)), call_ids=platform_call_ids
        )
        engine.publish(scenario)
        for sink in sinks:
            engine.add_sink(sink)
        backend = scripted_backend(engine, seed=seed + 2)
        driver = attach_centre(
            engine,
            backend,
            CentreSetup(centre, answer_after=cfg.answer_after, talk_time=cfg.aht, exponential=True, seed=seed + 4),
        )
        driver.keep_history = False
        tally = Tally(threshold, SHORT_ABANDON, t0 + start, t0 + end)
        seen: set[str] = set()
        measured: set[str] = set()
        talk = [0.0, 0]

        def on_decision(now: float, x: d.Decision) -> None:
            if isinstance(x, d.Queued):
                if x.call_id not in seen:  # first arrival at the ACD only
                    seen.add(x.call_id)
                    if tally.arrived(now, x.call_id):
                        measured.add(x.call_id)
            elif isinstance(x, d.Completed):
                if x.call_id in measured:
                    talk[0] += x.talk_time
                    talk[1] += 1
            else:
                tally.decided(x)

        driver.add_listener(on_decision)
        arrivals = random.Random(seed + 1)
        patience = random.Random(seed + 3)
        placed = 0

        in_window = 0

        def arrive() -> None:
            nonlocal placed, in_window
            placed += 1
            if loop.time() >= t0 + start:
                in_window += 1
            script = CallerScript(
                caller=f"+7900{placed:07d}",
                called=called,
                steps=steps,
                think=0.5,
                patience=patience.expovariate(1.0 / cfg.patience) if cfg.patience else None,
            )
            backend.place_call(script, scenario, call_id=f"r{rep}-{placed}")
            nxt = loop.time() + arrivals.expovariate(rate)
            if nxt < t0 + end:
                loop.call_at(nxt, arrive)

        loop.call_at(t0 + arrivals.expovariate(rate), arrive)
        await _sleep_until(loop, t0 + start, tick, t0, end)
        ops = driver.core.operator_ids()

        def busy(op: str) -> float:
            return sum(driver.core.operator_time_in(op, s, loop.time()) for s in BUSY_STATES)

        busy_at_start = {op: busy(op) for op in ops}
        await _sleep_until(loop, t0 + end, tick, t0, end)
        window = end - start
        res = tally.res
        res.loads = {op: (busy(op) - busy_at_start[op]) / window for op in ops}
        res.occupancy = sum(res.loads.values()) / max(1, len(ops))
        await engine.drain()  # no arrivals after the end: let every call finish
        res.calls = placed
        res.calls_in_window = in_window
        res.ctl_service = talk[0] / talk[1] if talk[1] else cfg.aht
        await driver.shutdown()
        await engine.shutdown(timeout=30)
        return res

    return run_virtual(main())


async def _sleep_until(
    loop: asyncio.AbstractEventLoop, when: float, tick: Callable[[float], None], t0: float, end: float
) -> None:
    """Advance simulated time to `when`, reporting progress every simulated 10 minutes."""
    while loop.time() < when:
        await asyncio.sleep(min(600.0, when - loop.time()))
        tick(min(1.0, (loop.time() - t0) / end))
