"""fewest_calls over calendar windows (this hour, today, in the centre's time
zone), the wall clock resetting the counts, and the counts rebuilt from the
operator stream after a restart."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from scenario_builders import deadline, doc, hangup, load, node, script, start

from flowengine.acd import decisions as d
from flowengine.acd.calendar import Calendar
from flowengine.acd.core import ACD
from flowengine.acd.model import CentreError, parse_centre
from flowengine.acd.restore import counts_from_events, restore_counts
from flowengine.acd.testing import Behaviour, VirtualCentre
from flowengine.errors import UsageError
from flowengine.runtime.clock import WallClock
from flowengine.runtime.engine import Engine, platform_call_ids
from flowengine.runtime.virtual_loop import run_virtual
from flowengine.testing.harness import CentreSetup, attach_centre
from telephony_adapters.sim import SimBackend

MSK = dt.timezone(dt.timedelta(hours=3))


def at(hh: int, mm: int = 0, ss: float = 0) -> float:
    """Epoch seconds of 2026-11-23 hh:mm:ss Moscow time (the core's `now` in these tests)."""
    return dt.datetime(2026, 11, 23, hh, mm, tzinfo=MSK).timestamp() + ss


def centre(**params: Any) -> dict[str, Any]:
    ops = [{"id": o, "extension": o} for o in ("901", "902")]
    queue = {"id": "q", "strategy": "fewest_calls", "strategy_params": params, "members": ["901", "902"]}
    return {"operators": ops, "queues": [queue], "timezone": "Europe/Moscow"}


def history(c: dict[str, Any], plan: list[tuple[float, str]]) -> VirtualCentre:
    """Operators answer calls at these times (each call restricted to its operator)."""
    r = VirtualCentre(ACD(c), default=Behaviour(answer_after=0, talk=60))
    for i, (t, op) in enumerate(plan):
        r.arrive(t, f"h{i}", "q", operators=[op])
    return r


def test_calendar_finds_hours_and_days_in_the_time_zone() -> None:
    cal = Calendar("Europe/Moscow")
    assert cal.hour_start(at(10, 59, 59)) == at(10)
    assert cal.day_start(at(0, 30)) == at(0) and cal.day_start(at(23, 59)) == at(0)
    # India is 5:30 off UTC: its hours begin at :30 UTC
    india = Calendar("Asia/Kolkata")
    assert india.hour_start(at(10, 45)) == at(10, 30)
    # a driver's clock: core time 0 is the epoch offset
    moved = Calendar("Europe/Moscow", offset=at(0))
    assert moved.hour_start(3 * 3600 + 5) == 3 * 3600
    # the day the clocks go back in Berlin has 25 hours
    berlin = Calendar("Europe/Berlin")
    oct25 = dt.datetime(2026, 10, 25, 23, 0, tzinfo=dt.timezone(dt.timedelta(hours=1))).timestamp()
    midnight = dt.datetime(2026, 10, 25, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))).timestamp()
    assert berlin.day_start(oct25) == midnight and oct25 - midnight == 24 * 3600


def test_this_hour_counts_from_the_full_hour_unlike_the_last_60_minutes() -> None:
    plan = [(at(9, 50), "901"), (at(9, 55), "901"), (at(10, 10), "902")]
    sliding = history(centre(window="hour"), plan)
    sliding.arrive(at(10, 40), "c", "q")
    sliding.run(at(10, 41))
    assert sliding.rang("c") == [(at(10, 40), "902")]  # last 60 min: 901 two, 902 one
    calendar = history(centre(window="hour", period="calendar"), plan)
    calendar.arrive(at(10, 40), "c", "q")
    calendar.run(at(10, 41))
    assert calendar.rang("c") == [(at(10, 40), "901")]  # this hour: 901 none, 902 one


def test_the_wall_clock_resets_the_counts_without_any_event() -> None:
    # 902 took two calls after 10:00, 901 one; nothing happens at 11:00
    plan = [(at(10, 5), "902"), (at(10, 10), "902"), (at(10, 20), "901")]
    r = history(centre(window="hour", period="calendar"), plan)
    r.arrive(at(10, 59, 59), "before", "q")
    r.run(at(11, 0, 30))
    assert r.rang("before") == [(at(10, 59, 59), "901")]  # 901: 1 < 2
    # 11:01: both start again from zero -> the tie goes to the longest idle, 902
    # (their last call ended 10:11, 901's first ended 10:21 and their second is on)
    r.arrive(at(11, 1), "after", "q")
    r.run(at(11, 2))
    assert r.rang("after") == [(at(11, 1), "902")]


def test_today_starts_at_local_midnight() -> None:
    plan = [(at(0, 10) - 3600, "901"), (at(0, 20) - 3600, "901"), (at(1, 0), "902")]  # 901 before midnight
    day = history(centre(window="day", period="calendar"), plan)
    day.arrive(at(2), "c", "q")
    day.run(at(2, 1))
    assert day.rang("c") == [(at(2), "901")]
    sliding = history(centre(window="day"), plan)
    sliding.arrive(at(2), "c", "q")
    sliding.run(at(2, 1))
    assert sliding.rang("c") == [(at(2), "902")]


