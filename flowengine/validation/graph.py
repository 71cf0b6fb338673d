"""The scenario as a graph, and the findings about its shape.

`ScenarioGraph` is a networkx DiGraph over the scenario's nodes with one edge
per (node, target) pair, labelled with the exit names that lead there. It
mirrors what the interpreter does: a terminal node never follows an exit (not
even "error"), and an exit wired to a missing node is not an edge (it is its
own finding, and the call fails there).

The checks here are structural: exits wired to missing nodes, exits not wired,
menu-like nodes without a default branch, unreachable nodes, places from
which the call can never end, loops that never wait for the caller, media
nodes in the after-hangup flow and references to unknown things.
"""

from __future__ import annotations

import difflib
import re
from collections import deque
from collections.abc import Iterable, Iterator

import networkx as nx

from flowengine.components.fields import iter_expressions
from flowengine.components.node import ERROR_EXIT, NodeType, UncheckedNode
from flowengine.errors import Problem
from flowengine.expr.env import QUEUE_FACTS
from flowengine.scenario.compiled import Scenario


class ScenarioGraph:
    """The wiring of one scenario as a DiGraph, plus document positions and entries.

    Edge attribute ``exits`` is the list of exit names from the source to the
    target (two exits may share a target). ``entries`` are the places a walk
    can begin: the main start, the after-hangup start, the error handler.
    """

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.nodes: dict[str, NodeType] = scenario.nodes
        self.position: dict[str, int] = {n.id: i for i, n in enumerate(scenario.doc.nodes)}
        self.graph: nx.DiGraph = nx.DiGraph()
        for node_id in sorted(self.nodes, key=self.pos):
            self.graph.add_node(node_id)
        for node_id in sorted(self.nodes, key=self.pos):
            if self.nodes[node_id].terminal:
                continue
            for exit_name, target in scenario.wiring.get(node_id, {}).items():
                if target not in self.nodes:
                    continue
                if self.graph.has_edge(node_id, target):
                    self.graph[node_id][target]["exits"].append(exit_name)
                else:
                    self.graph.add_edge(node_id, target, exits=[exit_name])
        entries = [
            scenario.main_entry,
            scenario.after_hangup_entry,
            scenario.settings.error_handler,
        ]
        self.entries: list[str] = list(
            dict.fromkeys(e for e in entries if e is not None and e in self.nodes)
        )

    def pos(self, node_id: str) -> int:
        return self.position.get(node_id, len(self.position))

    def path(self, node_id: str, suffix: str = "") -> str:
        index = self.position.get(node_id)
        return "" if index is None else f"nodes[{index}]{suffix}"

    def wired(self, node_id: str) -> dict[str, str]:
        return self.scenario.wiring.get(node_id, {})

    def reachable(self, sources: Iterable[str]) -> set[str]:
        seen: set[str] = set()
        queue = deque(s for s in sources if s in self.nodes)
        seen.update(queue)
        succ = self.graph.succ
        while queue:
            for nxt in succ[queue.popleft()]:
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)
        return seen

    def live(self) -> set[str]:
        """Nodes that may run while the caller is on the line: reached from the
        main start or the error handler, or reached from no entry at all
        (checked as if they were, so a node not yet wired in is still checked)."""
        live = self.reachable(
            e for e in (self.scenario.main_entry, self.scenario.settings.error_handler) if e is not None
        )
        return live | (set(self.nodes) - self.reachable(self.entries))

    def ends(self) -> set[str]:
        """Nodes where a walk can end normally.

        A terminal node (hangup, return), a node without exits (subscenario
        jump), an exit it can take left unwired (the call ends there), or an exit
        wired to a missing node (reported separately; the call fails there).
        An unwired "error" exit is not an end: it is the failure path. A
        node that did not load (`unchecked`) may end the call too.
        """
        found = set()
        for node_id, node in self.nodes.items():
            wired = self.wired(node_id)
            if (
                node.terminal
                or node.unchecked
                or not node.all_exits
                or any(e not in wired for e in node.possible_exits() if e != ERROR_EXIT)
                or any(t not in self.nodes for t in wired.values())
            ):
                found.add(node_id)
        return found

    def cycle_through(self, start: str, members: set[str]) -> list[str]:
        """A shortest cycle start → … → start inside `members` (BFS)."""
        succ = self.graph.succ
        if start in succ[start]:
            return [start, start]
        parent: dict[str, str] = {}
        queue = deque([start])
        while queue:
            current = queue.popleft()
            for nxt in sorted(succ[current], key=self.pos):
                if nxt not in members:
                    continue
                if nxt == start:
                    cycle = [start]
                    while current != start:
                        cycle.append(current)
                        current = parent[current]
                    cycle.append(start)
                    return [cycle[0], *reversed(cycle[1:-1]), start]
                if nxt not in parent:
                    parent[nxt] = current
                    queue.append(nxt)
        return [start]


