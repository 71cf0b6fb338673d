"""The event stream: event types, their stored format, sinks and the writer.

Every call emits an append-only stream of these records, every operator
another; CDRs, reports, the live monitor and the editor's call trace are
built from them (docs/events.md lists every event and who reads it).

* `base` — the stored contract: `v`, `seq`, `ts`, stable names, `event_from_dict`;
* `types` — call events of the interpreter and nodes; `queue` — a call's
  queue events and the queue stream of callbacks; `operator` — the operator stream;
* `upgrade` — streams written by earlier versions;
* `sinks`, `writer` — where events go: a bounded queue and one writer task;
* `ids` — engine-assigned call ids (UUIDv7); `codec` — JSON that never fails.
"""

from flowengine.events.base import (
    SCHEMA_VERSION,
    CallEvent,
    EventFormatError,
    NodeEvent,
    OperatorEvent,
    QueueStreamEvent,
    StreamEvent,
    event,
    event_from_dict,
    event_types,
)
from flowengine.events.ids import UUIDv7
from flowengine.events.operator import (
    OperatorAutoBreak,
    OperatorStateChanged,
    OperatorStatusChanged,
    OperatorWrapUpEnded,
    OperatorWrapUpStarted,
)
from flowengine.events.queue import (
    CallbackAttempted,
    CallbackCompleted,
    CallbackConnected,
    CallbackEvent,
    CallbackGivenUp,
    CallbackMissed,
    QueueAbandoned,
    QueueAnnounced,
    QueueCallbackRequested,
    QueueCallEvent,
    QueueCompleted,
    QueueConnected,
    QueueEntered,
    QueueFull,
    QueueNoAnswer,
    QueueNoOperators,
    QueueOfferCancelled,
    QueueOffered,
    QueueOfferMissed,
    QueueOverflow,
    QueueTimeout,
)
from flowengine.events.sinks import EventSink, JsonLinesSink, MemorySink
from flowengine.events.types import (
    CallEnded,
    CallHungUp,
    CallStarted,
    DialAttempted,
    DigitsReceived,
    HttpRequested,
    NodeEntered,
    NodeFailed,
    NodeLeft,
    Notified,
    PromptPlayed,
    RecordingMade,
    ScenarioEntered,
    SpeechRecognized,
    VariableChanged,
)
from flowengine.events.upgrade import upgrade_stream
from flowengine.events.writer import EventWriter

__all__ = [
    "SCHEMA_VERSION",
    "CallEnded",
    "CallEvent",
    "CallHungUp",
    "CallStarted",
    "CallbackAttempted",
    "CallbackCompleted",
    "CallbackConnected",
    "CallbackEvent",
    "CallbackGivenUp",
    "CallbackMissed",
    "DialAttempted",
    "DigitsReceived",
    "EventFormatError",
    "EventSink",
    "EventWriter",
    "HttpRequested",
    "JsonLinesSink",
    "MemorySink",
    "NodeEntered",
    "NodeEvent",
    "NodeFailed",
    "NodeLeft",
    "Notified",
    "OperatorAutoBreak",
    "OperatorEvent",
    "OperatorStateChanged",
    "OperatorStatusChanged",
    "OperatorWrapUpEnded",
    "OperatorWrapUpStarted",
    "PromptPlayed",
    "QueueAbandoned",
    "QueueAnnounced",
    "QueueCallEvent",
    "QueueCallbackRequested",
    "QueueCompleted",
    "QueueConnected",
    "QueueEntered",
    "QueueFull",
    "QueueNoAnswer",
    "QueueNoOperators",
    "QueueOfferCancelled",
    "QueueOfferMissed",
    "QueueOffered",
    "QueueOverflow",
    "QueueStreamEvent",
    "QueueTimeout",
    "RecordingMade",
    "ScenarioEntered",
    "SpeechRecognized",
    "StreamEvent",
    "UUIDv7",
    "VariableChanged",
    "event",
    "event_from_dict",
    "event_types",
    "upgrade_stream",
]
