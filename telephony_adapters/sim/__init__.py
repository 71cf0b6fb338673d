"""The in-process simulator backend: scripted callers, virtual phones, simulated time."""

from telephony_adapters.sim.backend import SimBackend, VirtualPhone
from telephony_adapters.sim.call import SimCall
from telephony_adapters.sim.harness import CallTrace, run_call_async, run_scenario, trace_of
from telephony_adapters.sim.loop import VirtualTimeLoop, run_virtual
from telephony_adapters.sim.script import CallerScript, Step

__all__ = [
    "CallTrace",
    "CallerScript",
    "SimBackend",
    "SimCall",
    "Step",
    "VirtualPhone",
    "VirtualTimeLoop",
    "run_call_async",
    "run_scenario",
    "run_virtual",
    "trace_of",
]
