"""Queue events in call streams, exported as Asterisk queue_log lines."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

import pytest

from flowengine.acd import load_centre
from flowengine.cli import main
from flowengine.events.sinks import JsonLinesSink
from flowengine.runtime.clock import WallClock
from flowengine.runtime.engine import Engine
from flowengine.runtime.virtual_loop import run_virtual
from flowengine.scenario.loader import load_scenario_file
from flowengine.testing.harness import CentreSetup, attach_centre, run_scenario
from flowengine.testing.phones import VirtualPhone
from flowengine.testing.script import CallerScript
from telephony_adapters.sim import SimBackend

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
START = dt.datetime(2026, 11, 23, 11, 0, tzinfo=dt.timezone(dt.timedelta(hours=3)))


def _events(tmp_path: Path, script: CallerScript, call_id: str, phones: dict[str, VirtualPhone] | None = None) -> Path:
    scenario = load_scenario_file(EXAMPLES / "call_centre.json")
    setup = CentreSetup(load_centre(EXAMPLES / "centre.yaml"), answer_after=4, talk_time=90, phones=phones or {})
    trace = run_scenario(scenario, script, at=START, centre=setup, call_id=call_id)
    path = tmp_path / "events.jsonl"
    with path.open("a", encoding="utf-8") as fh:
        for event in trace.events:
            fh.write(json.dumps(event.to_dict(), ensure_ascii=False) + "\n")
    return path


def test_answered_and_abandoned_calls_become_queue_log_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _events(tmp_path, CallerScript(caller="+79031112233", called="+74957654321", steps=[{"input": "1"}]), "c1")
    silent = {n: VirtualPhone(answer_after=None) for n in ("901", "902", "903")}
    path = _events(
        tmp_path,
        CallerScript(caller="+79035550000", called="+74957654321", steps=[{"input": "2"}, {"wait": 3}, {"hangup": True}]),
        "c2",
        phones=silent,
    )
    assert main(["export", "queue-log", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [line.split("|") for line in lines]
    by_event = {(r[1], r[4]): r for r in rows}
    enter = by_event[("c1", "ENTERQUEUE")]
    assert enter[2] == "sales" and enter[3] == "NONE" and enter[6] == "+79031112233"
    connect = by_event[("c1", "CONNECT")]
    assert connect[3].startswith("Agent/90") and connect[5] == "4"  # held 4 s (the ring)
    done = by_event[("c1", "COMPLETEAGENT")]
    assert done[5:8] == ["4", "90", "1"]  # hold time, talk time, original position
    assert int(done[0]) - int(connect[0]) == 90
    # the call started at 11:00 Moscow time; its queue entry is a few seconds later
    assert 0 < int(enter[0]) - int(START.timestamp()) < 30
    abandon = by_event[("c2", "ABANDON")]
    assert abandon[2] == "support" and abandon[5:7] == ["1", "1"]


def test_export_to_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _events(tmp_path, CallerScript(caller="+79031112233", called="+74957654321", steps=[{"input": "1"}]), "c1")
    out = tmp_path / "queue_log"
    assert main(["export", "queue-log", str(path), "-o", str(out)]) == 0
    assert "3 queue_log lines" in capsys.readouterr().err
    assert len(out.read_text().splitlines()) == 3


def test_a_broken_event_file_names_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"event": "call_started", "call_id": "x", "t": 0}\n{not json\n', encoding="utf-8")
    assert main(["export", "queue-log", str(path)]) == 1
    assert f"{path}:2: not a JSON event" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"event": "x"}\n\n{"event": "y", "n": NaN}\n', ":3: not a JSON event (n: NaN is not a JSON number)"),
        (b'{"event": "x", "event": "y"}\n', ":1: not a JSON event (event: duplicate key 'event')"),
        (b"[" * 5000 + b"\n", ":1: not a JSON event (column 101: nested deeper than 100 levels)"),
        (b'{"event": "x"}\n\xff\n', ":2: not UTF-8 text"),
        (b'[1, 2]\n', ":1: not an event object"),
        (b'{"event": "queue_entered", "call_id": "c", "seq": 4}\n', "event queue_entered of c, seq 1: "),
    ],
)
def test_malformed_event_lines_name_the_line_and_what_is_wrong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, expected: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    assert main(["export", "queue-log", str(path)]) == 1
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err


def test_export_refuses_long_lines_fifos_and_folders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    monkeypatch.setenv("FLOWENGINE_MAX_DOCUMENT_BYTES", "100")
    path = tmp_path / "long.jsonl"
    path.write_text('{"event": "call_started"}\n{"event": "' + "x" * 1000 + '"}\n')
    assert main(["export", "queue-log", str(path)]) == 1
    assert f"{path}:2: line longer than 100 bytes" in capsys.readouterr().err
    fifo = tmp_path / "fifo.jsonl"
    os.mkfifo(fifo)
    assert main(["export", "queue-log", str(fifo)]) == 1
    assert f"{fifo}: not a regular file" in capsys.readouterr().err
    assert main(["export", "queue-log", str(tmp_path)]) == 1
    assert main(["export", "queue-log", str(tmp_path / "missing.jsonl")]) == 1
    assert "no such file" in capsys.readouterr().err


def test_run_events_out_stores_every_stream_and_exports_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "calls.jsonl"
    args = ["run", str(EXAMPLES / "call_centre.json"), "--centre", str(EXAMPLES / "centre.yaml"),
            "--input", "1", "--status", "901=break:lunch", "--at", "2026-11-23T11:00+03:00", "--events-out", str(out)]
    assert main(args) == 0
    assert main(args) == 0  # appends a second call
    capsys.readouterr()
    stored = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    calls: dict[str, list[dict[str, object]]] = {}
    for e in stored:
        if "t" in e:
            calls.setdefault(str(e["call_id"]), []).append(e)
    assert len(calls) == 2
    for stream in calls.values():
        assert [e["seq"] for e in stream] == list(range(1, len(stream) + 1))
        assert stream[0]["event"] == "call_started" and stream[-1]["event"] == "call_ended"
    lunch = [e for e in stored if e["event"] == "operator_status_changed" and e["operator_id"] == "901"]
    assert [(e["seq"], e["status"], e["reason"], e["by"]) for e in lunch][:2] == [
        (1, "available", None, "start"), (2, "break", "lunch", "operator")]
    assert main(["export", "queue-log", str(out)]) == 0
    kinds = [line.split("|")[4] for line in capsys.readouterr().out.splitlines()]
    assert kinds.count("PAUSEALL") == 2 and kinds.count("CONNECT") == 2


def test_statuses_changed_during_a_run_are_stored_and_exported_as_pause_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A supervisor's break and return while a call waits reach the stored
    operator stream, and `export queue-log` writes PAUSEALL / UNPAUSEALL at
    their times, the break's reason as the data."""
    path = tmp_path / "calls.jsonl"
    scenario = load_scenario_file(EXAMPLES / "call_centre.json")
    caller = CallerScript(caller="+79031112233", called="+74957654321", steps=[{"input": "1"}])

    async def main_() -> None:
        engine = Engine(clock=WallClock(START))
        engine.add_sink(JsonLinesSink(path))
        backend = SimBackend(engine)
        driver = attach_centre(engine, backend, CentreSetup(load_centre(EXAMPLES / "centre.yaml"), talk_time=30))
        try:
            _call, task = backend.place_call(caller, scenario)
            await asyncio.sleep(7)
            driver.set_status("904", "break", "lunch")
            await asyncio.sleep(5)
            driver.set_status("904", "available")
            await task
        finally:
            await driver.shutdown()
            await engine.shutdown()

    run_virtual(main_())
    assert main(["export", "queue-log", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    epoch = int(START.timestamp())
    assert [line for line in lines if "Agent/904" in line] == [
        f"{epoch + 7}|NONE|NONE|Agent/904|PAUSEALL|lunch",
        f"{epoch + 12}|NONE|NONE|Agent/904|UNPAUSEALL|available",
    ]
    assert any("|CONNECT|" in line for line in lines)
