"""The telephony contract: the call interface (`call`), outgoing legs (`leg`),
why things end (`causes`), and backends with their router (`backend`).

Node handlers never touch sockets: they call `Call` methods, which each
backend implements. Backends are found by name through `backend.backend_class`;
the engine's `TargetRouter` says which backend rings a target.
`dialing` rings and bridges legs with their events in the call's stream.
"""

from flowengine.telephony.call import (
    BlindTransfer,
    BridgeRecorder,
    BridgeResult,
    Call,
    DigitResult,
    Prompt,
    RecognitionResult,
    Recording,
    TransferResult,
)
from flowengine.telephony.causes import DialOutcome, HangupCause
from flowengine.telephony.leg import Leg

__all__ = [
    "BlindTransfer",
    "BridgeRecorder",
    "BridgeResult",
    "Call",
    "DialOutcome",
    "DigitResult",
    "HangupCause",
    "Leg",
    "Prompt",
    "RecognitionResult",
    "Recording",
    "TransferResult",
]
