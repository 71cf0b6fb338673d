"""Running every check on one scenario and ordering the findings."""

from __future__ import annotations

from collections.abc import Mapping

from flowengine.components.node import UncheckedNode
from flowengine.errors import Problem
from flowengine.scenario.compiled import Scenario
from flowengine.telephony.dialpolicy import DialPolicy
from flowengine.validation.dataflow import check_variables
from flowengine.validation.dialpolicy import check_dialled_numbers
from flowengine.validation.graph import (
    ScenarioGraph,
    check_after_hangup_media,
    check_ends,
    check_exits,
    check_loops,
    check_reachable,
    check_references,
)
from flowengine.validation.recursion import check_call_cycles

#: finding code -> default severity, in the order findings of one node are listed
CODES: dict[str, str] = {
    "dangling_exit": "error",
    "unwired_exit": "error",
    "no_default": "error",
    "unreachable": "warning",
    "no_end": "error",
    "endless_loop": "error",
    "unknown_reference": "error",
    "subscenario_cycle": "error",
    "media_after_hangup": "error or warning",
    "unassigned_variable": "error or warning",
    "dial_unrestricted": "error",
    "dial_no_policy": "warning",
}
_RANK = {code: i for i, code in enumerate(CODES)}


def validate(
    scenario: Scenario,
    *,
    known: dict[str, set[str]] | None = None,
    library: Mapping[str, Scenario] | None = None,
    dial_policy: DialPolicy | None = None,
) -> list[Problem]:
    """Every graph and data-flow finding about a loaded scenario.

    `known` maps a reference kind to the names that exist (e.g.
    ``{"scenario": {"main", "billing"}}``); kinds not given are not checked.
    `library` holds scenarios by id that Subscenario nodes may run, so
    variables they assign count as assigned after the call (and caller input
    is followed through them). `dial_policy` is the centre's, when known: it
    vouches for computed numbers that are not caller input.

    `scenario` may be the partial graph of one that failed to load
    (`ScenarioError.partial`): the nodes that did not load stand in as
    unknowns, and every check that does not depend on them still runs.
    """
    g = ScenarioGraph(scenario)
    found: list[Problem] = [
        *check_exits(g),
        *check_reachable(g),
        *check_ends(g),
        *check_loops(g),
        *check_references(g, known),
        *check_call_cycles(g, library),
        *check_after_hangup_media(g),
        *check_variables(g, library),
    ]
    if not any(node.unchecked for node in g.nodes.values()):
        # the taint analysis follows what each node computes: it needs them all
        found += check_dialled_numbers(g, library, dial_policy)
    hidden = {n for n, node in g.nodes.items() if isinstance(node, UncheckedNode) and node.anonymous}
    return sorted((p for p in found if p.node_id not in hidden), key=lambda p: _sort_key(g, p))


def _sort_key(g: ScenarioGraph, p: Problem) -> tuple[int, int, str, str]:
    position = g.pos(p.node_id) if p.node_id is not None else -1
    return (position, _RANK.get(p.code, len(_RANK)), p.path, p.message)
