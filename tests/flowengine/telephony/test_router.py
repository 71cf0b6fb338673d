"""The target router: a leg rings on the backend where the target's phone lives."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from scenario_builders import AT, deadline, doc, events, hangup, load, node, script, start

from flowengine.errors import UsageError
from flowengine.runtime.clock import WallClock
from flowengine.runtime.engine import Engine
from flowengine.runtime.virtual_loop import run_virtual
from flowengine.telephony.backend import TargetRouter
from flowengine.testing.harness import trace_of
from flowengine.testing.phones import VirtualPhone
from telephony_adapters.sim import SimBackend


@pytest.fixture(autouse=True)
def _no_hang() -> Iterator[None]:
    with deadline(20):
        yield


def test_routes_prefixes_owners_the_calls_own_backend_then_the_default() -> None:
    async def main() -> list[Any]:
        engine = Engine(keep_events=True)
        first = SimBackend(engine)  # the first backend attached is the default
        second = SimBackend(engine, directory={"901": VirtualPhone()})
        third = SimBackend(engine)
        router = engine.router
        router.route("+7495", third, prefix=True)
        router.route("+74951112233", second)
        router.route("+749", second, prefix=True)
        return [
            router.backend_for("+74951112233"),  # exact route
            router.backend_for("+74950000000"),  # longest prefix
            router.backend_for("+74900000000"),  # shorter prefix
            router.backend_for("901"),  # a phone in its directory
            router.backend_for("555", prefer=third),  # the call's own backend
            router.backend_for("555"),  # the default
            [first, second, third],
        ]

    exact, longest, shorter, owned, preferred, default, (first, second, third) = run_virtual(main())
    assert (exact, longest, shorter, owned, preferred, default) == (second, third, second, second, third, first)


def test_a_router_with_no_backend_says_so() -> None:
    with pytest.raises(UsageError, match="no telephony backend can ring '901'"):
        TargetRouter().backend_for("901")


def test_a_transfer_rings_a_number_on_the_backend_that_owns_it() -> None:
    # The caller arrives on one backend; 300's phone lives on another. The leg is
    # originated there and bridged to the caller.
    sc = load(doc([
        start("t"),
        node("t", "transfer", {"numbers": ["300"]}, **dict.fromkeys(("answered", "busy", "no_answer", "failed"), "bye")),
        hangup("bye"),
    ]))

    async def main() -> tuple[Any, str, str]:
        engine = Engine(clock=WallClock(AT), keep_events=True)
        trunk = SimBackend(engine)
        pbx = SimBackend(engine, directory={"300": VirtualPhone(answer_after=2, talk_time=10)})
        try:
            _call, task = trunk.place_call(script(), sc)
            await asyncio.sleep(5)
            during = pbx.phone_state("300")
            ctx = await task
            return trace_of(ctx), during, pbx.phone_state("300")
        finally:
            await engine.shutdown()

    trace, during, after = run_virtual(main())
    assert [x["exit"] for x in trace.exits if x["node"] == "t"] == ["answered"]
    assert (during, after) == ("on_call", "idle")
    [ended] = events(trace, "bridge_ended")
    assert (ended["t"], ended["talk_time"], ended["ended_by"]) == (12.0, 10.0, "callee")
