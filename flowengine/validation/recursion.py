"""subscenario_cycle: scenarios that call each other without end.

A Subscenario in "call" mode nests a walk inside the call; when the called
scenario can lead back to the caller (by calls or jumps, through any number
of scenarios of the library), every round nests one level deeper until the
engine's depth limit ends the call as an error. A jump alone does not nest
(a scenario may jump to itself to start over), so only cycles through at
least one call are reported, on the call node of the scenario checked.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from flowengine.errors import Problem
from flowengine.scenario.compiled import Scenario
from flowengine.validation.dataflow import called_scenario
from flowengine.validation.graph import ScenarioGraph


def _targets(scenario: Scenario) -> set[str]:
    """Every scenario this one calls or jumps to."""
    found: set[str] = set()
    for node in scenario.nodes.values():
        found |= node.references().get("scenario", set())
    return found


def _path_back(start: str, goal: str, library: Mapping[str, Scenario]) -> list[str] | None:
    """Scenario ids from `start` to `goal` (both included), breadth first, or None."""
    previous: dict[str, str | None] = {start: None}
    queue = [start]
    while queue:
        current = queue.pop(0)
        if current == goal:
            path = [current]
            while (before := previous[path[-1]]) is not None:
                path.append(before)
            return path[::-1]
        scenario = library.get(current)
        if scenario is None:
            continue
        for target in sorted(_targets(scenario)):
            if target not in previous:
                previous[target] = current
                queue.append(target)
    return None


def check_call_cycles(g: ScenarioGraph, library: Mapping[str, Scenario] | None) -> Iterator[Problem]:
    scenario = g.scenario
    scenarios = {**(library or {}), scenario.id: scenario}
    for node_id in sorted(g.nodes, key=g.pos):
        target = called_scenario(g.nodes[node_id])
        if target is None:
            continue
        back = _path_back(target, scenario.id, scenarios)
        if back is None:
            continue
        cycle = " → ".join([scenario.id, *back])
        yield Problem(
            f"subscenario '{target}' leads back to this scenario ({cycle}): "
            "every round nests one call deeper until the call ends as an error",
            path=g.path(node_id, ".params.scenario"),
            node_id=node_id,
            code="subscenario_cycle",
        )
