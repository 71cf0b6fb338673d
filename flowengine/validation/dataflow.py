"""Variables read before they are assigned: a must-analysis over the graph.

Reading a variable that is not set fails the node at run time ("unknown
variable"), so a read that some path reaches with the variable unset is an
error: the call fails on that path. Declared variables (`variables`, with
their default or null) are set from the first node on and never reported.

Facts are bitsets (Python ints, one bit per variable name). A node's state on
entry is the intersection of what reaches it along every edge, and, for an
entry point, the scenario's declared variables (the only ones certainly set
there: a hangup can happen anywhere, a node can fail anywhere, so the
after-hangup start and the error handler begin with those alone). An edge
carries the state after what the node certainly writes when it leaves by
that exit (`NodeType.writes_on`: a Queue sets who answered only on
"answered"); the "error" exit carries the state before any of its writes,
because the node failed. An edge that stands for several exits carries what
all of them do. The worklist runs in reverse post-order from the entries and
only ever removes bits, so loops reach the fixed point in a few passes.

A Subscenario in call mode comes back with whatever the other scenario
assigned on every way back to the caller (a Return node, or an exit left
unwired), its declared variables filled from their defaults as well; a
Hangup there never comes back, nor does a failure nothing handles (it ends
the call). With that
scenario in `library`, those count as written by the call; without it, the
call may set anything, so a read that depends on it is a warning ("unless
subscenario 'x', not checked here, sets it") rather than an error.
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
    carry: Callable[[str, S, tuple[str, ...]], S],
    meet: Callable[[S, S], S],
) -> dict[str, S]:
    """A forward data-flow fixed point: each reachable node's state on entry.

    A node's state is `start(node)` met with what each predecessor carries,
    `carry(pred, state of pred, exits)`, where `exits` are the predecessor's
    exit names along that edge ("error" among them: what the predecessor does
    may not have happened). Every state begins at `initial` and the worklist
    runs in reverse post-order; `carry` and `meet` must be monotone, so it
    terminates.
    """
    graph = g.graph
    order = reverse_postorder(g)
    state = dict.fromkeys(order, initial)
    preds = {
        n: [(p, tuple(graph[p][n]["exits"])) for p in graph.pred[n] if p in state] for n in order
    }
    queue = deque(order)
    queued = set(order)
    while queue:
        node = queue.popleft()
        queued.discard(node)
        new = start(node)
        for p, exits in preds[node]:
            new = meet(new, carry(p, state[p], exits))
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
    """The must-analysis of one scenario.

    `state` is what is certainly set on entry to each node when a call we
    cannot see (a subscenario not in the library) sets nothing; `hopeful` the
    same when it may have set anything (only computed when there are such
    calls). A read unset in `hopeful` too is an error; one unset only in
    `state` is a warning naming the calls that might set it.
    """

    def __init__(self, g: ScenarioGraph, library: Library) -> None:
        self.g = g
        declared = {v.name for v in g.scenario.doc.variables}
        self.reads: dict[str, set[str]] = {n: node.reads() for n, node in g.nodes.items()}
        gen: dict[str, dict[str, set[str]]] = {
            n: {e: set(node.writes_on(e)) for e in node.all_exits if e != ERROR_EXIT}
            for n, node in g.nodes.items()
        }
        self.possible: set[str] = set(declared).union(*(node.writes() for node in g.nodes.values()))
        self.opaque_calls: list[str] = []
        #: call nodes whose scenario we cannot see -> that scenario's id
        self.opaque_nodes: dict[str, str] = {}
        #: the scenario is meant to be called (it has a Return node)
        self.called = any(node.terminal and not node.ends_call for node in g.nodes.values())
        #: nodes that did not load (a partial graph): they may set anything
        self.unchecked = {n for n, node in g.nodes.items() if node.unchecked}
        for node_id, node in g.nodes.items():
            target = called_scenario(node)
            if target is None:
                continue
            summary = library.summary(target)
            if summary is None:
                self.opaque_calls.append(target)
                self.opaque_nodes[node_id] = target
                continue
            for exit_gen in gen[node_id].values():
                exit_gen |= summary.definite
            self.possible |= summary.possible
            if summary.opaque:
                self.opaque_calls.append(target)
                self.opaque_nodes[node_id] = target

        universe = sorted(self.possible.union(*self.reads.values()))
        self.bit = {name: 1 << i for i, name in enumerate(universe)}
        self.names = universe
        self.top = (1 << len(universe)) - 1
        self.declared = self.mask(declared)
        self.gen = {n: {e: self.mask(v) for e, v in by_exit.items()} for n, by_exit in gen.items()}
        self.state = self._solve(hopeful=False)
        self.hopeful = self._solve(hopeful=True) if self.opaque_nodes else self.state

    def mask(self, names: Iterable[str]) -> int:
        m = 0
        for name in names:
            m |= self.bit[name]
        return m

    def unmask(self, m: int) -> frozenset[str]:
        return frozenset(name for name in self.names if m & self.bit[name])

    def gen_on(self, node_id: str, exit_name: str, hopeful: bool = False) -> int:
        """What leaving `node_id` by `exit_name` certainly sets (nothing on "error")."""
        if exit_name == ERROR_EXIT:
            return 0
        if node_id in self.unchecked or (hopeful and node_id in self.opaque_nodes):
            return self.top
        return self.gen[node_id].get(exit_name, 0)

    def _solve(self, *, hopeful: bool) -> dict[str, int]:
        entries = set(self.g.entries)
        declared = self.declared
        top = self.top

        def carry(p: str, s: int, exits: tuple[str, ...]) -> int:
            m = top
            for e in exits:
                m &= s | self.gen_on(p, e, hopeful)
            return m

        return solve_forward(
            self.g,
            initial=top,
            start=lambda n: declared if n in entries else top,
            carry=carry,
            meet=int.__and__,
        )

    def definite_at_ends(self) -> frozenset[str]:
        """Variables set on every way back to a caller (when this scenario is called)."""
        g = self.g
        m = self.top
        ways_back = 0
        for n, s in self.state.items():
            node = g.nodes[n]
            if node.terminal:
                if not node.ends_call:  # Return
                    m &= s
                    ways_back += 1
                continue
            if not node.all_exits:  # a jump: the call never comes back from it
                continue
            wired = g.wired(n)
            for e in node.possible_exits():
                if e not in wired:  # an unwired exit ends the walk: back to the caller
                    m &= s | self.gen_on(n, e)
                    ways_back += 1
        return self.unmask(m if ways_back else self.declared)

    def witness(self, name: str) -> dict[str, tuple[str, str] | None]:
        """BFS parents (node, exit) along paths on which `name` is never assigned."""
        bit = self.bit[name]
        graph = self.g.graph
        parent: dict[str, tuple[str, str] | None] = {e: None for e in self.g.entries}
        queue = deque(self.g.entries)
        while queue:
            node = queue.popleft()
            for nxt in graph.succ[node]:
                if nxt in parent:
                    continue
                leaving = [e for e in graph[node][nxt]["exits"] if not self.gen_on(node, e) & bit]
                if not leaving:
                    continue
                parent[nxt] = (node, leaving[0])
                queue.append(nxt)
        return parent

    def route(self, name: str, parent: dict[str, tuple[str, str] | None], node_id: str) -> list[str]:
        """The witness path to `node_id`; a node that sets `name` on other
        exits is marked with the exit taken ("set (error)", "queue (timeout)")."""
        if node_id not in parent:
            return []
        route = [node_id]
        step = parent[node_id]
        bit = self.bit[name]
        while step is not None:
            current, exit_name = step
            sets_it = any(gen & bit for gen in self.gen[current].values())
            route.append(f"{current} ({exit_name})" if sets_it else current)
            step = parent[current]
        return route[::-1]

    def problems(self) -> list[Problem]:
        g = self.g
        found: list[Problem] = []
        witnesses: dict[str, dict[str, tuple[str, str] | None]] = {}
        for node_id in sorted(g.nodes, key=g.pos):
            for name in sorted(self.reads[node_id]):
                where = _expression_path(g, node_id, name)
                if name not in self.possible:
                    if self.unchecked:
                        continue  # a node that did not load may be the one that sets it
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
                        if self.called:
                            message += (
                                "; if the scenarios that call this one set it, declare it in "
                                '"variables" (their value is kept)'
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
                message = f"variable '{name}' may be read before it is assigned{via}"
                if self.hopeful[node_id] & self.bit[name]:
                    callees = ", ".join(f"'{c}'" for c in sorted(set(self.opaque_nodes.values())))
                    message += f", unless subscenario {callees}, not checked here, sets it"
                    severity = "warning"
                else:
                    message += (
                        ": on that path the call fails with 'unknown variable'; assign it on "
                        'every path, or declare it in "variables" with a default'
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