def test_bad_settings_are_refused_with_their_place() -> None:
    with pytest.raises(CentreError, match=r"queues\[0\].strategy_params.recalc: .*always be zero"):
        parse_centre(centre(window="hour", period="calendar", recalc="hourly"))
    with pytest.raises(CentreError, match="timezone: unknown time zone 'Mars/Olympus'"):
        parse_centre({**centre(), "timezone": "Mars/Olympus"})
    with pytest.raises(CentreError, match="period"):
        parse_centre(centre(period="weekly"))


# ---- counts rebuilt from the stream --------------------------------------------------------
@pytest.fixture(autouse=True)
def _no_hang() -> Iterator[None]:
    with deadline(30):
        yield


AT = dt.datetime(2026, 11, 23, 9, 0, tzinfo=MSK)
OPS = ("901", "902", "903")


def three_operators() -> dict[str, Any]:
    ops = [{"id": o, "extension": o} for o in OPS]
    q = {"id": "q", "strategy": "fewest_calls", "strategy_params": {"window": "day", "period": "calendar"}, "members": list(OPS)}
    return {"operators": ops, "queues": [q], "timezone": "Europe/Moscow"}


def a_morning() -> tuple[list[str], ACD]:
    """Calls through the engine, the driver and virtual phones from 09:00:
    903 is away for the first hour, so 901 and 902 take the early calls.
    The stored streams as JSON lines, and the ACD that ran."""
    c = parse_centre(three_operators())
    exits = dict.fromkeys(("answered", "timeout", "full", "no_operators", "callback"), "bye")
    scenario = load(doc([start("q"), node("q", "queue", {"queue": "q"}, **exits), hangup("bye")]))
    lines: list[str] = []

    async def morning() -> ACD:
        loop = asyncio.get_running_loop()
        engine = Engine(clock=WallClock(AT), call_ids=platform_call_ids)
        engine.add_listener(lambda e: lines.append(json.dumps(e.to_dict())))
        backend = SimBackend(engine)
        driver = attach_centre(engine, backend, CentreSetup(c, answer_after=2, talk_time=100, statuses={"903": "break"}))
        try:
            for t in (60, 300, 600, 900, 1200, 3000):
                await asyncio.sleep(t - loop.time())
                backend.place_call(script(), scenario)
            await asyncio.sleep(3600 - loop.time())
            driver.set_status("903", "available")
            await asyncio.sleep(3700 - loop.time())
            await engine.drain()
        finally:
            await driver.shutdown()
            await engine.shutdown()
        return driver.core

    acd = run_virtual(morning())
    return lines, acd


def probe(acd: ACD, t0: float) -> list[tuple[float, d.Decision]]:
    """Six calls, two minutes apart, each answered at once and talked for 5 minutes."""
    out: list[tuple[float, d.Decision]] = []
    talking: list[tuple[float, str]] = []
    for i in range(6):
        now = t0 + 120 * i
        for end, cid in [x for x in talking if x[0] <= now]:
            talking.remove((end, cid))
            out += [(end, x) for x in acd.call_completed(end, cid)]
        got = acd.call_arrived(now, f"p{i}", "q")
        for x in list(got):
            if isinstance(x, d.Ring):
                got += acd.offer_answered(now, x.call_id, x.operator_id, x.leg)
                talking.append((now + 300, x.call_id))
        out += [(now, x) for x in got]
    # the driver's ACD also reports every state move; the decisions are the rest
    return [(t, x) for t, x in out if not isinstance(x, d.OperatorStateChanged)]


def test_counts_rebuilt_from_the_stored_stream_give_the_same_decisions() -> None:
    lines, before = a_morning()
    counts = counts_from_events(json.loads(line) for line in lines)
    assert {op: len(c.answered) for op, c in counts.items()} == {"901": 3, "902": 3}  # 903 was away
    # a new ACD after a "restart" at the same instant, on the same clock
    restart = before.now
    after = ACD(three_operators(), now=restart)
    after.calendar.offset = before.calendar.offset
    restore_counts(after, counts)
    t0 = restart + 10
    original = probe(before, t0)
    assert probe(after, t0) == original
    rung = [x.operator_id for _t, x in original if isinstance(x, d.Ring)]
    assert rung == ["903", "901", "902", "903", "901", "902"]  # 903 had no call today
    # without the counts a restarted ACD would decide otherwise
    fresh = ACD(three_operators(), now=restart)
    fresh.calendar.offset = before.calendar.offset
    forgot = [x.operator_id for _t, x in probe(fresh, t0) if isinstance(x, d.Ring)]
    assert forgot == ["901", "902", "903", "901", "902", "903"]


def test_restoring_after_the_first_call_is_refused() -> None:
    acd = ACD(three_operators(), now=at(9))
    acd.call_arrived(at(9), "x", "q")
    with pytest.raises(UsageError, match="before the ACD takes its first call"):
        restore_counts(acd, {})
