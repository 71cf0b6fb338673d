"""Caller input reaching a dialled number: the validator's half of the dial policy.

At run time every number with an ``{expression}`` hole must pass the dial
policy (`flowengine.telephony.dialpolicy`). Here we find, before any call,
the numbers a *caller* can choose, and insist that the node itself says
which numbers are acceptable (its `allow` patterns): the centre's list is
written for trusted data (a CRM's manager numbers, say ``+7.``) and is far
too wide for digits typed by whoever rang.

Caller input (tainted values):

* variables a node declares as `caller_input()`: Gather's digits, Recognize's
  speech;
* the functions `digits()`, `callerid()` and `calledid()`: on SIP the calling
  side writes the From and Request-URI users, so both numbers are whatever
  it likes;
* a variable an Assign computes from any of these (`computed()` follows each
  expression's variables and functions, in order).

Everything else a node writes is its own data and clean: an HTTP request's
answer (the CRM belongs to the centre, like the scenario), who answered a
Queue or Transfer, a recording's address. A declared variable's default is
written by the administrator, so clean too.

The analysis is a may-analysis over `solve_forward`: each node's state maps a
tainted variable to where its caller input came from (`Origin`s), joined by
union; an "error" exit carries what held before the node as well as after.
The after-hangup start and the error handler can run after any node, so they
begin with every taint found anywhere (iterated to a fixed point). A
Subscenario (call or jump) runs the other scenario, when it is in the
library, with the caller's taints on entry (variables are shared): its own
unrestricted numbers are reported at the Subscenario node, and what it
taints comes back after a call.

Findings:

* ``dial_unrestricted`` (error): a number reads caller input and the node has
  no `allow` patterns, or only patterns that restrict nothing (``X.``);
* ``dial_no_policy`` (warning): a computed number without `allow` patterns,
  when no centre policy was given (or the centre's allows no computed
  number): at run time it will be refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from flowengine.components.node import ERROR_EXIT, NodeType
from flowengine.errors import Problem
from flowengine.expr import ExpressionError, Template, compile_template
from flowengine.scenario.compiled import Scenario
from flowengine.telephony.dialpolicy import DialPolicy, compile_pattern
from flowengine.validation.dataflow import called_scenario, solve_forward
from flowengine.validation.graph import ScenarioGraph

#: expression functions whose value the caller controls, and what they are
CALLER_FUNCTIONS: dict[str, str] = {
    "digits": "the digits the caller last entered",
    "callerid": "the caller's number, which the calling side sets",
    "calledid": "the dialled number, which the calling side sets",
}

_HOW_TO = (
    "; add \"allow\" patterns to the node listing what it may dial (e.g. [\"9XX\"] for "
    "extensions 900-999; docs/dial-policy.md)"
)


@dataclass(frozen=True, order=True)
class Origin:
    """Where caller input entered the scenario's variables."""

    scenario: str
    node_id: str
    what: str

    def describe(self, here: str) -> str:
        where = f"'{self.node_id}'"
        if self.scenario != here:
            where += f" in scenario '{self.scenario}'"
        return f"{self.what} at {where}"


#: variable -> where its caller input came from; a clean variable is absent
Taint = dict[str, frozenset[Origin]]


def merge(a: Taint, b: Taint) -> Taint:
    if not b or a is b:
        return a
    if not a:
        return b
    out = dict(a)
    for name, origins in b.items():
        have = out.get(name)
        out[name] = origins if have is None else have | origins
    return out


@dataclass(frozen=True)
class Unrestricted:
    """A number a caller can choose, dialled without restricting patterns."""

    scenario: str
    node_id: str
    path: str  # inside params, e.g. "numbers[0]"
    template: str
    label: str  # "Transfer 't'"
    allow: tuple[str, ...]
    sources: tuple[str, ...]  # "EXT comes from the digits the caller entered at 'ask'"
    via: tuple[str, ...] = ()  # subscenario nodes it is reached through, outermost first


@dataclass(frozen=True)
class Outcome:
    """One scenario's analysis for one entry taint: taint at its ends, its findings."""

    at_ends: Taint
    found: tuple[Unrestricted, ...]


_NOTHING = Outcome({}, ())


def _label(node: NodeType) -> str:
    return f"{node.title_en} '{node.id}'"


def _template(text: str) -> Template | None:
    try:
        return compile_template(text)
    except ExpressionError:
        return None  # the loader reports it


