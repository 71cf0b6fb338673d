"""The wallboard from real simulated calls through the engine and the ACD.

One queue, two operators answering after 3 s and talking 10 s; four callers
arrive at 0, 1, 2 and 3 s. The first two are answered at once (wait 3 s of
ringing each); the third waits for the first operator to finish; the fourth
gives up after 5 s. Every figure is checked against that hand tally, live
and replayed from the JSON-lines file the engine wrote.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from scenario_builders import AT, deadline, doc, hangup, load, node, script, start

from flowengine.acd import parse_centre
from flowengine.acd.analysis.export import read_events
from flowengine.events import JsonLinesSink, event_from_dict
from flowengine.monitor import MonitorHub, QueueInfo, Wallboard, queue_infos
from flowengine.runtime.clock import WallClock
from flowengine.runtime.engine import Engine, platform_call_ids
from flowengine.runtime.virtual_loop import run_virtual
from flowengine.testing.harness import CentreSetup, attach_centre
from telephony_adapters.sim import SimBackend

CENTRE = parse_centre({
    "operators": [{"id": "901", "extension": "901"}, {"id": "902", "extension": "902"}],
    "queues": [{"id": "sales", "members": ["901", "902"], "strategy": "longest_idle", "ring_timeout": 15, "wrap_up": 0,
                "service_level": 10}],
})
SCENARIO = load(doc([
    start("q"),
    node("q", "queue", {"queue": "sales"}, answered="bye", timeout="bye", full="bye", no_operators="bye"),
    hangup("bye"),
]))


def simulate(tmp: Path, *, slow_limit: int = 2) -> dict[str, Any]:
    events_file = tmp / "events.jsonl"

    async def main() -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        engine = Engine(clock=WallClock(AT), call_ids=platform_call_ids)
        engine.add_sink(JsonLinesSink(events_file))
        hub = MonitorHub(Wallboard(queue_infos(CENTRE), tz="Europe/Moscow"))
        engine.add_listener(hub.publish)
        backend = SimBackend(engine)
        driver = attach_centre(engine, backend, CentreSetup(CENTRE, answer_after=3.0, talk_time=10.0))
        fast = hub.subscribe()
        slow = hub.subscribe(limit=slow_limit)
        got: list[dict[str, Any]] = []

        async def read_fast() -> None:
            async for message in fast:
                got.append(message)

        reader = loop.create_task(read_fast())
        tasks = []
        for at, patience in ((0, None), (1, None), (2, None), (3, 5.0)):
            await asyncio.sleep(at - loop.time())
            extra = {"patience": patience} if patience else {}
            tasks.append(backend.place_call(script(caller=f"+7916000000{at}", **extra), SCENARIO)[1])
        await asyncio.sleep(2.5)  # mid-way: callers 3 and 4 wait, 901 and 902 talk
        mid = hub.board.snapshot()
        await asyncio.gather(*tasks)
        await asyncio.sleep(1)
        end = hub.board.snapshot()
        await driver.shutdown()
        await engine.shutdown()
        fast.close()
        await reader
        slow_messages = []
        while slow.pending():
            slow_messages.append(await slow.get())
        return {"mid": mid, "end": end, "fast": got, "slow": slow_messages, "slow_resyncs": slow.resyncs,
                "version": hub.version, "events": events_file}

    with deadline(20):
        return run_virtual(main())


def by_id(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in rows}


def test_wallboard_figures_match_the_hand_tally(tmp_path: Path) -> None:
    out = simulate(tmp_path)
    mid = by_id(out["mid"]["queues"])["sales"]
    # at 4.5 s: callers 1 and 2 talk, 3 and 4 wait in arrival order
    assert [w["caller"] for w in mid["waiting"]] == ["+79160000002", "+79160000003"]
    assert [w["position"] for w in mid["waiting"]] == [1, 2]
    ops = by_id(out["mid"]["operators"])
    assert {o["state"] for o in ops.values()} == {"talking"}
    assert mid["logged_in"] == 2 and mid["available"] == 0

    end = by_id(out["end"]["queues"])["sales"]
    assert end["waiting"] == [] and end["longest_wait_since"] is None
    assert end["offered"] == 4
    assert end["answered"] == 3
    assert end["abandoned"] == 1
    # waits: 3 (ring), 3 (ring), and caller 3 waits for 901 to finish at 13 s, then 3 s of ringing
    assert end["avg_wait"] is not None and abs(end["avg_wait"] - (3 + 3 + 14) / 3) < 0.01
    assert end["avg_talk"] == 10.0
    # within the 10 s threshold: 2 of the 4 that stopped waiting
    assert end["service_level"] == 0.5
    ops = by_id(out["end"]["operators"])
    assert sum(o["answered_today"] for o in ops.values()) == 3
    assert all(o["state"] == "idle" and o["last_call_end"] is not None for o in ops.values())


def test_a_replayed_stream_gives_the_same_board(tmp_path: Path) -> None:
    out = simulate(tmp_path)
    board = Wallboard(queue_infos(CENTRE), tz="Europe/Moscow")
    for data in read_events([out["events"]]):
        board.apply(event_from_dict(data))
    assert board.snapshot() == out["end"]


def test_a_slow_viewer_is_resynced_while_a_fast_one_gets_every_delta(tmp_path: Path) -> None:
    out = simulate(tmp_path, slow_limit=2)
    fast = out["fast"]
    assert fast[0]["type"] == "snapshot"
    versions = [m["version"] for m in fast[1:]]
    assert versions == list(range(versions[0], versions[0] + len(versions)))  # no gap
    assert all(m["type"] == "delta" for m in fast[1:])
    # the slow viewer read nothing until the end: it holds a resync, then what came after
    assert out["slow_resyncs"] >= 1
    assert out["slow"][0]["type"] == "resync"
    assert len(out["slow"]) <= 2
    # its resync shows the board as it was then, and nothing is lost in the end
    last_fast_board = fold(fast)
    assert last_fast_board == fold(out["slow"])


def fold(messages: list[dict[str, Any]]) -> dict[tuple[str, str], Any]:
    """What a client shows after applying the messages in order."""
    shown: dict[tuple[str, str], Any] = {}
    for m in messages:
        if m["type"] in ("snapshot", "resync"):
            shown = {("operator", o["id"]): o for o in m["board"]["operators"]}
            shown.update({("queue", q["id"]): q for q in m["board"]["queues"]})
        elif m["type"] == "delta":
            for c in m["changes"]:
                shown[(c["kind"], c["id"])] = c["data"]
    return shown


def test_an_operator_view_sees_only_their_own_row(tmp_path: Path) -> None:
    board = Wallboard(queue_infos(CENTRE), tz="UTC")

    async def main() -> list[dict[str, Any]]:
        hub = MonitorHub(board)
        sub = hub.subscribe(only=lambda change: change["kind"] == "operator" and change["id"] == "901")
        from flowengine.events import OperatorStatusChanged

        for i, op in enumerate(("901", "902", "901")):
            hub.publish(OperatorStatusChanged(operator_id=op, seq=i + 1, ts=1_800_000_000.0 + i, status="break",
                                              previous="available", reason="lunch", by="operator", available=False))
            await asyncio.sleep(0)
        await asyncio.sleep(0)
        messages = []
        while sub.pending():
            messages.append(await sub.get())
        return messages

    messages = asyncio.run(main())
    assert messages[0]["type"] == "snapshot" and messages[0]["board"]["queues"] == []
    seen = {c["id"] for m in messages[1:] for c in m["changes"]}
    assert seen == {"901"}


def test_an_overflowed_call_waits_on_in_the_new_queue_with_its_seniority() -> None:
    from flowengine.events import QueueEntered, QueueOverflow

    board = Wallboard({"sales": QueueInfo(), "support": QueueInfo()}, tz="UTC")
    common = {"call_id": "c1", "t": 0.0, "scenario_id": "s", "scenario_version": 1, "node_id": "q"}
    t0 = 1_800_000_000.0
    board.apply(QueueEntered(seq=1, ts=t0, queue_id="sales", position=1, **common))
    board.apply(QueueOverflow(seq=2, ts=t0 + 30, queue_id="sales", to_queue="support", wait=30.0, **common))
    queues = by_id(board.snapshot()["queues"])
    assert queues["sales"]["waiting"] == [] and queues["sales"]["overflow_out"] == 1
    assert [w["since"] for w in queues["support"]["waiting"]] == [t0]
    assert queues["support"]["overflow_in"] == 1 and queues["support"]["longest_wait_since"] == t0
