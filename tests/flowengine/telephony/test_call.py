"""The engine's view of one call: the DTMF buffer under a flood of digits."""

from __future__ import annotations

from flowengine.runtime.engine import Engine
from flowengine.telephony.call import MAX_BUFFERED_DIGITS
from flowengine.testing.script import CallerScript
from telephony_adapters.sim import SimBackend
from telephony_adapters.sim.call import SimCall


def test_dtmf_flood_is_capped_and_keeps_the_first_digits() -> None:
    call = SimCall(SimBackend(Engine()), "flood", CallerScript())
    for _ in range(100_000):
        call.dtmf_received("1")
    call.dtmf_received("#")
    assert call.pending_digits() == MAX_BUFFERED_DIGITS
    assert call.take_digits() == "1" * MAX_BUFFERED_DIGITS
    call.dtmf_received("2")  # read digits make room again
    assert call.take_digits() == "2"
