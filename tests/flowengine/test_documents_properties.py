"""Mutated and random documents of every kind: only flowengine's own errors come out.

Each file kind (scenario JSON and YAML, tests file, centre file, event
stream) gets documents made from a real example with parts replaced or
removed, and texts with hostile characters inserted or cut; whatever the
loader makes of them, nothing but a `FlowEngineError` may escape, and each
example is bounded by the deadline.
"""

from __future__ import annotations

import copy
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowengine.acd import load_centre
from flowengine.acd.analysis.export import queue_log_lines, read_events
from flowengine.errors import FlowEngineError
from flowengine.scenario.loader import load_scenario_text
from flowengine.testing.cases import load_case_file
from flowengine.validation import validate

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EVENTS = Path(__file__).resolve().parents[1] / "data" / "events" / "v1_calls.jsonl"
SCENARIO = json.loads((EXAMPLES / "call_centre.json").read_text(encoding="utf-8"))
CENTRE = yaml.safe_load((EXAMPLES / "centre.yaml").read_text(encoding="utf-8"))
CASES = yaml.safe_load((EXAMPLES / "call_centre.tests.yaml").read_text(encoding="utf-8"))

BOUNDED = settings(
    max_examples=40, deadline=3000, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=8,
)
HOSTILE = st.sampled_from(
    ['{', '}', '[', ']', '"', ':', ',', '\\', '&a ', '*a', '!!', '- ', '\n', '\t', '#', '9' * 30, 'NaN', '\x00', '\ud800', 'é']
)


def _places(doc: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(doc, dict):
        for key, value in doc.items():
            found.extend(_places(value, (*path, key)))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            found.extend(_places(value, (*path, index)))
    return found


@st.composite
def mutated(draw: st.DrawFn, base: Any) -> Any:
    """`base` with one to three places replaced by random JSON or removed."""
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        places = _places(doc)
        path = draw(st.sampled_from(places))
        if not path:
            doc = draw(json_values)
            continue
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        if draw(st.booleans()):
            parent[path[-1]] = draw(json_values)
        else:
            del parent[path[-1]]
    return doc


@st.composite
def mangled(draw: st.DrawFn, text: str) -> str:
    """`text` with hostile pieces inserted and spans cut."""
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        if draw(st.booleans()):
            text = text[:at] + draw(HOSTILE) + text[at:]
        else:
            text = text[:at] + text[at + draw(st.integers(1, 20)) :]
    return text


def only_our_errors(action: Callable[[], object]) -> None:
    try:
        action()
    except FlowEngineError:
        pass


def _load_and_validate(text: str, source: str) -> None:
    scenario = load_scenario_text(text, source=source)
    validate(scenario)


def _in_file(name: str, text: str, load: Callable[[Path], object]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        only_our_errors(lambda: load(path))


@BOUNDED
@given(st.one_of(mutated(SCENARIO).map(json.dumps), mangled(json.dumps(SCENARIO, indent=1)), st.text(max_size=200)))
def test_scenario_json(text: str) -> None:
    only_our_errors(lambda: _load_and_validate(text, "hostile.json"))


@BOUNDED
@given(st.one_of(mutated(SCENARIO).map(yaml.safe_dump), mangled(yaml.safe_dump(SCENARIO)), st.text(max_size=200)))
def test_scenario_yaml(text: str) -> None:
    only_our_errors(lambda: _load_and_validate(text, "hostile.yaml"))


@BOUNDED
@given(st.one_of(mutated(CASES).map(yaml.safe_dump), mangled(yaml.safe_dump(CASES)), st.text(max_size=200)))
def test_tests_file(text: str) -> None:
    _in_file("hostile.tests.yaml", text, load_case_file)


@BOUNDED
@given(st.one_of(mutated(CENTRE).map(yaml.safe_dump), mangled(yaml.safe_dump(CENTRE)), st.text(max_size=200)))
def test_centre_file(text: str) -> None:
    _in_file("centre.yaml", text, load_centre)


EVENT_LINES = [json.loads(line) for line in EVENTS.read_text(encoding="utf-8").splitlines() if line.strip()]


@BOUNDED
@given(
    st.one_of(
        mutated(EVENT_LINES).map(lambda events: "\n".join(json.dumps(e) for e in events) if isinstance(events, list) else json.dumps(events)),
        mangled(EVENTS.read_text(encoding="utf-8")),
        st.text(max_size=200),
    )
)
def test_event_stream(text: str) -> None:
    _in_file("events.jsonl", text, lambda path: list(queue_log_lines(read_events([path]))))
