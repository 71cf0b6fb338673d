"""Events through the writer into the database, read back by call, time and
operator; CDRs written at call end; recovery of interrupted calls; retention."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from scenario_builders import AT, script

from flowengine.acd.model import load_centre
from flowengine.events import CallEnded, CallStarted, EventWriter, NodeEntered
from flowengine.scenario.loader import load_scenario_file
from flowengine.storage import Database
from flowengine.storage.events import EventStore, SqlEventSink, close_interrupted_calls
from flowengine.testing.harness import CentreSetup, run_scenario

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"


def ivr_call(db: Database, digits: str = "1", called: str = "+74951230001"):  # type: ignore[no-untyped-def]
    scenario = load_scenario_file(EXAMPLES / "per_number_ivr.json")
    return run_scenario(scenario, script([{"input": digits}], called=called), at=AT, sinks=[SqlEventSink(db)])


def test_a_calls_stream_is_stored_in_order_and_resumable(db: Database) -> None:
    trace = ivr_call(db)
    store = EventStore(db)
    stored = store.call_events(trace.call_id)
    assert [e["seq"] for e in stored] == list(range(1, len(trace.events) + 1))
    assert stored == [e.to_dict() for e in trace.events]
    tail = store.call_events(trace.call_id, after_seq=5)
    assert tail == stored[5:]
    assert store.call_events(trace.call_id, after_seq=len(stored)) == []
    assert store.call_events("no-such-call") == []


def test_an_ivr_call_gets_one_cdr(db: Database) -> None:
    trace = ivr_call(db)
    cdr = EventStore(db).cdr(trace.call_id)
    assert cdr is not None
    started = trace.events[0]
    assert isinstance(started, CallStarted)
    assert (cdr.caller, cdr.called) == (started.caller, "+74951230001")
    assert (cdr.scenario_id, cdr.scenario_version) == ("per_number_ivr", 1)
    assert cdr.result == "ivr"
    assert cdr.operator_id is None and cdr.talk is None and cdr.queue_id is None
    assert cdr.answered_at is not None and cdr.started_at <= cdr.answered_at <= cdr.ended_at
    assert cdr.duration == pytest.approx(trace.duration)
    assert (cdr.hangup_cause, cdr.hangup_by) == ("normal", "engine")
    assert cdr.events == len(trace.events)
    assert EventStore(db).open_call_ids() == []


def test_a_queue_call_cdr_names_the_queue_operator_wait_and_talk(db: Database) -> None:
    centre = load_centre(EXAMPLES / "centre.yaml")
    scenario = load_scenario_file(EXAMPLES / "call_centre.json")
    at = AT.replace(hour=11)
    trace = run_scenario(
        scenario,
        script([{"input": "1"}], called="+74951230001"),
        at=at,
        centre=CentreSetup(centre, answer_after=3.0, talk_time=45.0),
        sinks=[SqlEventSink(db)],
    )
    operator = trace.variables["OPERATOR"]
    cdr = EventStore(db).cdr(trace.call_id)
    assert cdr is not None
    assert (cdr.result, cdr.queue_id, cdr.operator_id) == ("operator", "sales", operator)
    assert cdr.talk == pytest.approx(45.0)
    assert cdr.wait is not None and cdr.wait >= 3.0
    # the operator's own stream is stored and read by operator
    ops = EventStore(db).operator_events(operator)
    assert ops and {e["operator_id"] for e in ops} == {operator}
    assert "operator_state_changed" in {e["event"] for e in ops}
    assert [e["ts"] for e in ops] == sorted(e["ts"] for e in ops)
    last = EventStore(db).last_seqs("operator")
    assert last[operator] == max(e["seq"] for e in ops)
    with_calls = EventStore(db).operator_events(operator, stream=None)
    assert any(e["event"] == "queue_connected" and e["call_id"] == trace.call_id for e in with_calls)


def test_reads_by_time_range(db: Database) -> None:
    first = ivr_call(db)
    second = ivr_call(db, called="+78005553535")
    store = EventStore(db)
    t1 = first.events[0].ts
    t2 = second.events[0].ts
    everything = store.events_between(min(t1, t2) - 1, max(t1, t2) + 3600)
    assert {e["call_id"] for e in everything if "call_id" in e} == {first.call_id, second.call_id}
    starts = store.events_between(0, 1e12, names=["call_started"])
    assert sorted(e["call_id"] for e in starts) == sorted([first.call_id, second.call_id])
    assert store.events_between(0, min(t1, t2)) == []


def _events(call_id: str, count: int, ts: float = 1_000.0) -> list:  # type: ignore[type-arg]
    out: list = [  # type: ignore[type-arg]
        CallStarted(call_id=call_id, seq=1, ts=ts, t=0.0, wall="2026-11-23T10:00:00+03:00", caller="+7916",
                    called="100", scenario_id="s", scenario_version=3)
    ]  # fmt: skip
    for i in range(2, count + 1):
        out.append(NodeEntered(call_id=call_id, seq=i, ts=ts + i, t=float(i), scenario_id="s", scenario_version=3,
                               node_id=f"n{i}", node_type="say"))  # fmt: skip
    return out


def test_a_replayed_batch_is_not_stored_twice(db: Database) -> None:
    sink = SqlEventSink(db, thread=False)
    batch = _events("c1", 5)
    sink.write_sync(batch)
    sink.write_sync(batch)
    assert EventStore(db).count_events() == 5
    sink.write_sync(_events("c1", 8)[2:])  # overlaps: 3-5 again, 6-8 new
    assert [e["seq"] for e in EventStore(db).call_events("c1")] == list(range(1, 9))


def test_interrupted_calls_are_closed_with_engine_restart(db: Database) -> None:
    sink = SqlEventSink(db, thread=False)
    sink.write_sync(_events("cut-off", 4, ts=2_000.0))
    done = _events("finished", 3, ts=2_000.0)
    sink.write_sync([*done, CallEnded(call_id="finished", seq=4, ts=2_010.0, t=10.0, duration=10.0, steps=2,
                                      hangup_cause="normal")])  # fmt: skip
    store = EventStore(db)
    assert store.open_call_ids() == ["cut-off"]
    closed = close_interrupted_calls(db, now=2_100.0)
    assert [c.call_id for c in closed] == ["cut-off"]
    cdr = store.cdr("cut-off")
    assert cdr is not None
    assert (cdr.result, cdr.hangup_cause, cdr.hangup_by) == ("interrupted", "engine_restart", "engine")
    assert (cdr.scenario_id, cdr.scenario_version, cdr.duration) == ("s", 3, 100.0)
    stream = store.call_events("cut-off")
    assert [e["seq"] for e in stream] == [1, 2, 3, 4, 5]
    assert stream[-1]["event"] == "call_ended" and stream[-1]["hangup_cause"] == "engine_restart"
    assert store.cdr("finished").result == "ivr"  # type: ignore[union-attr]
    assert store.open_call_ids() == []
    assert close_interrupted_calls(db) == []  # nothing left to close


def test_a_call_ended_seen_by_a_new_sink_is_built_from_the_stored_stream(db: Database) -> None:
    SqlEventSink(db, thread=False).write_sync(_events("long", 3, ts=3_000.0))
    later = SqlEventSink(db, thread=False)  # e.g. the writer was replaced
    later.write_sync([CallEnded(call_id="long", seq=4, ts=3_050.0, t=50.0, duration=50.0, steps=2,
                                hangup_cause="normal")])  # fmt: skip
    cdr = EventStore(db).cdr("long")
    assert cdr is not None
    assert (cdr.started_at, cdr.duration, cdr.scenario_version, cdr.events) == (3_000.0, 50.0, 3, 4)


def test_retention_purges_old_events_and_cdrs_but_not_open_calls(db: Database) -> None:
    sink = SqlEventSink(db, thread=False)
    old = _events("old", 3, ts=1_000.0)
    sink.write_sync([*old, CallEnded(call_id="old", seq=4, ts=1_010.0, t=10.0, duration=10.0, steps=1,
                                     hangup_cause="normal")])  # fmt: skip
    sink.write_sync(_events("still-open", 3, ts=1_000.0))
    sink.write_sync(_events("new", 3, ts=9_000.0))
    result = EventStore(db).purge(5_000.0, chunk=2)
    store = EventStore(db)
    assert (result.events, result.cdrs) == (4, 1)
    assert store.call_events("old") == [] and store.cdr("old") is None
    assert len(store.call_events("still-open")) == 3
    assert len(store.call_events("new")) == 3


@pytest.mark.parametrize("thread", [True, False], ids=["thread", "loop"])
def test_batches_through_the_writer_on_a_thread_or_on_the_loop(db: Database, thread: bool) -> None:
    async def main() -> int:
        sink = SqlEventSink(db, thread=thread)
        writer = EventWriter([sink], batch_size=100)
        for i in range(1, 11):
            for e in _events(f"call-{i}", 50, ts=float(i)):
                writer.put(e)
        await writer.flush()
        await writer.close()
        return writer.written

    assert asyncio.run(main()) == 500
    assert EventStore(db).count_events() == 500
    assert len(EventStore(db).open_call_ids()) == 10




def test_odd_values_are_stored_and_read_back(db: Database) -> None:
    """A variable holding a NUL, a lone surrogate (from a broken SIP header)
    or bytes must not lose the batch, on either database."""
    from flowengine.events import VariableChanged

    odd = VariableChanged(call_id="odd", seq=1, ts=1.0, t=0.0, scenario_id="s", scenario_version=1,
                          variable="X", value={"nul": "a\x00b", "surrogate": "\ud800x", "bytes": b"\xff"})  # fmt: skip
    SqlEventSink(db, thread=False).write_sync([odd])
    [stored] = EventStore(db).call_events("odd")
    assert stored["value"]["nul"] == "a\x00b"
    assert stored["value"]["surrogate"] == "\ud800x"
    assert stored["value"]["bytes"] == "\ufffd"


def test_a_recording_gets_its_media_row_in_the_batch_that_stores_its_event(db: Database, tmp_path: Path) -> None:
    import sqlalchemy as sa

    from flowengine.events import RecordingMade
    from flowengine.storage.schema import media

    root = tmp_path / "data"
    wav = root / "recordings" / "vm" / "1.wav"
    wav.parent.mkdir(parents=True)
    wav.write_bytes(b"RIFF" + bytes(100))
    node = {"call_id": "vm", "t": 1.0, "scenario_id": "s", "scenario_version": 3, "node_id": "rec"}
    batch = [
        *_events("vm", 2),
        RecordingMade(seq=3, ts=1_005.0, uri=wav.resolve().as_uri(), duration=4.5, reason="terminator", **node),
        RecordingMade(seq=4, ts=1_009.0, uri="sim://recordings/vm/2.wav", duration=1.0, reason="hangup", **node),
    ]
    sink = SqlEventSink(db, thread=False, files_root=root)
    sink.write_sync(batch)
    sink.write_sync(batch)  # a replay adds nothing
    with db.connect() as conn:
        rows = conn.execute(sa.select(media).order_by(media.c.id)).all()
    assert [(r.name, r.kind, r.call_id, r.path, r.size, r.duration) for r in rows] == [
        ("vm-3", "voicemail", "vm", "recordings/vm/1.wav", 104, 4.5),
        ("vm-4", "voicemail", "vm", "sim://recordings/vm/2.wav", 0, 1.0),
    ]
    created = rows[0].created_at
    assert (created if created.tzinfo else created.replace(tzinfo=dt.UTC)).timestamp() == 1_005.0


def test_a_recorded_callback_is_filed_under_the_call_that_asked_for_it(db: Database, tmp_path: Path) -> None:
    """A callback's conversation happens after its call ended: the recording
    comes in the queue stream (`callback_recorded`) and is filed under the
    call, beside that call's own recordings."""
    import sqlalchemy as sa

    from flowengine.events import CallbackRecorded
    from flowengine.storage.schema import media

    root = tmp_path / "data"
    wav = root / "recordings" / "cb" / "cb-callback.wav"
    wav.parent.mkdir(parents=True)
    wav.write_bytes(b"RIFF" + bytes(60))
    recorded = CallbackRecorded(queue_id="sales", seq=3, ts=1_300.0, call_id="cb", operator_id="901",
                                uri=wav.resolve().as_uri(), duration=42.5)  # fmt: skip
    sink = SqlEventSink(db, thread=False, files_root=root)
    sink.write_sync([*_events("cb", 2), recorded])
    sink.write_sync([recorded])  # a replay adds nothing
    with db.connect() as conn:
        rows = conn.execute(sa.select(media)).all()
    assert [(r.name, r.kind, r.call_id, r.path, r.size, r.duration) for r in rows] == [
        ("cb-callback-3", "recording", "cb", "recordings/cb/cb-callback.wav", 64, 42.5)
    ]
    assert [e["event"] for e in EventStore(db).stream_events("queue", "sales")] == ["callback_recorded"]
