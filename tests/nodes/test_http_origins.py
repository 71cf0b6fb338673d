"""One slow origin must not starve the others: a CRM that never answers,
flooded by more calls than the old shared pool held, next to a healthy one.

Real servers on 127.0.0.1, real sockets, calls on the real clock.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from local_http import Reply, SilentServer, serving, silent

from flowengine.events import HttpRequested, NodeEntered, StreamEvent
from flowengine.runtime.engine import Engine
from flowengine.runtime.outbound import HttpLimits
from flowengine.scenario.compiled import Scenario
from flowengine.scenario.loader import load_scenario_data
from flowengine.testing.harness import scripted_backend
from flowengine.testing.script import CallerScript

DEAD_CALLS = 110
HEALTHY_CALLS = 20


def lookup(scenario_id: str, url: str, timeout: float) -> Scenario:
    return load_scenario_data(
        {
            "schema": 1,
            "id": scenario_id,
            "variables": [{"name": "NAME", "default": ""}],
            "nodes": [
                {"id": "start", "type": "start", "exits": {"next": "crm"}},
                {
                    "id": "crm",
                    "type": "http",
                    "params": {"url": url, "timeout": timeout, "response": {"NAME": "name"}},
                    "exits": {"ok": "found", "timeout": "slow", "error": "failed"},
                },
                {"id": "found", "type": "hangup"},
                {"id": "slow", "type": "hangup"},
                {"id": "failed", "type": "hangup"},
            ],
        }
    )


async def flood(
    dead: SilentServer, healthy_base: str, limits: HttpLimits | None
) -> tuple[list[HttpRequested], list[HttpRequested], float]:
    engine = Engine(http_limits=limits) if limits is not None else Engine()
    seen: list[HttpRequested] = []

    def listen(event: StreamEvent) -> None:
        if isinstance(event, HttpRequested):
            seen.append(event)

    engine.add_listener(listen)
    backend = scripted_backend(engine)
    stuck = engine.publish(lookup("stuck", dead.base + "/client", 4.0)).scenario
    fine = engine.publish(lookup("fine", healthy_base + "/client", 2.0)).scenario
    tasks = [backend.place_call(CallerScript(caller=f"+7916000{i:04d}"), stuck)[1] for i in range(DEAD_CALLS)]
    await asyncio.sleep(0.3)  # the dead origin's calls are all waiting now
    began = time.monotonic()
    tasks += [backend.place_call(CallerScript(caller=f"+7926000{i:04d}"), fine)[1] for i in range(HEALTHY_CALLS)]
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)
    took = time.monotonic() - began
    await engine.shutdown()
    dead_events = [e for e in seen if e.url.startswith(dead.base)]
    healthy_events = [e for e in seen if e.url.startswith(healthy_base)]
    return dead_events, healthy_events, took


def test_a_dead_crm_does_not_starve_a_healthy_one() -> None:
    def answer(_request: dict[str, Any]) -> Reply:
        return Reply(200, json.dumps({"name": "Иван"}).encode())

    with silent() as dead, serving(answer) as healthy:
        dead_events, healthy_events, took = asyncio.run(flood(dead, healthy.base, None))
        held = dead.connections
    assert len(healthy_events) == HEALTHY_CALLS
    assert {e.outcome for e in healthy_events} == {"ok"}
    assert len(dead_events) == DEAD_CALLS
    # the dead origin held at most its share of connections; the rest were told
    # at once that no connection to it was free
    outcomes = [e.outcome for e in dead_events]
    assert set(outcomes) == {"timeout", "pool_timeout"}
    assert outcomes.count("timeout") <= HttpLimits().per_origin
    assert held <= HttpLimits().per_origin
    assert took < 30  # the healthy calls did not wait out the dead ones' 4 s timeouts in turn
    busy = next(e for e in dead_events if e.outcome == "pool_timeout")
    assert "no free connection" in (busy.detail or "") and dead.base in (busy.detail or "")


def test_a_webhook_to_a_busy_origin_fails_without_waiting_its_turn_forever() -> None:
    """Limits are an engine setting; a webhook that finds no free connection is
    a failed webhook (logged, the call goes on)."""
    limits = HttpLimits(per_origin=2, connections=8, wait=0.2)
    doc = {
        "schema": 1,
        "id": "hook",
        "nodes": [
            {"id": "start", "type": "start", "exits": {"next": "tell"}},
            {"id": "tell", "type": "notify", "exits": {"next": "bye"}, "params": {"channel": "webhook", "message": "m", "url": "URL", "timeout": 2}},
            {"id": "bye", "type": "hangup"},
        ],
    }

    async def main(base: str) -> list[StreamEvent]:
        engine = Engine(http_limits=limits)
        seen: list[StreamEvent] = []
        engine.add_listener(seen.append)
        backend = scripted_backend(engine)
        doc["nodes"][1]["params"]["url"] = base + "/hook"  # type: ignore[index]
        scenario = engine.publish(load_scenario_data(doc)).scenario
        tasks = [backend.place_call(CallerScript(caller=f"+7916{i:07d}"), scenario)[1] for i in range(5)]
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=30)
        await engine.shutdown()
        return seen

    with silent() as dead:
        seen = asyncio.run(main(dead.base))
    hooks = [e for e in seen if getattr(e, "channel", None) == "webhook"]
    details = sorted(str(getattr(e, "detail", "")) for e in hooks)
    reached = [e for e in seen if isinstance(e, NodeEntered) and e.node_id == "bye"]
    assert len(reached) == 5  # every call went on past its failed webhook
    assert len(hooks) == 5 and not any(getattr(e, "ok", True) for e in hooks)
    assert sum("no free connection" in d and "within 0.2 s" in d for d in details) == 3
    assert sum("no answer within 2 s" in d for d in details) == 2


def test_limits_are_checked() -> None:
    import pytest

    with pytest.raises(ValueError, match="per_origin"):
        HttpLimits(per_origin=0)
    with pytest.raises(ValueError, match="per_origin"):
        HttpLimits(per_origin=10, connections=5)
    with pytest.raises(ValueError, match="wait"):
        HttpLimits(wait=float("nan"))
