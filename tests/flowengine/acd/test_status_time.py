"""Time in each status and state for any period, from the operator stream
(`flowengine report statuses`), checked by hand against a scripted day."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scenario_builders import AT, deadline, doc, hangup, load, node, script, start

from flowengine.acd import parse_centre
from flowengine.acd.analysis.status_time import time_in_status
from flowengine.cli import main
from flowengine.errors import FlowEngineError
from flowengine.runtime.clock import WallClock
from flowengine.runtime.engine import Engine, platform_call_ids
from flowengine.runtime.virtual_loop import run_virtual
from flowengine.testing.harness import CentreSetup, attach_centre
from telephony_adapters.sim import SimBackend

T0 = AT.timestamp()


@pytest.fixture(autouse=True)
def _no_hang() -> Iterator[None]:
    with deadline(20):
        yield


def scripted_day() -> list[dict[str, Any]]:
    """901 (the queue's only member) is on lunch until 100; a call at 120 rings
    them 3 s, they talk 10 s, wrap up 5 s (idle again at 138). 902 is in no
    queue, not available until 130. Every event of every stream, as stored."""
    centre = parse_centre({
        "operators": [{"id": "901", "extension": "901"}, {"id": "902", "extension": "902"}],
        "queues": [{"id": "q", "members": ["901"], "wrap_up": 5}],
    })
    exits = dict.fromkeys(("answered", "timeout", "full", "no_operators", "callback"), "bye")
    scenario = load(doc([start("q"), node("q", "queue", {"queue": "q"}, **exits), hangup("bye")]))
    seen: list[dict[str, Any]] = []

    async def day() -> None:
        loop = asyncio.get_running_loop()
        engine = Engine(clock=WallClock(AT), call_ids=platform_call_ids)
        engine.add_listener(lambda e: seen.append(e.to_dict()))
        backend = SimBackend(engine)
        setup = CentreSetup(centre, answer_after=3, talk_time=10, statuses={"901": "break:lunch", "902": "not_available"})
        driver = attach_centre(engine, backend, setup)
        try:
            await asyncio.sleep(100 - loop.time())
            driver.set_status("901", "available")
            await asyncio.sleep(120 - loop.time())
            backend.place_call(script(), scenario)
            await asyncio.sleep(130 - loop.time())
            driver.set_status("902", "available")
            await asyncio.sleep(300 - loop.time())
            await engine.drain()
        finally:
            await driver.shutdown()
            await engine.shutdown()

    run_virtual(day())
    return seen


@pytest.fixture(scope="module")
def day() -> list[dict[str, Any]]:
    return scripted_day()


#: the scripted day ran until t=300, though its last event is at t=138
UNTIL = T0 + 300


def test_seconds_in_each_status_and_state_clipped_to_the_period(day: list[dict[str, Any]]) -> None:
    report = time_in_status(day, T0 + 50, T0 + 150, until=UNTIL)
    assert report["901"] == {
        "break": 50.0,  # 50-100: the lunch began before the period, counted from its start
        "available": 50.0,  # 100-150: still available at the end, counted until it
        "idle": 82.0,  # 50-120 and 138-150
        "ringing": 3.0,
        "talking": 10.0,
        "wrap_up": 5.0,
    }
    assert report["902"] == {"not_available": 80.0, "available": 20.0, "idle": 100.0}


def test_a_period_inside_one_interval_and_one_before_the_streams(day: list[dict[str, Any]]) -> None:
    assert time_in_status(day, T0 + 124, T0 + 130)["901"] == {"available": 6.0, "talking": 6.0}
    assert time_in_status(day, T0 - 500, T0 - 100) == {}  # nothing known before the first event
    # the whole stream: from the ACD's start (t=0) to t=300
    whole = time_in_status(day, T0 - 500, T0 + 300, until=UNTIL)["901"]
    assert (whole["break"], whole["available"], whole["idle"]) == (100.0, 200.0, 282.0)
    # a period beyond the streams: the last event (the call's end, t=138) bounds
    # what is known, unless the caller knows the streams run on (`until`)
    later = time_in_status(day, T0 + 100, T0 + 10_000)["902"]
    assert later == {"not_available": 30.0, "available": 8.0, "idle": 38.0}
    assert time_in_status(day, T0 + 100, T0 + 10_000, until=T0 + 300)["902"]["available"] == 170.0


def test_a_period_that_ends_before_it_starts_is_refused(day: list[dict[str, Any]]) -> None:
    with pytest.raises(FlowEngineError, match="ends"):
        time_in_status(day, T0 + 10, T0)


def test_report_statuses_command(day: list[dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in day), encoding="utf-8")
    msk = dt.timezone(dt.timedelta(hours=3))
    frm = (AT + dt.timedelta(seconds=50)).astimezone(msk).isoformat()
    to = (AT + dt.timedelta(seconds=150)).astimezone(dt.UTC).isoformat()  # any zone
    until = ["--until", str(UNTIL)]
    assert main(["report", "statuses", str(events), "--from", frm, "--to", to, "--json", *until]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["901"]["break"] == 50.0 and got["902"]["not_available"] == 80.0
    assert got["901"]["break:lunch"] == 50.0  # and each break reason on its own
    assert main(["report", "statuses", str(events), "--from", frm, "--to", to, *until]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == [
        "operator", "available", "break", "break:lunch", "not_available", "idle", "ringing", "talking", "wrap_up"]
    assert table[1].split() == ["901", "50.0", "50.0", "50.0", "0.0", "82.0", "3.0", "10.0", "5.0"]
    # without --until what is still going on counts until the last event (t=138), and says so
    assert main(["report", "statuses", str(events), "--from", frm, "--to", to, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["902"]["available"] == 8.0
    assert main(["report", "statuses", str(events), "--from", frm, "--to", to]) == 0
    assert capsys.readouterr().out.startswith("note: the events end at 2026-11-23T07:02:18")
    assert main(["report", "statuses", str(events), "--from", "yesterday", "--to", to]) == 1
    assert "--from 'yesterday': not a date" in capsys.readouterr().err
    assert main(["report", "statuses", str(events), "--from", "2026-11-23T10:00:00", "--to", to]) == 1
    assert "give the time zone" in capsys.readouterr().err
