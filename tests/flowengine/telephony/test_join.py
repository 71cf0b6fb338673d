"""`dialing.join`: two legs of no caller's call are joined by the backend
whose legs they are; legs no backend can join are left talking as they
are, with a warning that names them (never an exception to the ACD)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from flowengine.runtime.engine import Engine
from flowengine.telephony import dialing
from flowengine.testing.phones import VirtualPhone
from telephony_adapters.sim import SimBackend


def test_legs_of_one_backend_are_joined_there_and_legs_of_two_are_left_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def main() -> None:
        engine = Engine()
        phones = {"901": VirtualPhone(answer_after=0.0), "+79160000001": VirtualPhone(answer_after=0.0)}
        here = SimBackend(engine, directory=dict(phones))
        there = SimBackend(engine, directory=dict(phones))
        a = here.originate("+79160000001", ring_timeout=5, caller_id="100")
        b = here.originate("901", ring_timeout=5, caller_id="100")
        far = there.originate("901", ring_timeout=5, caller_id="100")
        with caplog.at_level(logging.WARNING, logger="flowengine.telephony.dialing"):
            joined = await dialing.join(engine.router, a, b, record=True, name="call-1")
            assert caplog.records == []  # the simulator joins its own legs (nothing to do)
            assert await joined.stop() is None
            apart = await dialing.join(engine.router, a, far)
        (warning,) = caplog.records
        assert "+79160000001" in warning.getMessage() and "901" in warning.getMessage()
        assert await apart.stop() is None
        for leg in (a, b, far):
            leg.hangup()
        await engine.shutdown()

    asyncio.run(main())
