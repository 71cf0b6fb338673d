"""Every call report over real simulated calls, against a hand tally.

A menu (press 1: the sales queue, 2: a Transfer to 903), two operators in
sales answering after 3 s and talking 10 s, 903 reachable only by Transfer.
Six callers:

    c1 +7001 at 0    presses 1      answered in sales
    c2 +7002 at 0.5  presses 1      answered in sales
    c3 +7003 at 1    presses 1      gives up after 3 s of waiting (a short abandon)
    c4 +7004 at 2    presses 2      the Transfer to 903 is answered
    c5 +7005 at 3    hangs up after 0.5 s, in the menu
    c6 +7003 at 60   presses 1      answered in sales (the same caller as c3)
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from scenario_builders import AT, deadline, doc, hangup, load, node, script, start

from flowengine.acd import parse_centre
from flowengine.acd.analysis.export import read_events
from flowengine.events import JsonLinesSink
from flowengine.reports import Period
from flowengine.runtime.clock import WallClock
from flowengine.runtime.engine import Engine, platform_call_ids
from flowengine.runtime.virtual_loop import run_virtual
from flowengine.testing.harness import CentreSetup, attach_centre
from telephony_adapters.sim import SimBackend

CENTRE = parse_centre({
    "operators": [{"id": o, "extension": o} for o in ("901", "902", "903")],
    "queues": [{"id": "sales", "members": ["901", "902"], "strategy": "longest_idle", "ring_timeout": 15,
                "wrap_up": 5, "service_level": 20}],
})
SCENARIO = load(doc([
    start("menu"),
    node("menu", "gather", {"prompt": {"say": "1 sales, 2 operator"},
                            "options": [{"digits": "1", "exit": "sales"}, {"digits": "2", "exit": "direct"}]},
         sales="q", direct="xfer", timeout="bye", invalid="bye"),
    node("q", "queue", {"queue": "sales"}, answered="bye", timeout="bye", full="bye", no_operators="bye"),
    node("xfer", "transfer", {"to": "number", "numbers": ["903"]}, answered="bye", busy="bye", no_answer="bye",
         failed="bye"),
    hangup("bye"),
]))
CALLS: list[tuple[float, dict[str, Any]]] = [
    (0, {"caller": "+7001", "steps": [{"input": "1"}]}),
    (0.5, {"caller": "+7002", "steps": [{"input": "1"}]}),
    (1, {"caller": "+7003", "steps": [{"input": "1"}], "patience": 3}),
    (2, {"caller": "+7004", "steps": [{"input": "2"}]}),
    (3, {"caller": "+7005", "hangup_after": 0.5}),
    (60, {"caller": "+7003", "steps": [{"input": "1"}]}),
]


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    path = tmp_path_factory.mktemp("reports") / "events.jsonl"

    async def main() -> None:
        loop = asyncio.get_running_loop()
        engine = Engine(clock=WallClock(AT), call_ids=platform_call_ids)
        engine.add_sink(JsonLinesSink(path))
        backend = SimBackend(engine)
        driver = attach_centre(engine, backend, CentreSetup(CENTRE, answer_after=3.0, talk_time=10.0))
        tasks = []
        for at, fields in CALLS:
            await asyncio.sleep(at - loop.time())
            steps = fields.pop("steps", [])
            tasks.append(backend.place_call(script(steps, **fields), SCENARIO)[1])
        await asyncio.gather(*tasks)
        await asyncio.sleep(30)
        await driver.shutdown()
        await engine.shutdown()

    with deadline(20):
        run_virtual(main())
    return list(read_events([path]))


MOSCOW = dt.timezone(dt.timedelta(hours=3))


def period() -> Period:
    return Period(AT.timestamp(), AT.timestamp() + 3600, MOSCOW)


@pytest.fixture
def report(events: list[dict[str, Any]], report_source: str, sources: Any) -> Any:
    """The reports of the day from each source: folded in memory, SQL on SQLite, SQL on PostgreSQL."""
    return sources(report_source, events)


def test_queue_report(report: Any) -> None:
    [row] = report("queues", period(), thresholds={"sales": 20.0}, short_abandon=5.0)["rows"]
    assert (row["queue"], row["offered"], row["answered"], row["abandoned"]) == ("sales", 4, 3, 1)
    assert row["short_abandoned"] == 1 and row["avg_abandon_wait"] == pytest.approx(3, abs=0.01)
    assert row["answered_within"] == 3 and row["sl_offered"] == 0.75 and row["sl_answered"] == 1.0
    assert row["sl_offered_minus_short"] == 1.0 and row["sl_with_abandons"] == 1.0
    assert row["avg_talk"] == 10.0 and row["avg_wrap_up"] == 5.0 and row["aht"] == 15.0
    assert row["asa"] == pytest.approx(3.0, abs=0.01) and row["longest_wait"] == pytest.approx(3.0, abs=0.01)
    assert (row["timeout"], row["overflow_out"], row["callbacks_requested"], row["threshold"]) == (0, 0, 0, 20.0)
    assert report("queues", period(), queues=frozenset({"other"}))["rows"] == []


def test_operator_report(report: Any) -> None:
    rows = {r["operator"]: r for r in report("operators", period())["rows"]}
    assert sum(r["answered"] for r in rows.values()) == 3
    assert set(rows) == {"901", "902", "903"}
    assert rows["903"]["direct_answered"] == 1 and rows["903"]["offered"] == 0
    assert (rows["903"]["transfers_attempted"], rows["903"]["transfers_failed"]) == (1, 0)
    for op in ("901", "902"):
        assert rows[op]["talk_avg"] == 10.0
        assert rows[op]["avg_ring_time"] == pytest.approx(3.0)
        assert rows[op]["wrap_up_total"] == pytest.approx(5.0 * rows[op]["answered"])
        assert rows[op]["ended_by_caller"] + rows[op]["ended_by_operator"] == rows[op]["answered"]
        assert (rows[op]["hold_total"], rows[op]["hold_count"], rows[op]["hold_avg"]) == (0.0, 0, None)  # nobody held
        assert (rows[op]["transfers_requested"], rows[op]["transfers_made"]) == (0, 0)
    total = rows["901"]["answered"] + rows["902"]["answered"]
    mean = total / 3  # 903 answered no queue call
    assert rows["901"]["answered_vs_avg"] == pytest.approx(rows["901"]["answered"] - mean, abs=1e-3)
    assert rows["903"]["avg_ring_time_vs_avg"] is None
    # within the department: only its calls, and only the chosen operators
    only = report("operators", period(), queues=frozenset({"sales"}), operators=frozenset({"901"}))["rows"]
    assert [r["operator"] for r in only] == ["901"] and only[0]["answered"] == rows["901"]["answered"]


def test_load_lost_transfers_history_and_paths(report: Any) -> None:
    load = report("load", period())
    ten = load["by_hour"][10]
    assert (ten["offered"], ten["answered"], ten["lost"]) == (6, 4, 1)
    assert ten["peak_concurrent"] == 5  # c1..c5 are all on the line at 3 s
    assert load["by_weekday"][0]["offered"] == 6  # 2026-11-23 is a Monday
    assert sum(h["offered"] for h in load["by_hour"]) == 6
    sales = report("load", period(), queues=frozenset({"sales"}))["by_hour"][10]
    assert (sales["offered"], sales["answered"], sales["lost"]) == (4, 3, 1)

    lost = {r["caller"]: (r["reason"], r["detail"]) for r in report("lost", period())["rows"]}
    assert lost == {"+7003": ("abandoned", "after 3 s"), "+7005": ("ivr_hangup", "at node menu")}

    [xfer] = report("transfers", period())["rows"]
    assert (xfer["target"], xfer["attempts"], xfer["answered"], xfer["success_rate"]) == ("903", 1, 1, 1.0)
    assert (xfer["transfer"], xfer["from_operator"], xfer["target_kind"], xfer["refused"]) == ("scenario", None, "operator", 0)

    history = report("history", period(), caller="+7003")["rows"]
    assert [h["result"] for h in history] == ["abandoned", "talked"]
    assert history[1]["path"] == "start > menu > q > bye" and history[1]["operator"] in ("901", "902")

    paths = {r["node"]: r for r in report("paths", period())["rows"]}
    assert paths["menu"]["entered"] == 6
    assert paths["menu"]["exits"] == {"direct": 1, "hangup": 1, "sales": 4}
    assert paths["menu"]["caller_hangups"] == 1
    assert paths["q"]["exits"] == {"answered": 3, "hangup": 1}
    assert report("paths", period(), scenario="no-such")["rows"] == []


def test_statuses_report(report: Any) -> None:
    """Each answered queue call: 3 s ringing, 10 s talking, 5 s wrap-up; the
    rest idle; everyone available the whole time, until the streams end."""
    rows = {r["operator"]: r["seconds"] for r in report("statuses", period())["rows"]}
    answered = {r["operator"]: r["answered"] for r in report("operators", period())["rows"]}
    assert sorted(answered.values()) == [0, 1, 2]
    for op, seconds in rows.items():
        n = answered[op]
        assert seconds.get("ringing", 0) == pytest.approx(3.0 * n, abs=0.01)
        assert seconds.get("talking", 0) == pytest.approx(10.0 * n, abs=0.01)
        assert seconds.get("wrap_up", 0) == pytest.approx(5.0 * n, abs=0.01)
        busy = seconds.get("ringing", 0) + seconds.get("talking", 0) + seconds.get("wrap_up", 0)
        assert seconds["idle"] + busy == pytest.approx(seconds["available"], abs=0.01)
        assert seconds["available"] > 60  # the last call (at 60 s) was answered and talked
    assert report("statuses", period(), operators=frozenset({"901"}))["rows"][0]["operator"] == "901"


def test_the_cli_prints_each_report_and_names_bad_options(
    events: list[dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import csv
    import io
    import json

    from flowengine.cli import main

    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    common = ["--from", "2026-11-23", "--to", "2026-11-24", "--tz", "Europe/Moscow"]
    assert main(["report", "queues", str(path), *common, "--format", "csv"]) == 0
    [row] = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert (row["queue"], row["offered"], row["answered"], row["sl_offered"]) == ("sales", "4", "3", "0.75")
    assert main(["report", "lost", str(path), *common]) == 0
    table = capsys.readouterr().out
    assert "+7005" in table and "ivr_hangup" in table and "at node menu" in table
    assert main(["report", "history", str(path), "--caller", "+7003", "--format", "json"]) == 0
    assert [r["result"] for r in json.loads(capsys.readouterr().out)] == ["abandoned", "talked"]
    # a day with no calls
    assert main(["report", "queues", str(path), "--from", "2026-11-24", "--tz", "Europe/Moscow"]) == 0
    assert "nothing in the period" in capsys.readouterr().out
    # bad options are named, with no traceback
    assert main(["report", "load", str(path), "--from", "yesterday"]) == 1
    assert "--from 'yesterday': not a date" in capsys.readouterr().err
    assert main(["report", "load", str(path), "--tz", "Mars/Olympus"]) == 1
    assert "--tz 'Mars/Olympus': not a time zone" in capsys.readouterr().err
    assert main(["report", "load", str(path), "--from", "2026-11-24", "--to", "2026-11-23"]) == 1
    assert "--to must be after --from" in capsys.readouterr().err


def test_an_event_missing_its_fields_is_an_error_not_a_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from flowengine.cli import main

    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps({"event": "queue_entered", "v": 2, "call_id": "c1", "seq": 3, "ts": 1.0, "t": 0.0}) + "\n")
    assert main(["report", "queues", str(path)]) == 1
    err = capsys.readouterr().err
    assert "event 'queue_entered' of 'c1', seq 3" in err and "lacks" in err and "queue_id" in err



FILTERS: list[dict[str, Any]] = [
    {},
    {"queues": frozenset({"sales"})},
    {"operators": frozenset({"901", "903"})},
    {"queues": frozenset({"sales"}), "operators": frozenset({"902"})},
    {"thresholds": {"sales": 2.5}, "short_abandon": 0.0},
    {"scenario": "t"},
]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_sql_and_the_fold_agree_on_every_report(events: list[dict[str, Any]], sources: Any, backend: str) -> None:
    """Every report, several periods and filters: the SQL path gives exactly
    the body the in-memory fold gives over the same events."""
    from flowengine.reports.catalogue import KINDS

    fold, sql = sources("fold", events), sources(backend, events)
    day = Period(AT.timestamp() - 36_000, AT.timestamp() + 50_400, MOSCOW)
    cut = Period(AT.timestamp() + 2, AT.timestamp() + 30, dt.UTC)  # cuts through calls and offers
    compared = 0
    for p in (period(), day, cut, Period()):
        for kind in KINDS:
            for filt in FILTERS:
                extra = {"caller": "+7003"} if kind == "history" else {}
                assert sql(kind, p, **filt, **extra) == fold(kind, p, **filt, **extra), (kind, p, filt)
                compared += 1
    assert compared == 4 * len(KINDS) * len(FILTERS)


def test_the_report_tables_follow_the_raw_events(events: list[dict[str, Any]], tmp_path: Path, store_events: Any) -> None:
    """Calls stored after a report are folded by the next one; rebuilding
    from the raw events gives the same tables; a new fold version rebuilds."""
    import sqlalchemy as sa

    from flowengine.reports.catalogue import KINDS, ReportFilter
    from flowengine.reports.compute import fold_report
    from flowengine.reports.sql import db_report, rebuild, refresh
    from flowengine.reports.sql import tables as report_tables
    from flowengine.storage import open_database

    first = {e["call_id"] for e in events if e.get("event") == "call_started"}
    early = sorted(first, key=lambda c: next(e["ts"] for e in events if e.get("call_id") == c))[:3]
    db = open_database(f"sqlite:///{tmp_path / 'flowengine.db'}")
    try:
        store_events(db, [e for e in events if e.get("call_id") in early])
        assert len(db_report(db, "lost", period())["rows"]) <= 1
        assert refresh(db) == 0  # nothing new
        store_events(db, [e for e in events if e.get("call_id") not in early])
        assert refresh(db) == 3

        def everything() -> list[Any]:
            return [db_report(db, k, period(), ReportFilter(caller="+7003"), fresh=False) for k in KINDS]

        def tables() -> list[Any]:
            with db.connect() as conn:
                return [sorted(conn.execute(sa.select(t)).all()) for t in report_tables.CALL_TABLES]

        incremental, rows = everything(), tables()
        assert incremental == [fold_report(k, events, period(), ReportFilter(caller="+7003")) for k in KINDS]
        assert rebuild(db) == 6
        assert everything() == incremental and tables() == rows
        with db.begin() as conn:  # tables of another fold version are emptied and rebuilt
            conn.execute(report_tables.report_state.update().values(version=0))
            conn.execute(report_tables.report_calls.delete().where(report_tables.report_calls.c.caller == "+7001"))
        assert refresh(db) == 6 and tables() == rows
    finally:
        db.close()


def test_the_cli_prints_the_same_reports_from_a_data_directory(
    events: list[dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str], store_events: Any
) -> None:
    import json

    from flowengine.cli import main
    from flowengine.storage import open_database

    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    data = tmp_path / "data"
    db = open_database(f"sqlite:///{data / 'flowengine.db'}")
    store_events(db, events)
    db.close()
    common = ["--from", "2026-11-23", "--to", "2026-11-24", "--tz", "Europe/Moscow"]
    for kind, extra in [("queues", []), ("operators", []), ("load", []), ("lost", []), ("transfers", []),
                        ("history", ["--caller", "+7003"]), ("paths", [])]:
        for fmt in ("table", "json"):
            assert main(["report", kind, str(path), *common, *extra, "--format", fmt]) == 0
            from_file = capsys.readouterr().out
            assert main(["report", kind, "--data-dir", str(data), *common, *extra, "--format", fmt]) == 0
            assert capsys.readouterr().out == from_file, (kind, fmt)
    # a data directory given in place of the files, and the statuses report
    assert main(["report", "lost", str(data), *common]) == 0
    assert "ivr_hangup" in capsys.readouterr().out
    span = ["--from", "2026-11-23T10:00:00+03:00", "--to", "2026-11-23T11:00:00+03:00", "--json"]
    assert main(["report", "statuses", str(path), *span]) == 0
    from_file = json.loads(capsys.readouterr().out)
    assert main(["report", "statuses", "--data-dir", str(data), *span]) == 0
    assert json.loads(capsys.readouterr().out) == from_file and from_file["901"]["talking"] > 0
    # not a data directory: named, no traceback
    assert main(["report", "queues", "--data-dir", str(tmp_path / "nowhere")]) == 1
    assert "no flowengine.db in this directory" in capsys.readouterr().err
    assert main(["report", "queues"]) == 1
    assert "give event files" in capsys.readouterr().err
