"""A recorded call as a scenario test case (the format of `flowengine.testing.cases`).

The editor's test console drives a simulated call by hand: keys pressed,
phrases said, a hang-up, each at some moment. `case_from_call` turns that
call's event stream, and the moments of what the person did, into one case
that `flowengine test` replays on the simulator's virtual clock:

- `at` is the wall-clock time the call's scenario saw at its start, so
  schedules and `hour()` answer the same;
- the steps are the person's actions on a timeline (`wait` N s, then `press`,
  `say` or `hangup`), so a key pressed during a prompt barges in again and a
  caller who waited too long hits the same timeout; a call with no recorded
  actions (placed by another client) gets one `input` step per digits the
  scenario collected and one `say` per phrase it recognised;
- the expectations are what happened: the exact path, the prompts, the
  variables' last values and the hangup cause.

Prompt durations are the simulator's on both clocks, so the replay walks
the same path; a key pressed within milliseconds of a timeout may land on
the other side of it, and the case says so when it fails.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from flowengine.errors import UsageError

#: a step's wait is rounded to milliseconds; shorter waits are dropped
_RESOLUTION = 0.001
_SLUG = re.compile(r"[^A-Za-z0-9_.\-]+")


@dataclass(frozen=True, slots=True)
class Action:
    """Something the person at the console did: at `ts` (epoch seconds)."""

    ts: float
    kind: Literal["press", "say", "hangup"]
    value: str = ""


def case_file_name(scenario_id: str) -> str:
    """The tests file's name beside the scenario's exported `<id>.json`."""
    return f"{_SLUG.sub('_', scenario_id) or 'scenario'}.tests.yaml"


def case_from_call(
    events: Sequence[dict[str, Any]],
    actions: Iterable[Action] | None = None,
    *,
    name: str | None = None,
    at: str | None = None,
) -> dict[str, Any]:
    """The tests file (as a mapping) with one case replaying this ended call.

    `events` is the call's stream as stored (dicts, `seq` order); `actions`
    the console's record of it, None when there is none; `at` the time of
    day the call was made to see (ISO), else its real start."""
    started = next((e for e in events if e.get("event") == "call_started"), None)
    if started is None:
        raise UsageError("the call has no call_started event: nothing to record")
    scenario_id = str(started.get("scenario_id") or "")
    if not scenario_id:
        raise UsageError("the call ran no scenario (nothing routed it): there is nothing to test")
    ended = next((e for e in events if e.get("event") == "call_ended"), None)
    if ended is None:
        raise UsageError("the call has not ended: hang up first, then save it as a test case")
    t0 = float(started["ts"])
    steps = _timeline(t0, actions) if actions is not None else _collected(events)
    case: dict[str, Any] = {
        "name": name or f"call from {started.get('caller')} to {started.get('called') or '(no number)'}",
        "caller": started.get("caller"),
        "called": started.get("called") or "",
    }
    if started.get("line"):
        case["line"] = started["line"]
    case["at"] = at or started.get("wall")
    case["steps"] = steps
    case["expect"] = _expect(events, ended)
    return {"scenario": f"{scenario_id}.json", "cases": [case]}


def _timeline(t0: float, actions: Iterable[Action]) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    now = 0.0
    for action in sorted(actions, key=lambda a: a.ts):
        t = max(0.0, action.ts - t0)
        gap = round(t - now, 3)
        if gap >= _RESOLUTION:
            steps.append({"wait": gap})
            now += gap
        if action.kind == "hangup":
            steps.append({"hangup": True})
            break
        steps.append({action.kind: action.value})
    return steps


def _collected(events: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    for e in events:
        if e.get("event") == "digits_received" and e.get("digits"):
            steps.append({"input": str(e["digits"])})
        elif e.get("event") == "speech_recognized" and e.get("text"):
            steps.append({"say": str(e["text"])})
    hung = [e for e in events if e.get("event") == "call_hung_up"]
    if hung and hung[-1].get("by") == "caller":
        steps.append({"hangup": True})
    return steps


def _expect(events: Sequence[dict[str, Any]], ended: dict[str, Any]) -> dict[str, Any]:
    path = [str(e["node_id"]) for e in events if e.get("event") == "node_entered"]
    prompts = [str(e["text"]) for e in events if e.get("event") == "prompt_played"]
    variables: dict[str, Any] = {}
    for e in events:
        if e.get("event") == "variable_changed":
            variables[str(e["variable"])] = e.get("value")
    expect: dict[str, Any] = {"path": path, "prompts": prompts}
    if variables:
        expect["variables"] = variables
    expect["hangup_cause"] = ended.get("hangup_cause")
    return expect
