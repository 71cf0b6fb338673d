"""Reports benchmark: a month of a 50-operator centre in SQLite, every report timed.

Generates `--calls` calls (default 100,000) over 30 days into a fresh SQLite
database, as the engine's event streams would hold them: each call walks
start > menu > queue > bye, waits in one of 5 queues of 10 operators, and is
answered (some after a missed offer), abandoned, timed out or asks for a
callback; operators ring, talk (a fifth of the calls held once, one in
twenty handed on to another member) and wrap up. The events are bulk-inserted
with the driver's executemany (not through the engine: this measures the
reports, not the writer). Then it times the first fold of every call into
the report tables (`refresh`), and each report over the whole month
(median of `--runs` runs, through `db_report` as the API calls it).

Usage: python bench/reports.py [--calls 100000] [--runs 5] [--db FILE] [--keep]
Last line: {"calls": ..., "events": ..., "refresh_s": ..., "report_s": {kind: median}, "slowest_s": ..., "nproc": ...}
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flowengine.reports.catalogue import KINDS, ReportFilter  # noqa: E402
from flowengine.reports.period import Period  # noqa: E402
from flowengine.reports.sql import db_report, refresh  # noqa: E402
from flowengine.storage import open_database  # noqa: E402

TZ = ZoneInfo("Europe/Moscow")
START = dt.datetime(2026, 11, 1, tzinfo=TZ)
DAYS = 30
QUEUES = [f"q{i}" for i in range(5)]
MEMBERS = {q: [str(900 + i * 10 + j) for j in range(10)] for i, q in enumerate(QUEUES)}


class Streams:
    """Event rows for executemany: (stream_id, stream, key, seq, ts, name, operator_id, body)."""

    def __init__(self) -> None:
        self.ids: dict[tuple[str, str], int] = {}
        self.seqs: dict[int, int] = {}
        self.rows: list[tuple[Any, ...]] = []

    def add(self, stream: str, key: str, ts: float, name: str, t0: float, **fields: Any) -> None:
        sid = self.ids.setdefault((stream, key), len(self.ids) + 1)
        seq = self.seqs.get(sid, 0) + 1
        self.seqs[sid] = seq
        keyname = {"call": "call_id", "operator": "operator_id", "queue": "queue_id"}[stream]
        body = {"event": name, "v": 2, keyname: key, "seq": seq, "ts": ts, "t": round(ts - t0, 3), **fields}
        self.rows.append((sid, stream, key, seq, ts, name, fields.get("operator_id") if stream != "operator" else key,
                          orjson.dumps(body).decode()))


def generate(n_calls: int, seed: int = 1) -> Streams:
    rnd = random.Random(seed)
    extra = random.Random(seed + 1)  # holds and operators' transfers: the other draws stay as they were
    s = Streams()
    per_day = n_calls // DAYS
    for op in (o for ms in MEMBERS.values() for o in ms):
        s.add("operator", op, START.timestamp() - 60, "operator_status_changed", 0.0, status="available",
              previous=None, reason=None, by="start", available=True)
    for i in range(n_calls):
        day = START + dt.timedelta(days=min(i // per_day, DAYS - 1))
        t0 = day.timestamp() + 9 * 3600 + rnd.random() * 12 * 3600
        cid = f"c{i}"
        q = rnd.choice(QUEUES)
        node = {"scenario_id": "ivr", "scenario_version": 1}

        def call(ts: float, name: str, cid: str = cid, t0: float = t0, **f: Any) -> None:
            s.add("call", cid, ts, name, t0, **f)

        call(t0, "call_started", wall="", caller=f"+7916{rnd.randrange(10**7):07d}", called="+74950000001",
             scenario_id="ivr", scenario_version=1, backend="sim", line=None, route="number")
        call(t0, "node_entered", **node, node_id="start", node_type="start")
        call(t0, "node_left", **node, node_id="start", exit="next")
        call(t0, "node_entered", **node, node_id="menu", node_type="gather")
        t = t0 + 5 + rnd.random() * 10
        call(t, "node_left", **node, node_id="menu", exit="sales")
        call(t, "node_entered", **node, node_id="q", node_type="queue")
        call(t, "queue_entered", **node, queue_id=q, position=1)
        wait = rnd.expovariate(1 / 25)
        fate = rnd.random()
        by = "caller"
        if fate < 0.85:
            ops = rnd.sample(MEMBERS[q], 2)
            if rnd.random() < 0.1:  # the first operator does not answer
                call(t + wait / 2, "queue_offered", **node, queue_id=q, operator_id=ops[1], target=ops[1], timeout=15.0)
                call(t + wait / 2 + 15, "queue_offer_missed", **node, queue_id=q, operator_id=ops[1],
                     reason="no_answer", ring_time=15.0)
            op = ops[0]
            ring = 2 + rnd.random() * 6
            talk = rnd.expovariate(1 / 180)
            connected = t + wait
            call(connected - ring, "queue_offered", **node, queue_id=q, operator_id=op, target=op, timeout=15.0)
            s.add("operator", op, connected - ring, "operator_state_changed", 0.0, state="ringing", previous="idle",
                  call_id=cid)
            call(connected, "queue_connected", **node, queue_id=q, operator_id=op, wait=round(wait, 3), ring_time=round(ring, 3))
            s.add("operator", op, connected, "operator_state_changed", 0.0, state="talking", previous="ringing",
                  call_id=cid)
            by = rnd.choice(("caller", "operator"))
            done = connected + talk
            leg = {"leg_id": f"{cid}-leg", "operator_id": op, "target": op}
            if extra.random() < 0.2:  # a fifth of the calls are held once
                held = connected + talk / 3
                held_for = round(min(talk / 3, 15 + extra.random() * 30), 3)
                call(held, "leg_held", **node, node_id="q", **leg)
                call(held + held_for, "leg_unheld", **node, node_id="q", held_for=held_for, **leg)
            if extra.random() < 0.05:  # and one in twenty is handed on to another member
                other = extra.choice([m for m in MEMBERS[q] if m != op])
                call(done, "operator_transfer_requested", **node, node_id="q", operator_id=op, target=other,
                     leg_id=leg["leg_id"])  # fmt: skip
                if extra.random() < 0.1:
                    call(done, "operator_transfer_refused", **node, node_id="q", operator_id=op, target=other,
                         reason="pending")  # fmt: skip
                else:
                    outcome = "answered" if extra.random() < 0.8 else "busy"
                    call(done, "operator_transfer_ended", **node, node_id="q", operator_id=op, target=other,
                         kind="operator", outcome=outcome, to_operator_id=other if outcome == "answered" else None)
            call(done, "queue_completed", **node, queue_id=q, operator_id=op, wait=round(wait, 3),
                 talk_time=round(talk, 3), orig_position=1, by=by)
            s.add("operator", op, done, "operator_state_changed", 0.0, state="wrap_up", previous="talking", call_id=cid)
            s.add("operator", op, done, "operator_wrap_up_started", 0.0, call_id=cid, queue_id=q, duration=10.0)
            s.add("operator", op, done + 10, "operator_wrap_up_ended", 0.0, call_id=cid, duration=10.0)
            s.add("operator", op, done + 10, "operator_state_changed", 0.0, state="idle", previous="wrap_up", call_id=None)
            end, exit = done, "answered"
        elif fate < 0.95:
            end, exit = t + wait, "hangup"
            call(end, "queue_abandoned", **node, queue_id=q, position=1, orig_position=1, wait=round(wait, 3))
        elif fate < 0.98:
            end, exit = t + 300, "timeout"
            call(end, "queue_timeout", **node, queue_id=q, position=1, orig_position=1, wait=300.0)
        else:
            end, exit = t + wait, "callback"
            call(end, "queue_callback_requested", **node, queue_id=q, position=1)
            s.add("queue", q, end + 120, "callback_completed", 0.0, call_id=cid, operator_id=MEMBERS[q][0],
                  wait=120.0, talk_time=60.0, orig_position=1, by="caller")
        call(end, "node_left", **node, node_id="q", exit=exit)
        if exit != "hangup":
            call(end, "node_entered", **node, node_id="bye", node_type="hangup")
        call(end, "call_hung_up", **node, node_id="q" if exit == "hangup" else "bye", cause="normal",
             by="caller" if exit == "hangup" else by)
        call(end, "call_ended", duration=round(end - t0, 3), hangup_cause="normal", steps=4)
    return s


def write(path: Path, s: Streams) -> None:
    open_database(f"sqlite:///{path}").close()  # the schema, migrated
    con = sqlite3.connect(path)
    con.execute("PRAGMA synchronous = OFF")
    with con:
        con.executemany("INSERT INTO streams (id, stream, stream_key) VALUES (?, ?, ?)",
                        [(sid, st, key) for (st, key), sid in s.ids.items()])
        s.rows.sort(key=lambda r: r[4])  # stored in time order, as the engine writes them
        con.executemany("INSERT INTO events (stream_id, stream, stream_key, seq, ts, name, operator_id, body) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", s.rows)
    con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--db", type=Path, help="database file (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the database file")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="flowengine-bench-reports-")
    path = args.db or Path(folder) / "flowengine.db"
    started = time.perf_counter()
    streams = generate(args.calls)
    generated = time.perf_counter() - started
    started = time.perf_counter()
    write(path, streams)
    written = time.perf_counter() - started
    n_events = len(streams.rows)
    del streams
    print(f"generated {n_events} events of {args.calls} calls in {generated:.1f} s, inserted in {written:.1f} s", flush=True)
    db = open_database(f"sqlite:///{path}")
    try:
        started = time.perf_counter()
        folded = refresh(db)
        refresh_s = time.perf_counter() - started
        print(f"first refresh folded {folded} calls into the report tables in {refresh_s:.1f} s", flush=True)
        month = Period(START.timestamp(), (START + dt.timedelta(days=DAYS)).timestamp(), TZ)
        thresholds = {q: 20.0 for q in QUEUES}
        medians: dict[str, float] = {}
        for kind in KINDS:
            filt = ReportFilter(thresholds=thresholds, caller="+79160000001" if kind == "history" else None)
            times = []
            rows = 0
            for _ in range(args.runs):
                t = time.perf_counter()
                body = db_report(db, kind, month, filt)
                times.append(time.perf_counter() - t)
                rows = len(body.get("rows", body.get("by_hour", [])))
            medians[kind] = round(statistics.median(times), 4)
            print(f"{kind:10} median {medians[kind] * 1000:8.1f} ms  max {max(times) * 1000:8.1f} ms  ({rows} rows)", flush=True)
    finally:
        db.close()
        if not args.keep and args.db is None:
            for p in Path(folder).glob("*"):
                p.unlink()
            os.rmdir(folder)
    print(json.dumps({
        "calls": args.calls, "events": n_events, "refresh_s": round(refresh_s, 2), "report_s": medians,
        "slowest_s": max(medians.values()), "nproc": os.cpu_count(),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
