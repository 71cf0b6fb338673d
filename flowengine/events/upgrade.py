"""Reading streams written by earlier versions.

**v1** (before the storage contract) wrote call events only, without `v`,
`seq` or `ts`; `wall` was on every event (empty but on `call_started`), node
events lacked the scenario version, and every ACD fact was one
``{"event": "queue_event", "kind": ..., "operator_id": ..., "data": {...}}``
with the decision's fields in `data`.

`upgrade_stream` turns a sequence of v1 dicts (several calls interleaved, as
in a JSON-lines file) into v2 dicts: per call it numbers `seq` in file order,
derives `ts` from the call's `call_started.wall` plus `t`, follows the
scenario the call is in (`call_started`, `scenario_entered`) to fill
`scenario_id`/`scenario_version` on node events, and types each queue event
by its kind. v2 dicts pass through untouched. `upgrade_event` does what can
be done for one dict alone (see `event_from_dict`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from flowengine.events.base import SCHEMA_VERSION, EventFormatError

#: v1 queue_event kind -> v2 event name (None: no event of its own in v2)
QUEUE_KINDS: dict[str, str | None] = {
    "entered": "queue_entered",
    "offered": "queue_offered",
    "ring_no_answer": "queue_offer_missed",
    "connected": "queue_connected",
    "completed": "queue_completed",
    "abandoned": "queue_abandoned",
    "timeout": "queue_timeout",
    "full": "queue_full",
    "no_operators": "queue_no_operators",
    "no_answer": "queue_no_answer",
    "overflow": "queue_overflow",
    "announce": "queue_announced",
    "callback": "queue_callback_requested",
    # the node's own note, followed by "callback" (which has the position)
    "callback_requested": None,
    # a callback rung back while the call was still on the line: internal
    "callback_due": None,
}

#: v1 events that happened at a node: they get the scenario id and version
_NODE_EVENTS = frozenset(
    {
        "node_entered",
        "node_left",
        "variable_changed",
        "prompt_played",
        "digits_received",
        "speech_recognized",
        "recording_made",
        "notified",
        "http_requested",
        "node_failed",
        "dial_attempted",
        "call_hung_up",
    }
)


@dataclass
class _CallState:
    seq: int = 0
    start: float = 0.0
    scenario_id: str = ""
    scenario_version: int = 0


def is_v1(data: Mapping[str, Any]) -> bool:
    return "v" not in data


def upgrade_event(data: Mapping[str, Any], state: _CallState | None = None) -> dict[str, Any] | None:
    """A v1 event dict as v2, or None if v2 has no event for it.

    Without `state` (one dict read alone) `seq` is 0 and `ts` is only known
    for `call_started`.
    """
    if not is_v1(data):
        return dict(data)
    st = state or _CallState()
    out = {k: v for k, v in data.items() if k != "wall"}
    name = str(data.get("event"))
    t = float(data.get("t") or 0.0)
    if name == "call_started":
        wall = str(data.get("wall") or "")
        st.start = _epoch(wall)
        st.scenario_id = str(data.get("scenario_id") or "")
        st.scenario_version = int(data.get("scenario_version") or 0)
        out["wall"] = wall
    elif name == "scenario_entered":
        st.scenario_id = str(data.get("scenario_id") or "")
        st.scenario_version = int(data.get("scenario_version") or 0)
    elif name == "queue_event":
        upgraded = _queue_event(data)
        if upgraded is None:
            return None
        out = upgraded
        name = out["event"]
    if name in _NODE_EVENTS or name.startswith("queue_"):
        scenario_id = str(out.get("scenario_id") or st.scenario_id)
        out["scenario_id"] = scenario_id
        out["scenario_version"] = st.scenario_version if scenario_id == st.scenario_id else 0
    st.seq += 1
    out["v"] = SCHEMA_VERSION
    out["seq"] = st.seq if state is not None else 0
    # alone, only call_started knows its instant; in a stream, every event does
    out["ts"] = round(st.start + t, 6) if state is not None or name == "call_started" else 0.0
    out["t"] = t
    return out


def _queue_event(data: Mapping[str, Any]) -> dict[str, Any] | None:
    kind = str(data.get("kind"))
    if kind not in QUEUE_KINDS:
        raise EventFormatError(f"v1 queue_event of unknown kind {kind!r}")
    name = QUEUE_KINDS[kind]
    if name is None:
        return None
    fields: dict[str, Any] = dict(data.get("data") or {})
    fields.update(
        event=name,
        call_id=data.get("call_id"),
        node_id=data.get("node_id"),
        queue_id=data.get("queue_id"),
        t=data.get("t"),
    )
    if data.get("operator_id") is not None:
        fields["operator_id"] = data["operator_id"]
    if name == "queue_overflow":
        fields["queue_id"] = fields.pop("from_queue", data.get("queue_id"))
    for internal in ("caller", "leg", "callback"):
        fields.pop(internal, None)
    return fields


def upgrade_stream(events: Iterable[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
    """v2 dicts from a stream that may hold v1 events (see the module docstring)."""
    calls: dict[str, _CallState] = {}
    for data in events:
        if not is_v1(data):
            yield dict(data)
            continue
        call_id = str(data.get("call_id", ""))
        state = calls.get(call_id)
        if state is None:
            state = calls[call_id] = _CallState()
        upgraded = upgrade_event(data, state)
        if upgraded is not None:
            yield upgraded
        if data.get("event") == "call_ended":
            calls.pop(call_id, None)


def _epoch(wall: str) -> float:
    try:
        return dt.datetime.fromisoformat(wall).timestamp() if wall else 0.0
    except ValueError:
        return 0.0
