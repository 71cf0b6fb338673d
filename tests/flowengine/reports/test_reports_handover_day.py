"""A third simulated day, for what the operators themselves do: holds and
hand-overs by the simulator's virtual operators (the centre file's `sim`),
every new figure against a hand tally on the fold, SQLite and PostgreSQL,
and both paths compared.

sales (901) and support (903); 902 is in no queue. Phones answer after
3 s and talk 10 s; wrap-up is 2 s. 901 holds every caller 2 s into the
conversation for 3 s, and hands them to 902 6 s in; 903 asks to hand every
caller to "nobody" 4 s in (refused: the conversation goes on).

    h1 +7201 at 0    sales: 901 answers at 3, holds 5-8, hands over at 9;
                     902 (their private queue) answers at 12, talks till 22
    h2 +7202 at 40   support: 903 answers at 43, asks for "nobody" at 47
                     (refused), talks till 53
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
    "operators": [
        {"id": "901", "extension": "901",
         "sim": {"hold": {"share": 1, "after": 2, "seconds": 3}, "transfer": {"share": 1, "after": 6, "to": "902"}}},
        {"id": "902", "extension": "902"},
        {"id": "903", "extension": "903", "sim": {"transfer": {"share": 1, "after": 4, "to": "nobody"}}},
    ],
    "queues": [
        {"id": "sales", "members": ["901"], "ring_timeout": 15, "wrap_up": 2, "service_level": 20},
        {"id": "support", "members": ["903"], "ring_timeout": 15, "wrap_up": 2, "service_level": 20},
    ],
})  # fmt: skip
SCENARIO = load(doc([
    start("menu"),
    node("menu", "gather", {"prompt": {"say": "1 sales, 2 support"},
                            "options": [{"digits": "1", "exit": "sales"}, {"digits": "2", "exit": "support"}]},
         sales="qs", support="qt", timeout="bye", invalid="bye"),
    node("qs", "queue", {"queue": "sales"}, answered="bye", timeout="bye", full="bye", no_operators="bye"),
    node("qt", "queue", {"queue": "support"}, answered="bye", timeout="bye", full="bye", no_operators="bye"),
    hangup("bye"),
]))  # fmt: skip
CALLS: list[tuple[float, dict[str, Any]]] = [
    (0, {"caller": "+7201", "steps": [{"input": "1"}]}),
    (40, {"caller": "+7202", "steps": [{"input": "2"}]}),
]
@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    return simulate_day(tmp_path_factory.mktemp("handover") / "events.jsonl", CENTRE, SCENARIO, CALLS)


@pytest.fixture
def report(events: list[dict[str, Any]], report_source: str, sources: Any) -> Any:
    """The day's reports from each source: folded in memory, SQL on SQLite, SQL on PostgreSQL."""
    return sources(report_source, events)


def test_operators_hold_and_hand_callers_on(report: Any) -> None:
    ops = {r["operator"]: r for r in report("operators", period())["rows"]}
    one, two, three = ops["901"], ops["902"], ops["903"]
    # 901 held h1 once for 3 s and handed them to 902, who answered
    assert (one["hold_count"], one["hold_total"], one["hold_avg"]) == (1, 3.0, 3.0)
    assert (one["transfers_requested"], one["transfers_made"], one["transfers_made_answered"],
            one["transfers_made_failed"]) == (1, 1, 1, 0)  # fmt: skip
    assert (one["answered"], one["talk_total"], one["ended_by_operator"]) == (1, 6.0, 1)  # 3..9, then handed on
    # 902 took h1 from 901 and talked the phone's 10 s
    assert (two["offered"], two["answered"], two["talk_total"], two["hold_count"], two["transfers_made"]) == (
        1, 1, 10.0, 0, 0)
    # 903's request named nobody: refused, so no transfer made, and the conversation went on to its end
    assert (three["transfers_requested"], three["transfers_made"], three["hold_total"]) == (1, 0, 0.0)
    assert (three["answered"], three["talk_total"]) == (1, 10.0)
    assert one["hold_total_vs_avg"] == 2.0 and three["hold_total_vs_avg"] == -1.0


def test_transfers_and_queues_show_the_hand_over(report: Any) -> None:
    rows = report("transfers", period())["rows"]
    made = {(r["from_operator"], r["target"]): r for r in rows if r["transfer"] == "operator"}
    to_902 = made[("901", "902")]
    assert (to_902["target_kind"], to_902["attempts"], to_902["answered"], to_902["success_rate"]) == (
        "operator", 1, 1, 1)
    nobody = made[("903", "nobody")]  # every request is an attempt, a refused one too
    assert (nobody["attempts"], nobody["answered"], nobody["refused"], nobody["refused_reasons"]) == (
        1, 0, 1, {"unknown_target": 1})
    assert nobody["success_rate"] == 0 and not nobody["target_kind"]
    queues = {r["queue"]: r for r in report("queues", period())["rows"]}
    assert (queues["sales"]["offered"], queues["sales"]["answered"], queues["sales"]["avg_talk"]) == (1, 1, 6.0)
    assert (queues["support"]["offered"], queues["support"]["answered"]) == (1, 1)
    # the hand-over waited in 902's private queue: its own row, not the centre's queues'
    assert (queues["operator:902"]["offered"], queues["operator:902"]["answered"]) == (1, 1)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_sql_and_the_fold_agree(events: list[dict[str, Any]], sources: Any, backend: str) -> None:
    from flowengine.reports.catalogue import KINDS

    fold, sql = sources("fold", events), sources(backend, events)
    for p in (period(), Period(AT.timestamp() + 6, AT.timestamp() + 45, dt.UTC)):
        for filt in ({}, {"queues": frozenset({"sales"})}, {"operators": frozenset({"901"})}):
            for kind in KINDS:
                extra = {"caller": "+7201"} if kind == "history" else {}
                assert sql(kind, p, **filt, **extra) == fold(kind, p, **filt, **extra), (kind, p, filt)
