"""The stored event contract: base classes, stable names, (de)serialisation.

Three kinds of stream share one format (docs/events.md lists every event):

* **call streams** (`CallEvent`), one per call, keyed by the engine-assigned
  `call_id` (a UUIDv7: unique across processes and sortable by start time);
* **operator streams** (`OperatorEvent`), one per operator, keyed by
  `operator_id`: status and state changes, wrap-up, auto-break — what
  per-operator reports need, kept apart from any call;
* **queue streams** (`QueueStreamEvent`), one per queue, keyed by `queue_id`:
  what the ACD does for a call after the caller left the line (callbacks).

Every event carries `v` (this schema's version), `seq` (1, 2, 3… within its
stream, no gaps) and `ts` (wall-clock epoch seconds); call events add `t`,
seconds since the call started on the call's own clock (simulated or real).
Together `(stream key, seq)` identifies an event, so storage can detect a
lost or duplicated one, and a replay can put a stream back in order.

Names are written explicitly with `@event("name")`, never derived from class
names: the name is what storage, reports and integrators see, so renaming a
class cannot change a stored stream's meaning. A test freezes the list
against docs/events.md.

`to_dict()` gives a JSON-ready dict with the name under "event";
`event_from_dict` reverses it for this version and for streams written by
earlier versions (see `flowengine.events.upgrade`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from flowengine.errors import FlowEngineError

#: version of the stored format written by this code (v1: no seq/ts/v, `queue_event`)
SCHEMA_VERSION = 2


class EventFormatError(FlowEngineError, ValueError):
    """A stored event cannot be read: unknown name, or required fields missing."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamEvent:
    """Base of every stored event (see the module docstring)."""

    #: the stable stream name, set by `@event`
    name: ClassVar[str] = ""
    #: which kind of stream the event belongs to: call, operator or queue
    stream: ClassVar[str] = ""
    #: the field that names the stream the event belongs to
    key: ClassVar[str] = ""
    #: serialised fields in output order, set by `@event`
    field_names: ClassVar[tuple[str, ...]] = ()
    #: fields a stored dict must carry, set by `@event`
    required: ClassVar[frozenset[str]] = frozenset()

    v: int = SCHEMA_VERSION
    seq: int
    ts: float

    def to_dict(self) -> dict[str, Any]:
        return _ROWS[type(self)](self)

    @property
    def stream_key(self) -> str:
        """The id of the stream this event belongs to (call, operator or queue id)."""
        return str(getattr(self, self.key))


@dataclass(frozen=True, slots=True, kw_only=True)
class CallEvent(StreamEvent):
    """Base of call-stream events: keyed by the engine's `call_id`; `t` is
    seconds since the call started on the call's clock."""

    stream: ClassVar[str] = "call"
    key: ClassVar[str] = "call_id"
    #: the engine fills `scenario_id` / `scenario_version` (see `NodeEvent`)
    in_scenario: ClassVar[bool] = False

    call_id: str
    t: float


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeEvent(CallEvent):
    """A call event that happened at a node: node ids repeat across scenarios
    (and across versions of one), so the scenario and its version travel with
    it. `CallContext.emit` fills both from the scenario the call is in."""

    in_scenario: ClassVar[bool] = True

    scenario_id: str
    scenario_version: int


@dataclass(frozen=True, slots=True, kw_only=True)
class OperatorEvent(StreamEvent):
    """Base of operator-stream events, keyed by `operator_id`."""

    stream: ClassVar[str] = "operator"
    key: ClassVar[str] = "operator_id"

    operator_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueStreamEvent(StreamEvent):
    """Base of queue-stream events, keyed by `queue_id`."""

    stream: ClassVar[str] = "queue"
    key: ClassVar[str] = "queue_id"

    queue_id: str


_REGISTRY: dict[str, type[StreamEvent]] = {}
#: class -> builds an event's dict (its name under "event", then `field_names`)
_ROWS: dict[type[StreamEvent], Callable[[Any], dict[str, Any]]] = {}

E = TypeVar("E", bound=type[StreamEvent])


