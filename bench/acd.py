"""ACD benchmark: decision latency of the sans-IO core, and simulation speed.

1. Decision latency. A centre of 2,000 operators in 20 queues (each operator
   serves two queues; the queues use a mix of strategies) is loaded until all
   operators talk and 5,000 calls wait. Then single inputs are timed one by
   one with ``time.perf_counter_ns``: arrivals, answers, completions (each
   frees an operator, who is immediately offered the best waiting call across
   their queues), abandons and timer ticks, keeping the backlog near 5,000.
   Target: p99 <= 200 µs.
2. Simulation speed on one M/M/c+M workload: simulated calls per wall-clock
   second of `flowengine.acd.analysis.traffic` (which runs the real core) and of the
   ``ciw`` package (``reneging_time_distributions`` for patience).

Run: ``python bench/acd.py`` (about a minute). The last line is JSON.
"""

from __future__ import annotations

import gc
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flowengine.acd import decisions as d  # noqa: E402
from flowengine.acd.analysis.traffic import TrafficConfig, simulate  # noqa: E402
from flowengine.acd.core import ACD  # noqa: E402
from flowengine.acd.model import Centre  # noqa: E402

OPERATORS = 2000
QUEUES = 20
WAITING = 5000
STRATEGIES = [
    "longest_idle",
    "round_robin",
    "fewest_calls",
    "priority",
    "linear",
    "random",
    "skills",
    "ring_all",
    "sequential",
    "cumulative",
]


def big_centre() -> Centre:
    ops = [
        {"id": f"a{i:04d}", "extension": str(10000 + i), "skills": {"s": 1 + i % 10}}
        for i in range(OPERATORS)
    ]
    per = OPERATORS // QUEUES
    queues = []
    for q in range(QUEUES):
        home = [f"a{i:04d}" for i in range(q * per, (q + 1) * per)]
        prev = (q - 1) % QUEUES
        guests = [f"a{i:04d}" for i in range(prev * per, (prev + 1) * per)]
        strategy = STRATEGIES[q % len(STRATEGIES)]
        params = {}
        if strategy == "sequential":
            members = home + guests
            params = {"steps": [members[i : i + 20] for i in range(0, len(members), 20)]}
        queues.append(
            {
                "id": f"q{q:02d}",
                "strategy": strategy,
                "strategy_params": params,
                "members": [{"operator": m, "rank": j % 7} for j, m in enumerate(home + guests)],
                "ring_timeout": 20,
                "max_wait": 3600,
                "announce": {"period": 60},
            }
        )
    return Centre.model_validate({"operators": ops, "queues": queues})


class Load:
    """Drives the core and keeps track of what it said."""

    def __init__(self, acd: ACD, rng: random.Random) -> None:
        self.acd = acd
        self.rng = rng
        self.now = 0.0
        self.n = 0
        self.waiting: list[str] = []
        self.waiting_set: set[str] = set()
        self.ringing: dict[tuple[str, str], int] = {}
        self.talking: list[str] = []

    def feed(self, out: list[d.Decision]) -> None:
        for x in out:
            t = type(x)
            if t is d.Ring:
                self.ringing[(x.call_id, x.operator_id)] = x.leg
            elif t is d.StopRinging or t is d.OfferMissed:
                self.ringing.pop((x.call_id, x.operator_id), None)
            elif t is d.Connected:
                self.ringing.pop((x.call_id, x.operator_id), None)
                self.waiting_set.discard(x.call_id)
                self.talking.append(x.call_id)
            elif t is d.Abandoned or t is d.MaxWaitReached:
                self.waiting_set.discard(x.call_id)

    def arrive(self) -> list[d.Decision]:
        self.n += 1
        cid = f"c{self.n}"
        self.waiting.append(cid)
        self.waiting_set.add(cid)
        q = f"q{self.rng.randrange(QUEUES):02d}"
        return self.acd.call_arrived(
            self.now, cid, q, priority=self.rng.random() < 0.05, caller=f"7916{self.n:07d}"
        )

    def pick_waiting(self) -> str | None:
        while self.waiting:
            i = self.rng.randrange(len(self.waiting))
            cid = self.waiting[i]
            self.waiting[i] = self.waiting[-1]
            self.waiting.pop()
            if cid in self.waiting_set:
                return cid
        return None


