"""The simulator backend: a virtual PBX that places scripted calls into an engine.

Outgoing legs (Transfer, Queue) ring virtual phones from `directory`: each
answers after a delay, is busy, or never answers, and talks for a while.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from pathlib import Path
from typing import TYPE_CHECKING

from flowengine.telephony import DialOutcome, Leg
from flowengine.telephony.backend import Backend
from flowengine.testing.phones import VirtualPhone
from flowengine.testing.script import CallerScript
from telephony_adapters.sim.call import SimCall, SimLeg

if TYPE_CHECKING:
    from flowengine.acd.driver import CallbackDialer
    from flowengine.runtime.context import CallContext
    from flowengine.runtime.engine import Engine
    from flowengine.scenario.compiled import Scenario


class SimBackend(Backend):
    name = "sim"

    def __init__(
        self,
        engine: Engine,
        *,
        media_root: Path | None = None,
        directory: dict[str, VirtualPhone] | None = None,
        seed: int = 1,
    ) -> None:
        super().__init__(engine)
        self.media_root = media_root
        self.directory = directory if directory is not None else {}
        self.rng = random.Random(seed)
        self._ids = itertools.count(1)

    def place_call(
        self, script: CallerScript, scenario: Scenario | None = None, call_id: str | None = None
    ) -> tuple[SimCall, asyncio.Task[CallContext]]:
        call = SimCall(self, call_id or f"sim-{next(self._ids)}", script)
        task = self.engine.start_call(call, scenario)
        call.start_script()
        return call, task

    def callback_dialer(self, *, talk_time: float = 60.0) -> CallbackDialer:
        """Rings callers back when their callback is due (virtual phones)."""
        from telephony_adapters.sim.operators import sim_callback_dialer

        return sim_callback_dialer(self, talk_time=talk_time)

    def ring(self, call: SimCall, target: str, *, ring_timeout: float) -> Leg:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[DialOutcome] = loop.create_future()
        phone = self.directory.get(target)
        talk = 0.0
        if phone is not None:
            talk = self.rng.expovariate(1.0 / phone.talk_time) if phone.exponential_talk else phone.talk_time
        leg = SimLeg(target, fut, talk)
        if phone is None:
            leg.handles.append(loop.call_soon(_settle, fut, DialOutcome.FAILED))
        elif phone.busy or phone.reject:
            outcome = DialOutcome.BUSY if phone.busy else DialOutcome.REJECTED
            leg.handles.append(loop.call_later(0.5, _settle, fut, outcome))
        elif phone.answer_after is None or phone.answer_after >= ring_timeout:
            leg.handles.append(loop.call_later(ring_timeout, _settle, fut, DialOutcome.NO_ANSWER))
        else:
            leg.handles.append(loop.call_later(phone.answer_after, _settle, fut, DialOutcome.ANSWERED))
        return leg


def _settle(fut: asyncio.Future[DialOutcome], outcome: DialOutcome) -> None:
    if not fut.done():
        fut.set_result(outcome)
