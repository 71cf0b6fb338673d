"""A discrete-event traffic harness that drives the real ACD core.

Poisson arrivals, exponential handle times and (optionally) exponential
patience on a simulated clock — the M/M/n(+M) world of Erlang C and Erlang A —
but every routing decision is made by `flowengine.acd.core.ACD` itself, the
same object the asyncio driver and the simulator backend run. Agreement with
the formulas (tests/flowengine/acd/test_acd_traffic.py) is therefore evidence
about the core, not about a toy queue.

The harness is a heap of events (arrival, caller gives up, operator answers,
conversation ends) merged with the core's own `next_timer()`. Virtual
operators answer `answer_delay` seconds after a `Ring` and talk for an
exponential time with mean `aht`. Each replication runs `warmup` seconds
unmeasured, then measures calls *arriving* during `horizon` seconds, and
keeps running until each of them is answered or gone. Replications use
independent, seeded random streams (arrivals, handle times, patience), so a
run is reproducible.

Reported per replication and averaged: offered, answered, abandoned, other
exits, service level in the four usual variants (see `flowengine.acd.analysis.erlang`),
ASA over answered calls and over all calls, occupancy and per-operator load
(ringing + talking + wrap-up time in the measured window).

Control variates. Replication-to-replication noise is large in queueing
(a few busy hours more or less decide the waits), and much of it is explained
by how many calls happened to arrive and how long they happened to need. The
measured calls' arrival count, mean handle time and mean patience have known
expectations (λ·horizon, AHT, mean patience), so each metric is also reported
regression-adjusted on their deviations (Lavenberg & Welch 1981): `adjusted`
is the intercept of that regression across replications, an estimate of the
same expectation with a smaller standard error (`adjusted_stderr`). `mean` is
the plain average. Both are computed from the same runs of the real core.

What is reported first is the plain mean with its 95 % confidence interval
(Student's t across replications, `ci95` is the half-width): it needs no
model. The adjustment is trusted (`adjusted_reliable`) only when it can be:
at least `CV_MIN_REPLICATIONS` replications (a regression on 2–3 controls
from 5 points fits noise: with 5 replications the README's example showed
ASA 11.7 s adjusted against a plain 8.2 s and Erlang C's 7.8 s), the
controls explain at least `CV_MIN_R2` of the metric's variance across
replications, and the adjusted value lies inside the plain mean's interval.

`flowengine simulate` uses `simulate()`; the centre can be a real centre
file's queue instead of the synthetic one-queue centre; ``workers`` runs
replications in parallel processes with identical results.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flowengine.acd import decisions as d
from flowengine.acd.analysis.erlang import QueueMetrics, erlang_a
from flowengine.acd.core import ACD
from flowengine.acd.model import Centre

__all__ = [
    "ReplicationResult",
    "TrafficConfig",
    "TrafficReport",
    "erlang_for",
    "simulate",
    "synthetic_centre",
]

_ARRIVE, _ABANDON, _ANSWER, _COMPLETE, _MARK = range(5)


@dataclass(frozen=True)
class TrafficConfig:
    """One simulated workload. Rates are per second, times in seconds."""

    arrival_rate: float
    aht: float
    operators: int
    patience: float | None = None
    horizon: float = 8 * 3600.0
    warmup: float = 1800.0
    replications: int = 10
    seed: int = 1
    threshold: float = 20.0
    short_abandon: float = 5.0
    strategy: str = "longest_idle"
    wrap_up: float = 0.0
    answer_delay: float = 0.0
    queue_id: str = "q"
    centre: Centre | None = None

    @classmethod
    def per_hour(
        cls, arrivals_per_hour: float, aht: float, operators: int, **kw: Any
    ) -> TrafficConfig:
        return cls(arrival_rate=arrivals_per_hour / 3600.0, aht=aht, operators=operators, **kw)


@dataclass
class ReplicationResult:
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    other: int = 0
    answered_within: int = 0
    abandoned_within: int = 0
    abandoned_short: int = 0
    wait_answered: float = 0.0
    wait_all: float = 0.0
    occupancy: float = 0.0
    loads: dict[str, float] = field(default_factory=dict)
    events: int = 0
    calls: int = 0
    #: control variates (known expectations): mean handle time and mean patience
    #: drawn for the measured arrivals
    ctl_service: float = 0.0
    ctl_patience: float = 0.0
    #: arrivals in the measured window (scenario simulation's arrival control)
    calls_in_window: int = 0

    @property
    def sl_answered(self) -> float:
        return self.answered_within / self.answered if self.answered else 0.0

    @property
    def sl_offered(self) -> float:
        return self.answered_within / self.offered if self.offered else 0.0

    @property
    def sl_abandon_good(self) -> float:
        return (
            (self.answered_within + self.abandoned_within) / self.offered if self.offered else 0.0
        )

    @property
    def sl_short_excluded(self) -> float:
        base = self.offered - self.abandoned_short
        return self.answered_within / base if base else 0.0

    @property
    def asa(self) -> float:
        return self.wait_answered / self.answered if self.answered else 0.0

    @property
    def asa_all(self) -> float:
        return self.wait_all / self.offered if self.offered else 0.0

    @property
    def p_abandon(self) -> float:
        return self.abandoned / self.offered if self.offered else 0.0


class Tally:
    """Counts one replication's calls from the ACD's decisions.

    Only calls that arrive in the measured window (after the warm-up, before
    the end) count; `arrived` says whether one does. Shared by the core-only
    harness here and the whole-scenario simulation (`flowengine.testing.simulation`),
    so both report the same service-level variants the same way.
    """

    __slots__ = ("res", "counted", "threshold", "short", "start", "end")

    def __init__(self, threshold: float, short: float, start: float, end: float) -> None:
        self.res = ReplicationResult()
        self.counted: set[str] = set()
        self.threshold = threshold + 1e-9
        self.short = short
        self.start = start
        self.end = end

    def arrived(self, now: float, call_id: str) -> bool:
        if self.start <= now < self.end:
            self.counted.add(call_id)
            self.res.offered += 1
            return True
        return False

    def decided(self, x: d.Decision) -> None:
        """Account a Connected, Abandoned or leaving decision (others are ignored)."""
        res = self.res
        if isinstance(x, d.Connected):
            if x.call_id in self.counted:
                self.counted.discard(x.call_id)
                res.answered += 1
                res.wait_answered += x.wait
                res.wait_all += x.wait
                if x.wait <= self.threshold:
                    res.answered_within += 1
        elif isinstance(x, d.Abandoned):
            if x.call_id in self.counted:
                self.counted.discard(x.call_id)
                res.abandoned += 1
                res.wait_all += x.wait
                if x.wait <= self.threshold:
                    res.abandoned_within += 1
                if x.wait < self.short:
                    res.abandoned_short += 1
        elif isinstance(x, d.MaxWaitReached | d.NoOperators | d.QueueFull | d.NoAnswer):
            if x.call_id in self.counted:
                self.counted.discard(x.call_id)
                res.other += 1
                res.wait_all += getattr(x, "wait", 0.0)

    @property
    def pending(self) -> int:
        """Counted calls whose outcome is not known yet."""
        return len(self.counted)


METRICS = (
    "offered",
    "answered",
    "abandoned",
    "other",
    "p_abandon",
    "sl_answered",
    "sl_offered",
    "sl_abandon_good",
    "sl_short_excluded",
    "asa",
    "asa_all",
    "occupancy",
)


@dataclass
class TrafficReport:
    """Averages over replications (`mean`, `stderr`), the same adjusted with
    control variates (`adjusted`, `adjusted_stderr`; see the module docstring),
    per-operator load, the per-replication results and the Erlang figures."""

    config: TrafficConfig
    replications: list[ReplicationResult]
    mean: dict[str, float]
    stderr: dict[str, float]
    adjusted: dict[str, float]
    adjusted_stderr: dict[str, float]
    loads: dict[str, float]
    erlang: QueueMetrics | None
    calls: int
    #: half-width of the plain mean's 95 % t-interval
    ci95: dict[str, float] = field(default_factory=dict)
    #: whether `adjusted` may be shown (see the module docstring)
    adjusted_reliable: dict[str, bool] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        cfg = {k: v for k, v in self.config.__dict__.items() if k != "centre"}
        return {
            "config": cfg,
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


def finite_or_none(values: dict[str, float]) -> dict[str, float | None]:
    """For JSON: an interval that does not exist (one replication) is null."""
    return {k: v if math.isfinite(v) else None for k, v in values.items()}


def synthetic_centre(cfg: TrafficConfig) -> Centre:
    """One queue served by `cfg.operators` identical operators."""
    ops = [{"id": f"op{i + 1}", "extension": str(1000 + i + 1)} for i in range(cfg.operators)]
    queue = {
        "id": cfg.queue_id,
        "strategy": cfg.strategy,
        "members": [o["id"] for o in ops],
        "wrap_up": cfg.wrap_up,
        "ring_timeout": max(20.0, cfg.answer_delay * 2 + 1),
        "service_level": cfg.threshold,
        "expected_handle_time": cfg.aht,
    }
    return Centre.model_validate({"operators": ops, "queues": [queue]})


def erlang_for(cfg: TrafficConfig) -> QueueMetrics | None:
    """Erlang A (or C without patience) for the workload, when it is one."""
    if cfg.wrap_up or cfg.answer_delay:
        return None
    n = cfg.operators if cfg.centre is None else len(cfg.centre.queue(cfg.queue_id).members)
    return erlang_a(n, cfg.arrival_rate, cfg.aht, cfg.patience, cfg.threshold, cfg.short_abandon)


def run_replication(
    cfg: TrafficConfig, centre: Centre, rep: int, record: dict[str, list[Any]] | None = None
) -> ReplicationResult:
    """One seeded replication (see the module docstring).

    With `record`, every call's ``[arrival, handle time, patience, outcome,
    wait]`` is stored under its id (outcome: answered, abandoned, other) — the
    raw sample path, for checking the core against an ideal queue.
    """
    base = cfg.seed * 1_000_003 + rep * 7919
    r_arr = random.Random(base + 1)
    r_srv = random.Random(base + 2)
    r_pat = random.Random(base + 3)
    acd = ACD(centre, seed=base + 4)
    qid = cfg.queue_id
    lam = cfg.arrival_rate
    mean_service = cfg.aht
    patience = cfg.patience
    delay = cfg.answer_delay
    start = cfg.warmup
    end = cfg.warmup + cfg.horizon
    tally = Tally(cfg.threshold, cfg.short_abandon, start, end)
    res = tally.res
    heap: list[tuple[float, int, int, Any]] = []
    seq = 0
    push = heapq.heappush
    pop = heapq.heappop
    expo = r_arr.expovariate
    push(heap, (expo(lam), 0, _ARRIVE, None))
    push(heap, (start, 1, _MARK, 0))
    push(heap, (end, 2, _MARK, 1))
    seq = 3
    service: dict[str, float] = {}
    sum_service = 0.0
    sum_patience = 0.0
    waiting: set[str] = set()
    legs: dict[tuple[str, str], int] = {}
    busy_at_start: dict[str, float] = {}
    ended = False
    n_calls = 0
    events = 0
    busy_states = ("ringing", "talking", "wrap_up")

    def busy(op_id: str, t: float) -> float:
        return sum(acd.operator_time_in(op_id, s, t) for s in busy_states)

    next_timer = acd.next_timer
    while True:
        tt = next_timer()
        if heap:
            te = heap[0][0]
        elif tt is None:
            break
        else:
            te = math.inf
        if tt is not None and tt <= te:
            out = acd.handle_timer(tt)
            now = tt
        else:
            now, _, kind, data = pop(heap)
            events += 1
            if kind == _ARRIVE:
                n_calls += 1
                cid = f"c{n_calls}"
                nxt = now + expo(lam)
                if nxt < end:
                    push(heap, (nxt, seq, _ARRIVE, None))
                    seq += 1
                service[cid] = r_srv.expovariate(1.0 / mean_service)
                if record is not None:
                    record[cid] = [now, service[cid], math.inf, None, None]
                if tally.arrived(now, cid):
                    sum_service += service[cid]
                waiting.add(cid)
                if patience is not None:
                    pt = r_pat.expovariate(1.0 / patience)
                    if record is not None:
                        record[cid][2] = pt
                    if now >= start:
                        sum_patience += pt
                    push(heap, (now + pt, seq, _ABANDON, (cid, now)))
                    seq += 1
                out = acd.call_arrived(now, cid, qid)
            elif kind == _ANSWER:
                key, leg = data
                if legs.get(key) != leg:
                    continue
                out = acd.offer_answered(now, key[0], key[1], leg)
            elif kind == _COMPLETE:
                out = acd.call_completed(now, data)
            elif kind == _ABANDON:
                cid = data[0]
                if cid not in waiting:
                    continue
                out = acd.call_abandoned(now, cid)
            else:  # _MARK
                if data == 0:
                    busy_at_start = {o: busy(o, now) for o in acd.operator_ids()}
                else:
                    window = end - start
                    loads = {
                        o: (busy(o, now) - busy_at_start.get(o, 0.0)) / window
                        for o in acd.operator_ids()
                    }
                    res.loads = loads
                    res.occupancy = sum(loads.values()) / max(1, len(loads))
                    ended = True
                continue
        i = 0
        while i < len(out):
            x = out[i]
            i += 1
            if isinstance(x, d.Ring):
                key = (x.call_id, x.operator_id)
                if legs.get(key) != x.leg:
                    legs[key] = x.leg
                    if delay:
                        push(heap, (now + delay, seq, _ANSWER, (key, x.leg)))
                        seq += 1
                    else:  # answers at once: same instant, no event needed
                        out = out[i:] + acd.offer_answered(now, key[0], key[1], x.leg)
                        i = 0
            elif isinstance(x, d.StopRinging):
                legs.pop((x.call_id, x.operator_id), None)
            elif isinstance(x, d.Connected):
                cid = x.call_id
                if record is not None:
                    record[cid][3:] = ["answered", x.wait]
                legs.pop((cid, x.operator_id), None)
                waiting.discard(cid)
                push(heap, (now + service.pop(cid), seq, _COMPLETE, cid))
                seq += 1
                tally.decided(x)
            elif isinstance(x, d.OfferMissed):
                legs.pop((x.call_id, x.operator_id), None)
            elif isinstance(x, d.Abandoned):
                cid = x.call_id
                if record is not None:
                    record[cid][3:] = ["abandoned", x.wait]
                waiting.discard(cid)
                service.pop(cid, None)
                tally.decided(x)
            elif isinstance(x, d.MaxWaitReached | d.NoOperators | d.QueueFull | d.NoAnswer):
                cid = x.call_id
                if record is not None:
                    record[cid][3:] = ["other", getattr(x, "wait", 0.0)]
                waiting.discard(cid)
                service.pop(cid, None)
                tally.decided(x)
        if ended and not tally.pending:
            break
    res.events = events
    if res.offered:
        res.ctl_service = sum_service / res.offered
        res.ctl_patience = sum_patience / res.offered
    res.calls = n_calls
    return res


@dataclass
class Summary:
    """Replications averaged: plain means and standard errors, the same adjusted
    with control variates, and per-operator load."""

    mean: dict[str, float]
    stderr: dict[str, float]
    adjusted: dict[str, float]
    adjusted_stderr: dict[str, float]
    loads: dict[str, float]
    ci95: dict[str, float] = field(default_factory=dict)
    adjusted_reliable: dict[str, bool] = field(default_factory=dict)


#: the control-variate adjustment is shown only from this many replications on
CV_MIN_REPLICATIONS = 10
#: ... and when the controls explain at least this share of a metric's variance
CV_MIN_R2 = 0.5


def summarize(reps: list[ReplicationResult], controls: list[list[float]]) -> Summary:
    """Average every metric over `reps`; `controls` are each replication's
    control variates (known mean 0), used for every metric but the offered count."""
    s = Summary({}, {}, {}, {}, {})
    for name in METRICS:
        ys = [float(getattr(r, name)) for r in reps]
        s.mean[name], s.stderr[name] = aggregate(ys)
        s.ci95[name] = t_975(len(ys) - 1) * s.stderr[name] if len(ys) > 1 else math.inf
        cv = control_variates(ys, controls) if name != "offered" else None
        if cv is None:
            s.adjusted[name], s.adjusted_stderr[name] = s.mean[name], s.stderr[name]
            s.adjusted_reliable[name] = False
            continue
        s.adjusted[name], s.adjusted_stderr[name], r2 = cv
        s.adjusted_reliable[name] = (
            len(ys) >= CV_MIN_REPLICATIONS
            and r2 >= CV_MIN_R2
            and abs(s.adjusted[name] - s.mean[name]) <= s.ci95[name]
        )
    for r in reps:
        for op, v in r.loads.items():
            s.loads[op] = s.loads.get(op, 0.0) + v / len(reps)
    return s


def aggregate(values: list[float]) -> tuple[float, float]:
    k = len(values)
    mean = sum(values) / k
    if k < 2:
        return mean, 0.0
    var = sum((v - mean) ** 2 for v in values) / (k - 1)
    return mean, math.sqrt(var / k)


#: Student's t, two-sided 95 % (the 0.975 quantile), by degrees of freedom
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
         2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
         2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)  # fmt: skip


def t_975(df: int) -> float:
    """The 0.975 quantile of Student's t with `df` degrees of freedom (df >= 1);
    beyond the table, the normal value with the usual 1/df correction."""
    if df < 1:
        raise ValueError("t_975 needs at least one degree of freedom")
    if df <= len(_T975):
        return _T975[df - 1]
    return 1.959964 + 2.37 / df


def _solve(a: list[list[float]], b: list[float]) -> list[float] | None:
    """Gaussian elimination with partial pivoting; None if singular."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(m[r][c]))
        if abs(m[p][c]) < 1e-300:
            return None
        m[c], m[p] = m[p], m[c]
        for r in range(n):
            if r != c:
                f = m[r][c] / m[c][c]
                for k in range(c, n + 1):
                    m[r][k] -= f * m[c][k]
    return [m[i][n] / m[i][i] for i in range(n)]


