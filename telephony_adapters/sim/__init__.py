"""The in-process simulator backend: a virtual PBX with scripted callers and
virtual phones, on simulated or real time. Tests and the CLI reach it through
`flowengine.telephony.backend.backend_class("sim")` and `flowengine.testing`."""

from telephony_adapters.sim.backend import SimBackend
from telephony_adapters.sim.call import SimCall

__all__ = ["SimBackend", "SimCall"]
