"""The telephony contract: the call interface (`call`), and backends (`backend`).

Node handlers never touch sockets: they call `Call` methods, which each
backend implements. Backends are found by name through `backend.backend_class`.
"""

from flowengine.telephony.call import (
    BridgeResult,
    Call,
    DialOutcome,
    DigitResult,
    Leg,
    Prompt,
    RecognitionResult,
    Recording,
)

__all__ = [
    "BridgeResult",
    "Call",
    "DialOutcome",
    "DigitResult",
    "Leg",
    "Prompt",
    "RecognitionResult",
    "Recording",
]