def chain(ids: list[str], limit: int = 10) -> str:
    """`a → b → c`, eliding the middle of long lists."""
    if len(ids) > limit:
        ids = [*ids[: limit // 2 - 1], "…", *ids[-(limit // 2) :]]
    return " → ".join(ids)


def names(ids: Iterable[str], limit: int = 6) -> str:
    items = [f"'{i}'" for i in ids]
    if len(items) > limit:
        return ", ".join(items[:limit]) + f" and {len(items) - limit} more"
    return ", ".join(items)


def suggestion(name: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.75)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _label(node: NodeType) -> str:
    return f"{node.title_en} '{node.id}'"


# ---- the checks ------------------------------------------------------------------------


def check_exits(g: ScenarioGraph) -> Iterator[Problem]:
    """dangling_exit, unwired_exit and no_default.

    Required are the exits a node can take with its params (`possible_exits`)
    that its type does not mark optional, and only where the caller may still
    be on the line: in post-processing (nodes reached only from the
    after-hangup start) an unwired exit just ends post-processing, so no
    exit is required there. "error" is never required.
    """
    live = g.live()
    for node_id in sorted(g.nodes, key=g.pos):
        node = g.nodes[node_id]
        wired = g.wired(node_id)
        for exit_name, target in wired.items():
            if target not in g.nodes:
                yield Problem(
                    f"exit '{exit_name}' leads to missing node '{target}'"
                    + suggestion(target, g.nodes),
                    path=g.path(node_id, f".exits.{exit_name}"),
                    node_id=node_id,
                    code="dangling_exit",
                )
        if node.terminal or node_id not in live:
            continue
        defaults = set(node.default_exit_names(node.params))
        missing_defaults = []
        for exit_name in node.required_exits():
            if exit_name in wired or exit_name == ERROR_EXIT:
                continue
            if exit_name in defaults:
                missing_defaults.append(exit_name)
            else:
                yield Problem(
                    f"exit '{exit_name}' is not connected to any node (the call would end there)",
                    path=g.path(node_id, f".exits.{exit_name}"),
                    node_id=node_id,
                    code="unwired_exit",
                )
        if missing_defaults:
            branches = " or ".join(f"'{e}'" for e in missing_defaults)
            yield Problem(
                f"{_label(node)} has no {branches} branch",
                path=g.path(node_id, ".exits"),
                node_id=node_id,
                code="no_default",
            )


def check_reachable(g: ScenarioGraph) -> Iterator[Problem]:
    if any(isinstance(node, UncheckedNode) and not node.exits_known for node in g.nodes.values()):
        return  # a node whose exits could not be read may lead anywhere
    reached = g.reachable(g.entries)
    starts = ["the main start"]
    if g.scenario.after_hangup_entry:
        starts.append("the after-hangup start")
    if g.scenario.settings.error_handler:
        starts.append("the error handler")
    for node_id in sorted(set(g.nodes) - reached, key=g.pos):
        yield Problem(
            f"{_label(g.nodes[node_id])} can never be reached (no path from {' or '.join(starts)})",
            path=g.path(node_id),
            node_id=node_id,
            severity="warning",
            code="unreachable",
        )


def check_ends(g: ScenarioGraph) -> Iterator[Problem]:
    """no_end: one finding per trap, i.e. per closed part of the graph with no way out.

    Every node from which no path ends the call leads into such a trap (a
    strongly connected part none of whose exits leave it), so reporting the
    traps with the nodes that lead into them names each such node once.
    """
    can_end = set(g.ends())
    queue = deque(can_end)
    pred = g.graph.pred
    while queue:
        for prev in pred[queue.popleft()]:
            if prev not in can_end:
                can_end.add(prev)
                queue.append(prev)
    stuck = set(g.nodes) - can_end
    if not stuck:
        return
    sub = g.graph.subgraph(stuck)
    condensed = nx.condensation(sub)
    members: dict[int, set[str]] = {c: set(condensed.nodes[c]["members"]) for c in condensed}
    for comp in condensed:
        if condensed.out_degree(comp) != 0:
            continue
        trap = members[comp]
        first = min(trap, key=g.pos)
        cycle = g.cycle_through(first, trap)
        leading = sorted(nx.ancestors(sub, first) - trap, key=g.pos)
        message = (
            f"the call can never end once it reaches '{first}': the flow goes round {chain(cycle)}"
        )
        rest = sorted(trap - set(cycle), key=g.pos)
        if rest:
            message += f" (and {names(rest)})"
        message += " with no hangup, return or unconnected exit"
        if leading:
            message += f"; {names(leading)} lead{'s' if len(leading) == 1 else ''} only into it"
        yield Problem(message, path=g.path(first), node_id=first, code="no_end")


def check_loops(g: ScenarioGraph) -> Iterator[Problem]:
    """endless_loop: a cycle none of whose nodes waits for the caller.

    Waiting nodes are taken out of the graph first, so a quick inner loop is
    found even when a bigger loop around it passes through a Gather.
    """
    busy = [n for n, node in g.nodes.items() if not node.waits_for_caller]
    sub = g.graph.subgraph(busy)
    for comp in nx.strongly_connected_components(sub):
        first = min(comp, key=g.pos)
        if len(comp) == 1 and not sub.has_edge(first, first):
            continue
        cycle = g.cycle_through(first, comp)
        message = f"endless loop: {chain(cycle, 16)} runs without ever waiting for the caller"
        rest = sorted(comp - set(cycle), key=g.pos)
        if rest:
            message += f" (the same loop also passes through {names(rest)})"
        yield Problem(message, path=g.path(first), node_id=first, code="endless_loop")


def check_after_hangup_media(g: ScenarioGraph) -> Iterator[Problem]:
    """media_after_hangup: a node that needs the line, run after the caller is gone.

    An error where the node runs only after hangup (it can never work); a
    warning where the main flow reaches it too (it fails on the after-hangup path).
    """
    entry = g.scenario.after_hangup_entry
    if entry is None:
        return
    live = g.live()
    for node_id in sorted(g.reachable([entry]), key=g.pos):
        node = g.nodes[node_id]
        if not node.needs_media:
            continue
        shared = node_id in live
        message = (
            f"{_label(node)} needs the caller's line but runs after hangup "
            f"(reached from the after-hangup start '{entry}')"
        )
        message += (
            ", where it fails (the main flow reaches it too)" if shared else ", so it will always fail"
        )
        yield Problem(
            message,
            path=g.path(node_id),
            node_id=node_id,
            severity="warning" if shared else "error",
            code="media_after_hangup",
        )


def check_references(g: ScenarioGraph, known: dict[str, set[str]] | None) -> Iterator[Problem]:
    """unknown_reference: named things (scenarios, queues, ...) checked per kind given."""
    if not known:
        return
    if "scenario" in known:  # a scenario may jump to itself (e.g. to start over)
        known = {**known, "scenario": known["scenario"] | {g.scenario.id}}
    for node_id in sorted(g.nodes, key=g.pos):
        node = g.nodes[node_id]
        for kind, refs in sorted(node.references().items()):
            if kind not in known:
                continue
            for name in sorted(refs - known[kind]):
                yield Problem(
                    f"{node.type_name} '{name}' is not a known {kind}"
                    + suggestion(name, known[kind]),
                    path=g.path(node_id, ".params"),
                    node_id=node_id,
                    code="unknown_reference",
                )
        if "queue" in known:
            for path, name in _queues_in_expressions(node):
                if name not in known["queue"]:
                    yield Problem(
                        f"'{name}' in an expression is not a known queue"
                        + suggestion(name, known["queue"]),
                        path=g.path(node_id, f".params.{path}"),
                        node_id=node_id,
                        code="unknown_reference",
                    )


#: a queue function called with a quoted queue name: queue_waiting('sales')
_QUEUE_CALL = re.compile(
    r"\bqueue_(?:" + "|".join(QUEUE_FACTS) + r")\s*\(\s*(?:'([^'\\]*)'|\"([^\"\\]*)\")\s*\)",
    re.IGNORECASE,
)


def _queues_in_expressions(node: NodeType) -> Iterator[tuple[str, str]]:
    """(param path, queue name) for every queue function the node's expressions
    call with a literal name; computed names are checked when the call runs."""
    for path, _kind, text in iter_expressions(node.params):
        for match in _QUEUE_CALL.finditer(text):
            yield path, match.group(1) if match.group(1) is not None else match.group(2)
