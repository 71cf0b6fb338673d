"""Erlang B / C / A against published values and independent computations."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from flowengine.acd.analysis.erlang import agents_for_target, erlang_a, erlang_b, erlang_c


# ------------------------------------------------------------------ Erlang B
@pytest.mark.parametrize(
    ("n", "a", "published"), [(5, 2.0, 0.0367), (10, 5.0, 0.0184), (1, 1.0, 0.5)]
)
def test_erlang_b_table_values(n, a, published):
    assert erlang_b(n, a) == pytest.approx(published, abs=5e-5)


def _erlang_b_exact(n: int, a: int) -> Fraction:
    terms = [Fraction(a**k, math.factorial(k)) for k in range(n + 1)]
    return terms[-1] / sum(terms)


def test_erlang_b_matches_exact_rational_arithmetic():
    for n, a in [(3, 2), (20, 15), (60, 50)]:
        assert erlang_b(n, a) == pytest.approx(float(_erlang_b_exact(n, a)), rel=1e-12)


def test_erlang_b_is_stable_at_extreme_sizes():
    assert 0 < erlang_b(5000, 4900) < 1
    assert erlang_b(3000, 10) == 0.0  # underflows gracefully to zero, no error
    assert erlang_c(3000, 10 / 180, 180).p_wait == 0.0


# ------------------------------------------------------------------ Erlang C
# The textbook example: 100 calls per 30 minutes, AHT 3 minutes (10 Erlangs),
# target 80 % answered within 20 s.
LAM = 100 / 1800
AHT = 180.0


@pytest.mark.parametrize(
    ("n", "p_wait", "sl", "asa"),
    [
        (11, 0.6821, 0.3896, 122.8),
        (12, 0.4494, 0.6402, 40.4),
        (13, 0.2853, 0.7956, 17.1),
        (14, 0.1741, 0.8884, 7.8),
    ],
)
def test_erlang_c_classic_example(n, p_wait, sl, asa):
    m = erlang_c(n, LAM, AHT, 20)
    assert m.offered_load == pytest.approx(10)
    assert m.p_wait == pytest.approx(p_wait, abs=1e-4)
    assert m.sl_answered == pytest.approx(sl, abs=1e-4)
    assert m.asa == pytest.approx(asa, abs=0.05)
    assert m.occupancy == pytest.approx(10 / n)


def test_erlang_c_against_the_factorial_formula():
    for n, a in [(11, 10), (30, 25), (3, 1)]:
        top = Fraction(a**n, math.factorial(n)) * Fraction(n, n - a)
        c = top / (sum(Fraction(a**k, math.factorial(k)) for k in range(n)) + top)
        m = erlang_c(n, a / AHT, AHT)
        assert m.p_wait == pytest.approx(float(c), rel=1e-12)


def test_erlang_c_overload_is_reported_not_crashed():
    m = erlang_c(10, 11 / AHT, AHT)
    assert m.p_wait == 1 and m.sl_answered == 0 and math.isinf(m.asa)


def test_staffing_for_the_classic_target():
    m = agents_for_target(LAM, AHT, service_level=0.8, threshold=20)
    assert m.agents == 14  # 13 agents give 79.6 %
    assert agents_for_target(LAM, AHT, asa=20).agents == 13
    # impatient callers abandon: fewer agents meet the same answered-SL target
    assert agents_for_target(LAM, AHT, service_level=0.8, threshold=20, patience=120).agents <= 14
    assert agents_for_target(LAM, AHT, max_abandon=0.05, patience=120).p_abandon <= 0.05


# ------------------------------------------------------------------ Erlang A
def _birth_death(n: int, lam: float, aht: float, patience: float):
    """Stationary M/M/n+M distribution by direct recursion (truncated far)."""
    mu, th = 1 / aht, 1 / patience
    p = [1.0]
    j = 0
    while True:
        j += 1
        p.append(p[-1] * lam / (mu * min(j, n) + th * max(j - n, 0)))
        if (j > n and p[-1] < 1e-40 * max(p)) or j > n + 20000:
            break
    z = sum(p)
    pi = np.array(p) / z
    wait = pi[n:].sum()
    lq = sum((k - n) * pi[k] for k in range(n, len(pi)))
    return pi, wait, th * lq / lam, lq / lam


CASES = [
    (24, 400 / 3600, 180.0, 300.0),
    (10, 9 / 180, 180.0, 120.0),
    (5, 0.05, 60.0, 30.0),
    (50, 60 / 180, 180.0, 60.0),
    (3, 0.1, 100.0, 1000.0),
]


@pytest.mark.parametrize(("n", "lam", "aht", "patience"), CASES)
def test_erlang_a_matches_the_birth_death_chain(n, lam, aht, patience):
    _, p_wait, p_ab, mean_wait = _birth_death(n, lam, aht, patience)
    m = erlang_a(n, lam, aht, patience)
    assert m.p_wait == pytest.approx(p_wait, rel=1e-9)
    assert m.p_abandon == pytest.approx(p_ab, rel=1e-9)
    assert m.asa_all == pytest.approx(mean_wait, rel=1e-9)


@pytest.mark.parametrize(("n", "lam", "aht", "patience"), CASES[:4])
def test_erlang_a_waiting_time_distribution_matches_the_tagged_customer_chain(
    n, lam, aht, patience
):
    """SL and ASA via an independent route: an arrival that finds k callers
    ahead moves down a pure-death chain (rate nμ + jθ with j ahead) while its
    own patience runs out at rate θ; absorption probabilities by matrix
    exponential and the fundamental matrix."""
    expm = pytest.importorskip("scipy.linalg").expm
    pi, *_ = _birth_death(n, lam, aht, patience)
    mu, th = 1 / aht, 1 / patience
    k_max = len(pi) - n
    size = k_max  # transient states: j = 0..k_max-1 callers ahead
    q = np.zeros((size, size))
    to_served = np.zeros(size)
    for j in range(size):
        progress = n * mu + j * th
        q[j, j] = -(progress + th)
        if j == 0:
            to_served[j] = progress
        else:
            q[j, j - 1] = progress
    alpha = pi[n : n + size]  # arrival finds n + j in system -> j ahead
    t = 20.0
    served_by_t = alpha @ (np.eye(size) - expm(q * t)) @ np.linalg.solve(-q, to_served)
    p_served_waiting = alpha @ np.linalg.solve(-q, to_served)
    time_served = alpha @ np.linalg.solve(q, np.linalg.solve(q, to_served))
    m = erlang_a(n, lam, aht, patience, threshold=t)
    p_served = 1 - m.p_abandon
    assert p_served == pytest.approx(pi[:n].sum() + p_served_waiting, rel=1e-8)
    assert m.sl_offered == pytest.approx(pi[:n].sum() + served_by_t, rel=1e-8)
    assert m.sl_answered == pytest.approx(m.sl_offered / p_served, rel=1e-12)
    assert m.asa == pytest.approx(time_served / p_served, rel=1e-7)


def test_erlang_a_tends_to_erlang_c_as_patience_grows():
    c = erlang_c(11, LAM, AHT, 20)
    a = erlang_a(11, LAM, AHT, 1e9, 20)
    assert a.p_wait == pytest.approx(c.p_wait, rel=1e-5)
    assert a.sl_answered == pytest.approx(c.sl_answered, rel=1e-5)
    assert a.asa == pytest.approx(c.asa, rel=1e-4)
    assert erlang_a(11, LAM, AHT, None) == c


def test_erlang_a_service_level_variants_are_ordered():
    m = erlang_a(10, 9 / 180, 180, 120, threshold=20, short_abandon=5)
    assert m.sl_offered < m.sl_answered
    assert m.sl_offered < m.sl_short_excluded < m.sl_answered
    assert m.sl_abandon_good > m.sl_offered
    assert m.asa_all == pytest.approx(m.p_abandon * 120)


def test_erlang_a_handles_heavy_overload_and_big_centres():
    m = erlang_a(3, 0.1, 100, 1000)  # 10 Erlangs on 3 agents
    assert m.p_wait == pytest.approx(1, abs=1e-9) and 0.69 < m.p_abandon < 0.71
    m = erlang_a(1000, 990 / 180, 180, 200)
    assert 0 < m.p_wait < 1 and 0 <= m.p_abandon < 0.05