def _is_dynamic(template: Template) -> bool:
    return any(not isinstance(part, str) for part in template.parts)


def _restricts(allow: Iterable[str]) -> bool:
    patterns = [compile_pattern(p) for p in allow]
    return bool(patterns) and all(p.restricts for p in patterns)


def _callees(node: NodeType) -> list[str]:
    return sorted(node.references().get("scenario", ()))


class Analyses:
    """Memoised analyses of the scenarios in the library, by (scenario, entry taint)."""

    def __init__(self, library: Mapping[str, Scenario]) -> None:
        self.library = library
        self.done: dict[tuple[str, frozenset[tuple[str, frozenset[Origin]]]], Outcome] = {}
        self.running: set[str] = set()

    def dials_computed(self, scenario: Scenario) -> bool:
        """Whether the scenario, or one it runs, dials a number with a hole (else skip it all)."""
        seen = {scenario.id}
        todo = [scenario]
        while todo:
            for node in todo.pop().nodes.values():
                for spec in node.dialled():
                    template = _template(spec.template)
                    if template is not None and _is_dynamic(template):
                        return True
                for callee in _callees(node):
                    other = self.library.get(callee)
                    if other is not None and callee not in seen:
                        seen.add(callee)
                        todo.append(other)
        return False

    def run(self, scenario: Scenario, entry: Taint) -> Outcome:
        """Analyse a scenario another one runs (even one that dials nothing: it may
        fill variables with caller input that the other then dials)."""
        key = (scenario.id, frozenset(entry.items()))
        hit = self.done.get(key)
        if hit is not None:
            return hit
        if scenario.id in self.running:
            return _NOTHING  # recursion: the outer analysis of this scenario speaks for it
        self.running.add(scenario.id)
        try:
            flow = TaintFlow(ScenarioGraph(scenario), entry, self)
            outcome = Outcome(flow.at_ends(), tuple(flow.unrestricted()))
        finally:
            self.running.discard(scenario.id)
        self.done[key] = outcome
        return outcome


class TaintFlow:
    """Which variables hold caller input where, in one scenario."""

    def __init__(self, g: ScenarioGraph, entry: Taint, analyses: Analyses) -> None:
        self.g = g
        self.sid = g.scenario.id
        self.analyses = analyses
        later: Taint = {}  # what the after-hangup start and the error handler begin with
        while True:
            state = self._solve(entry, merge(entry, later))
            everywhere: Taint = {}
            for node_id, s in state.items():
                everywhere = merge(everywhere, merge(s, self.after(node_id, s)))
            if merge(later, everywhere) == later:
                break
            later = merge(later, everywhere)
        self.state = state

    def _solve(self, entry: Taint, later: Taint) -> dict[str, Taint]:
        main = self.g.scenario.main_entry
        entries = set(self.g.entries)
        clean: Taint = {}

        def start(node_id: str) -> Taint:
            if node_id == main:
                return entry
            return later if node_id in entries else clean

        return solve_forward(self.g, initial=clean, start=start, carry=self.carry, meet=merge)

    def carry(self, node_id: str, s: Taint, exits: tuple[str, ...]) -> Taint:
        out = self.after(node_id, s)
        return merge(s, out) if ERROR_EXIT in exits else out

    def after(self, node_id: str, s: Taint) -> Taint:
        """The taint after the node ran, given the taint before it."""
        node = self.g.nodes[node_id]
        out = dict(s)
        own: set[str] = set()
        for variable, reads, functions in node.computed():
            origins: set[Origin] = set()
            for name in reads:
                origins |= out.get(name, frozenset())
            for fn in sorted(functions & CALLER_FUNCTIONS.keys()):
                origins.add(Origin(self.sid, node_id, f"{fn}()"))
            if origins:
                out[variable] = frozenset(origins)
            else:
                out.pop(variable, None)
            own.add(variable)
        for variable, what in node.caller_input().items():
            out[variable] = frozenset({Origin(self.sid, node_id, what)})
            own.add(variable)
        for variable in node.writes() - own:
            out.pop(variable, None)
        callee = called_scenario(node)
        if callee is not None and callee in self.analyses.library:
            out = merge(out, self.analyses.run(self.analyses.library[callee], s).at_ends)
        return out

    def at_ends(self) -> Taint:
        found: Taint = {}
        for node_id in self.g.ends():
            if node_id in self.state:
                found = merge(found, self.after(node_id, self.state[node_id]))
        return found

    def unrestricted(self) -> list[Unrestricted]:
        """Numbers caller input reaches without restricting patterns, here and in what runs from here."""
        found: list[Unrestricted] = []
        for node_id in sorted(self.state, key=self.g.pos):
            node = self.g.nodes[node_id]
            s = self.state[node_id]
            for spec in node.dialled():
                template = _template(spec.template)
                if template is None or _restricts(spec.allow):
                    continue
                sources = [
                    f"{name} comes from "
                    + " and ".join(o.describe(self.sid) for o in sorted(s[name]))
                    for name in sorted(template.variables & s.keys())
                ]
                sources += [
                    f"{fn}() is {CALLER_FUNCTIONS[fn]}"
                    for fn in sorted(template.functions & CALLER_FUNCTIONS.keys())
                ]
                if sources:
                    found.append(
                        Unrestricted(
                            self.sid, node_id, spec.path, spec.template, _label(node),
                            spec.allow, tuple(sources),
                        )
                    )
            for callee in _callees(node):
                other = self.analyses.library.get(callee)
                if other is None:
                    continue
                for inner in self.analyses.run(other, s).found:
                    found.append(
                        Unrestricted(
                            inner.scenario, inner.node_id, inner.path, inner.template,
                            inner.label, inner.allow, inner.sources, (node_id, *inner.via),
                        )
                    )
        return found