def control_variates(ys: list[float], zs: list[list[float]]) -> tuple[float, float, float] | None:
    """Regression-adjusted mean of `ys` given controls `zs` with known mean 0.

    Fits ``y = b0 + b·z`` by least squares across replications; ``b0`` is the
    adjusted estimate and its standard error comes from the residual variance
    (Lavenberg & Welch, 1981); the third value is the fit's R² (the share of
    the variance of `ys` the controls explain). None when there are too few
    replications.
    """
    r = len(ys)
    k = len(zs[0]) if zs else 0
    if r < k + 3:
        return None
    x = [[1.0, *z] for z in zs]
    xtx = [[sum(row[i] * row[j] for row in x) for j in range(k + 1)] for i in range(k + 1)]
    xty = [sum(row[i] * y for row, y in zip(x, ys, strict=True)) for i in range(k + 1)]
    beta = _solve(xtx, xty)
    if beta is None:
        return None
    resid = [
        y - sum(b * v for b, v in zip(beta, row, strict=True)) for row, y in zip(x, ys, strict=True)
    ]
    s2 = sum(e * e for e in resid) / (r - k - 1)
    e0 = [1.0] + [0.0] * k
    inv00 = _solve(xtx, e0)
    if inv00 is None:
        return None
    mean = sum(ys) / r
    total = sum((y - mean) ** 2 for y in ys)
    r2 = 1.0 - sum(e * e for e in resid) / total if total > 0 else 0.0
    return beta[0], math.sqrt(max(0.0, s2 * inv00[0])), r2


