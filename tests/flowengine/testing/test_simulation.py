"""`flowengine simulate`: the real scenario, its queues and the interpreter on the
simulated clock, measured against Erlang C / Erlang A computed independently
(flowengine.acd.analysis.erlang), averaged over seeded replications after a warm-up."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowengine.acd.analysis.traffic import TrafficConfig
from flowengine.acd.analysis.traffic import simulate as simulate_core
from flowengine.cli import main
from flowengine.errors import UsageError
from flowengine.scenario.loader import load_scenario_data
from flowengine.testing.simulation import SimulationConfig, parse_rate, simulate_scenario

SL_VARIANTS = ("sl_answered", "sl_offered", "sl_abandon_good", "sl_short_excluded")

ONE_QUEUE = {
    "schema": 1,
    "id": "one_queue",
    "nodes": [
        {"id": "start", "type": "start", "exits": {"next": "q"}},
        {
            "id": "q",
            "type": "queue",
            "params": {"queue": "main", "announce": False},
            "exits": {"answered": "bye", "timeout": "bye", "full": "bye", "no_operators": "bye", "callback": "bye"},
        },
        {"id": "bye", "type": "hangup"},
    ],
}


@pytest.fixture(scope="module")
def scenario():  # type: ignore[no-untyped-def]
    return load_scenario_data(ONE_QUEUE)


def _agreement(report, asa_tolerance: float = 0.05) -> None:  # type: ignore[no-untyped-def]
    erlang = report.erlang
    assert erlang is not None
    for name in SL_VARIANTS:
        got, want = report.adjusted[name], getattr(erlang, name)
        assert abs(got - want) <= 0.01, f"{name}: simulated {got:.4f}, formula {want:.4f}"
    for name in ("asa", "asa_all"):
        got, want = report.adjusted[name], getattr(erlang, name)
        assert abs(got / want - 1) <= asa_tolerance, f"{name}: simulated {got:.2f} s, formula {want:.2f} s"
    assert abs(report.adjusted["occupancy"] - erlang.occupancy) <= 0.01


@pytest.mark.parametrize(
    ("operators", "per_hour", "patience", "hours"),
    [(5, 60, 120, 24), (10, 150, 180, 24), (24, 400, 300, 8)],
    ids=["5 operators, 50% load", "10 operators, 75% load", "24 operators, 400/h"],
)
def test_whole_scenario_agrees_with_erlang_a(scenario, operators, per_hour, patience, hours) -> None:  # type: ignore[no-untyped-def]
    cfg = SimulationConfig(per_hour, 180, hours=hours, replications=10, operators=operators, patience=patience)
    report = simulate_scenario(scenario, cfg)
    assert report.erlang is not None and report.erlang.model == "erlang_a"
    assert report.mean["abandoned"] > 0
    _agreement(report)


def test_whole_scenario_agrees_with_erlang_c(scenario) -> None:  # type: ignore[no-untyped-def]
    cfg = SimulationConfig(120, 180, hours=24, replications=10, operators=8)
    report = simulate_scenario(scenario, cfg)
    assert report.erlang is not None and report.erlang.model == "erlang_c"
    assert report.mean["abandoned"] == 0
    _agreement(report)


def test_erlang_c_service_level_at_higher_load(scenario) -> None:  # type: ignore[no-untyped-def]
    """Without abandonment ASA is heavy-tailed; service level still lands within a point."""
    report = simulate_scenario(scenario, SimulationConfig(150, 180, hours=24, replications=10, operators=10))
    assert abs(report.adjusted["sl_answered"] - report.erlang.sl_answered) <= 0.01
    # ASA within three standard errors of the formula
    assert abs(report.adjusted["asa"] - report.erlang.asa) <= 3 * report.adjusted_stderr["asa"]


def test_interpreter_path_reproduces_the_core_queue_exactly(scenario) -> None:  # type: ignore[no-untyped-def]
    """Same seeds, same draws: running calls through the scenario, the Queue node,
    the asyncio driver and virtual phones changes nothing in the queue's behaviour.
    (Without abandonment: the core harness draws a handle time for every
    arrival, the simulator only for answered calls, so with abandons the two
    random streams part ways.)"""
    cfg = SimulationConfig(150, 180, hours=4, warmup=1800, replications=3, operators=10)
    whole = simulate_scenario(scenario, cfg)
    core = simulate_core(TrafficConfig.per_hour(150, 180, 10, horizon=4 * 3600, warmup=1800, replications=3))
    for name in ("offered", "answered", "abandoned", "sl_answered", "asa", "asa_all", "occupancy"):
        assert whole.mean[name] == pytest.approx(core.mean[name], rel=1e-9), name


def test_per_operator_load_and_counts_are_consistent(scenario) -> None:  # type: ignore[no-untyped-def]
    report = simulate_scenario(scenario, SimulationConfig(100, 120, hours=2, replications=2, operators=4, patience=60))
    assert set(report.loads) == {"op001", "op002", "op003", "op004"}
    assert all(0.3 < load < 1.0 for load in report.loads.values())
    r = report.replications[0]
    assert r.offered == r.answered + r.abandoned + r.other


def test_parse_rate_units() -> None:
    assert parse_rate("400/h") == 400
    assert parse_rate("7/min") == 420
    assert parse_rate("0.5/s") == 1800
    with pytest.raises(UsageError, match="unit"):
        parse_rate("5/week")
    with pytest.raises(UsageError):
        parse_rate("many/h")


def test_simulate_command_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "q.json"
    path.write_text(json.dumps(ONE_QUEUE), encoding="utf-8")
    code = main(
        ["simulate", str(path), "--arrivals", "120/h", "--aht", "180", "--operators", "8",
         "--hours", "2", "--replications", "2", "--patience", "200", "--json"]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["operators"] == 8 and data["queues"] == ["main"]
    for key in ("offered", "answered", "abandoned", "sl_answered", "sl_offered", "sl_abandon_good",
                "sl_short_excluded", "asa", "asa_all", "occupancy"):
        assert key in data["mean"]
    assert data["erlang"]["model"] == "erlang_a"
    assert len(data["per_operator_load"]) == 8


def test_simulate_without_a_queue_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "ivr.json"
    path.write_text(
        json.dumps({"schema": 1, "id": "x", "nodes": [{"id": "s", "type": "start", "exits": {"next": "h"}},
                                                      {"id": "h", "type": "hangup"}]}),
        encoding="utf-8",
    )
    assert main(["simulate", str(path), "--arrivals", "60/h", "--aht", "60", "--operators", "2"]) == 1
    assert "no Queue node" in capsys.readouterr().err


def test_erlang_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["erlang", "--arrivals", "400/h", "--aht", "180", "--operators", "24", "--json"]) == 0
    row = json.loads(capsys.readouterr().out)[0]
    assert row["model"] == "erlang_c" and row["agents"] == 24
    assert 0.80 < row["sl_answered"] < 0.82  # 20 Erlangs on 24 agents, T = 20 s
    assert main(["erlang", "--arrivals", "400/h", "--aht", "180", "--target-sl", "0.9"]) == 0
    out = capsys.readouterr().out
    assert "erlang_c" in out


def test_the_headline_is_the_plain_mean_with_its_interval(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Five replications (the README's example): the table leads with the plain
    mean and its 95 % t-interval, and shows no adjustment, which five points
    cannot support."""
    path = tmp_path / "q.json"
    path.write_text(json.dumps(ONE_QUEUE), encoding="utf-8")
    common = [
        "simulate", str(path), "--arrivals", "150/h", "--aht", "180", "--operators", "10",
        "--hours", "2", "--warmup", "600", "--replications", "5",
    ]
    assert main([*common, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    mean, half = data["mean"]["asa"], data["ci95"]["asa"]
    assert half == pytest.approx(2.776 * data["stderr"]["asa"])  # t(0.975, 4 df)
    assert not any(data["adjusted_reliable"].values())
    assert main(common) == 0
    out = capsys.readouterr().out
    [row] = [line for line in out.splitlines() if line.startswith("ASA over answered calls")]
    figures = row.split()[5:]
    assert figures[:4] == [f"{mean:.1f}", f"{mean - half:.1f}", "–", f"{mean + half:.1f}"]
    assert figures[4] == f"{data['erlang']['asa']:.1f}"  # then Erlang C, no adjusted column
    assert "adjusted" not in out.splitlines()[2]
    assert "adjustment not shown" in out


def test_the_adjustment_is_trusted_only_with_enough_replications_and_correlation() -> None:
    from flowengine.acd.analysis.traffic import ReplicationResult, summarize, t_975

    def reps(values: list[float]) -> list[ReplicationResult]:
        out = []
        for v in values:
            r = ReplicationResult()
            r.occupancy = v
            out.append(r)
        return out

    noise = [0.03, -0.02, 0.01, -0.04, 0.02, 0.0, -0.01, 0.04, -0.03, 0.01, 0.02, -0.02]
    zs = [[z, 0.0 + 0.001 * i] for i, z in enumerate([0.1, -0.2, 0.05, 0.3, -0.1, 0.2, -0.3, 0.15, -0.05, 0.25, -0.15, 0.0])]
    explained = [0.8 + 0.5 * z[0] + n / 10 for z, n in zip(zs, noise, strict=True)]
    s = summarize(reps(explained), zs)
    assert s.adjusted_reliable["occupancy"]  # 12 replications, the controls explain it
    assert s.adjusted["occupancy"] == pytest.approx(0.8, abs=0.01)
    assert s.mean["occupancy"] == pytest.approx(sum(explained) / 12)
    s5 = summarize(reps(explained[:5]), zs[:5])
    assert not s5.adjusted_reliable["occupancy"]  # the same data, five replications
    unexplained = [0.8 + n for n in noise]
    s = summarize(reps(unexplained), zs)
    assert not s.adjusted_reliable["occupancy"]  # controls unrelated to the metric
    assert s.ci95["occupancy"] == pytest.approx(t_975(11) * s.stderr["occupancy"])
    assert t_975(4) == pytest.approx(2.776) and 1.96 < t_975(1000) < 1.97
