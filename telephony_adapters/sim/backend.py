"""The simulator backend: a virtual PBX that places scripted calls into an engine.

Legs (Transfer, Queue, callbacks) ring virtual phones from `directory`: each
answers after a delay, is busy, declines or never answers, and talks for a
while (see `operators` for the phones' line state). A number not in the
directory does not exist (404), except a scripted caller's own number, which
behaves as `caller_phone` when the engine rings it back.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import random
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from flowengine.errors import UsageError
from flowengine.telephony import BlindTransfer, DialOutcome, HangupCause, Leg
from flowengine.telephony.backend import Backend, LegJoin
from flowengine.testing.phones import VirtualPhone
from flowengine.testing.script import CallerScript
from telephony_adapters.sim.call import SimCall
from telephony_adapters.sim.operators import PhoneLine, PhoneState, SimLeg

if TYPE_CHECKING:
    from flowengine.runtime.context import CallContext
    from flowengine.runtime.engine import Engine
    from flowengine.scenario.compiled import Scenario


class SimBackend(Backend):
    name = "sim"

    def __init__(
        self,
        engine: Engine,
        *,
        directory: dict[str, VirtualPhone] | None = None,
        seed: int = 1,
        caller_phone: VirtualPhone | None = None,
        recordings_dir: Path | None = None,
    ) -> None:
        super().__init__(engine)
        #: where a Record node's recordings are written as WAV files (`file://` URIs);
        #: None: nothing is written and the URI is a `sim://` name
        self.recordings_dir = recordings_dir
        self.directory = directory if directory is not None else {}
        self.rng = random.Random(seed)
        #: how a scripted caller's own phone answers when the engine rings it (a callback)
        self.caller_phone = caller_phone or VirtualPhone(answer_after=5.0)
        self._callers: set[str] = set()
        self._lines: dict[str, PhoneLine] = {}
        self._ids = itertools.count(1)
        self._leg_ids = itertools.count(1)

    async def stop(self) -> None:
        """The simulator has no transport to close; its calls end with the
        engine (`Engine.shutdown` hangs them up with cause `shutdown`)."""

    # ---- calls in -----------------------------------------------------------------------------
    def place_call(
        self,
        script: CallerScript,
        scenario: Scenario | None = None,
        call_id: str | None = None,
        *,
        at: dt.datetime | None = None,
    ) -> tuple[SimCall, asyncio.Task[CallContext]]:
        """`at`: the time of day the scenario sees (Engine.start_call)."""
        call = SimCall(self, call_id or f"sim-{next(self._ids)}", script)
        self._callers.add(script.caller)
        task = self.engine.start_call(call, scenario, at=at)
        call.start_script()
        return call, task

    # ---- phones -------------------------------------------------------------------------------
    def owns(self, target: str) -> bool:
        return target in self.directory

    def phone_state(self, number: str) -> PhoneState:
        """idle, ringing or on_call: what the phone of `number` is doing now."""
        if number not in self.directory and number not in self._callers:
            raise UsageError(f"no virtual phone has the number '{number}'")
        line = self._lines.get(number)
        return "idle" if line is None else line.state

    def _phone(self, number: str) -> VirtualPhone | None:
        phone = self.directory.get(number)
        if phone is None and number in self._callers:
            phone = self.caller_phone
        return phone

    def _line(self, number: str) -> PhoneLine:
        line = self._lines.get(number)
        if line is None:
            line = self._lines[number] = PhoneLine()
        return line

    def answered_leg(self, number: str) -> SimLeg | None:
        """The leg the phone of `number` is talking on now (a test holds or
        transfers with it, as the operator would from that phone)."""
        line = self._lines.get(number)
        return None if line is None else line.active

    def draw(self, share: float) -> bool:
        """True for a `share` (0..1) of draws; draws nothing from the
        generator for 0 or 1, so a phone without such a share changes no run."""
        if share <= 0:
            return False
        return share >= 1 or self.rng.random() < share

    # ---- legs out ---------------------------------------------------------------------------
    def ring(self, target: str, *, ring_timeout: float) -> SimLeg:
        """Ring the phone of `target` (for a call's leg and for `originate` alike)."""
        phone = self._phone(target)
        talk = 0.0
        if phone is not None:
            talk = self.rng.expovariate(1.0 / phone.talk_time) if phone.exponential_talk else phone.talk_time
        leg = SimLeg(
            self,
            target,
            phone,
            self._line(target),
            ring_timeout=ring_timeout,
            talk_time=talk,
            leg_id=f"sim-leg-{next(self._leg_ids)}",
        )
        leg.start(ring_timeout)
        return leg

    def originate(
        self,
        target: str,
        *,
        ring_timeout: float,
        caller_id: str,
        caller_name: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> SimLeg:
        return self.ring(target, ring_timeout=ring_timeout)

    async def join(self, a: Leg, b: Leg, *, record: bool = False, name: str = "") -> LegJoin | None:
        """Two virtual phones need nothing to hear each other (a callback)."""
        if isinstance(a, SimLeg) and isinstance(b, SimLeg) and a.backend is self and b.backend is self:
            return LegJoin()
        return None

    def transfer(self, call: SimCall, transfer: BlindTransfer) -> None:
        """A blind transfer: the caller's phone accepts it at once and rings
        the target itself; the target's phone decides the NOTIFY (200 when it
        answers, its failure's status otherwise, nothing if it never answers)."""
        loop = asyncio.get_running_loop()
        loop.call_soon(transfer.accept_received)
        leg = self.ring(transfer.target, ring_timeout=transfer.timeout)

        def notify(outcome: asyncio.Future[DialOutcome]) -> None:
            if outcome.result() is DialOutcome.ANSWERED:
                if not transfer.result().done():
                    call.transferred()
                transfer.notify_received(200)
                return
            cause = leg.cause or HangupCause.from_sip(480)
            if outcome.result() is not DialOutcome.NO_ANSWER:
                transfer.notify_received(cause.sip_status or 480)

        leg.outcome().add_done_callback(notify)
