"""Retention reaches the report tables: the service's purge
(`EventStore.purge`, then `purge_report_rows`, as `purge_once` does)
deletes the report rows of the calls and operator events it purges, on
SQLite and PostgreSQL. The purged day then reports
nothing, the next day reports what it did before, and a rebuild from the
remaining raw events gives the same calls.

Each day: 901 logs in at 9:00 and out at 18:00; caller 1 waits 3 s in sales,
talks to 901, who holds them 20 s and hands them to 902 (answered); caller 2
is rung to 903 by a Transfer (no answer), then gives up after 8 s in sales.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from flowengine.events import event_types
from flowengine.reports import Period
from flowengine.reports.catalogue import KINDS, ReportFilter

DAY = 86_400.0
T0 = 1_800_000_000.0 - 1_800_000_000.0 % DAY  # a UTC midnight
OLD, NEW = Period(T0, T0 + DAY), Period(T0 + DAY, T0 + 2 * DAY)


def _make(name: str, **fields: Any) -> dict[str, Any]:
    cls = event_types()[name]
    extra = {"scenario_id": "s", "scenario_version": 1} if "scenario_id" in cls.field_names else {}
    return dict(cls(**extra, **fields).to_dict())


def day(n: int) -> list[dict[str, Any]]:
    base = T0 + n * DAY + 9 * 3600
    out: list[dict[str, Any]] = []
    ops = {"901": 0}

    def op(name: str, at: float, **fields: Any) -> None:
        ops["901"] += 1
        out.append(_make(name, operator_id="901", seq=n * 100 + ops["901"], ts=base + at, **fields))

    op("operator_status_changed", 0, status="available", previous="not_available", reason=None, by="operator",
       available=True)  # fmt: skip
    op("operator_state_changed", 0, state="idle", previous="idle")
    for i, (stays, abandon) in enumerate(((True, False), (False, True)), 1):
        cid, seq, start = f"d{n}c{i}", [0], 60.0 * i

        def call(name: str, at: float, cid: str = cid, seq: list[int] = seq, start: float = start, **fields: Any) -> None:
            seq[0] += 1
            out.append(_make(name, call_id=cid, seq=seq[0], ts=base + start + at, t=at, **fields))

        q = {"node_id": "q", "queue_id": "sales"}
        call("call_started", 0, wall="", caller=f"+7{n}{i}", called="100")
        call("node_entered", 0, node_id="q", node_type="queue")
        call("queue_entered", 0, position=1, **q)
        if stays:
            call("queue_offered", 1, operator_id="901", target="901", timeout=15.0, **q)
            call("queue_connected", 3, operator_id="901", wait=3.0, ring_time=2.0, **q)
            call("leg_held", 10, target="901", leg_id="L", operator_id="901")
            call("leg_unheld", 30, target="901", held_for=20.0, leg_id="L", operator_id="901")
            call("operator_transfer_requested", 40, operator_id="901", target="902", leg_id="L")
            call("queue_completed", 40, operator_id="901", wait=3.0, talk_time=37.0, orig_position=1, by="operator", **q)
            call("operator_transfer_ended", 45, operator_id="901", target="902", kind="operator", outcome="answered",
                 to_operator_id="902")  # fmt: skip
            call("call_ended", 100, duration=100.0, steps=2, hangup_cause="normal")
        if abandon:
            call("dial_attempted", 0, node_id="xfer", target="903", outcome="no_answer", operator_id="903")
            call("queue_abandoned", 8, position=1, orig_position=1, wait=8.0, **q)
            call("call_hung_up", 8, by="caller", cause="normal", node_id="q")
            call("call_ended", 8, duration=8.0, steps=1, hangup_cause="normal")
    op("operator_state_changed", 60 + 3, state="talking", previous="ringing", call_id=f"d{n}c1")
    op("operator_state_changed", 60 + 40, state="idle", previous="talking", call_id=f"d{n}c1")
    op("operator_wrap_up_ended", 60 + 45, call_id=f"d{n}c1", duration=5.0)
    op("operator_status_changed", 9 * 3600, status="not_available", previous="available", reason=None,
       by="operator", available=False)  # fmt: skip
    return out


def reports(db: Any, period: Period) -> dict[str, Any]:
    from flowengine.reports.sql import db_report

    return {k: db_report(db, k, period, ReportFilter(caller=f"+7{int((period.start - T0) // DAY)}2")) for k in KINDS}


def empty(body: dict[str, Any]) -> bool:
    if "rows" in body:
        return body["rows"] == []
    return all(r.get("offered", 0) == 0 and r.get("peak_concurrent", 0) == 0 for r in body["by_hour"] + body["by_weekday"])


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_purge_takes_the_report_rows_of_the_purged_calls(
    backend: str, report_db: Any, store_events: Any
) -> None:
    from flowengine.reports.sql import rebuild
    from flowengine.reports.sql.retention import purge_report_rows
    from flowengine.reports.sql.tables import CALL_TABLES, report_ops, report_spans
    from flowengine.storage import EventStore

    db = report_db(backend)
    store_events(db, day(0) + day(1))
    old, new = reports(db, OLD), reports(db, NEW)
    assert not any(empty(b) for k, b in old.items() if k != "paths") and old["paths"]["rows"]
    op = next(r for r in new["operators"]["rows"] if r["operator"] == "901")
    assert (op["hold_total"], op["transfers_made_answered"], op["wrap_up_total"]) == (20.0, 1, 5.0)

    result = EventStore(db).purge(T0 + DAY)
    assert result.cdrs == 2
    assert reports(db, OLD) == old  # the events went, the report tables not yet
    assert purge_report_rows(db, T0 + DAY) == 2
    assert all(empty(body) for body in reports(db, OLD).values())
    assert reports(db, NEW) == new  # the next day is untouched
    with db.connect() as conn:
        for table in CALL_TABLES:
            ids = set(conn.execute(sa.select(table.c.call_id)).scalars())
            assert ids and all(c.startswith("d1") for c in ids), table.name
        assert conn.execute(sa.select(sa.func.min(report_ops.c.ts))).scalar() >= T0 + DAY
        assert conn.execute(sa.select(sa.func.min(report_spans.c.start_at))).scalar() == T0 + DAY  # cut there
    # a rebuild from the raw events left gives the same calls; only the
    # statuses on at the cut are lost (it starts 901 at their 9:00 login)
    assert rebuild(db) == 2
    after = reports(db, NEW)
    assert {k: b for k, b in after.items() if k != "statuses"} == {k: b for k, b in new.items() if k != "statuses"}
    assert new["statuses"]["rows"][0]["seconds"]["not_available"] == 9 * 3600.0  # from midnight, since the day before
    assert "not_available" not in after["statuses"]["rows"][0]["seconds"]
    assert all(empty(body) for body in reports(db, OLD).values())


def test_a_purge_before_any_report_makes_no_report_tables(tmp_path: Any, store_events: Any) -> None:
    from flowengine.reports.sql.retention import purge_report_rows
    from flowengine.storage import open_database

    db = open_database(f"sqlite:///{tmp_path / 'flowengine.db'}")
    try:
        store_events(db, day(0))
        assert purge_report_rows(db, T0 + DAY) == 0
        assert not [t for t in sa.inspect(db.engine).get_table_names() if t.startswith("report_")]
    finally:
        db.close()
