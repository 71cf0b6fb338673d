"""The leg and call contract on the simulator: cancel vs hangup, the phones'
line state, early media, reject, hold and music, and call metadata.

A phone on a call is busy for any other ring and goes back on-hook only when
its leg is released (by the engine) or its talk time ends (by the callee), so
a leg the engine forgets to release shows up as a phone still `on_call`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest
from scenario_builders import deadline, doc, hangup, load, say, start

from flowengine.errors import UsageError
from flowengine.events import CallHeld, CallUnheld
from flowengine.runtime.context import CallContext
from flowengine.runtime.engine import Engine
from flowengine.runtime.virtual_loop import run_virtual
from flowengine.telephony import DialOutcome, HangupCause, Prompt, dialing
from flowengine.testing.phones import VirtualPhone
from flowengine.testing.script import CallerScript
from telephony_adapters.sim import SimBackend, SimCall
from telephony_adapters.sim.call import prompt_seconds

T = TypeVar("T")


@pytest.fixture(autouse=True)
def _no_hang() -> Iterator[None]:
    with deadline(20):
        yield


def on_sim(body: Callable[[SimBackend], Awaitable[T]], **phones: VirtualPhone) -> T:
    """Run `body(backend)` on the virtual clock, with `phones` in the directory
    (keyword "p901" is number 901)."""

    async def main() -> T:
        engine = Engine(keep_events=True)
        backend = SimBackend(engine, directory={k.removeprefix("p"): v for k, v in phones.items()})
        try:
            return await body(backend)
        finally:
            await engine.shutdown()

    return run_virtual(main())


def now() -> float:
    return asyncio.get_running_loop().time()


# ---- legs -----------------------------------------------------------------------------
def test_a_leg_rings_answers_and_ends_when_the_callee_hangs_up() -> None:
    async def body(b: SimBackend) -> list[Any]:
        leg = b.originate("901", ring_timeout=30, caller_id="100")
        assert (leg.state, b.phone_state("901")) == ("dialing", "ringing")
        await asyncio.sleep(0)
        ringing = (leg.state, leg.ringing_at)
        outcome = await leg.outcome()
        answered = (now(), outcome, b.phone_state("901"))
        cause = await leg.ended()
        return [ringing, answered, (now(), cause.by, cause.cause, leg.talk_time, b.phone_state("901"))]

    ringing, answered, ended = on_sim(body, p901=VirtualPhone(answer_after=3, talk_time=20))
    assert ringing == ("ringing", 0.0)
    assert answered == (3.0, DialOutcome.ANSWERED, "on_call")
    assert ended == (23.0, "callee", "normal", 20.0, "idle")


def test_cancel_stops_ringing_but_never_an_answered_leg_which_hangup_releases() -> None:
    async def body(b: SimBackend) -> list[Any]:
        ringing = b.originate("901", ring_timeout=30, caller_id="100")
        await asyncio.sleep(1)
        stopped = ringing.cancel()
        first = (stopped, ringing.outcome().result(), ringing.ended().result().sip_status, b.phone_state("901"))
        again = ringing.cancel()
        answered = b.originate("902", ring_timeout=30, caller_id="100")
        await answered.outcome()
        refused = answered.cancel()  # an answered leg is not cancelled ...
        still = (refused, answered.state, b.phone_state("902"))
        cause = await answered.hangup("normal")  # ... it is hung up
        return [first, again, still, (cause.by, cause.sip_status, cause.q850, answered.state, b.phone_state("902"))]

    first, again, still, released = on_sim(body, p901=VirtualPhone(answer_after=5), p902=VirtualPhone(answer_after=2))
    assert first == (True, DialOutcome.CANCELLED, 487, "idle")
    assert again is False
    assert still == (False, "answered", "on_call")
    assert released == ("engine", None, 16, "ended", "idle")


def test_the_ring_timeout_is_the_engines_own_and_ends_as_no_answer() -> None:
    async def body(b: SimBackend) -> tuple[float, DialOutcome, HangupCause, str]:
        leg = b.originate("901", ring_timeout=7, caller_id="100")
        outcome = await leg.outcome()
        return now(), outcome, leg.ended().result(), b.phone_state("901")

    at, outcome, cause, phone = on_sim(body, p901=VirtualPhone(answer_after=None))
    assert (at, outcome, cause.by, cause.cause, cause.sip_status, cause.q850, phone) == (
        7.0, DialOutcome.NO_ANSWER, "engine", "no_answer", 487, 19, "idle")


@pytest.mark.parametrize(("phone", "outcome", "status", "at"), [
    (VirtualPhone(busy=True), DialOutcome.BUSY, 486, 0.5),
    (VirtualPhone(reject=True), DialOutcome.REJECTED, 603, 0.5),
    (None, DialOutcome.FAILED, 404, 0.0),
])
def test_a_phone_that_will_not_take_the_call_says_why(
    phone: VirtualPhone | None, outcome: DialOutcome, status: int, at: float
) -> None:
    async def body(b: SimBackend) -> tuple[float, DialOutcome, int | None]:
        leg = b.originate("901", ring_timeout=30, caller_id="100")
        got = await leg.outcome()
        return now(), got, leg.ended().result().sip_status

    phones = {"p901": phone} if phone is not None else {}
    assert on_sim(body, **phones) == (at, outcome, status)


def test_a_phone_on_a_call_is_busy_until_released() -> None:
    async def body(b: SimBackend) -> list[Any]:
        first = b.originate("901", ring_timeout=30, caller_id="100")
        await first.outcome()
        second = b.originate("901", ring_timeout=30, caller_id="100")
        busy = await second.outcome()
        first.hangup()
        third = b.originate("901", ring_timeout=30, caller_id="100")
        return [busy, await third.outcome()]

    assert on_sim(body, p901=VirtualPhone(answer_after=1)) == [DialOutcome.BUSY, DialOutcome.ANSWERED]


def test_an_answer_that_crosses_the_cancel_is_released_at_once() -> None:
    # The CANCEL takes 1 s to reach the phone; it answers 0.5 s after we sent it.
    # On real SIP the 200 OK crosses the CANCEL: the leg must be hung up (ACK + BYE),
    # not left with a phone off-hook and nobody on the line.
    async def body(b: SimBackend) -> list[Any]:
        leg = b.originate("901", ring_timeout=30, caller_id="100")
        await asyncio.sleep(2.5)
        leg.cancel()
        await asyncio.sleep(0.6)  # the phone picked up at 3.0
        return [leg.outcome().result(), leg.state, b.phone_state("901")]

    assert on_sim(body, p901=VirtualPhone(answer_after=3, cancel_lag=1)) == [DialOutcome.CANCELLED, "ended", "idle"]


# ---- the caller's call -------------------------------------------------------------------
def sim_call(b: SimBackend, **script: Any) -> SimCall:
    return SimCall(b, "c1", CallerScript(**script))


def test_early_media_then_answer_and_a_prompt_before_answer_opens_progress() -> None:
    async def body(b: SimBackend) -> list[Any]:
        call = sim_call(b)
        await call.ring()
        ringing = call.early
        await call.play(Prompt("say", "Please hold"))  # media before answer: 183 first
        progress = (call.early, call.answered)
        await call.answer()
        return [ringing, progress, (call.early, call.answered)]

    assert on_sim(body) == ["ringing", ("progress", False), (None, True)]


def test_reject_before_answer_sends_the_final_response_for_its_cause() -> None:
    async def body(b: SimBackend) -> list[Any]:
        busy = sim_call(b)
        await busy.reject("busy")
        answered = sim_call(b)
        await answered.answer()
        with pytest.raises(UsageError, match="use hangup"):
            await answered.reject()
        c = busy.cause
        assert c is not None
        return [c.by, c.cause, c.sip_status, c.q850, busy.hangup_cause, busy.hangup_by, busy.active]

    assert on_sim(body) == ["engine", "busy", 486, 17, "busy", "engine", False]


def test_a_prompt_pre_empts_the_music_which_resumes_after_it() -> None:
    async def body(b: SimBackend) -> list[tuple[float, str | None]]:
        call = sim_call(b)
        await call.answer()
        await call.start_music("moh.wav")
        await asyncio.sleep(10)
        await call.play(Prompt("say", "You are first in line"))
        await asyncio.sleep(5)
        await call.stop_music()
        await call.play(Prompt("say", "Connecting"))  # no music to resume now
        return [(round(t, 6), source) for t, source in call.music_log or []]

    p = prompt_seconds(Prompt("say", "You are first in line"))
    assert on_sim(body) == [(0.0, "moh.wav"), (10.0, None), (10.0 + p, "moh.wav"), (round(15.0 + p, 6), None)]


def test_hold_is_signalling_only_and_music_is_separate() -> None:
    sc = load(doc([start("a"), say("a", "Hello", "bye"), hangup("bye")]))

    async def body(b: SimBackend) -> list[Any]:
        call = sim_call(b)
        ctx = CallContext(b.engine, call, sc, {}, call_id="c1", keep_events=True)
        await dialing.hold(ctx, "a")
        await dialing.hold(ctx, "a")  # already held: nothing new
        held = (call.held, call.music_on, call.music_log)
        await dialing.unhold(ctx, "a")
        return [held, call.held, [(type(e), getattr(e, "node_id", None)) for e in ctx.events]]

    held, after, stream = on_sim(body)
    assert held == (True, False, None)
    assert after is False
    assert stream == [(CallHeld, "a"), (CallUnheld, "a")]


def test_the_sim_carries_the_callers_name_headers_and_line() -> None:
    async def body(b: SimBackend) -> tuple[Any, ...]:
        call = sim_call(b, caller_name="Ivan Petrov", headers={"X-Campaign": "spring", "Diversion": "<sip:100@pbx>"}, line="trunk-2")
        return call.caller_name, dict(call.headers), call.line

    assert on_sim(body) == ("Ivan Petrov", {"X-Campaign": "spring", "Diversion": "<sip:100@pbx>"}, "trunk-2")
