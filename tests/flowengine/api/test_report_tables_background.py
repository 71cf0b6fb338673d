"""The service folds ended calls into the report tables by itself, so a
report asked for later finds them already there (and the first round
catches up calls stored before it started)."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa

from flowengine.reports.sql.tables import report_calls

V1 = "/api/v1"


def folded(api: Any) -> set[str]:
    db = api.client.app.state.service.db
    with db.connect() as conn:
        if not sa.inspect(conn).has_table("report_calls"):  # made by the first fold
            return set()
        return {row[0] for row in conn.execute(sa.select(report_calls.c.call_id))}


def test_ended_calls_reach_the_report_tables_without_a_report(serve: Any) -> None:
    api = serve(report_interval=0.2)
    r = api.call("POST", f"{V1}/calls", json={"called": "+74951230001"})
    assert r.status_code == 201, r.text
    call_id = r.json()["call_id"]
    assert call_id not in folded(api)  # still talking: a call counts once it has ended
    api.call("POST", f"{V1}/calls/{call_id}/hangup")
    deadline = time.monotonic() + 20
    while call_id not in folded(api):
        assert time.monotonic() < deadline, "the ended call was never folded into the report tables"
        time.sleep(0.1)


def test_without_an_interval_nothing_is_folded_until_a_report_is_asked_for(serve: Any) -> None:
    api = serve(report_interval=None)
    r = api.call("POST", f"{V1}/calls", json={"called": "+74951230001"})
    call_id = r.json()["call_id"]
    api.call("POST", f"{V1}/calls/{call_id}/hangup")
    time.sleep(1.0)
    assert call_id not in folded(api)
    assert api.call("GET", f"{V1}/reports/paths").status_code == 200
    assert call_id in folded(api)


def test_the_retention_purge_takes_old_calls_out_of_the_report_tables(serve: Any) -> None:
    """A call older than `event_retention_days`, already in the report
    tables, leaves them with its events; a recent call stays."""
    from flowengine.events import event_types
    from flowengine.reports import Period
    from flowengine.reports.sql import db_report
    from flowengine.storage import SqlEventSink

    api = serve(event_retention_days=7, report_interval=None)
    service = api.client.app.state.service
    at = time.time() - 30 * 86400
    tags = {"call_id": "old-call", "scenario_id": "s", "scenario_version": 1}
    q = {**tags, "node_id": "q", "queue_id": "sales"}
    leg = {**tags, "target": "901", "leg_id": "L", "operator_id": "901"}
    made = [
        ("call_started", 0, {"call_id": "old-call", "wall": "", "caller": "+7001", "called": "100", "scenario_id": "s",
                             "scenario_version": 1}),
        ("queue_entered", 1, {**q, "position": 1}),
        ("queue_offered", 2, {**q, "operator_id": "901", "target": "901", "timeout": 15.0}),
        ("queue_connected", 4, {**q, "operator_id": "901", "wait": 3.0, "ring_time": 2.0}),
        ("leg_held", 10, leg),
        ("leg_unheld", 30, {**leg, "held_for": 20.0}),
        ("queue_completed", 60, {**q, "operator_id": "901", "wait": 3.0, "talk_time": 56.0, "orig_position": 1,
                                 "by": "caller"}),
        ("call_ended", 60, {"call_id": "old-call", "duration": 60.0, "steps": 2, "hangup_cause": "normal"}),
    ]  # fmt: skip
    SqlEventSink(service.db, thread=False).write_sync(
        [event_types()[name](seq=i, ts=at + t, t=float(t), **fields) for i, (name, t, fields) in enumerate(made, 1)]
    )
    call_id = api.call("POST", f"{V1}/calls", json={"called": "+74951230001"}).json()["call_id"]
    api.call("POST", f"{V1}/calls/{call_id}/hangup")
    month = Period(at - 86400, at + 86400)
    deadline = time.monotonic() + 20
    while not {"old-call", call_id} <= folded(api):  # the recent call's end may still be on its way
        assert time.monotonic() < deadline, "the calls were never folded into the report tables"
        assert api.call("GET", f"{V1}/reports/paths").status_code == 200
        time.sleep(0.1)
    [row] = db_report(service.db, "operators", month)["rows"]
    assert (row["operator"], row["hold_total"], row["answered"]) == ("901", 20.0, 1)

    api.client.portal.call(service.purge_once)
    assert folded(api) == {call_id}
    assert db_report(service.db, "operators", month)["rows"] == []
