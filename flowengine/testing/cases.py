"""Scenario test cases: a scripted caller plus what must happen, in YAML or JSON.

A file `NAME.tests.yaml` beside a scenario:

    scenario: per_number_ivr.json
    defaults: {at: "2026-11-23T10:00:00+03:00", caller: "+79161234567"}
    cases:
      - name: Moscow number reaches the Moscow menu
        called: "+74951230001"
        steps: [{input: "1"}]
        expect:
          path_includes: [menu_by_number, moscow_menu]
          prompts_include: ["Moscow office"]
          variables: {CALLEDID: "+74951230001"}
          hangup_cause: normal

`line: analog-2` (per case or in defaults) says which line the call arrives
on, and `called: ""` makes a call with no dialled number. With
`routing: routing.yaml` calls are routed by that table (its line rules
normalise the numbers, its bindings choose among the scenario and the
library) instead of always running the scenario.

With `centre: centre.yaml` the scenario's Queue and Transfer nodes work on
virtual operators (answering after `answer_after` s, talking `talk_time` s);
`statuses: {"902": "break:lunch"}` and `phones: {"901": {answer_after: null}}`
(file-wide or per case) shape who can take the call.

`http:` (file-wide and per case) declares the answers HTTP request nodes and
webhooks get (`flowengine.testing.network`); a case reaches no network, and a
request nobody declared fails it.

Expectations: `path` (exact list of node ids), `path_includes` (in order, gaps
allowed), `path_excludes`, `exits` ({node: exit} taken at the node's last
visit), `prompts` (exact), `prompts_include` (each a substring of a distinct
prompt, in order), `variables` (subset), `hangup_cause`, `hangup_by` (who
hung up), `events_include` (each contained in some event, into nested
objects and lists: `contains`; e.g. {event: notified, channel: log} or
{event: queue_offered, operator_id: "901"}; the operator and queue streams
of the centre count too).
Expectations written for the v1 stream, {event: queue_event, kind: offered,
...}, still match: they are read as the typed event they became. Cases run on
the simulator's virtual clock, so a day of waiting takes no time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from flowengine.errors import FlowEngineError, Problem, ScenarioError
from flowengine.events.upgrade import QUEUE_KINDS
from flowengine.field_errors import problems_from_validation
from flowengine.scenario.loader import load_scenario_file, read_document
from flowengine.telephony.causes import Party
from flowengine.testing.network import DeclaredNetwork, HttpAnswer

if TYPE_CHECKING:
    from flowengine.testing.harness import CallTrace

TEST_SUFFIXES = (".tests.yaml", ".tests.yml", ".tests.json")


class Expect(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: list[str] | None = None
    path_includes: list[str] | None = None
    path_excludes: list[str] | None = None
    exits: dict[str, str] | None = None
    prompts: list[str] | None = None
    prompts_include: list[str] | None = None
    variables: dict[str, Any] | None = None
    hangup_cause: str | None = None
    #: who ended the call: caller, engine, callee or system (the call_hung_up event's `by`)
    hangup_by: Party | None = None
    events_include: list[dict[str, Any]] | None = None


class CaseDefaults(BaseModel):
    model_config = ConfigDict(extra="forbid")
    caller: str | None = None
    called: str | None = None
    line: str | None = None
    at: dt.datetime | None = None
    think: float | None = None


class Phone(BaseModel):
    """A virtual phone's behaviour: answer_after null never answers."""

    model_config = ConfigDict(extra="forbid")
    answer_after: float | None = 3.0
    talk_time: float = 60.0
    busy: bool = False
    reject: bool = False
    #: the operator on this phone holds a share (0..1) of calls, `hold_after` s in, for `hold_for` s
    hold_share: float = Field(default=0.0, ge=0, le=1)
    hold_after: float = Field(default=10.0, ge=0)
    hold_for: float = Field(default=20.0, gt=0)
    #: ... and hands a share (0..1) on to `transfer_to`, `transfer_after` s in
    transfer_share: float = Field(default=0.0, ge=0, le=1)
    transfer_after: float = Field(default=30.0, ge=0)
    transfer_to: str | None = Field(default=None, min_length=1, max_length=64)


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    statuses: dict[str, str] = Field(default_factory=dict, description="operator -> status (status:reason)")
    phones: dict[str, Phone] = Field(default_factory=dict, description="target number -> behaviour")
    patience: float | None = None
    caller: str | None = None
    called: str | None = None
    line: str | None = None
    at: dt.datetime | None = None
    steps: list[dict[str, Any]] = Field(default_factory=list)
    hangup_after: float | None = None
    think: float | None = None
    http: list[HttpAnswer] = Field(default_factory=list, description="answers to HTTP requests and webhooks")
    expect: Expect = Field(default_factory=Expect)


class CaseFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scenario: str
    library: list[str] = Field(default_factory=list, description="other scenario files (subscenarios)")
    centre: str | None = Field(default=None, description="centre file for Queue and Transfer nodes")
    routing: str | None = Field(default=None, description="routing table file: calls are routed by it")
    answer_after: float | None = Field(default=3.0, description="virtual operators answer after N s")
    talk_time: float = Field(default=60.0, description="virtual operators talk for N s")
    statuses: dict[str, str] = Field(default_factory=dict)
    phones: dict[str, Phone] = Field(default_factory=dict)
    defaults: CaseDefaults = Field(default_factory=CaseDefaults)
    http: list[HttpAnswer] = Field(
        default_factory=list, description="answers to HTTP requests and webhooks, for every case"
    )
    cases: list[Case] = Field(min_length=1)


@dataclass
class CaseResult:
    file: Path
    name: str
    failures: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def passed(self) -> bool:
        return not self.failures and self.error is None


def find_case_files(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.name.endswith(TEST_SUFFIXES)))
        elif path.name.endswith(TEST_SUFFIXES):
            found.append(path)
        else:
            stem = path.name.rsplit(".", 1)[0]
            siblings = [path.with_name(stem + s) for s in TEST_SUFFIXES]
            found.extend(p for p in siblings if p.exists())
    return list(dict.fromkeys(found))


def load_case_file(path: Path) -> CaseFile:
    try:
        data = read_document(path)
    except ScenarioError as exc:  # the reader speaks of scenarios; this is a tests file
        raise ScenarioError(exc.problems, str(path), what="tests file") from None
    try:
        return CaseFile.model_validate(data)
    except ValidationError as exc:
        problems = [_in_case(p, data) for p in problems_from_validation(exc, data=data)]
        raise ScenarioError(problems, str(path), what="tests file") from None


_CASE_INDEX = re.compile(r"^cases\[(\d+)\]")


def _in_case(problem: Problem, data: Any) -> Problem:
    """A problem inside `cases[i]` says which case by name too (the index
    alone is hard to count in a long file)."""
    match = _CASE_INDEX.match(problem.path)
    cases = data.get("cases") if isinstance(data, dict) else None
    if match is None or not isinstance(cases, list):
        return problem
    case = cases[int(match.group(1))]
    name = case.get("name") if isinstance(case, dict) else None
    if not isinstance(name, str):
        return problem
    shown = name if len(name) <= 80 else name[:77] + "..."
    return dataclasses.replace(problem, message=f"case '{shown}': {problem.message}")


def run_case_file(path: Path, on_trace: Callable[[Case, CallTrace], None] | None = None) -> list[CaseResult]:
    """Run every case of a tests file; `on_trace` sees each case's trace."""
    from flowengine.acd import load_centre
    from flowengine.scenario.routing import load_routing_file
    from flowengine.testing.harness import CentreSetup, run_scenario
    from flowengine.testing.phones import VirtualPhone
    from flowengine.testing.script import CallerScript

    try:
        spec = load_case_file(path)
        scenario = load_scenario_file(path.parent / spec.scenario)
        library = [load_scenario_file(path.parent / lib) for lib in spec.library]
        centre = load_centre(path.parent / spec.centre) if spec.centre else None
        routing = load_routing_file(path.parent / spec.routing) if spec.routing else None
    except FlowEngineError as exc:
        return [CaseResult(path, "(loading)", error=str(exc))]
    results = []
    d = spec.defaults
    for case in spec.cases:
        result = CaseResult(path, case.name)
        try:
            script = CallerScript.model_validate(
                {
                    "caller": _first(case.caller, d.caller, "+70000000000"),
                    "called": _first(case.called, d.called, scenario.numbers[0] if scenario.numbers else "100"),
                    "line": _first(case.line, d.line, None),
                    "steps": case.steps,
                    "hangup_after": case.hangup_after,
                    "patience": case.patience,
                    "think": case.think if case.think is not None else d.think if d.think is not None else 1.0,
                }
            )
        except ValidationError as exc:
            result.error = "; ".join(str(p) for p in problems_from_validation(exc, "steps"))
            results.append(result)
            continue
        at = case.at or d.at
        setup = None
        phones = {k: VirtualPhone(**v.model_dump()) for k, v in {**spec.phones, **case.phones}.items()}
        if centre is not None:
            setup = CentreSetup(
                centre,
                answer_after=spec.answer_after,
                talk_time=spec.talk_time,
                statuses={**spec.statuses, **case.statuses},
                phones=phones,
            )
        # the case's answers first, then the file's; nothing else is reachable
        network = DeclaredNetwork([*case.http, *spec.http])
        trace = run_scenario(
            scenario,
            script,
            at=at,
            library=library,
            centre=setup,
            routing=routing,
            http=network,
            # without a centre, `phones` are the numbers a Transfer may ring
            directory=phones if setup is None else None,
        )
        if on_trace is not None:
            on_trace(case, trace)
        result.failures = network.failures() + check(case.expect, trace.to_json(with_events=True))
        results.append(result)
    return results


