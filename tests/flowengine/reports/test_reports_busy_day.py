"""A second simulated day, for what the first lacks: an overflow, a
callback, an operator on a break, a short abandon — every figure against a
hand tally, on the fold, SQLite and PostgreSQL, and both paths compared.

sales (901; overflow to support after 10 s; callbacks) and support (902,
on a lunch break until 30 s). Operators answer after 3 s, talk 10 s, wrap
up 2 s. Four callers press 1 for sales:

    d1 +7101 at 0   answered by 901 (it waits about 3 s)
    d2 +7102 at 1   overflows to support after 10 s; 902 answers once back from lunch
    d3 +7103 at 2   presses 9 for a callback; 901 calls back when free
    d4 +7104 at 3   gives up after 4 s (a short abandon)
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from scenario_builders import AT, doc, hangup, load, node, start

from flowengine.acd import parse_centre
from flowengine.reports import Period
from tests.flowengine.reports.simulated_day import period, simulate_day

CENTRE = parse_centre({
    "operators": [{"id": o, "extension": o} for o in ("901", "902")],
    "queues": [
        {"id": "sales", "members": ["901"], "strategy": "longest_idle", "ring_timeout": 15, "wrap_up": 2,
         "service_level": 20, "overflow": {"after": 10, "to": "support"}, "callback": True,
         "announce": {"period": 60, "on_entry": True}},
        {"id": "support", "members": ["902"], "ring_timeout": 15, "wrap_up": 2, "service_level": 20},
    ],
    "dial_policy": {"allow": ["+7XXXXXXXXXX"]},  # callbacks may ring Russian numbers
})  # fmt: skip
SCENARIO = load(doc([
    start("menu"),
    node("menu", "gather", {"prompt": {"say": "1 sales"}, "options": [{"digits": "1", "exit": "sales"}]},
         sales="q", timeout="bye", invalid="bye"),
    node("q", "queue", {"queue": "sales", "callback_digit": "9"}, answered="bye", timeout="bye", full="bye",
         no_operators="bye", callback="bye"),
    hangup("bye"),
]))  # fmt: skip
CALLS: list[tuple[float, dict[str, Any]]] = [
    (0, {"caller": "+7101", "steps": [{"input": "1"}]}),
    (1, {"caller": "+7102", "steps": [{"input": "1"}]}),
    (2, {"caller": "+79161110003", "steps": [{"input": "1"}, {"wait": 3}, {"press": "9"}]}),
    (3, {"caller": "+7104", "steps": [{"input": "1"}], "patience": 4}),
]
@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    return simulate_day(
        tmp_path_factory.mktemp("busy") / "events.jsonl", CENTRE, SCENARIO, CALLS,
        statuses={"902": "break:lunch"},
        on_start=lambda loop, driver: loop.call_later(30, driver.set_status, "902", "available"),
        settle=60,
    )  # fmt: skip


@pytest.fixture
def report(events: list[dict[str, Any]], report_source: str, sources: Any) -> Any:
    """The day's reports from each source: folded in memory, SQL on SQLite, SQL on PostgreSQL."""
    return sources(report_source, events)


def test_queues_with_overflow_callback_and_a_short_abandon(report: Any) -> None:
    rows = {r["queue"]: r for r in report("queues", period(), thresholds={"sales": 20.0, "support": 20.0})["rows"]}
    sales, support = rows["sales"], rows["support"]
    # sales: d1 answered after 3 s, d2 overflowed after 10 s, d3 asked for a callback, d4 left after 4 s
    assert (sales["offered"], sales["overflow_in"], sales["answered"], sales["answered_within"]) == (4, 0, 1, 1)
    assert (sales["abandoned"], sales["short_abandoned"], sales["avg_abandon_wait"]) == (1, 1, 4.0)
    assert (sales["overflow_out"], sales["callbacks_requested"], sales["callbacks_completed"]) == (1, 1, 1)
    assert (sales["timeout"], sales["no_operators"], sales["full"], sales["callbacks_given_up"]) == (0, 0, 0, 0)
    assert (sales["asa"], sales["avg_talk"], sales["avg_wrap_up"], sales["aht"], sales["longest_wait"]) == (
        3.0, 10.0, 2.0, 12.0, 10.0)  # wrap-up after d1 and after the callback
    assert sales["sl_offered"] == 0.25 and sales["sl_offered_minus_short"] == round(1 / 3, 4)
    assert sales["sl_with_abandons"] == 0.5 and sales["sl_answered"] == 1.0
    # support: d2 came by overflow; 902 was at lunch, so it waited 30.5 s in all (its seniority kept)
    assert (support["offered"], support["overflow_in"], support["answered"], support["answered_within"]) == (1, 1, 1, 0)
    assert (support["asa"], support["longest_wait"], support["aht"]) == (30.5, 30.5, 12.0)
    assert (support["sl_offered"], support["sl_answered"], support["sl_with_abandons"]) == (0.0, 0.0, 0.0)


def test_operators_breaks_and_lost_calls(report: Any) -> None:
    ops = {r["operator"]: r for r in report("operators", period())["rows"]}
    assert {o: (r["offered"], r["answered"], r["missed"], r["talk_total"]) for o, r in ops.items()} == {
        "901": (1, 1, 0, 10.0), "902": (1, 1, 0, 10.0)}
    assert ops["901"]["wrap_up_total"] == 4.0  # after d1 and after the callback
    assert ops["902"]["wrap_up_total"] == 2.0
    assert all(r["ended_by_operator"] == 1 and r["ended_by_caller"] == 0 for r in ops.values())
    assert all(r["avg_ring_time"] == 3.0 and r["answered_vs_avg"] == 0.0 for r in ops.values())
    statuses = {r["operator"]: r["seconds"] for r in report("statuses", period())["rows"]}
    assert statuses["902"]["break:lunch"] == 30.0  # the break, by its reason
    assert "break:lunch" not in statuses["901"]
    lost = report("lost", period())["rows"]
    assert [(r["caller"], r["reason"], r["detail"], r["queue"]) for r in lost] == [("+7104", "abandoned", "after 4 s", "sales")]
    ten = report("load", period())["by_hour"][10]
    assert (ten["offered"], ten["answered"], ten["lost"]) == (4, 2, 1)  # a callback is neither answered nor lost here
    paths = {r["node"]: r for r in report("paths", period())["rows"]}
    assert paths["q"]["exits"] == {"answered": 2, "callback": 1, "hangup": 1}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_sql_and_the_fold_agree(events: list[dict[str, Any]], sources: Any, backend: str) -> None:
    from flowengine.reports.catalogue import KINDS

    fold, sql = sources("fold", events), sources(backend, events)
    for p in (period(), Period(AT.timestamp() + 5, AT.timestamp() + 31, dt.UTC)):
        for filt in ({}, {"queues": frozenset({"support"})}, {"operators": frozenset({"902"})}):
            for kind in KINDS:
                extra = {"caller": "+79161110003"} if kind == "history" else {}
                assert sql(kind, p, **filt, **extra) == fold(kind, p, **filt, **extra), (kind, p, filt)
