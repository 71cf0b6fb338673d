"""ACD decision latency with member levels (penalties) and tier rules.

The same shape as the decision-latency part of ``bench/acd.py`` — 2,000
operators in 20 queues (each operator serves two), all talking, 5,000 calls
waiting — but every member has a penalty (0, 1 or 2: three levels per
queue), half the queues have tier rules (``wait: 20``, ``no_agent_no_wait``)
and the strategies include ``wrandom``, ``rrordered`` and ``cumulative`` in
groups. So it measures what levels cost a decision: a round run level by
level, tier gates on every candidate, and freed higher-level operators who
may not take the younger callers.

Each input is timed twice: wall clock (``perf_counter_ns``; on a busy machine
it includes time the process was not running) and thread CPU time
(``thread_time_ns``; what the decision itself cost).

The same centre without penalties or tier rules is run first, for comparison.
Run: ``python bench/acd_levels.py [iterations]``. The last line is JSON.
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
from flowengine.acd.core import ACD  # noqa: E402
from flowengine.acd.model import Centre  # noqa: E402

OPERATORS = 2000
QUEUES = 20
WAITING = 5000
STRATEGIES = [
    "longest_idle",
    "rrordered",
    "wrandom",
    "priority",
    "linear",
    "random",
    "ring_all",
    "sequential",
    "cumulative",
    "round_robin",
]


def leveled_centre(levels: bool = True) -> Centre:
    ops = [{"id": f"a{i:04d}", "extension": str(10000 + i)} for i in range(OPERATORS)]
    per = OPERATORS // QUEUES
    queues = []
    for q in range(QUEUES):
        home = [f"a{i:04d}" for i in range(q * per, (q + 1) * per)]
        prev = (q - 1) % QUEUES
        members = home + [f"a{i:04d}" for i in range(prev * per, (prev + 1) * per)]
        strategy = STRATEGIES[q % len(STRATEGIES)]
        params = {}
        if strategy == "sequential":
            params = {"steps": [members[i : i + 20] for i in range(0, len(members), 20)]}
        elif strategy == "cumulative":
            params = {"interval": 3, "steps": [members[i : i + 20] for i in range(0, len(members), 20)]}
        queue = {
            "id": f"q{q:02d}",
            "strategy": strategy,
            "strategy_params": params,
            "members": [
                {"operator": m, "rank": j % 7, "penalty": j % 3 if levels else 0}
                for j, m in enumerate(members)
            ],
            "ring_timeout": 20,
            "max_wait": 3600,
        }
        if q % 2 == 0 and levels:
            queue["tier_rules"] = {"wait": 20, "no_agent_no_wait": True}
        queues.append(queue)
    return Centre.model_validate({"operators": ops, "queues": queues})


def pct(v: list[int], p: float) -> float:
    return v[min(len(v) - 1, int(p * len(v)))] / 1000.0


def run(levels: bool, iterations: int, seed: int = 7) -> dict[str, float]:
    acd = ACD(leveled_centre(levels), seed=seed)
    rng = random.Random(seed)
    now = 0.0
    n = 0
    ringing: dict[tuple[str, str], int] = {}
    talking: list[str] = []

    def feed(out: list[d.Decision]) -> None:
        for x in out:
            if type(x) is d.Ring:
                ringing[(x.call_id, x.operator_id)] = x.leg
            elif type(x) is d.StopRinging or type(x) is d.OfferMissed:
                ringing.pop((x.call_id, x.operator_id), None)
            elif type(x) is d.Connected:
                ringing.pop((x.call_id, x.operator_id), None)
                talking.append(x.call_id)

    def arrive() -> list[d.Decision]:
        nonlocal n
        n += 1
        q = f"q{rng.randrange(QUEUES):02d}"
        return acd.call_arrived(now, f"c{n}", q, priority=rng.random() < 0.05)

    queue_ids = acd.queue_ids()
    while ringing or n < OPERATORS:
        if n < OPERATORS:
            feed(arrive())
        for (cid, op), leg in list(ringing.items()):
            feed(acd.offer_answered(now, cid, op, leg))
    while sum(acd.waiting_count(q) for q in queue_ids) < WAITING:
        now += 60.0 / WAITING
        feed(arrive())

    wall: list[int] = []
    cpu: list[int] = []
    perf, cpu_ns = time.perf_counter_ns, time.thread_time_ns
    gc.collect()
    gc.freeze()
    for _ in range(iterations):
        now += 0.002
        r = rng.random()
        backlog = sum(acd.waiting_count(q) for q in queue_ids)
        w, c = perf(), cpu_ns()
        nt = acd.next_timer()
        if nt is not None and nt <= now:
            out = acd.handle_timer(now)
        elif ringing and r < 0.35:
            (cid, op), leg = next(iter(ringing.items()))
            out = acd.offer_answered(now, cid, op, leg)
        elif r < 0.97 and backlog >= WAITING and talking:
            i = rng.randrange(len(talking))
            cid = talking[i]
            talking[i] = talking[-1]
            talking.pop()
            out = acd.call_completed(now, cid)
        else:
            out = arrive()
        c, w = cpu_ns() - c, perf() - w
        wall.append(w)
        cpu.append(c)
        feed(out)
    gc.unfreeze()
    wall.sort()
    cpu.sort()
    result = {"p50": pct(cpu, 0.5), "p99": pct(cpu, 0.99), "p99_wall": pct(wall, 0.99)}
    print(
        f"{'levels and tier rules' if levels else 'same centre, no levels'}: {len(cpu)} decisions, "
        f"{sum(acd.waiting_count(q) for q in queue_ids)} waiting at the end: CPU p50={result['p50']:.1f} µs "
        f"p99={result['p99']:.1f} µs; wall p99={result['p99_wall']:.1f} µs"
    )
    return result


def main(iterations: int = 50_000) -> dict[str, float]:
    plain = run(False, iterations)
    leveled = run(True, iterations)
    return {
        "levels_decision_p50_us": leveled["p50"],
        "levels_decision_p99_us": leveled["p99"],
        "plain_decision_p99_us": plain["p99"],
        "levels_over_plain_p99": round(leveled["p99"] / plain["p99"], 2),
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 50_000)))
