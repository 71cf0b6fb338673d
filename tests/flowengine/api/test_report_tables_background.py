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