def check_dialled_numbers(
    g: ScenarioGraph,
    library: Mapping[str, Scenario] | None = None,
    policy: DialPolicy | None = None,
) -> list[Problem]:
    """dial_unrestricted and dial_no_policy findings for the scenario of `g`.

    `policy` is the centre's dial policy when the validator was given a
    centre; it does not excuse caller input (see the module docstring), but
    it does vouch for other computed numbers.
    """
    scenario = g.scenario
    analyses = Analyses({**(library or {}), scenario.id: scenario})
    found: list[Problem] = []
    if analyses.dials_computed(scenario):
        analyses.running.add(scenario.id)  # a call of itself adds nothing new
        found = [_unrestricted_problem(g, u) for u in TaintFlow(g, {}, analyses).unrestricted()]
    if policy is None or not policy.allows_anything:
        reported = {p.path for p in found}
        found += [p for p in _no_policy(g, policy) if p.path not in reported]
    return found


def _unrestricted_problem(g: ScenarioGraph, u: Unrestricted) -> Problem:
    if u.allow:
        patterns = ", ".join(f"'{p}'" for p in u.allow)
        why = f"its 'allow' patterns ({patterns}) restrict nothing"
    else:
        why = "it has no 'allow' patterns"
    what = (
        f"{u.label} dials '{u.template}', a number the caller chooses, and {why}: "
        + "; ".join(u.sources)
    )
    if not u.via:
        return Problem(
            what + _HOW_TO,
            path=g.path(u.node_id, f".params.{u.path}"),
            node_id=u.node_id,
            code="dial_unrestricted",
        )
    first = g.nodes[u.via[0]]
    return Problem(
        f"{_label(first)} leads to scenario '{u.scenario}', where {what}" + _HOW_TO,
        path=g.path(first.id, ".params.scenario"),
        node_id=first.id,
        code="dial_unrestricted",
    )


def _no_policy(g: ScenarioGraph, policy: DialPolicy | None) -> list[Problem]:
    """Computed numbers nothing will let through at run time (unless a centre does)."""
    if policy is None:
        fate = (
            "it is dialled only if the centre's dial_policy allows it, and never without "
            "a centre (validate with --centre FILE to check against the centre)"
        )
    else:
        fate = (
            "the centre's dial_policy allows no computed number (no 'allow' patterns and "
            "no operator extensions), so it will always be refused"
        )
    found = []
    for node_id in sorted(g.nodes, key=g.pos):
        node = g.nodes[node_id]
        for spec in node.dialled():
            template = _template(spec.template)
            if template is None or spec.allow or not _is_dynamic(template):
                continue
            found.append(
                Problem(
                    f"{_label(node)} dials '{spec.template}', a number computed at run time, "
                    f"without 'allow' patterns: {fate}",
                    path=g.path(node_id, f".params.{spec.path}"),
                    node_id=node_id,
                    severity="warning",
                    code="dial_no_policy",
                )
            )
    return found
