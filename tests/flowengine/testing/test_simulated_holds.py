"""Simulated traffic with operators who hold and hand callers on.

`flowengine simulate` on a centre file whose operators have a ``sim``
section: the stored day (``--events-out``) has the holds and transfers the
shares ask for, each complete (held, then unheld; requested, then ended),
and the same seed gives the same day again. Without ``sim`` nothing of the
kind happens, so old centre files simulate as before.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from flowengine.cli import main

SCENARIO = {
    "schema": 1, "id": "simday", "name": "simday", "numbers": ["100"],
    "nodes": [
        {"id": "start", "type": "start", "exits": {"next": "q"}},
        {"id": "q", "type": "queue", "params": {"queue": "sales"},
         "exits": {"answered": "bye", "timeout": "bye", "full": "bye", "no_operators": "bye"}},
        {"id": "bye", "type": "hangup"},
    ],
}  # fmt: skip
CENTRE = """\
operators:
  - id: "901"
    extension: "901"
    sim:
      hold: {share: 0.5, after: 20, seconds: 15}
      transfer: {share: 0.3, after: 40, to: "903"}
  - {id: "902", extension: "902", sim: {transfer: {share: 0.2, after: 30, to: support}}}
  - {id: "903", extension: "903"}
queues:
  - {id: sales, members: ["901", "902"], strategy: longest_idle, wrap_up: 5}
  - {id: support, members: ["903"], wrap_up: 5}
"""


def simulate(tmp_path: Path, centre: str, name: str) -> list[dict[str, Any]]:
    (tmp_path / "sc.json").write_text(json.dumps(SCENARIO))
    (tmp_path / "centre.yaml").write_text(centre)
    out = tmp_path / f"{name}.jsonl"
    code = main([
        "simulate", str(tmp_path / "sc.json"), "--centre", str(tmp_path / "centre.yaml"),
        "--arrivals", "40/h", "--aht", "120", "--answer-after", "3", "--hours", "3", "--warmup", "0",
        "--replications", "1", "--seed", "7", "--events-out", str(out), "--json",
    ])  # fmt: skip
    assert code == 0
    return [json.loads(line) for line in out.read_text().splitlines()]


def test_a_simulated_day_has_the_holds_and_transfers_the_centre_file_asks_for(tmp_path: Path) -> None:
    events = simulate(tmp_path, CENTRE, "day")
    names = Counter(e["event"] for e in events)
    answered = Counter(e["operator_id"] for e in events if e["event"] == "queue_connected")
    held = Counter(e["operator_id"] for e in events if e["event"] == "leg_held")
    # only 901 holds; about half of their calls (those lasting past 20 s: most, at a 120 s mean)
    assert set(held) == {"901"}
    assert 0.2 * answered["901"] <= held["901"] <= 0.6 * answered["901"]
    assert names["leg_unheld"] == names["leg_held"]
    unheld = [e["held_for"] for e in events if e["event"] == "leg_unheld"]
    assert all(0 < h <= 15.0 for h in unheld) and unheld.count(15.0) >= len(unheld) // 2
    # transfers: 901 to 903 (an operator), 902 to support (a queue); each request ends
    requested = Counter((e["operator_id"], e["target"]) for e in events if e["event"] == "operator_transfer_requested")
    assert set(requested) == {("901", "903"), ("902", "support")}
    ended = [e for e in events if e["event"] == "operator_transfer_ended"]
    assert len(ended) == sum(requested.values())
    assert {(e["kind"], e["outcome"]) for e in ended} <= {
        ("operator", "answered"), ("operator", "busy"), ("operator", "no_answer"),
        ("queue", "answered"), ("queue", "hangup"),
    }  # fmt: skip
    assert any(e["outcome"] == "answered" and e["to_operator_id"] == "903" for e in ended)
    # every call still ends, and the caller reached by a transfer is counted once per conversation
    assert names["call_started"] == names["call_ended"]
    assert names["queue_completed"] == names["queue_connected"]


def test_the_same_seed_gives_the_same_day(tmp_path: Path) -> None:
    def shape(events: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return [(e["event"], e.get("call_id"), e.get("t"), e.get("operator_id")) for e in events if "call_id" in e]

    assert shape(simulate(tmp_path, CENTRE, "one")) == shape(simulate(tmp_path, CENTRE, "two"))


def test_without_sim_settings_nobody_holds_or_transfers(tmp_path: Path) -> None:
    plain = """\
operators: [{id: "901", extension: "901"}, {id: "902", extension: "902"}, {id: "903", extension: "903"}]
queues:
  - {id: sales, members: ["901", "902"], strategy: longest_idle, wrap_up: 5}
  - {id: support, members: ["903"], wrap_up: 5}
"""
    names = Counter(e["event"] for e in simulate(tmp_path, plain, "plain"))
    assert names["call_started"] > 50
    assert not {n for n in names if n.startswith(("leg_held", "leg_unheld", "operator_transfer_"))}


def test_events_out_takes_one_replication(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "sc.json").write_text(json.dumps(SCENARIO))
    code = main(["simulate", str(tmp_path / "sc.json"), "--operators", "2", "--arrivals", "40/h", "--aht", "120",
                 "--replications", "3", "--events-out", str(tmp_path / "x.jsonl")])  # fmt: skip
    assert code == 2
    assert "--events-out stores one simulated day: give --replications 1" in capsys.readouterr().err
    assert not (tmp_path / "x.jsonl").exists()
