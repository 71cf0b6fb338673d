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
from flowengine.reports import (
    Period,
    QueueSettings,
    caller_history,
    fold_calls,
    load_report,
    lost_calls,
    operator_report,
    queue_report,
    scenario_paths,
    transfer_report,
)
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


def test_queue_report(events: list[dict[str, Any]]) -> None:
    [row] = queue_report(fold_calls(events).values(), period(), settings={"sales": QueueSettings(20, 5)},
                         queue_events=events)
    assert (row["queue"], row["offered"], row["answered"], row["abandoned"]) == ("sales", 4, 3, 1)
    assert row["short_abandoned"] == 1 and row["avg_abandon_wait"] == pytest.approx(3, abs=0.01)
    assert row["answered_within"] == 3 and row["sl_offered"] == 0.75 and row["sl_answered"] == 1.0
    assert row["sl_offered_minus_short"] == 1.0
    assert row["avg_talk"] == 10.0 and row["avg_wrap_up"] == 5.0 and row["aht"] == 15.0


def test_operator_report(events: list[dict[str, Any]]) -> None:
    rows = {r["operator"]: r for r in operator_report(fold_calls(events).values(), period(), operator_events=events)}
    assert sum(r["answered"] for r in rows.values()) == 3
    assert set(rows) == {"901", "902", "903"}
    assert rows["903"]["direct_answered"] == 1 and rows["903"]["offered"] == 0
    for op in ("901", "902"):
        assert rows[op]["talk_avg"] == 10.0
        assert rows[op]["avg_ring_time"] == pytest.approx(3.0)
        assert rows[op]["wrap_up_total"] == pytest.approx(5.0 * rows[op]["answered"])
    total = rows["901"]["answered"] + rows["902"]["answered"]
    mean = total / 3  # 903 answered no queue call
    assert rows["901"]["answered_vs_avg"] == pytest.approx(rows["901"]["answered"] - mean, abs=1e-3)


def test_load_lost_transfers_history_and_paths(events: list[dict[str, Any]]) -> None:
    stories = fold_calls(events).values()
    load = load_report(stories, period())
    ten = load["by_hour"][10]
    assert (ten["offered"], ten["answered"], ten["lost"]) == (6, 4, 1)
    assert ten["peak_concurrent"] == 5  # c1..c5 are all on the line at 3 s
    assert load["by_weekday"][0]["offered"] == 6  # 2026-11-23 is a Monday

    lost = {r["caller"]: (r["reason"], r["detail"]) for r in lost_calls(stories, period())}
    assert lost == {"+7003": ("abandoned", "after 3 s"), "+7005": ("ivr_hangup", "at node menu")}

    [xfer] = transfer_report(stories, period())
    assert (xfer["target"], xfer["attempts"], xfer["answered"], xfer["success_rate"]) == ("903", 1, 1, 1.0)

    history = caller_history(stories, period(), "+7003")
    assert [h["result"] for h in history] == ["abandoned", "talked"]
    assert history[1]["path"] == "start > menu > q > bye" and history[1]["operator"] in ("901", "902")

    paths = {r["node"]: r for r in scenario_paths(stories, period())}
    assert paths["menu"]["entered"] == 6
    assert paths["menu"]["exits"] == {"direct": 1, "hangup": 1, "sales": 4}
    assert paths["menu"]["caller_hangups"] == 1
    assert paths["q"]["exits"] == {"answered": 3, "hangup": 1}


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
