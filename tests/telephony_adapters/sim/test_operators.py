"""Virtual operators: a phone per operator target, talk times drawn from the
backend's seeded generator, and the dialer that rings callers back."""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Iterator
from typing import Any

import pytest
from scenario_builders import AT, deadline, doc, events, hangup, load, node, script, start

from flowengine.acd import Centre, parse_centre
from flowengine.acd import decisions as d
from flowengine.acd.driver import AcdDriver
from flowengine.runtime.clock import WallClock
from flowengine.runtime.engine import Engine
from flowengine.runtime.virtual_loop import run_virtual
from flowengine.scenario.compiled import Scenario
from flowengine.testing.harness import CentreSetup, attach_centre, run_scenario
from flowengine.testing.phones import VirtualPhone, virtual_operators
from flowengine.testing.script import CallerScript
from telephony_adapters.sim import SimBackend, SimCall


@pytest.fixture(autouse=True)
def _no_hang() -> Iterator[None]:
    """A broken timer would leave the virtual clock with nothing to jump to: fail, do not hang."""
    with deadline(20):
        yield


def centre(**queue: Any) -> Centre:
    return parse_centre({
        "operators": [
            {"id": "901", "extension": "901"},
            {"id": "902", "extension": "902"},
            {"id": "904", "targets": [{"number": "904", "after": 0}, {"number": "+79161234904", "after": 15}]},
        ],
        "queues": [{"id": "q", "members": ["901"], "ring_timeout": 10, "retry": 0, **queue}],
        "dial_policy": {"allow": ["+7XXXXXXXXXX"]},  # callbacks dial the caller's number
    })


def queue_scenario(**params: Any) -> Scenario:
    exits = dict.fromkeys(("answered", "timeout", "full", "no_operators", "callback"), "bye")
    return load(doc([start("q"), node("q", "queue", {"queue": "q", **params}, **exits), hangup("bye")]))


def test_every_target_of_every_operator_becomes_a_phone() -> None:
    never = VirtualPhone(answer_after=None)
    phones = virtual_operators(centre(), answer_after=4, talk_time=50, phones={"902": never})
    assert set(phones) == {"901", "902", "904", "+79161234904"}
    assert phones["901"] == VirtualPhone(answer_after=4, talk_time=50)
    assert phones["+79161234904"] == VirtualPhone(answer_after=4, talk_time=50)  # the mobile too
    assert phones["902"] is never


def talk_times(seed: int, *, exponential: bool = True, n: int = 2000) -> list[float]:
    """What `n` rings of operator 901 would talk for, on a backend seeded with `seed`."""

    async def main() -> list[float]:
        directory = virtual_operators(centre(), talk_time=60, exponential=exponential)
        backend = SimBackend(Engine(keep_events=True), directory=directory, seed=seed)
        out = []
        for _ in range(n):
            leg = backend.ring("901", ring_timeout=10)
            out.append(leg.talks_for)
            leg.cancel()
        return out

    return run_virtual(main())


def test_exponential_talk_times_repeat_with_the_seed_and_average_the_mean() -> None:
    first = talk_times(7)
    assert talk_times(7) == first
    assert talk_times(8) != first
    assert abs(statistics.fmean(first) - 60) < 6
    # exponential, not just "random around 60": about e^-1 of calls outlast the mean,
    # and the spread is as large as the mean itself
    assert 0.33 < sum(t > 60 for t in first) / len(first) < 0.41
    assert 50 < statistics.pstdev(first) < 70
    assert min(first) > 0


def test_without_exponential_every_call_talks_for_talk_time() -> None:
    assert set(talk_times(7, exponential=False, n=20)) == {60.0}


def served_talk_time(seed: int) -> float:
    setup = CentreSetup(centre(), talk_time=60, exponential=True, seed=seed)
    trace = run_scenario(queue_scenario(), script(), at=AT, centre=setup)
    [done] = events(trace, "queue_completed")
    return float(done["talk_time"])


def test_a_scenario_run_draws_talk_times_from_the_centre_setup_seed() -> None:
    times = {seed: served_talk_time(seed) for seed in (1, 2, 3)}
    assert served_talk_time(2) == times[2]
    assert len(set(times.values())) == 3, times
    assert all(t != 60.0 for t in times.values())


# ---- ringing callers back -----------------------------------------------------------------
def callback_run(caller_phone: VirtualPhone | None, *, until: float = 60.0, **queue: Any) -> AcdDriver:
    """A caller asks for a callback at 1 s; operator 901 comes back from a break at 5 s."""
    c = centre(**{"callback": True, **queue})

    async def main() -> AcdDriver:
        engine = Engine(clock=WallClock(AT), keep_events=True)
        backend = SimBackend(engine)
        driver = attach_centre(engine, backend, CentreSetup(c, talk_time=15, statuses={"901": "break"}))
        if caller_phone is not None:
            backend.directory["+79160000000"] = caller_phone
        try:
            _call, task = backend.place_call(script(steps=[{"wait": 1}, {"press": "1"}]), queue_scenario(callback_digit="1"))
            await asyncio.sleep(5)
            driver.set_status("901", "available")
            await task
            await asyncio.sleep(until - 5)
        finally:
            await driver.shutdown()
            await engine.shutdown()
        return driver

    return run_virtual(main())


def timeline(driver: AcdDriver) -> list[tuple[float, str]]:
    return [(h.at, type(h.decision).__name__) for h in driver.history
            if isinstance(h.decision, d.CallbackDue | d.Connected | d.Completed | d.OfferMissed)]


