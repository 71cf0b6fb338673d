"""Streams written by the previous version (v1: no v/seq/ts, one `queue_event`
with kind and data) still read, upgrade and export. The fixture is a v1 file
as `flowengine run --events-out` wrote it: three calls (answered after a
missed offer; overflowed then asked for a callback; abandoned)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from flowengine.acd.analysis.export import queue_log_lines, read_events
from flowengine.cli import main
from flowengine.events import EventFormatError, event_from_dict, upgrade_stream
from flowengine.testing.cases import _wanted_v2

V1 = Path(__file__).resolve().parents[2] / "data" / "events" / "v1_calls.jsonl"
ELEVEN = dt.datetime(2026, 11, 23, 11, 0, tzinfo=dt.timezone(dt.timedelta(hours=3))).timestamp()


def v1_events() -> list[dict[str, object]]:
    return list(read_events([V1]))


def test_a_v1_stream_upgrades_to_numbered_stamped_typed_events() -> None:
    upgraded = list(upgrade_stream(v1_events()))
    events = [event_from_dict(e) for e in upgraded]
    first = [e for e in events if e.stream_key == "run-5f1c2a9e0b11"]
    assert [e.seq for e in first] == list(range(1, len(first) + 1))
    assert all(e.v == 2 for e in events)
    assert [e.name for e in first if e.name.startswith("queue_")] == [
        "queue_entered", "queue_announced", "queue_offered", "queue_offer_missed",
        "queue_offered", "queue_connected", "queue_completed",
    ]
    missed = next(e for e in first if e.name == "queue_offer_missed")
    assert not {"kind", "data", "wall"} & missed.to_dict().keys()  # explicit fields only
    assert (missed.operator_id, missed.reason, missed.ring_time) == ("901", "no_answer", 15.0)  # type: ignore[attr-defined]
    assert missed.ts == ELEVEN + 26.26
    # node events get the scenario the call was in, with its version
    entered = next(e for e in first if e.name == "node_entered")
    assert (entered.scenario_id, entered.scenario_version) == ("call_centre", 1)  # type: ignore[attr-defined]
    assert first[0].wall == "2026-11-23T11:00:00+03:00"  # type: ignore[attr-defined]
    # overflow: v1 named the new queue in queue_id and the old one in data
    second = [e for e in events if e.stream_key == "run-77aa01c3d902"]
    overflow = next(e for e in second if e.name == "queue_overflow")
    assert (overflow.queue_id, overflow.to_queue) == ("sales", "support")  # type: ignore[attr-defined]
    # the node's own "callback_requested" note and the ACD's "callback" are one event now
    [callback] = [e for e in second if e.name == "queue_callback_requested"]
    assert (callback.queue_id, callback.position) == ("support", 1)  # type: ignore[attr-defined]
    assert [e.seq for e in second] == list(range(1, len(second) + 1))


def test_a_v1_stream_still_exports_to_queue_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = list(queue_log_lines(v1_events()))
    rows = [line.split("|") for line in lines]
    assert [(r[1][-4:], r[2], r[3], r[4]) for r in rows] == [
        ("0b11", "sales", "NONE", "ENTERQUEUE"),
        ("0b11", "sales", "Agent/901", "RINGNOANSWER"),
        ("0b11", "sales", "Agent/904", "CONNECT"),
        ("0b11", "sales", "Agent/904", "COMPLETEAGENT"),
        ("d902", "sales", "NONE", "ENTERQUEUE"),
        ("d902", "sales", "NONE", "EXITWITHTIMEOUT"),
        ("d902", "support", "NONE", "ENTERQUEUE"),
        ("d902", "support", "NONE", "CALLBACK"),
        ("6b7c", "sales", "NONE", "ENTERQUEUE"),
        ("6b7c", "sales", "NONE", "ABANDON"),
    ]
    enter = rows[0]
    assert int(enter[0]) == int(ELEVEN + 11.26) and enter[6] == "+79031112233"
    assert rows[1][5] == "15000" and rows[2][5:8] == ["19", "run-5f1c2a9e0b11-904", "4"]
    assert rows[3][5:8] == ["19", "90", "1"]
    assert rows[7][5:7] == ["1", "+79035550000"]
    assert rows[9][5:8] == ["1", "2", "20"]
    # and through the command line, mixed with a v2 file
    assert main(["export", "queue-log", str(V1)]) == 0
    assert capsys.readouterr().out.splitlines() == lines


def test_a_single_v1_event_reads_without_its_stream() -> None:
    entered = event_from_dict(json.loads(V1.read_text(encoding="utf-8").splitlines()[5]))
    assert entered.name == "queue_entered" and entered.seq == 0 and entered.ts == 0.0
    assert entered.position == 1 and entered.queue_id == "sales"  # type: ignore[attr-defined]
    started = event_from_dict(v1_events()[0])
    assert started.ts == ELEVEN and started.platform_id is None  # type: ignore[attr-defined]
    with pytest.raises(EventFormatError, match="kind 'teleport'|unknown kind 'teleport'"):
        event_from_dict({"event": "queue_event", "call_id": "c", "t": 0, "kind": "teleport", "data": {}})


def test_unknown_fields_are_ignored_and_missing_ones_named() -> None:
    data = {"event": "call_ended", "v": 2, "call_id": "c", "seq": 3, "ts": 1.0, "t": 1.0,
            "duration": 1.0, "steps": 2, "hangup_cause": "normal", "added_in_v3": True}
    assert event_from_dict(data).to_dict() == {k: v for k, v in data.items() if k != "added_in_v3"}
    with pytest.raises(EventFormatError, match="call_ended' lacks duration, steps"):
        event_from_dict({"event": "call_ended", "v": 2, "call_id": "c", "seq": 3, "ts": 1.0, "t": 1.0, "hangup_cause": "x"})
    with pytest.raises(EventFormatError, match="unknown event type 'teleported'"):
        event_from_dict({"event": "teleported", "v": 2})


def test_tests_files_written_for_v1_names_still_match() -> None:
    assert _wanted_v2({"event": "queue_event", "kind": "ring_no_answer", "operator_id": "901"}) == {
        "event": "queue_offer_missed", "operator_id": "901"}
    assert _wanted_v2({"event": "queue_event", "kind": "overflow", "queue_id": "support"}) == {
        "event": "queue_overflow", "to_queue": "support"}
    assert _wanted_v2({"event": "queue_event", "kind": "completed", "data": {"by": "agent"}}) == {
        "event": "queue_completed", "by": "agent"}
    assert _wanted_v2({"event": "notified", "channel": "log"}) == {"event": "notified", "channel": "log"}
