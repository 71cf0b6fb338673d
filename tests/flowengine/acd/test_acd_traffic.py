"""The traffic harness (running the real ACD core) against Erlang C and Erlang A.

Two kinds of evidence:

1. Call by call: on one sample path the core produces exactly the waits of
   the ideal first-come-first-served multi-server queue (with abandonment at
   each caller's patience). Erlang C / A describe that ideal queue, so the core
   inherits their figures — this check is exact and fast.
2. Statistically: replications with a warm-up, averaged (regression-adjusted
   with control variates, see `flowengine.acd.analysis.traffic`), land within 1
   percentage point (service level, all four variants) and 5 % (ASA) of the
   formulas. Queue statistics are noisy — at 80–90 % load a few busy hours
   decide the waits — so each assertion also requires the run to be precise
   enough for the tolerance to mean something, and for the Erlang C loads
   (no abandonment: the noisiest) the bound is the larger of the nominal
   tolerance and three standard errors. ``FLOWENGINE_LONG_TESTS=1`` runs all
   four loads long enough (millions of calls, a few minutes) for the strict
   nominal tolerances everywhere.

Everything is seeded: the outcome is deterministic. Run time ~20 s on 2 cores.
"""

from __future__ import annotations

import heapq
import os

import pytest

from flowengine.acd.analysis.traffic import (
    TrafficConfig,
    run_replication,
    simulate,
    synthetic_centre,
)

WORKERS = min(2, os.cpu_count() or 1)
LONG = os.environ.get("FLOWENGINE_LONG_TESTS") == "1"
SL = ("sl_answered", "sl_offered", "sl_abandon_good", "sl_short_excluded")
ASA = ("asa", "asa_all")


def ideal_fcfs(records: dict[str, list], agents: int) -> dict[str, tuple[str, float]]:
    """Kiefer–Wolfowitz recursion for FCFS with n servers and reneging."""
    free = [0.0] * agents
    out = {}
    for cid, (arrival, handle, patience, *_) in sorted(records.items(), key=lambda kv: kv[1][0]):
        start = max(arrival, free[0])
        if start - arrival < patience:
            heapq.heapreplace(free, start + handle)
            out[cid] = ("answered", start - arrival)
        else:
            out[cid] = ("abandoned", patience)
    return out


@pytest.mark.parametrize("patience", [None, 120.0])
def test_core_reproduces_the_ideal_fcfs_queue_call_by_call(patience):
    cfg = TrafficConfig(
        arrival_rate=9.5 / 180,
        aht=180,
        operators=10,
        patience=patience,
        horizon=20 * 3600,
        warmup=0,
        replications=1,
    )
    rec: dict[str, list] = {}
    run_replication(cfg, synthetic_centre(cfg), 0, rec)
    ref = ideal_fcfs(rec, 10)
    assert len(rec) > 3000
    outcomes = {c: r[3] for c, r in rec.items()}
    assert outcomes == {c: o for c, (o, _) in ref.items()}
    worst = max(abs(rec[c][4] - ref[c][1]) for c in rec)
    assert worst < 1e-6
    if patience:
        assert 200 < sum(o == "abandoned" for o in outcomes.values()) < 800


def _check(cfg: TrafficConfig, *, strict: bool, max_se_sl: float, max_se_asa: float) -> None:
    report = simulate(cfg, workers=WORKERS)
    e = report.erlang
    assert e is not None
    lines = []
    for k in SL + ASA + ("p_abandon",):
        lines.append(
            f"{k}: sim {report.adjusted[k]:.4f} ± {report.adjusted_stderr[k]:.4f} "
            f"(plain mean {report.mean[k]:.4f}), Erlang {getattr(e, k):.4f}"
        )
    detail = f"{report.calls} calls\n" + "\n".join(lines)
    for k in SL:
        se = report.adjusted_stderr[k]
        assert se <= max_se_sl, f"run too short to judge {k}\n{detail}"
        tol = 0.01 if strict else max(0.01, 3 * se)
        assert abs(report.adjusted[k] - getattr(e, k)) <= tol, (
            f"{k} off by more than {tol:.4f}\n{detail}"
        )
    for k in ASA:
        target = getattr(e, k)
        se = report.adjusted_stderr[k] / target
        assert se <= max_se_asa, f"run too short to judge {k}\n{detail}"
        tol = 0.05 if strict else max(0.05, 3 * se)
        assert abs(report.adjusted[k] / target - 1) <= tol, (
            f"{k} off by more than {tol:.1%}\n{detail}"
        )
    if cfg.patience is not None:
        assert abs(report.adjusted["p_abandon"] - e.p_abandon) <= 0.005, detail
    assert abs(report.mean["occupancy"] - e.occupancy) <= 0.01, detail


def _reps(default: int, long: int) -> int:
    return long if LONG else default


@pytest.mark.parametrize(
    ("name", "cfg"),
    [
        (
            "10 operators at 90 % load, patience 180 s",
            TrafficConfig(
                arrival_rate=9 / 180,
                aht=180,
                operators=10,
                patience=180,
                horizon=10 * 3600,
                warmup=3600,
                replications=_reps(80, 400),
            ),
        ),
        (
            "24 operators, 400 calls/h, AHT 180 s, patience 300 s",
            TrafficConfig.per_hour(
                400,
                180,
                24,
                patience=300,
                horizon=12 * 3600,
                warmup=3600,
                replications=_reps(100, 400),
            ),
        ),
    ],
)
def test_simulation_agrees_with_erlang_a(name, cfg):
    _check(cfg, strict=True, max_se_sl=0.0035, max_se_asa=0.02)


@pytest.mark.parametrize(
    ("name", "cfg"),
    [
        (
            "10 operators at 80 % load",
            TrafficConfig(
                arrival_rate=8 / 180,
                aht=180,
                operators=10,
                horizon=12 * 3600,
                warmup=3600,
                replications=_reps(80, 1200),
            ),
        ),
        (
            "24 operators, 400 calls/h, AHT 180 s",
            TrafficConfig.per_hour(
                400, 180, 24, horizon=12 * 3600, warmup=3600, replications=_reps(50, 1000)
            ),
        ),
    ],
)
def test_simulation_agrees_with_erlang_c(name, cfg):
    if LONG:
        _check(cfg, strict=True, max_se_sl=0.0035, max_se_asa=0.02)
    else:
        _check(cfg, strict=False, max_se_sl=0.007, max_se_asa=0.08)


def test_report_shape_and_per_operator_load():
    cfg = TrafficConfig.per_hour(
        100, 180, 6, patience=120, horizon=4 * 3600, warmup=600, replications=3
    )
    r = simulate(cfg)
    assert set(r.loads) == {f"op{i}" for i in range(1, 7)}
    assert all(0 < v <= 1 for v in r.loads.values())
    assert r.mean["occupancy"] == pytest.approx(sum(r.loads.values()) / 6)
    d = r.as_dict()
    assert d["erlang"]["model"] == "erlang_a" and d["simulated_calls"] == r.calls
    assert simulate(cfg).mean == r.mean  # seeded: reproducible
    assert simulate(cfg, workers=2).mean == r.mean  # and independent of parallelism
