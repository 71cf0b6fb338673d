"""Variables read before they are assigned: a must-analysis over the graph.

Facts are bitsets (Python ints, one bit per variable name). A node's state on
entry is the intersection of what reaches it from every predecessor, and, for
an entry point, the scenario's declared variables (the only ones certainly set
there: a hangup can happen anywhere, a node can fail anywhere). An edge along a
normal exit carries the state after the node's writes; the "error" exit carries
the state before them, because the node failed. The worklist runs in reverse
post-order from the entries and only ever removes bits, so it reaches the
fixed point in a few passes over the graph.

A Subscenario in call mode comes back with whatever the other scenario
assigned on every path to its ends (its declared variables are filled from
their defaults as well). With that scenario in `library`, those count as
written by the call; without it, a variable the scenario never assigns may
still come from there, so that finding is a warning rather than an error.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from flowengine.components.fields import iter_expressions
from flowengine.components.node import ERROR_EXIT, NodeType
from flowengine.errors import Problem
from flowengine.expr import ExpressionError, compile_expression, compile_template
from flowengine.scenario.compiled import Scenario
from flowengine.validation.graph import ScenarioGraph, chain, suggestion

S = TypeVar("S")


def reverse_postorder(g: ScenarioGraph) -> list[str]:
    """The nodes reachable from the entries, each after its predecessors where possible."""
    succ = g.graph.succ
    seen: set[str] = set()
    post: list[str] = []
    for entry in g.entries:
        if entry in seen:
            continue
        seen.add(entry)
        stack = [(entry, iter(succ[entry]))]
        while stack:
            node, children = stack[-1]
            for child in children:
                if child not in seen:
                    seen.add(child)
                    stack.append((child, iter(succ[child])))
                    break
            else:
                stack.pop()
                post.append(node)
    post.reverse()
    return post


def solve_forward(
    g: ScenarioGraph,
    *,
    initial: S,
    start: Callable[[str], S],
    carry: Callable[[str, S, bool], S],
    meet: Callable[[S, S], S],
) -> dict[str, S]:
    """A forward data-flow fixed point: each reachable node's state on entry.

    A node's state is `start(node)` met with what each predecessor carries,
    `carry(pred, state of pred, failed)`, where `failed` says the edge is (also)
    the predecessor's "error" exit, so what the predecessor does may not have
    happened. Every state begins at `initial` and the worklist runs in reverse
    post-order; `carry` and `meet` must be monotone, so it terminates.
    """
    graph = g.graph
    order = reverse_postorder(g)
    state = dict.fromkeys(order, initial)
    preds = {
        n: [(p, ERROR_EXIT in graph[p][n]["exits"]) for p in graph.pred[n] if p in state]
        for n in order
    }
    queue = deque(order)
    queued = set(order)
    while queue:
        node = queue.popleft()
        queued.discard(node)
        new = start(node)
        for p, failed in preds[node]:
            new = meet(new, carry(p, state[p], failed))
        if new != state[node]:
            state[node] = new
            for nxt in graph.succ[node]:
                if nxt not in queued:
                    queued.add(nxt)
                    queue.append(nxt)
    return state


@dataclass(frozen=True)
class CallSummary:
    """What a called scenario leaves behind: set on every way back, set on some."""

    definite: frozenset[str]
    possible: frozenset[str]
    opaque: bool  # it calls something we cannot see, so it may set anything


@dataclass
class Library:
    """Scenarios by id for call-mode subscenarios, with memoised summaries."""

    scenarios: Mapping[str, Scenario]
    summaries: dict[str, CallSummary | None] = field(default_factory=dict)

    def summary(self, scenario_id: str) -> CallSummary | None:
        """None when the scenario is not available (or is being summarised: a cycle)."""
        if scenario_id in self.summaries:
            return self.summaries[scenario_id]
        target = self.scenarios.get(scenario_id)
        if target is None:
            self.summaries[scenario_id] = None
            return None
        self.summaries[scenario_id] = None  # recursion guard for scenarios calling each other
        flow = Flow(ScenarioGraph(target), self)
        result = CallSummary(
            flow.definite_at_ends(), frozenset(flow.possible), flow.opaque_calls != []
        )
        self.summaries[scenario_id] = result
        return result


def called_scenario(node: NodeType) -> str | None:
    """The scenario a node runs and comes back from (Subscenario in call mode), if any.

    Generic on purpose: a node that references a scenario and has exits comes back.
    """
    refs = node.references().get("scenario")
    if not refs or node.terminal or not node.all_exits:
        return None
    return sorted(refs)[0]


class Flow:
    """The must-analysis of one scenario."""

    def __init__(self, g: ScenarioGraph, library: Library) -> None:
        self.g = g
        declared = {v.name for v in g.scenario.doc.variables}
        self.reads: dict[str, set[str]] = {n: node.reads() for n, node in g.nodes.items()}
        gen: dict[str, set[str]] = {n: set(node.writes()) for n, node in g.nodes.items()}
        self.possible: set[str] = set(declared).union(*gen.values())
        self.opaque_calls: list[str] = []
        for node_id, node in g.nodes.items():
            target = called_scenario(node)
            if target is None:
                continue
            summary = library.summary(target)
            if summary is None:
                self.opaque_calls.append(target)
                continue
            gen[node_id] |= summary.definite
            self.possible |= summary.possible
            if summary.opaque:
                self.opaque_calls.append(target)

        universe = sorted(self.possible.union(*self.reads.values()))
        self.bit = {name: 1 << i for i, name in enumerate(universe)}
        self.names = universe
        self.declared = self.mask(declared)
        self.gen = {n: self.mask(v) for n, v in gen.items()}
        self.state = self._solve()

    def mask(self, names: Iterable[str]) -> int:
        m = 0
        for name in names:
            m |= self.bit[name]
        return m

    def unmask(self, m: int) -> frozenset[str]:
        return frozenset(name for name in self.names if m & self.bit[name])

    def _solve(self) -> dict[str, int]:
        top = (1 << len(self.names)) - 1
        entries = set(self.g.entries)
        gen = self.gen
        declared = self.declared
        # a failed node (its "error" exit) carries the state before its writes
        return solve_forward(
            self.g,
            initial=top,
            start=lambda n: declared if n in entries else top,
            carry=lambda p, s, failed: s if failed else s | gen[p],
            meet=int.__and__,
        )

    def definite_at_ends(self) -> frozenset[str]:
        """Variables set on every way the walk can end (when this scenario is called)."""
        ends = [n for n in self.g.ends() if n in self.state]
        if not ends:
            return self.unmask(self.declared)
        m = (1 << len(self.names)) - 1
        for n in ends:
            m &= self.state[n] | self.gen[n]
        return self.unmask(m)

    def witness(self, name: str) -> dict[str, str | None]:
        """BFS parents along paths on which `name` is never assigned, from the entries."""
        bit = self.bit[name]
        graph = self.g.graph
        parent: dict[str, str | None] = {e: None for e in self.g.entries}
        queue = deque(self.g.entries)
        while queue:
            node = queue.popleft()
            sets_it = bool(self.gen[node] & bit)
            for nxt in graph.succ[node]:
                if nxt in parent:
                    continue
                if sets_it and ERROR_EXIT not in graph[node][nxt]["exits"]:
                    continue
                parent[nxt] = node
                queue.append(nxt)
        return parent

    def route(self, name: str, parent: dict[str, str | None], node_id: str) -> list[str]:
        """The witness path to `node_id`; a node left by its "error" exit is marked so."""
        if node_id not in parent:
            return []
        route = []
        current: str | None = node_id
        while current is not None:
            sets_it = current != node_id and self.gen[current] & self.bit[name]
            route.append(f"{current} (error)" if sets_it else current)
            current = parent[current]
        return route[::-1]

    def problems(self) -> list[Problem]:
        g = self.g
        found: list[Problem] = []
        witnesses: dict[str, dict[str, str | None]] = {}
        for node_id in sorted(g.nodes, key=g.pos):
            for name in sorted(self.reads[node_id]):
                where = _expression_path(g, node_id, name)
                if name not in self.possible:
                    if self.opaque_calls:
                        callees = ", ".join(f"'{c}'" for c in sorted(set(self.opaque_calls)))
                        message = (
                            f"variable '{name}' is never assigned in this scenario "
                            f"(unless subscenario {callees}, not checked here, sets it)"
                        )
                        severity = "warning"
                    else:
                        message = f"variable '{name}' is never assigned" + suggestion(
                            name, self.possible
                        )
                        severity = "error"
                    found.append(
                        Problem(
                            message,
                            path=where,
                            node_id=node_id,
                            severity=severity,
                            code="unassigned_variable",
                        )
                    )
                    continue
                in_state = self.state.get(node_id)
                if in_state is None or in_state & self.bit[name]:
                    continue
                if name not in witnesses:
                    witnesses[name] = self.witness(name)
                route = self.route(name, witnesses[name], node_id)
                via = f" (path: {chain(route)})" if route else ""
                found.append(
                    Problem(
                        f"variable '{name}' may be read before it is assigned{via}",
                        path=where,
                        node_id=node_id,
                        severity="warning",
                        code="unassigned_variable",
                    )
                )
        return found


def _expression_path(g: ScenarioGraph, node_id: str, name: str) -> str:
    """The JSON path of the first expression of the node that reads `name`."""
    for path, kind, text in iter_expressions(g.nodes[node_id].params):
        try:
            compiled = compile_expression(text) if kind == "expression" else compile_template(text)
        except ExpressionError:
            continue
        if name in compiled.variables:
            return g.path(node_id, f".params.{path}")
    return g.path(node_id)


def check_variables(
    g: ScenarioGraph, library: Mapping[str, Scenario] | None = None
) -> list[Problem]:
    """unassigned_variable findings for the scenario of `g`."""
    lib = Library(library or {})
    own = g.scenario.id
    # A scenario calling itself adds nothing it does not already assign.
    lib.summaries[own] = CallSummary(frozenset(), frozenset(), opaque=False)
    return Flow(g, lib).problems()
