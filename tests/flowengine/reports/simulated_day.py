"""One way to simulate a short day for the report tests: scripted callers
placed at their times on the simulator, the centre's virtual operators
answering, every event written to a JSON-lines file and read back."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scenario_builders import AT, deadline, script

from flowengine.acd import Centre
from flowengine.acd.analysis.export import read_events
from flowengine.acd.driver import AcdDriver
from flowengine.events import JsonLinesSink
from flowengine.reports import Period
from flowengine.runtime.clock import WallClock
from flowengine.runtime.engine import Engine, platform_call_ids
from flowengine.runtime.virtual_loop import run_virtual
from flowengine.scenario.compiled import Scenario
from flowengine.testing.harness import CentreSetup, attach_centre
from telephony_adapters.sim import SimBackend

MOSCOW = dt.timezone(dt.timedelta(hours=3))


def period() -> Period:
    """The hour the days are in, in the centre's time zone (Moscow)."""
    return Period(AT.timestamp(), AT.timestamp() + 3600, MOSCOW)


def simulate_day(
    path: Path,
    centre: Centre,
    scenario: Scenario,
    calls: list[tuple[float, dict[str, Any]]],
    *,
    statuses: dict[str, str] | None = None,
    on_start: Callable[[asyncio.AbstractEventLoop, AcdDriver], None] | None = None,
    settle: float = 30.0,
) -> list[dict[str, Any]]:
    """Place `calls` (start second, script fields with `steps`) against
    `scenario` with phones that answer after 3 s and talk 10 s; `settle`
    seconds after the last call ends the day. `on_start` may schedule status
    changes on the driver."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        engine = Engine(clock=WallClock(AT), call_ids=platform_call_ids)
        engine.add_sink(JsonLinesSink(path))
        backend = SimBackend(engine)
        driver = attach_centre(
            engine, backend, CentreSetup(centre, answer_after=3.0, talk_time=10.0, statuses=statuses or {})
        )
        if on_start is not None:
            on_start(loop, driver)
        tasks = []
        for at, fields in calls:
            await asyncio.sleep(at - loop.time())
            fields = dict(fields)
            steps = fields.pop("steps", [])
            tasks.append(backend.place_call(script(steps, **fields), scenario)[1])
        await asyncio.gather(*tasks)
        await asyncio.sleep(settle)
        await driver.shutdown()
        await engine.shutdown()

    with deadline(20):
        run_virtual(main())
    return list(read_events([path]))
