"""Holds and the operators' own transfers in the operator and transfers
reports, on crafted call streams (the events' dataclasses, stored through the
real sink), checked against a hand tally on the fold, SQLite and PostgreSQL.

    a1 sales    901 answers at 3; holds 10-25 (15 s) and 30-35 (5 s); at 40 asks
                to transfer to 902, answered by 902 at 48
    a2 sales    901 answers at 203; at 210 asks for +79990001122: refused
                (dial_blocked); at 215 for 905: refused (unknown_target); at 220
                for 902 (taken), at 222 for 902 again: refused (pending); the
                first ends busy at 235; holds 240, the leg ends at 250 (10 s)
    a3 support  902 answers at 402; holds 410-412 (2 s); at 415 asks for the
                queue sales, the caller leaves first (hangup) at 425
    a4 support  902 answers at 602; holds at 610 and the call ends at 640 with
                no unhold (30 s); at 615 asks for +78880000000, no answer before the end
    a5 (none)   a Transfer node rings 903, answered at 800; 903 holds 810-815
                (5 s); at 820 asks for 901: no answer (830)

All times are seconds after T0.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flowengine.events import event_types
from flowengine.reports import Period

T0 = 1_800_000_000.0


class Call:
    """One crafted call stream: `add(name, at, **fields)` makes the event
    with its dataclass (so it is what the engine would write)."""

    def __init__(self, call_id: str, at: float, out: list[dict[str, Any]]) -> None:
        self.call_id, self.start, self.seq, self.out = call_id, at, 0, out
        self.add("call_started", at, wall="", caller=f"+7{call_id}", called="100")

    def add(self, name: str, at: float, **fields: Any) -> None:
        cls = event_types()[name]
        self.seq += 1
        scenario = {"scenario_id": "s", "scenario_version": 1} if "scenario_id" in cls.field_names else {}
        self.out.append(cls(call_id=self.call_id, seq=self.seq, ts=T0 + at, t=at - self.start, **scenario,
                            **fields).to_dict())  # fmt: skip

    def queue(self, queue: str, op: str, at: float, answer: float) -> None:
        q = {"node_id": "q", "queue_id": queue}
        self.add("queue_entered", at, position=1, **q)
        self.add("queue_offered", at + 1, operator_id=op, target=op, timeout=15.0, **q)
        self.add("queue_connected", answer, operator_id=op, wait=answer - at, ring_time=answer - at - 1, **q)

    def completed(self, queue: str, op: str, at: float, talk: float) -> None:
        self.add("queue_completed", at, node_id="q", queue_id=queue, operator_id=op, wait=3.0, talk_time=talk,
                 orig_position=1, by="operator")  # fmt: skip

    def end(self, at: float) -> None:
        self.add("call_ended", at, duration=at - self.start, steps=3, hangup_cause="normal")


def held(c: Call, leg: str, op: str, at: float, until: float | None) -> None:
    c.add("leg_held", at, target=op, leg_id=leg, node_id="q", operator_id=op)
    if until is not None:
        c.add("leg_unheld", until, target=op, held_for=until - at, leg_id=leg, node_id="q", operator_id=op)


def stream() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    ask = "operator_transfer_requested"
    a1 = Call("a1", 0, out)
    a1.queue("sales", "901", 0, 3)
    held(a1, "L1", "901", 10, 25)
    held(a1, "L1", "901", 30, 35)
    a1.add(ask, 40, operator_id="901", target="902", leg_id="L1", node_id="q")
    a1.completed("sales", "901", 40, 37.0)
    a1.add("operator_transfer_ended", 48, operator_id="901", target="902", kind="operator", outcome="answered",
           to_operator_id="902", node_id="q")  # fmt: skip
    a1.end(100)

    a2 = Call("a2", 200, out)
    a2.queue("sales", "901", 200, 203)
    a2.add(ask, 210, operator_id="901", target="+79990001122", leg_id="L2")
    a2.add("operator_transfer_refused", 210, operator_id="901", target="+79990001122", reason="dial_blocked")
    a2.add(ask, 215, operator_id="901", target="905", leg_id="L2")
    a2.add("operator_transfer_refused", 215, operator_id="901", target="905", reason="unknown_target")
    a2.add(ask, 220, operator_id="901", target="902", leg_id="L2")
    a2.add(ask, 222, operator_id="901", target="902", leg_id="L2")
    a2.add("operator_transfer_refused", 222, operator_id="901", target="902", reason="pending")
    a2.add("operator_transfer_ended", 235, operator_id="901", target="902", kind="operator", outcome="busy")
    held(a2, "L2", "901", 240, None)
    a2.add("leg_ended", 250, target="901", outcome="answered", by="operator", cause="normal", leg_id="L2",
           operator_id="901")  # fmt: skip
    a2.completed("sales", "901", 250, 47.0)
    a2.end(260)

    a3 = Call("a3", 400, out)
    a3.queue("support", "902", 400, 402)
    held(a3, "L3", "902", 410, 412)
    a3.add(ask, 415, operator_id="902", target="sales", leg_id="L3")
    a3.completed("support", "902", 415, 13.0)
    a3.add("operator_transfer_ended", 425, operator_id="902", target="sales", kind="queue", outcome="hangup")
    a3.end(425)

    a4 = Call("a4", 600, out)
    a4.queue("support", "902", 600, 602)
    held(a4, "L4", "902", 610, None)
    a4.add(ask, 615, operator_id="902", target="+78880000000", leg_id="L4")
    a4.end(640)

    a5 = Call("a5", 790, out)
    a5.add("dial_attempted", 800, node_id="xfer", target="903", outcome="answered", operator_id="903")
    held(a5, "L5", "903", 810, 815)
    a5.add(ask, 820, operator_id="903", target="901", leg_id="L5", node_id="xfer")
    a5.add("operator_transfer_ended", 830, operator_id="903", target="901", kind="operator", outcome="no_answer",
           node_id="xfer")  # fmt: skip
    a5.end(830)
    return out


EVENTS = stream()
ALL = Period(T0 - 10, T0 + 3600)


@pytest.fixture
def report(report_source: str, sources: Any) -> Any:
    return sources(report_source, EVENTS)


def _by_op(report: Any, period: Period = ALL, **filt: Any) -> dict[str, dict[str, Any]]:
    return {r["operator"]: r for r in report("operators", period, **filt)["rows"]}


HOLD = ("hold_count", "hold_total", "hold_avg")
MADE = ("transfers_requested", "transfers_made", "transfers_made_answered", "transfers_made_failed")


def test_operators_hold_time_and_transfers_made(report: Any) -> None:
    rows = _by_op(report)
    assert {op: tuple(r[c] for c in HOLD) for op, r in rows.items()} == {
        "901": (3, 30.0, 10.0),  # 15 + 5, and 10 until the leg ended
        "902": (2, 32.0, 16.0),  # 2, and 30 until the call ended
        "903": (1, 5.0, 5.0),
    }
    assert {op: tuple(r[c] for c in MADE) for op, r in rows.items()} == {
        "901": (5, 2, 1, 1),  # 3 refused; to 902 answered once, busy once
        "902": (2, 1, 0, 1),  # the caller left; one request never answered
        "903": (1, 1, 0, 1),
    }
    # the Transfer node's columns are the calls rung to 903, as before
    assert (rows["903"]["transfers_attempted"], rows["903"]["direct_answered"]) == (1, 1)
    assert rows["901"]["transfers_attempted"] == 0
    # against the average: hold 67 / 3, transfers made 4 / 3
    assert [rows[o]["hold_total_vs_avg"] for o in ("901", "902", "903")] == [7.667, 9.667, -17.333]
    assert [rows[o]["transfers_made_vs_avg"] for o in ("901", "902", "903")] == [0.667, -0.333, -0.333]


def test_a_queue_filter_keeps_the_holds_and_transfers_of_its_calls(report: Any) -> None:
    sales = _by_op(report, queues=frozenset({"sales"}))
    assert set(sales) == {"901"}  # 903's hold and transfer were on a Transfer's call
    assert tuple(sales["901"][c] for c in (*HOLD, *MADE)) == (3, 30.0, 10.0, 5, 2, 1, 1)
    support = _by_op(report, queues=frozenset({"support"}))
    assert tuple(support["902"][c] for c in (*HOLD, *MADE)) == (2, 32.0, 16.0, 2, 1, 0, 1)
    # a period counts the holds and requests begun in it
    cut = _by_op(report, Period(T0 + 12, T0 + 212))
    assert tuple(cut["901"][c] for c in (*HOLD, *MADE)) == (1, 5.0, 5.0, 2, 1, 1, 0)


def test_the_transfers_report_has_operator_transfers_beside_the_scenario_s(report: Any) -> None:
    rows = {(r["transfer"], r["from_operator"], r["target"]): r for r in report("transfers", ALL)["rows"]}
    fields = ("attempts", "answered", "busy", "no_answer", "rejected", "failed", "hangup", "refused", "success_rate")

    def figures(key: tuple[str, str | None, str]) -> tuple[Any, ...]:
        r = rows[key]
        return (*(r[f] for f in fields), r["refused_reasons"], r["target_kind"], r["operator"])

    assert figures(("scenario", None, "903")) == (1, 1, 0, 0, 0, 0, 0, 0, 1.0, {}, "operator", "903")
    assert figures(("operator", "901", "902")) == (3, 1, 1, 0, 0, 0, 0, 1, 0.3333, {"pending": 1}, "operator", "902")
    assert figures(("operator", "901", "+79990001122")) == (1, 0, 0, 0, 0, 0, 0, 1, 0.0, {"dial_blocked": 1}, None, None)
    assert figures(("operator", "901", "905")) == (1, 0, 0, 0, 0, 0, 0, 1, 0.0, {"unknown_target": 1}, None, None)
    assert figures(("operator", "902", "sales")) == (1, 0, 0, 0, 0, 0, 1, 0, 0.0, {}, "queue", None)
    assert figures(("operator", "902", "+78880000000")) == (1, 0, 0, 0, 0, 0, 0, 0, 0.0, {}, None, None)
    assert figures(("operator", "903", "901")) == (1, 0, 0, 1, 0, 0, 0, 0, 0.0, {}, "operator", None)
    assert len(rows) == 7
    # an operator's rows: the transfers they made, and those answered by them
    mine = report("transfers", ALL, operators=frozenset({"902"}))["rows"]
    assert {(r["from_operator"], r["target"]) for r in mine} == {("902", "sales"), ("902", "+78880000000"), ("901", "902")}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_sql_and_the_fold_agree(sources: Any, backend: str) -> None:
    from flowengine.reports.catalogue import KINDS

    fold, sql = sources("fold", EVENTS), sources(backend, EVENTS)
    periods = (ALL, Period(T0 + 12, T0 + 212), Period(T0 + 230, T0 + 620), Period())
    filters: list[dict[str, Any]] = [{}, {"queues": frozenset({"sales"})}, {"operators": frozenset({"902", "903"})},
                                     {"queues": frozenset({"support"}), "operators": frozenset({"901"})}]
    for p in periods:
        for filt in filters:
            for kind in ("operators", "transfers"):
                assert sql(kind, p, **filt) == fold(kind, p, **filt), (kind, p, filt)
    assert all(list(r) == [c.name for c in KINDS["operators"].columns] for r in sql("operators", ALL)["rows"])


def test_csv_and_json_carry_the_new_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import csv
    import io

    from flowengine.cli import main

    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in EVENTS))
    span = ["--from", str(T0 - 10), "--to", str(T0 + 3600)]
    assert main(["report", "operators", str(path), *span, "--format", "csv"]) == 0
    rows = {r["operator"]: r for r in csv.DictReader(io.StringIO(capsys.readouterr().out))}
    assert (rows["901"]["hold_total"], rows["901"]["hold_count"], rows["901"]["transfers_made"]) == ("30", "3", "2")
    assert main(["report", "transfers", str(path), *span, "--format", "csv"]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0].endswith("transfer,from_operator,target_kind,hangup,refused,refused_reasons")
    assert "+79990001122,,1,0,0,0,0,0,0,operator,901,,0,1,dial_blocked=1" in text
    assert main(["report", "transfers", str(path), *span, "--format", "json"]) == 0
    [row] = [r for r in json.loads(capsys.readouterr().out) if r["target"] == "905"]
    assert row["refused_reasons"] == {"unknown_target": 1} and row["transfer"] == "operator"
