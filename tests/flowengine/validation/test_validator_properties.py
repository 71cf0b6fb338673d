"""Mutated scenarios through `validate_files`: the partial graph of a scenario
that fails to load is checked too, and that must never raise or invent
findings about nodes that did not load."""

from __future__ import annotations

import copy
import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowengine.errors import Problem
from flowengine.validation import validate_files

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
BASES = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(EXAMPLES.glob("*.json"))]

values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10**12) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def places(doc: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path] if path else []
    if isinstance(doc, dict):
        for key, value in doc.items():
            found.extend(places(value, (*path, key)))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            found.extend(places(value, (*path, index)))
    return found


@st.composite
def mutated_nodes(draw: st.DrawFn) -> Any:
    """An example scenario with one to three places inside its nodes replaced or removed."""
    doc = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from([p for p in places(doc["nodes"])] or [(0,)]))
        parent = doc["nodes"]
        for part in path[:-1]:
            parent = parent[part]
        if draw(st.booleans()):
            parent[path[-1]] = draw(values)
        else:
            del parent[path[-1]]
    return doc


@settings(max_examples=60, deadline=5000, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_nodes())
def test_mutated_scenarios_give_problems_only(doc: Any) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mutated.json"
        path.write_text(json.dumps(doc), encoding="utf-8")
        [problems] = validate_files([path]).values()
    assert all(isinstance(p, Problem) for p in problems)
    ids = {n["id"] for n in doc["nodes"] if isinstance(n, dict) and isinstance(n.get("id"), str)}
    for p in problems:
        assert p.node_id is None or p.node_id in ids  # never a stand-in's made-up id
        assert "\n" not in p.message