def decision_latency(iterations: int = 100_000, seed: int = 7) -> dict[str, float]:
    t0 = time.perf_counter()
    centre = big_centre()
    acd = ACD(centre, seed=seed)
    rng = random.Random(seed)
    load = Load(acd, rng)
    # everybody talking, then a backlog that built up over the last minute
    while load.ringing or load.n < OPERATORS:
        if load.n < OPERATORS:
            load.feed(load.arrive())
        for (cid, op), leg in list(load.ringing.items()):
            load.feed(acd.offer_answered(load.now, cid, op, leg))
    while sum(acd.waiting_count(q) for q in acd.queue_ids()) < WAITING:
        load.now += 60.0 / WAITING
        load.feed(load.arrive())
    setup = time.perf_counter() - t0
    print(
        f"setup: {OPERATORS} operators talking, {WAITING} calls waiting in {QUEUES} queues ({setup:.1f} s)"
    )

    samples: dict[str, list[int]] = {
        "arrival": [],
        "answer": [],
        "completion": [],
        "abandon": [],
        "timer": [],
    }
    gc.collect()
    gc.freeze()
    perf = time.perf_counter_ns
    queue_ids = acd.queue_ids()
    for _ in range(iterations):
        load.now += 0.002
        nt = acd.next_timer()
        if nt is not None and nt <= load.now:
            s = perf()
            out = acd.handle_timer(load.now)
            samples["timer"].append(perf() - s)
            load.feed(out)
        r = rng.random()
        backlog = sum(acd.waiting_count(q) for q in queue_ids)
        if load.ringing and r < 0.35:
            (cid, op), leg = next(iter(load.ringing.items()))
            s = perf()
            out = acd.offer_answered(load.now, cid, op, leg)
            samples["answer"].append(perf() - s)
        elif r < 0.97 and backlog >= WAITING and load.talking:
            i = rng.randrange(len(load.talking))
            cid = load.talking[i]
            load.talking[i] = load.talking[-1]
            load.talking.pop()
            s = perf()
            out = acd.call_completed(load.now, cid)
            samples["completion"].append(perf() - s)
        elif r < 0.97:
            s = perf()
            out = load.arrive()
            samples["arrival"].append(perf() - s)
        else:
            cid = load.pick_waiting()
            if cid is None:
                continue
            s = perf()
            out = acd.call_abandoned(load.now, cid)
            samples["abandon"].append(perf() - s)
        load.feed(out)
    gc.unfreeze()
    waiting = sum(acd.waiting_count(q) for q in acd.queue_ids())
    every = sorted(x for v in samples.values() for x in v)

    def pct(v: list[int], p: float) -> float:
        return v[min(len(v) - 1, int(p * len(v)))] / 1000.0

    print(f"decisions timed: {len(every)}; waiting at the end: {waiting}")
    for name, v in samples.items():
        if v:
            v.sort()
            print(
                f"  {name:10s} n={len(v):6d}  p50={pct(v, 0.5):7.1f} µs  p99={pct(v, 0.99):7.1f} µs  max={v[-1] / 1000:8.1f} µs"
            )
    result = {"p50": pct(every, 0.5), "p99": pct(every, 0.99)}
    print(
        f"  all        p50={result['p50']:.1f} µs  p99={result['p99']:.1f} µs  (target p99 <= 200 µs)"
    )
    return result


# ------------------------------------------------------------------ simulation speed
AGENTS = 50
AHT = 180.0
PATIENCE = 300.0
RATE = 0.95 * AGENTS / AHT  # 95 % offered load


def sim_speed(hours: float = 40.0) -> float:
    cfg = TrafficConfig(
        arrival_rate=RATE,
        aht=AHT,
        operators=AGENTS,
        patience=PATIENCE,
        horizon=hours * 3600,
        warmup=0,
        replications=1,
    )
    t0 = time.perf_counter()
    rep = simulate(cfg)
    dt = time.perf_counter() - t0
    rate = rep.calls / dt
    print(
        f"flowengine traffic: {rep.calls} calls in {dt:.2f} s = {rate:,.0f} calls/s "
        f"(SL {rep.mean['sl_answered']:.3f} vs Erlang A {rep.erlang.sl_answered:.3f})"  # type: ignore[union-attr]
    )
    return rate


def scenario_speed(hours: float = 10.0) -> float:
    """The same workload through a whole scenario: interpreter, Queue node,
    asyncio driver and virtual phones on the virtual clock (`flowengine simulate`)."""
    from flowengine.scenario.loader import load_scenario_data
    from flowengine.testing.simulation import SimulationConfig, simulate_scenario

    scenario = load_scenario_data(
        {
            "schema": 1,
            "id": "bench_queue",
            "nodes": [
                {"id": "start", "type": "start", "exits": {"next": "q"}},
                {
                    "id": "q",
                    "type": "queue",
                    "params": {"queue": "q", "announce": False},
                    "exits": {
                        n: "bye"
                        for n in ("answered", "timeout", "full", "no_operators", "callback")
                    },
                },
                {"id": "bye", "type": "hangup"},
            ],
        }
    )
    cfg = SimulationConfig(
        RATE * 3600, AHT, hours=hours, warmup=0, replications=1, operators=AGENTS, patience=PATIENCE
    )
    t0 = time.perf_counter()
    rep = simulate_scenario(scenario, cfg)
    dt = time.perf_counter() - t0
    rate = rep.calls / dt
    print(
        f"flowengine simulate (whole scenario): {rep.calls} calls in {dt:.2f} s = {rate:,.0f} calls/s "
        f"(SL {rep.mean['sl_answered']:.3f} vs Erlang A {rep.erlang.sl_answered:.3f})"  # type: ignore[union-attr]
    )
    return rate


def ciw_speed(hours: float = 40.0) -> float | None:
    try:
        import ciw
    except ImportError:
        print("ciw: not installed")
        return None
    net = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=RATE)],
        service_distributions=[ciw.dists.Exponential(rate=1 / AHT)],
        number_of_servers=[AGENTS],
        reneging_time_distributions=[ciw.dists.Exponential(rate=1 / PATIENCE)],
    )
    ciw.seed(1)
    sim = ciw.Simulation(net)
    t0 = time.perf_counter()
    sim.simulate_until_max_time(hours * 3600)
    dt = time.perf_counter() - t0
    recs = sim.get_all_records()
    calls = len({r.id_number for r in recs})
    rate = calls / dt
    print(f"ciw {ciw.__version__}: {calls} calls in {dt:.2f} s = {rate:,.0f} calls/s")
    return rate


def main() -> None:
    lat = decision_latency()
    sim = sim_speed()
    whole = scenario_speed()
    ciw_rate = ciw_speed()
    print(
        json.dumps(
            {
                "decision_p99_us": round(lat["p99"], 1),
                "sim_calls_per_s": round(sim),
                "ciw_calls_per_s": round(ciw_rate) if ciw_rate is not None else None,
                "scenario_sim_calls_per_s": round(whole),
            }
        )
    )


if __name__ == "__main__":
    main()
