"""The event stream: event types (`types`), and later sinks and the writer.

Every call emits an append-only stream of these records; CDRs, reports, the
live monitor and the editor's call trace are built from it (docs/events.md).
"""

from flowengine.events.types import (
    CallEnded,
    CallEvent,
    CallHungUp,
    CallStarted,
    DialAttempted,
    DialBlocked,
    DigitsReceived,
    HttpRequested,
    NodeEntered,
    NodeFailed,
    NodeLeft,
    Notified,
    PromptPlayed,
    QueueEvent,
    RecordingMade,
    ScenarioEntered,
    SpeechRecognized,
    VariableChanged,
    event_from_dict,
    event_types,
)

__all__ = [
    "CallEnded",
    "CallEvent",
    "CallHungUp",
    "CallStarted",
    "DialAttempted",
    "DialBlocked",
    "DigitsReceived",
    "HttpRequested",
    "NodeEntered",
    "NodeFailed",
    "NodeLeft",
    "Notified",
    "PromptPlayed",
    "QueueEvent",
    "RecordingMade",
    "ScenarioEntered",
    "SpeechRecognized",
    "VariableChanged",
    "event_from_dict",
    "event_types",
]
