"""Virtual operators for the simulator: a phone per operator target, and the
dialer that rings a caller back when their callback is due.

By default every operator answers after `answer_after` seconds and talks for
`talk_time` seconds (drawn from an exponential distribution with that mean
when `exponential`). `phones` overrides single targets, e.g. to make 901 never
answer or 904's desk phone busy.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from flowengine.acd import decisions as d
from flowengine.telephony import DialOutcome
from flowengine.testing.phones import VirtualPhone
from telephony_adapters.sim.backend import SimBackend

if TYPE_CHECKING:
    from flowengine.acd.driver import AcdDriver


def sim_callback_dialer(backend: SimBackend, *, answer_after: float = 5.0, talk_time: float = 60.0):  # type: ignore[no-untyped-def]
    """Ring the caller back: they answer after `answer_after` s (a caller's
    number listed in the backend's directory behaves as that phone says) and
    talk with the reserved operator, then the operator goes to wrap-up."""

    async def dial(driver: AcdDriver, due: d.CallbackDue) -> None:
        phone = backend.directory.get(due.caller, VirtualPhone(answer_after=answer_after, talk_time=talk_time))
        if phone.busy:
            await asyncio.sleep(0.5)
            driver.callback_failed(due, DialOutcome.BUSY)
            return
        if phone.answer_after is None or phone.answer_after >= due.timeout:
            await asyncio.sleep(due.timeout)
            driver.callback_failed(due, DialOutcome.NO_ANSWER)
            return
        await asyncio.sleep(phone.answer_after)
        driver.callback_answered(due)
        talk = backend.rng.expovariate(1.0 / phone.talk_time) if phone.exponential_talk else phone.talk_time
        await asyncio.sleep(talk)
        driver.callback_completed(due)

    return dial
