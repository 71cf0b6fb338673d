r"""Erlang B, Erlang C and Erlang A, computed stably; staffing for a target.

Notation: ``n`` agents, arrival rate ``λ`` (calls per second), mean handle
time ``AHT`` (so ``μ = 1/AHT`` and offered load ``A = λ·AHT`` Erlangs), mean
patience ``1/θ`` seconds, service-level threshold ``T`` seconds. Any time unit
works as long as all three agree.

**Erlang B** by the recursion ``1/B(m) = 1 + (m/A)/B(m-1)``, carried out in
log space (``L_m = log(1/B(m)) = logaddexp(0, log(m/A) + L_{m-1})``) so that
thousands of agents at low load neither overflow nor underflow.

**Erlang C** (M/M/n, infinite patience), for ``A < n``:

* ``C = n·B / (n − A·(1 − B))``             probability of waiting
* ``SL(T) = 1 − C·exp(−(nμ − λ)·T)``         answered within T
* ``ASA = C / (nμ − λ)``                     mean wait (all calls are answered)

With ``A ≥ n`` the queue is unstable: ``C = 1``, ``SL = 0``, ``ASA = ∞``.

**Erlang A** (M/M/n+M, exponential patience; Palm 1943, Garnett–Mandelbaum–
Reiman 2002, in the form of Zeltyn & Mandelbaum's M/M/n+G summary). The
*virtual* wait ``V`` (what an infinitely patient arrival would wait) has an
atom ``P(V = 0)`` and, for ``x > 0``, the density

    v(x) = λ·π_{n-1}·exp(λ·H(x) − nμ·x),     H(x) = (1 − e^{−θx})/θ

with ``π_{n-1} = 1 / (E + λJ)``, ``E = 1/B(n−1, A)`` and ``J = ∫_0^∞
exp(λH(x) − nμx) dx``. A caller is answered iff ``V < τ`` (their patience),
so every figure is a one-dimensional integral of that density:

* ``P(wait) = λJ / (E + λJ)``
* ``P(abandon) = P(wait)·∫ g·(1 − e^{−θx}) / ∫ g``        (``g = e^{λH − nμx}``)
* ``P(answered, W ≤ T) = P(V=0) + P(wait)·∫_0^T g e^{−θx} / ∫ g``
* ``P(abandon, W ≤ T) = P(wait)·[∫_0^T g(1 − e^{−θx}) + (1 − e^{−θT})∫_T^∞ g] / ∫ g``
* ``ASA (answered) = P(wait)·∫ x g e^{−θx} / ∫ g / P(answered)``
* ``mean wait over all calls = P(abandon)/θ``

The integrals are evaluated by adaptive Gauss–Legendre quadrature on
``[0, L]`` (``L`` where the integrand has fallen by e^-50 from its peak at
``max(0, ln(λ/nμ)/θ)``), in log-scaled form so large ``λ/θ`` cannot
overflow. The tests cross-check them against a direct birth–death solution of
the M/M/n+M chain and against the tagged-customer Markov chain.

Service level comes in the four variants call centres use (all in
`QueueMetrics`): answered within T over answered (``sl_answered``), over
offered (``sl_offered``), abandons within T counted as good
(``sl_abandon_good``), and short abandons (< ``short_abandon`` s) excluded
from the offered calls (``sl_short_excluded``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "QueueMetrics",
    "agents_for_target",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "log_inverse_erlang_b",
]


@dataclass(frozen=True)
class QueueMetrics:
    """Steady-state figures of one queue model, per arriving call."""

    model: str
    agents: int
    arrival_rate: float
    aht: float
    patience: float | None
    threshold: float
    offered_load: float
    occupancy: float
    p_wait: float
    p_abandon: float
    sl_answered: float
    sl_offered: float
    sl_abandon_good: float
    sl_short_excluded: float
    asa: float
    asa_all: float

    @property
    def service_level(self) -> float:
        """Answered within the threshold / answered (the monitor's definition)."""
        return self.sl_answered

    def as_dict(self) -> dict[str, float | int | str | None]:
        return dict(self.__dict__)


# ------------------------------------------------------------------ Erlang B
def log_inverse_erlang_b(agents: int, load: float) -> float:
    """``log(1 / B(agents, load))``, stable for any size."""
    if agents < 0:
        raise ValueError("agents must be >= 0")
    if load <= 0:
        return math.inf if agents > 0 else 0.0
    log_a = math.log(load)
    acc = 0.0
    for m in range(1, agents + 1):
        x = math.log(m) - log_a + acc
        # logaddexp(0, x)
        acc = x + math.log1p(math.exp(-x)) if x > 0 else math.log1p(math.exp(x))
    return acc


def erlang_b(agents: int, load: float) -> float:
    """Blocking probability of M/M/n/n with offered load `load` Erlangs."""
    return math.exp(-log_inverse_erlang_b(agents, load))


# ------------------------------------------------------------------ Erlang C
def _check(agents: int, arrival_rate: float, aht: float, threshold: float) -> None:
    if agents < 1:
        raise ValueError("agents must be >= 1")
    if arrival_rate < 0 or aht <= 0 or threshold < 0:
        raise ValueError("arrival_rate >= 0, aht > 0 and threshold >= 0 are required")


def erlang_c(agents: int, arrival_rate: float, aht: float, threshold: float = 20.0) -> QueueMetrics:
    """M/M/n with infinite patience."""
    _check(agents, arrival_rate, aht, threshold)
    n = agents
    load = arrival_rate * aht
    if load >= n:
        c, sl, asa = 1.0, 0.0, math.inf
    elif load == 0:
        c, sl, asa = 0.0, 1.0, 0.0
    else:
        b = erlang_b(n, load)
        c = n * b / (n - load * (1.0 - b))
        gap = n / aht - arrival_rate
        sl = 1.0 - c * math.exp(-gap * threshold)
        asa = c / gap
    occupancy = min(1.0, load / n)
    return QueueMetrics(
        model="erlang_c",
        agents=n,
        arrival_rate=arrival_rate,
        aht=aht,
        patience=None,
        threshold=threshold,
        offered_load=load,
        occupancy=occupancy,
        p_wait=c,
        p_abandon=0.0,
        sl_answered=sl,
        sl_offered=sl,
        sl_abandon_good=sl,
        sl_short_excluded=sl,
        asa=asa,
        asa_all=asa,
    )


# ------------------------------------------------------------------ quadrature
def _legendre_nodes(k: int) -> tuple[list[float], list[float]]:
    """Gauss–Legendre nodes/weights on [-1, 1] by Newton's method."""
    xs, ws = [], []
    for i in range(1, k + 1):
        x = math.cos(math.pi * (i - 0.25) / (k + 0.5))
        for _ in range(100):
            p0, p1 = 1.0, x
            for j in range(2, k + 1):
                p0, p1 = p1, ((2 * j - 1) * x * p1 - (j - 1) * p0) / j
            dp = k * (x * p1 - p0) / (x * x - 1.0)
            dx = p1 / dp
            x -= dx
            if abs(dx) < 1e-15:
                break
        xs.append(x)
        ws.append(2.0 / ((1.0 - x * x) * dp * dp))
    return xs, ws


_GX, _GW = _legendre_nodes(16)

Vec = tuple[float, float, float]


def _gauss(fn: Callable[[float], Vec], a: float, b: float) -> Vec:
    half = 0.5 * (b - a)
    mid = 0.5 * (a + b)
    s0 = s1 = s2 = 0.0
    for x, w in zip(_GX, _GW, strict=True):
        v0, v1, v2 = fn(mid + half * x)
        s0 += w * v0
        s1 += w * v1
        s2 += w * v2
    return (s0 * half, s1 * half, s2 * half)


def _adaptive(
    fn: Callable[[float], Vec], a: float, b: float, whole: Vec, tol: float, depth: int
) -> Vec:
    m = 0.5 * (a + b)
    left = _gauss(fn, a, m)
    right = _gauss(fn, m, b)
    tot = (left[0] + right[0], left[1] + right[1], left[2] + right[2])
    err = abs(tot[0] - whole[0]) + abs(tot[1] - whole[1])
    if err <= tol or depth >= 40:
        return tot
    l2 = _adaptive(fn, a, m, left, tol / 2, depth + 1)
    r2 = _adaptive(fn, m, b, right, tol / 2, depth + 1)
    return (l2[0] + r2[0], l2[1] + r2[1], l2[2] + r2[2])


def _integrate(fn: Callable[[float], Vec], a: float, b: float, scale: float) -> Vec:
    """∫_a^b fn, panels of width <= scale first, then adaptive refinement."""
    if b <= a:
        return (0.0, 0.0, 0.0)
    panels = max(1, min(4096, math.ceil((b - a) / scale)))
    h = (b - a) / panels
    s0 = s1 = s2 = 0.0
    for i in range(panels):
        lo = a + i * h
        hi = b if i == panels - 1 else lo + h
        whole = _gauss(fn, lo, hi)
        v = _adaptive(fn, lo, hi, whole, 1e-14 * max(h, 1e-300), 0)
        s0 += v[0]
        s1 += v[1]
        s2 += v[2]
    return (s0, s1, s2)


# ------------------------------------------------------------------ Erlang A
def erlang_a(
    agents: int,
    arrival_rate: float,
    aht: float,
    patience: float | None,
    threshold: float = 20.0,
    short_abandon: float = 5.0,
) -> QueueMetrics:
    """M/M/n+M: exponential patience with mean `patience` seconds.

    ``patience=None`` (or infinite) is Erlang C.
    """
    _check(agents, arrival_rate, aht, threshold)
    if patience is None or math.isinf(patience):
        return erlang_c(agents, arrival_rate, aht, threshold)
    if patience <= 0:
        raise ValueError("patience must be > 0")
    n = agents
    lam = arrival_rate
    mu = 1.0 / aht
    theta = 1.0 / patience
    load = lam * aht
    if lam == 0:
        return erlang_c(agents, arrival_rate, aht, threshold)

    def f(x: float) -> float:
        return lam * (-math.expm1(-theta * x)) / theta - n * mu * x

    peak = math.log(lam / (n * mu)) / theta if lam > n * mu else 0.0
    fmax = f(peak)
    # width of the integrand's features: curvature at the peak and decay rate
    decay = n * mu - lam * math.exp(-theta * peak)
    curv = lam * theta * math.exp(-theta * peak)
    scale = min(1.0 / math.sqrt(curv), 1.0 / max(decay, 1e-300), 1.0 / (n * mu))
    upper = peak + scale
    while f(upper) - fmax > -50.0:
        upper = peak + 2.0 * (upper - peak)

    def integrand(x: float) -> Vec:
        g = math.exp(f(x) - fmax)
        e = math.exp(-theta * x)
        return (g, g * e, x * g * e)

    cuts = sorted({0.0, min(peak, upper), min(threshold, upper), min(short_abandon, upper), upper})
    # cumulative integrals at each cut point
    cum: dict[float, Vec] = {0.0: (0.0, 0.0, 0.0)}
    acc = (0.0, 0.0, 0.0)
    for a, b in zip(cuts, cuts[1:], strict=False):
        part = _integrate(integrand, a, b, scale)
        acc = (acc[0] + part[0], acc[1] + part[1], acc[2] + part[2])
        cum[b] = acc
    i0, i1, x1 = acc

    def upto(t: float) -> Vec:
        return cum[min(t, upper)]

    log_lam_j = math.log(lam) + fmax + math.log(i0)
    log_e = log_inverse_erlang_b(n - 1, load)
    p_wait = 1.0 / (1.0 + math.exp(min(700.0, log_e - log_lam_j)))
    p_ab = p_wait * (i0 - i1) / i0
    p_served = 1.0 - p_ab

    def answered_within(t: float) -> float:
        return (1.0 - p_wait) + p_wait * upto(t)[1] / i0

    def abandoned_within(t: float) -> float:
        j0, j1, _ = upto(t)
        return p_wait * ((j0 - j1) + (-math.expm1(-theta * t)) * (i0 - j0)) / i0

    a_t = answered_within(threshold)
    ab_t = abandoned_within(threshold)
    ab_short = abandoned_within(short_abandon)
    asa = p_wait * x1 / i0 / p_served if p_served > 0 else math.inf
    return QueueMetrics(
        model="erlang_a",
        agents=n,
        arrival_rate=lam,
        aht=aht,
        patience=patience,
        threshold=threshold,
        offered_load=load,
        occupancy=min(1.0, lam * p_served * aht / n),
        p_wait=p_wait,
        p_abandon=p_ab,
        sl_answered=a_t / p_served if p_served > 0 else 0.0,
        sl_offered=a_t,
        sl_abandon_good=a_t + ab_t,
        sl_short_excluded=a_t / (1.0 - ab_short) if ab_short < 1 else 0.0,
        asa=asa,
        asa_all=p_ab / theta,
    )


# ------------------------------------------------------------------ staffing
def agents_for_target(
    arrival_rate: float,
    aht: float,
    *,
    service_level: float | None = None,
    threshold: float = 20.0,
    asa: float | None = None,
    max_abandon: float | None = None,
    patience: float | None = None,
    sl_variant: str = "sl_answered",
    short_abandon: float = 5.0,
    max_agents: int = 100_000,
) -> QueueMetrics:
    """The smallest staffing meeting every given target (Erlang A with
    `patience`, else Erlang C); returns that staffing's metrics (``.agents``).

    Targets: `service_level` (fraction, in variant `sl_variant`, within
    `threshold` s), `asa` (seconds, over answered calls), `max_abandon`
    (fraction). All improve with more agents, so a doubling then bisection
    search finds the minimum.
    """
    if service_level is None and asa is None and max_abandon is None:
        raise ValueError("give at least one target: service_level, asa or max_abandon")
    if sl_variant not in ("sl_answered", "sl_offered", "sl_abandon_good", "sl_short_excluded"):
        raise ValueError(f"unknown service-level variant '{sl_variant}'")

    def metrics(n: int) -> QueueMetrics:
        return erlang_a(n, arrival_rate, aht, patience, threshold, short_abandon)

    def meets(m: QueueMetrics) -> bool:
        if service_level is not None and getattr(m, sl_variant) < service_level - 1e-12:
            return False
        if asa is not None and m.asa > asa:
            return False
        return not (max_abandon is not None and m.p_abandon > max_abandon)

    lo = 1
    if patience is None:
        lo = max(1, math.floor(arrival_rate * aht) + 1)
    m = metrics(lo)
    if meets(m):
        return m
    hi = lo * 2
    while True:
        if hi > max_agents:
            raise ValueError(f"no staffing up to {max_agents} agents meets the target")
        m = metrics(hi)
        if meets(m):
            break
        lo, hi = hi, hi * 2
    best = m
    while hi - lo > 1:
        mid = (lo + hi) // 2
        mm = metrics(mid)
        if meets(mm):
            hi, best = mid, mm
        else:
            lo = mid
    return best