def _first(*values: Any) -> Any:
    """The first value that is set ("" counts: a call with no dialled number)."""
    return next((v for v in values if v is not None), None)


def check(expect: Expect, trace: dict[str, Any]) -> list[str]:
    """Compare a trace with expectations; one readable line per mismatch."""
    out: list[str] = []
    path: list[str] = trace["path"]
    prompts: list[str] = trace["prompts"]
    if expect.path is not None and expect.path != path:
        out.append(f"path: expected {expect.path}, got {path}")
    if expect.path_includes is not None and not _subsequence(expect.path_includes, path, lambda a, b: a == b):
        out.append(f"path: expected to pass through {expect.path_includes} in order, got {path}")
    for node in expect.path_excludes or []:
        if node in path:
            out.append(f"path: expected not to pass through '{node}', got {path}")
    if expect.exits:
        taken = {e["node"]: e["exit"] for e in trace["exits"]}
        for node, exit_name in expect.exits.items():
            if taken.get(node) != exit_name:
                out.append(f"exit of '{node}': expected '{exit_name}', got {taken.get(node)!r}")
    if expect.prompts is not None and expect.prompts != prompts:
        out.append(f"prompts: expected {expect.prompts}, got {prompts}")
    if expect.prompts_include is not None and not _subsequence(
        expect.prompts_include, prompts, lambda want, got: want in got
    ):
        out.append(f"prompts: expected to include {expect.prompts_include} in order, got {prompts}")
    for name, value in (expect.variables or {}).items():
        got = trace["variables"].get(name, _MISSING)
        if got is _MISSING:
            out.append(f"variable {name}: expected {value!r}, but it is not set")
        elif got != value:
            out.append(f"variable {name}: expected {value!r}, got {got!r}")
    if expect.hangup_cause is not None and expect.hangup_cause != trace["hangup_cause"]:
        out.append(f"hangup cause: expected '{expect.hangup_cause}', got '{trace['hangup_cause']}'")
    if expect.hangup_by is not None:
        hung = [e for e in trace.get("events", []) if e.get("event") == "call_hung_up"]
        by = hung[-1].get("by") if hung else None
        if by != expect.hangup_by:
            out.append(f"hung up by: expected '{expect.hangup_by}', got {by!r}")
    events = [*trace["events"], *trace.get("centre_events", [])]
    for written in expect.events_include or []:
        wanted = _wanted_v2(written)
        if not any(contains(e, wanted) for e in events):
            out.append(f"events: none matches {written}")
    return out


def contains(got: Any, wanted: Any) -> bool:
    """`events_include` matching: is `wanted` a part of `got`?

    - a mapping matches a mapping that has each of its keys with a matching
      value (other keys may be there too), at any depth;
    - a list matches a list that has a matching item for each of its items,
      in the same order, each item used once (others may come between);
    - a mapping or list matches a text that is JSON for a value it matches
      (variables hold objects from HTTP answers as JSON text);
    - anything else matches an equal value of the same kind (true is not 1,
      "5" is not 5; 5 and 5.0 are equal).
    """
    if isinstance(wanted, dict | list) and isinstance(got, str):
        try:
            got = json.loads(got)
        except ValueError:
            return False
    if isinstance(wanted, dict):
        return isinstance(got, dict) and all(k in got and contains(got[k], v) for k, v in wanted.items())
    if isinstance(wanted, list):
        if not isinstance(got, list):
            return False
        items = iter(got)
        return all(any(contains(g, w) for g in items) for w in wanted)
    if isinstance(wanted, bool) or isinstance(got, bool):
        return isinstance(wanted, bool) and isinstance(got, bool) and wanted == got
    if isinstance(wanted, int | float) and isinstance(got, int | float):
        return wanted == got
    return type(wanted) is type(got) and wanted == got  # type: ignore[no-any-return]


def _wanted_v2(wanted: dict[str, Any]) -> dict[str, Any]:
    """A v1 queue-event expectation ({event: queue_event, kind, data}) as the
    v2 event it became; anything else as it is."""
    if wanted.get("event") != "queue_event":
        return wanted
    kind = str(wanted.get("kind"))
    name = QUEUE_KINDS.get(kind) or ("queue_callback_requested" if kind == "callback_requested" else None)
    if name is None:
        return wanted  # an unknown kind: matches nothing, and the message says which
    out = {k: v for k, v in wanted.items() if k not in ("event", "kind", "data")}
    out.update(wanted.get("data") or {})
    out["event"] = name
    if name == "queue_overflow":  # v1 named the queue it moved to, v2 the one it left
        if "queue_id" in out:
            out["to_queue"] = out.pop("queue_id")
        if "from_queue" in out:
            out["queue_id"] = out.pop("from_queue")
    return out


_MISSING = object()


def _subsequence(wanted: list[str], got: list[str], same: Any) -> bool:
    it = iter(got)
    return all(any(same(w, g) for g in it) for w in wanted)
