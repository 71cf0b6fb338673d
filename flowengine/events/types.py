"""Call-stream events of the interpreter and node handlers.

Every call appends to its own stream (`CallEvent`: `call_id`, `seq`, `ts`,
`t`); events that happen at a node (`NodeEvent`) also name the scenario and
its version, since node ids repeat across scenarios. `wall` (ISO text with
the scenario's UTC offset) is on `call_started` only: formatting dates stays
off the per-step hot path, and `ts` already gives every event's instant.

The queue events of a call are in `flowengine.events.queue`; the operator
stream in `flowengine.events.operator`. The base classes and the registry
live in `flowengine.events.base` and are re-exported here, so a module adding
events (as `flowengine.events.telephony` does) can write::

    from flowengine.events.types import NodeEvent, event

    @event("fax_received")
    @dataclass(frozen=True, slots=True, kw_only=True)
    class FaxReceived(NodeEvent):
        node_id: str
        pages: int

and emit them with ``ctx.emit(FaxReceived, node_id=..., pages=...)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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

__all__ = [
    "SCHEMA_VERSION",
    "CallEnded",
    "CallEvent",
    "CallHungUp",
    "CallStarted",
    "DialAttempted",
    "DialBlocked",
    "DigitsReceived",
    "EventFormatError",
    "HttpRequested",
    "NodeEntered",
    "NodeEvent",
    "NodeFailed",
    "NodeLeft",
    "Notified",
    "OperatorEvent",
    "PromptPlayed",
    "QueueStreamEvent",
    "RecordingMade",
    "ScenarioEntered",
    "SpeechRecognized",
    "StreamEvent",
    "VariableChanged",
    "event",
    "event_from_dict",
    "event_types",
]


@event("call_started")
@dataclass(frozen=True, slots=True, kw_only=True)
class CallStarted(CallEvent):
    """First event of a call: the engine accepted it and pinned the scenario
    version. `platform_id` is the backend's own id (SIP Call-ID, channel id).
    `caller`/`called` are normalised by the line's rules; `caller_raw` and
    `called_raw` are what the line sent. `route` says why this scenario was
    chosen (number binding, line binding, default), empty when the caller of
    the engine chose it; a refused call has scenario "" version 0."""

    wall: str
    caller: str
    called: str
    scenario_id: str
    scenario_version: int
    backend: str = ""
    platform_id: str | None = None
    line: str | None = None
    caller_name: str | None = None
    caller_raw: str | None = None
    called_raw: str | None = None
    route: str = ""


@event("node_entered")
@dataclass(frozen=True, slots=True, kw_only=True)
class NodeEntered(NodeEvent):
    node_id: str
    node_type: str


@event("node_left")
@dataclass(frozen=True, slots=True, kw_only=True)
class NodeLeft(NodeEvent):
    node_id: str
    exit: str


@event("variable_changed")
@dataclass(frozen=True, slots=True, kw_only=True)
class VariableChanged(NodeEvent):
    variable: str
    value: Any
    node_id: str | None = None


@event("prompt_played")
@dataclass(frozen=True, slots=True, kw_only=True)
class PromptPlayed(NodeEvent):
    """A prompt went to the caller: `kind` is "say" (TTS text) or "play" (audio file)."""

    node_id: str
    kind: str
    text: str
    language: str | None = None
    voice: str | None = None
    interrupted: bool = False


@event("digits_received")
@dataclass(frozen=True, slots=True, kw_only=True)
class DigitsReceived(NodeEvent):
    """Digits a collection returned; `reason` is max_digits, terminator or timeout."""

    node_id: str
    digits: str
    reason: str


@event("speech_recognized")
@dataclass(frozen=True, slots=True, kw_only=True)
class SpeechRecognized(NodeEvent):
    node_id: str
    text: str
    matched: str | None = None
    confidence: float | None = None


@event("recording_made")
@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingMade(NodeEvent):
    node_id: str
    uri: str
    duration: float
    reason: str


@event("notified")
@dataclass(frozen=True, slots=True, kw_only=True)
class Notified(NodeEvent):
    """A Notify node's message: channel is log, webhook or screen."""

    node_id: str
    channel: str
    message: str
    level: str = "info"
    target: str | None = None
    status: int | None = None
    ok: bool = True
    detail: str | None = None


@event("http_requested")
@dataclass(frozen=True, slots=True, kw_only=True)
class HttpRequested(NodeEvent):
    node_id: str
    method: str
    url: str
    status: int | None
    elapsed: float
    outcome: str
    detail: str | None = None


@event("node_failed")
@dataclass(frozen=True, slots=True, kw_only=True)
class NodeFailed(NodeEvent):
    """A node raised: `code` classifies it, `column` points into an expression."""

    node_id: str
    code: str
    message: str
    column: int | None = None
    handled_by: str | None = None


@event("scenario_entered")
@dataclass(frozen=True, slots=True, kw_only=True)
class ScenarioEntered(CallEvent):
    """The call moved into another scenario (Subscenario jump or call/return):
    `scenario_id`/`scenario_version` is where it goes; `node_id` is the
    Subscenario node it came from (in the scenario it left)."""

    scenario_id: str
    scenario_version: int
    mode: str
    node_id: str | None = None


@event("dial_attempted")
@dataclass(frozen=True, slots=True, kw_only=True)
class DialAttempted(NodeEvent):
    """A Transfer rang a number; `outcome` is answered, busy, no_answer, rejected or failed."""

    node_id: str
    target: str
    outcome: str
    operator_id: str | None = None


@event("dial_blocked")
@dataclass(frozen=True, slots=True, kw_only=True)
class DialBlocked(NodeEvent):
    """The dial policy refused a destination; nothing was rung (docs/dial-policy.md).

    `number` is what the scenario tried to dial, as it was (cut to 64
    characters): the digits were already in `digits_received`, and whoever
    looks into toll fraud needs the real destination. `reason` is the
    verdict's code (uri, bad_characters, too_long, empty, denied,
    not_allowed, no_policy), `policy` the layer that refused it (number,
    centre, node, none) and `rule` the deny pattern that matched, if any.
    """

    node_id: str
    number: str
    reason: str
    policy: str
    rule: str | None = None


@event("call_hung_up")
@dataclass(frozen=True, slots=True, kw_only=True)
class CallHungUp(NodeEvent):
    """The call's media ended: `by` is caller or engine; `node_id` where the
    call was; `sip_status` and `q850` when the backend knows them (see the
    HangupCause table in docs/backends.md)."""

    cause: str
    by: str
    node_id: str | None = None
    sip_status: int | None = None
    q850: int | None = None


@event("call_ended")
@dataclass(frozen=True, slots=True, kw_only=True)
class CallEnded(CallEvent):
    """Last event of a stream, after any after-hangup processing."""

    duration: float
    steps: int
    hangup_cause: str
