"""The call event stream: small frozen records under one base class.

Every call appends to its own stream; CDRs, reports, the live monitor and the
editor's call trace are all built from it. Events carry the call id and `t`,
seconds since the call started on the call's clock (simulated or real), so a
trace reads the same on both clocks. `wall` (ISO text) is set on `call_started`
only: an event's wall-clock time is that start plus `t`, which keeps formatting
dates off the per-step hot path.

`to_dict()` gives a JSON-ready dict whose "event" key is the snake_case event
name; `event_from_dict` reverses it (storage reloads streams after a restart).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar


@dataclass(frozen=True, slots=True, kw_only=True)
class CallEvent:
    """Base of every call event."""

    name: ClassVar[str] = "call_event"
    call_id: str
    t: float
    wall: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = {"event": self.name}
        for f in dataclasses.fields(self):
            data[f.name] = getattr(self, f.name)
        return data


_REGISTRY: dict[str, type[CallEvent]] = {}

E = TypeVar("E", bound=type[CallEvent])


def event(name: str) -> Callable[[E], E]:
    """Register an event class under its stable stream name.

    The name is what storage, reports and integrators see; it is written
    here explicitly, never derived from the class name, so renaming a class
    cannot change a stored stream's meaning.
    """

    def register(cls: E) -> E:
        if name in _REGISTRY:
            raise RuntimeError(f"event '{name}' defined twice")
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return register


def event_types() -> dict[str, type[CallEvent]]:
    return dict(_REGISTRY)


def event_from_dict(data: dict[str, Any]) -> CallEvent:
    kind = data.get("event")
    cls = _REGISTRY.get(str(kind))
    if cls is None:
        raise ValueError(f"unknown event type {kind!r}")
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


@event("call_started")
@dataclass(frozen=True, slots=True, kw_only=True)
class CallStarted(CallEvent):
    caller: str
    called: str
    scenario_id: str
    scenario_version: int
    backend: str = ""


@event("node_entered")
@dataclass(frozen=True, slots=True, kw_only=True)
class NodeEntered(CallEvent):
    node_id: str
    node_type: str
    scenario_id: str = ""


@event("node_left")
@dataclass(frozen=True, slots=True, kw_only=True)
class NodeLeft(CallEvent):
    node_id: str
    exit: str


@event("variable_changed")
@dataclass(frozen=True, slots=True, kw_only=True)
class VariableChanged(CallEvent):
    variable: str
    value: Any
    node_id: str | None = None


@event("prompt_played")
@dataclass(frozen=True, slots=True, kw_only=True)
class PromptPlayed(CallEvent):
    """A prompt went to the caller: `kind` is "say" (TTS text) or "play" (audio file)."""

    node_id: str
    kind: str
    text: str
    language: str | None = None
    voice: str | None = None
    interrupted: bool = False


@event("digits_received")
@dataclass(frozen=True, slots=True, kw_only=True)
class DigitsReceived(CallEvent):
    """Digits a collection returned; `reason` is max_digits, terminator or timeout."""

    node_id: str
    digits: str
    reason: str


@event("speech_recognized")
@dataclass(frozen=True, slots=True, kw_only=True)
class SpeechRecognized(CallEvent):
    node_id: str
    text: str
    matched: str | None = None
    confidence: float | None = None


@event("recording_made")
@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingMade(CallEvent):
    node_id: str
    uri: str
    duration: float
    reason: str


@event("notified")
@dataclass(frozen=True, slots=True, kw_only=True)
class Notified(CallEvent):
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
class HttpRequested(CallEvent):
    node_id: str
    method: str
    url: str
    status: int | None
    elapsed: float
    outcome: str
    detail: str | None = None


@event("node_failed")
@dataclass(frozen=True, slots=True, kw_only=True)
class NodeFailed(CallEvent):
    """A node raised: `code` classifies it, `column` points into an expression."""

    node_id: str
    code: str
    message: str
    column: int | None = None
    handled_by: str | None = None


@event("scenario_entered")
@dataclass(frozen=True, slots=True, kw_only=True)
class ScenarioEntered(CallEvent):
    """The call moved into another scenario (Subscenario jump or call/return)."""

    scenario_id: str
    scenario_version: int
    mode: str
    node_id: str | None = None


@event("dial_attempted")
@dataclass(frozen=True, slots=True, kw_only=True)
class DialAttempted(CallEvent):
    """A Transfer/Queue rang a target; `outcome` is answered, busy, no_answer or failed."""

    node_id: str
    target: str
    outcome: str
    operator_id: str | None = None


@event("dial_blocked")
@dataclass(frozen=True, slots=True, kw_only=True)
class DialBlocked(CallEvent):
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


@event("queue_event")
@dataclass(frozen=True, slots=True, kw_only=True)
class QueueEvent(CallEvent):
    """Queue life cycle: entered, offered, ring_no_answer, connected, abandoned,
    timeout, full, callback, overflow, completed. `data` holds the specifics
    (operator, position, wait seconds, target queue)."""

    node_id: str
    queue_id: str
    kind: str
    operator_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@event("call_hung_up")
@dataclass(frozen=True, slots=True, kw_only=True)
class CallHungUp(CallEvent):
    """The call's media ended: `by` is caller or engine."""

    cause: str
    by: str
    node_id: str | None = None


@event("call_ended")
@dataclass(frozen=True, slots=True, kw_only=True)
class CallEnded(CallEvent):
    """Last event of a stream, after any after-hangup processing."""

    duration: float
    steps: int
    hangup_cause: str
