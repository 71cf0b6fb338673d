"""Small builders for scenario documents and scripted calls, shared by tests.

`doc(nodes, ...)` wraps a node list in a schema-1 envelope; `node(...)` builds
one node dict; `load(...)` compiles a document with the built-in registry (or
a given one); `run(...)` places one scripted call on the simulator's virtual
clock and returns the trace. Everything goes through the real loader,
interpreter and simulator: nothing here is a mock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flowengine.components.registry import NodeRegistry
from flowengine.scenario.compiled import Scenario
from flowengine.scenario.loader import load_scenario_data
from flowengine.testing.harness import CallTrace, run_scenario
from flowengine.testing.script import CallerScript

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
PER_NUMBER_IVR = EXAMPLES / "per_number_ivr.json"
AT = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=3)))


def node(
    node_id: str,
    type_: str,
    params: dict[str, Any] | None = None,
    **exits: str,
) -> dict[str, Any]:
    """One node dict; keyword arguments are exits (`error=` wires the error exit)."""
    data: dict[str, Any] = {"id": node_id, "type": type_}
    if params is not None:
        data["params"] = params
    if exits:
        data["exits"] = dict(exits)
    return data


def start(next_: str, entry: str = "main", node_id: str | None = None) -> dict[str, Any]:
    return node(node_id or ("start" if entry == "main" else "after"), "start", {"entry": entry}, next=next_)


def say(node_id: str, text: str, next_: str | None = None, **exits: str) -> dict[str, Any]:
    if next_ is not None:
        exits["next"] = next_
    return node(node_id, "say", {"text": text}, **exits)


def assign(node_id: str, next_: str | None = None, /, **assignments: str) -> dict[str, Any]:
    data = node(
        node_id,
        "assign",
        {"assignments": [{"variable": k, "value": v} for k, v in assignments.items()]},
    )
    if next_ is not None:
        data["exits"] = {"next": next_}
    return data


def hangup(node_id: str = "bye", cause: str | None = None) -> dict[str, Any]:
    return node(node_id, "hangup", {"cause": cause} if cause else None)


def doc(
    nodes: list[dict[str, Any]],
    *,
    scenario_id: str = "t",
    version: int = 1,
    variables: dict[str, Any] | None = None,
    settings: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    data: dict[str, Any] = {"schema": 1, "id": scenario_id, "version": version, "nodes": nodes}
    if variables:
        data["variables"] = [{"name": k, "default": v} for k, v in variables.items()]
    if settings:
        data["settings"] = settings
    data.update(extra)
    return data


def load(data: dict[str, Any], registry: NodeRegistry | None = None) -> Scenario:
    return load_scenario_data(data, registry)


def script(
    steps: list[dict[str, Any]] | None = None,
    *,
    called: str = "100",
    caller: str = "+79160000000",
    **extra: Any,
) -> CallerScript:
    return CallerScript.model_validate({"caller": caller, "called": called, "steps": steps or [], **extra})


def run(
    scenario: Scenario | dict[str, Any],
    steps: list[dict[str, Any]] | None = None,
    *,
    library: list[Scenario] | None = None,
    realtime: bool = False,
    **script_fields: Any,
) -> CallTrace:
    """One call on the simulator (virtual clock unless `realtime`)."""
    compiled = scenario if isinstance(scenario, Scenario) else load(scenario)
    return run_scenario(
        compiled,
        script(steps, **script_fields),
        at=AT,
        realtime=realtime,
        library=library or [],
    )


def events(trace: CallTrace, name: str) -> list[dict[str, Any]]:
    """The trace's events of one kind, as dicts (`name` is the snake_case event name)."""
    return [e.to_dict() for e in trace.events if e.name == name]


def registry_with(*extra: type) -> NodeRegistry:
    """A fresh registry holding every built-in node type plus `extra` ones,
    so throwaway test node types never leak into the global registry."""
    from flowengine.components.registry import builtin_registry

    fresh = NodeRegistry()
    for _name, cls in builtin_registry().items():
        fresh.register(cls)
    for cls in extra:
        fresh.register(cls)  # type: ignore[arg-type]
    return fresh


def check_stream(trace_events: list[Any]) -> None:
    """The stream invariants every call must keep: starts with call_started,
    ends with call_ended, and node_entered/node_left nest like brackets (a
    Subscenario in call mode holds the called scenario's nodes inside it)."""
    names = [e.name for e in trace_events]
    assert names[0] == "call_started", names
    assert names[-1] == "call_ended", names
    assert names.count("call_started") == 1 and names.count("call_ended") == 1, names
    stack: list[str] = []
    for e in trace_events:
        if e.name == "node_entered":
            stack.append(e.node_id)
        elif e.name == "node_left":
            assert stack, f"node_left {e.node_id} without node_entered"
            assert stack.pop() == e.node_id, f"node_left {e.node_id} does not close the open node"
    assert not stack, f"nodes entered and never left: {stack}"
    times = [e.t for e in trace_events]
    assert times == sorted(times), "event times go backwards"


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Fail (instead of hanging the suite) if the block runs longer than
    `seconds` of wall time, even when it never yields to the event loop."""

    def expired(_signum: int, _frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s: an endless loop?")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
