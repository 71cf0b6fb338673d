"""The reports over REST: a real call through a queue shows up in each
report, as JSON and as a CSV download; operators are refused; a bad
parameter is a problem naming it; the OpenAPI names every column."""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
from typing import Any

from flowengine.reports.catalogue import KINDS

V1 = "/api/v1"


def queue_scenario() -> dict[str, Any]:
    return {
        "schema": 1, "id": "helpdesk", "timezone": "Europe/Moscow", "language": "ru",
        "nodes": [
            {"id": "start", "type": "start", "exits": {"next": "q"}},
            {"id": "q", "type": "queue", "params": {"queue": "helpdesk"},
             "exits": {"answered": "bye", "timeout": "bye", "full": "bye", "no_operators": "bye", "callback": "bye"}},
            {"id": "bye", "type": "hangup"},
        ],
    }  # fmt: skip


def _one_answered_call(api: Any) -> str:
    assert api.call("PUT", f"{V1}/operators/920", json={"name": "Олег", "extension": "920"}).status_code == 200
    r = api.call("PUT", f"{V1}/queues/helpdesk", json={"name": "Helpdesk", "members": ["920"], "service_level": 30})
    assert r.status_code == 200, r.text
    assert api.call("POST", f"{V1}/scenarios", json={"document": queue_scenario()}).status_code == 201
    assert api.call("POST", f"{V1}/scenarios/helpdesk/publish", json={}).status_code == 201
    assert api.call("PUT", f"{V1}/routing/numbers/+74950000920", json={"scenario_id": "helpdesk"}).status_code == 200
    r = api.call("POST", f"{V1}/calls", role="supervisor", json={"called": "+74950000920", "caller": "+79160000001"})
    call_id = str(r.json()["call_id"])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if api.call("GET", f"{V1}/calls/{call_id}/cdr", role="supervisor").status_code == 200:
            return call_id
        time.sleep(0.1)
    raise AssertionError("the call did not end")


def test_every_report_over_rest(api: Any) -> None:
    call_id = _one_answered_call(api)
    today = dt.datetime.now(dt.UTC).date()
    span = {"from": (today - dt.timedelta(days=1)).isoformat(), "to": (today + dt.timedelta(days=1)).isoformat(), "tz": "UTC"}

    r = api.call("GET", f"{V1}/reports/queues", role="supervisor", params=span)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["kind"] == "queues" and body["period"]["tz"] == "UTC" and body["columns"][0] == "queue"
    [row] = [q for q in body["rows"] if q["queue"] == "helpdesk"]
    assert (row["offered"], row["answered"], row["threshold"]) == (1, 1, 30.0)
    assert row["sl_offered"] == 1.0 and row["asa"] is not None

    ops = api.call("GET", f"{V1}/reports/operators", role="admin", params={**span, "department": "helpdesk"}).json()
    assert [o["operator"] for o in ops["rows"]] == ["920"] and ops["rows"][0]["answered"] == 1
    assert ops["filters"]["operators"] == ["920"]

    hist = api.call("GET", f"{V1}/reports/history", role="supervisor", params={**span, "caller": "+79160000001"}).json()
    assert [(h["call_id"], h["result"], h["operator"]) for h in hist["rows"]] == [(call_id, "talked", "920")]

    load = api.call("GET", f"{V1}/reports/load", role="supervisor", params=span).json()
    assert len(load["by_hour"]) == 24 and sum(h["answered"] for h in load["by_hour"]) >= 1
    paths = api.call("GET", f"{V1}/reports/paths", role="supervisor", params={**span, "scenario": "helpdesk"}).json()
    assert {p["node"]: p["entered"] for p in paths["rows"]}["q"] == 1
    for kind in KINDS:
        extra = {"caller": "+79160000001"} if kind == "history" else {}
        assert api.call("GET", f"{V1}/reports/{kind}", role="supervisor", params={**span, **extra}).status_code == 200

    # the same report as a CSV download
    r = api.call("GET", f"{V1}/reports/queues", role="supervisor", params={**span, "format": "csv", "queue": "helpdesk"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"].startswith('attachment; filename="queues_')
    [csv_row] = list(csv.DictReader(io.StringIO(r.text)))
    assert (csv_row["queue"], csv_row["offered"], csv_row["sl_offered"]) == ("helpdesk", "1", "1")

    # the CDR export, both formats
    r = api.call("GET", f"{V1}/cdr/export", role="supervisor", params={**span, "format": "csv"})
    assert r.status_code == 200 and call_id in r.text and "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [(c["call_id"], c["operator_id"]) for c in rows if c["call_id"] == call_id] == [(call_id, "920")]
    r = api.call("GET", f"{V1}/cdr/export", role="supervisor", params={**span, "format": "queue_log"})
    fields = [line.split("|") for line in r.text.splitlines()]
    mine = [f[4] for f in fields if f[1] == call_id]
    assert mine[0] == "ENTERQUEUE" and "CONNECT" in mine and mine[-1] in ("COMPLETECALLER", "COMPLETEAGENT")


def test_operators_are_refused_and_bad_parameters_named(api: Any) -> None:
    r = api.call("GET", f"{V1}/reports/queues", role="operator")
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    assert api.call("GET", f"{V1}/cdr/export", role="operator").status_code == 403
    assert api.call("GET", f"{V1}/reports/queues", role=None).status_code == 401
    cases = [
        ({"from": "yesterday"}, "query.from"),
        ({"from": "2026-11-24", "to": "2026-11-23"}, "query.to"),
        ({"tz": "Mars/Olympus"}, "query.tz"),
        ({"department": "no-such"}, "query.department"),
        ({"format": "pdf"}, "query.format"),
    ]
    for params, path in cases:
        r = api.call("GET", f"{V1}/reports/operators", role="supervisor", params=params)
        assert r.status_code == 422, (params, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["errors"][0]["path"] == path, r.json()
    r = api.call("GET", f"{V1}/reports/history", role="supervisor")
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "query.caller"
    assert api.call("GET", f"{V1}/reports/nonsense", role="supervisor").status_code == 404


def test_the_openapi_names_each_report_and_column(api: Any) -> None:
    spec = api.client.get("/openapi.json").json()
    ops = {op["operationId"]: (path, op) for path, item in spec["paths"].items() for op in item.values()}
    for kind in KINDS:
        path, op = ops[f"get{kind.capitalize()}Report"]
        assert path == f"{V1}/reports/{kind}" and op["tags"] == ["reports"]
    assert "exportCdrs" in ops
    row = spec["components"]["schemas"]["QueuesReportRow"]["properties"]
    assert set(row) == {c.name for c in KINDS["queues"].columns}
    assert "answered within T / offered" in row["sl_offered"]["description"]


def test_the_documented_report_json_is_what_the_api_answers() -> None:
    import json
    import re
    from pathlib import Path

    from flowengine.api.report_schemas import REPORT_MODELS

    text = (Path(__file__).resolve().parents[3] / "docs" / "api.md").read_text(encoding="utf-8")
    [shown] = [json.loads(b) for b in re.findall(r"```json\n(.*?)```", text, re.S) if '"kind"' in b]
    REPORT_MODELS["queues"].model_validate(shown)
    assert shown["columns"] == [c.name for c in KINDS["queues"].columns]
    assert list(shown["rows"][0]) == shown["columns"]