def _controls(cfg: TrafficConfig, r: ReplicationResult) -> list[float]:
    expected = cfg.arrival_rate * cfg.horizon
    z = [(r.offered - expected) / expected, (r.ctl_service - cfg.aht) / cfg.aht]
    if cfg.patience is not None:
        z.append((r.ctl_patience - cfg.patience) / cfg.patience)
    return z


def simulate(
    cfg: TrafficConfig,
    progress: Callable[[int, int], None] | None = None,
    workers: int = 1,
) -> TrafficReport:
    """Run `cfg.replications` replications (in `workers` processes), average
    them, adjust them with control variates, attach the Erlang figures.

    Replications are seeded by their index, so the result does not depend on
    `workers`.
    """
    if cfg.replications < 1:
        raise ValueError("replications must be >= 1")
    centre = cfg.centre if cfg.centre is not None else synthetic_centre(cfg)
    reps: list[ReplicationResult]
    if workers > 1 and cfg.replications > 1:
        from concurrent.futures import ProcessPoolExecutor, as_completed

        slots: list[ReplicationResult | None] = [None] * cfg.replications
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {
                pool.submit(run_replication, cfg, centre, i): i for i in range(cfg.replications)
            }
            for done, fut in enumerate(as_completed(futures), 1):
                slots[futures[fut]] = fut.result()
                if progress is not None:
                    progress(done, cfg.replications)
        reps = [r for r in slots if r is not None]
    else:
        reps = []
        for i in range(cfg.replications):
            reps.append(run_replication(cfg, centre, i))
            if progress is not None:
                progress(i + 1, cfg.replications)
    s = summarize(reps, [_controls(cfg, r) for r in reps])
    return TrafficReport(
        config=cfg,
        replications=reps,
        mean=s.mean,
        stderr=s.stderr,
        adjusted=s.adjusted,
        adjusted_stderr=s.adjusted_stderr,
        loads=s.loads,
        erlang=erlang_for(cfg),
        calls=sum(r.calls for r in reps),
        ci95=s.ci95,
        adjusted_reliable=s.adjusted_reliable,
    )