def event(name: str) -> Callable[[E], E]:
    """Register an event class (already a dataclass) under its stable name.

    Registering a name twice is an error, so two modules cannot silently
    claim one name.
    """

    def register(cls: E) -> E:
        if name in _REGISTRY:
            raise RuntimeError(f"event '{name}' defined twice")
        if not (isinstance(cls, type) and issubclass(cls, StreamEvent) and cls.stream):
            raise TypeError(f"event '{name}' must subclass CallEvent, OperatorEvent or QueueStreamEvent")
        fields = [f.name for f in dataclasses.fields(cls)]
        first = ["v", cls.key, "seq", "ts"]
        cls.name = name
        cls.field_names = (*first, *(f for f in fields if f not in first))
        _ROWS[cls] = _row_builder(cls)
        cls.required = frozenset(
            f.name
            for f in dataclasses.fields(cls)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        )
        cls.__init__ = slot_init(cls)  # type: ignore[method-assign]
        _REGISTRY[name] = cls
        return cls

    return register


def slot_init(cls: type, *, kw_only: bool = True) -> Callable[..., None]:
    """An `__init__` for a frozen slotted dataclass that stores fields through
    their slot descriptors.

    The one dataclass generates for a frozen class goes through
    `object.__setattr__` for every field; events are made on the
    interpreter's hot path (a dozen or more per call), as are the ACD's
    decisions, and setting the slots directly builds one in about a third of
    the time. Same signature (keyword-only, or not with `kw_only=False`) and
    defaults; the instance stays frozen afterwards."""
    namespace: dict[str, Any] = {}
    params: list[str] = []
    body: list[str] = []
    for f in dataclasses.fields(cls):
        if f.default_factory is not dataclasses.MISSING:
            raise TypeError(f"event field {cls.__name__}.{f.name}: default factories are not supported")
        if f.default is dataclasses.MISSING:
            params.append(f.name)
        else:
            namespace[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
        namespace[f"_set_{f.name}"] = getattr(cls, f.name).__set__
        body.append(f"    _set_{f.name}(self, {f.name})")
    star = "*, " if kw_only and params else ""
    source = f"def __init__(self, {star}{', '.join(params)}):\n" + "\n".join(body or ["    pass"]) + "\n"
    exec(source, namespace)  # noqa: S102 (generated from the class's own field names)
    init: Callable[..., None] = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


def _row_builder(cls: type[StreamEvent]) -> Callable[[Any], dict[str, Any]]:
    """A function returning an event's dict as one dict display: the writer
    encodes every event through it (orjson takes a plain dict several times
    faster than a slotted dataclass), so it is on the hot path too."""
    items = ", ".join(f"{name!r}: self.{name}" for name in cls.field_names)
    source = f"def to_row(self):\n    return {{'event': _name, {items}}}\n"
    namespace: dict[str, Any] = {"_name": cls.name}
    exec(source, namespace)  # noqa: S102 (generated from the class's own field names)
    row: Callable[[Any], dict[str, Any]] = namespace["to_row"]
    row.__qualname__ = f"{cls.__qualname__}.to_row"
    return row


def event_types() -> dict[str, type[StreamEvent]]:
    """Every registered event class by its stable name."""
    return dict(_REGISTRY)


def event_class(name: str) -> type[StreamEvent]:
    cls = _REGISTRY.get(name)
    if cls is None:
        raise EventFormatError(f"unknown event type {name!r}")
    return cls


def event_from_dict(data: Mapping[str, Any]) -> StreamEvent:
    """Rebuild an event from its dict, of this version or an earlier one.

    Unknown fields are ignored (a newer writer may add some); an unknown
    event name or a missing required field is an `EventFormatError` naming
    it. A v1 dict read on its own gets `seq` 0 (unknown) and, but for
    `call_started`, `ts` 0; read whole v1 streams with
    `flowengine.events.upgrade.upgrade_stream` to have both filled in.
    """
    if "v" not in data:
        from flowengine.events.upgrade import upgrade_event

        upgraded = upgrade_event(data)
        if upgraded is None:
            raise EventFormatError(
                f"v1 event {data.get('event')!r} ({data.get('kind')!r}) has no counterpart of its own "
                "in v2; read the whole stream with upgrade_stream"
            )
        data = upgraded
    cls = event_class(str(data.get("event")))
    missing = cls.required.difference(data)
    if missing:
        raise EventFormatError(f"event '{cls.name}' lacks {', '.join(sorted(missing))}")
    return cls(**{k: data[k] for k in cls.field_names if k in data})
