"""SIGKILL while events are being written: every committed batch is there,
at most the batch in flight is lost, the database opens cleanly and the
interrupted calls are closed with cause engine_restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from flowengine.storage import EventStore, close_interrupted_calls, open_database
from flowengine.storage.schema import events

ROOT = Path(__file__).resolve().parents[3]
BATCH = 200


def test_sigkill_loses_at_most_the_batch_in_flight(db_url: str) -> None:
    open_database(db_url).close()  # migrated before the child starts
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("crash_writer.py")), db_url, str(BATCH)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )  # fmt: skip
    handed = committed = 0
    deadline = time.monotonic() + 120
    try:
        assert child.stdout is not None
        while True:  # let it commit a few batches, then kill it as it hands one over
            line = child.stdout.readline()
            assert line, f"the writer died: {child.stderr.read() if child.stderr else ''}"
            kind, count = line.split()
            if kind == "W":
                handed = int(count)
                if committed >= 20 * BATCH:
                    break
            else:
                committed = int(count)
            assert time.monotonic() < deadline, "the writer did not commit 20 batches in 120 s"
        child.send_signal(signal.SIGKILL)
        child.wait(30)
        for line in child.stdout.read().splitlines():  # what it printed before dying
            kind, count = line.split()
            if kind == "W":
                handed = int(count)
            else:
                committed = int(count)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(30)
    assert child.returncode == -signal.SIGKILL

    db = open_database(db_url)
    try:
        if db.backend == "sqlite":
            with db.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        stored = EventStore(db).count_events()
        lost = handed - stored
        print(f"\n[{db.backend}] handed to the sink {handed}, committed (reported) {committed}, "
              f"stored {stored}, lost {lost} (batch {BATCH})")  # fmt: skip
        assert committed <= stored <= handed
        assert 0 <= lost <= BATCH
        # every stored stream is a prefix: no holes inside a call
        with db.connect() as conn:
            rows = conn.execute(
                sa.select(events.c.stream_key, sa.func.count(), sa.func.max(events.c.seq)).group_by(events.c.stream_key)
            ).all()
        assert all(count == top for _key, count, top in rows)
        open_calls = EventStore(db).open_call_ids()
        assert open_calls
        closed = close_interrupted_calls(db)
        assert sorted(c.call_id for c in closed) == sorted(open_calls)
        assert {c.hangup_cause for c in closed} == {"engine_restart"}
        sample = EventStore(db).call_events(closed[0].call_id)
        assert sample[-1]["event"] == "call_ended" and sample[-1]["hangup_cause"] == "engine_restart"
        assert EventStore(db).cdr(closed[0].call_id).result == "interrupted"  # type: ignore[union-attr]
    finally:
        db.close()