def test_the_callback_dialer_rings_the_caller_and_connects_the_reserved_operator() -> None:
    # 901's phone rings first and answers after 3 s; then the caller is rung.
    # Callers not in the directory answer after 5 s; 901 talks 15 s from their answer.
    default = callback_run(None)
    assert timeline(default) == [(5.0, "CallbackDue"), (13.0, "Connected"), (23.0, "Completed")]
    own_phone = callback_run(VirtualPhone(answer_after=2, talk_time=30))
    assert timeline(own_phone) == [(5.0, "CallbackDue"), (10.0, "Connected"), (23.0, "Completed")]
    [(_t, connected)] = [(h.at, h.decision) for h in own_phone.history if isinstance(h.decision, d.Connected)]
    assert (connected.operator_id, connected.callback) == ("901", True)


def test_a_caller_who_does_not_pick_up_the_callback_is_not_the_operators_miss() -> None:
    driver = callback_run(
        VirtualPhone(busy=True), until=30, auto_break_after=3, retry=5, callback={"attempts": 3, "interval": 5}
    )
    assert [h.decision for h in driver.history if isinstance(h.decision, d.OperatorAutoBreak)] == []
    assert driver.core.operator_status("901")[0] == "available"
    # the ACD gave up on the caller after a few attempts instead of redialling for ever
    gave_up = [h.decision for h in driver.history if isinstance(h.decision, d.NoAnswer)]
    assert len(gave_up) == 1 and gave_up[0].rounds == 3


def test_an_operator_who_does_not_answer_a_callback_misses_it_and_it_goes_to_the_next() -> None:
    # 901's phone never answers; 902 answers after 3 s. The callback is the
    # operators' miss while their phone rings, and uses none of the caller's attempts.
    c = centre(callback={"attempts": 1, "interval": 60}, members=["901", "902"], strategy="linear",
               auto_break_after=1)

    async def main() -> AcdDriver:
        engine = Engine(clock=WallClock(AT), keep_events=True)
        backend = SimBackend(engine)
        setup = CentreSetup(c, talk_time=15, statuses={"901": "break", "902": "break"},
                            phones={"901": VirtualPhone(answer_after=None)})
        driver = attach_centre(engine, backend, setup)
        try:
            _call, task = backend.place_call(script(steps=[{"wait": 1}, {"press": "1"}]), queue_scenario(callback_digit="1"))
            await asyncio.sleep(5)
            driver.set_status("901", "available")
            driver.set_status("902", "available")
            await task
            await asyncio.sleep(60)
        finally:
            await driver.shutdown()
            await engine.shutdown()
        return driver

    driver = run_virtual(main())
    dues = [(h.at, h.decision.operator_id) for h in driver.history if isinstance(h.decision, d.CallbackDue)]
    assert dues == [(5.0, "901"), (15.0, "902")]  # 901 rang out after the 10 s ring timeout
    missed = [(h.at, h.decision.operator_id, h.decision.reason) for h in driver.history
              if isinstance(h.decision, d.OfferMissed)]
    assert missed == [(15.0, "901", "no_answer")]
    assert [h.decision.operator_id for h in driver.history if isinstance(h.decision, d.OperatorAutoBreak)] == ["901"]
    # 902 answers at 18, the caller at 23: one attempt was enough, none was spent on 901
    assert timeline(driver)[-2:] == [(23.0, "Connected"), (33.0, "Completed")]
    assert [h.decision for h in driver.history if isinstance(h.decision, d.NoAnswer)] == []


class Originating(SimBackend):
    """The simulator, noting every leg it originates and whether any caller's call was up."""

    def __init__(self, engine: Engine, **options: Any) -> None:
        super().__init__(engine, **options)
        self.originated: list[tuple[float, str, str, bool]] = []
        self.calls: list[SimCall] = []

    def place_call(self, script: CallerScript, scenario: Scenario | None = None, call_id: str | None = None):  # type: ignore[no-untyped-def]
        call, task = super().place_call(script, scenario, call_id)
        self.calls.append(call)
        return call, task

    def originate(self, target: str, **options: Any):  # type: ignore[no-untyped-def]
        any_call_up = any(c.active for c in self.calls)
        self.originated.append((asyncio.get_running_loop().time(), target, options["caller_id"], any_call_up))
        return super().originate(target, **options)


def test_a_callback_is_a_leg_originated_without_a_callers_call() -> None:
    async def main() -> tuple[list[tuple[float, str, str, bool]], list[tuple[float, str]]]:
        engine = Engine(clock=WallClock(AT))
        backend = Originating(engine)
        c = centre(callback=True)
        driver = attach_centre(engine, backend, CentreSetup(c, talk_time=15, statuses={"901": "break"}))
        seen: list[tuple[float, str]] = []
        try:
            _call, task = backend.place_call(script(steps=[{"wait": 1}, {"press": "1"}]), queue_scenario(callback_digit="1"))
            await task  # the caller left the line at 1 s, keeping their place
            await asyncio.sleep(5 - asyncio.get_running_loop().time())
            driver.set_status("901", "available")
            for at in (6, 9, 14, 26):
                await asyncio.sleep(at - asyncio.get_running_loop().time())
                seen.append((at, backend.phone_state("+79160000000")))
        finally:
            await driver.shutdown()
            await engine.shutdown()
        return backend.originated, seen

    originated, seen = run_virtual(main())
    # at 5 s the operator's phone is rung (showing the caller's number); once
    # they answer (8 s) the caller is rung back from the number they dialled,
    # while no call of theirs was up
    assert originated == [(5.0, "901", "+79160000000", False), (8.0, "+79160000000", "100", False)]
    assert seen == [(6, "idle"), (9, "ringing"), (14, "on_call"), (26, "idle")]
