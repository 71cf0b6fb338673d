"""Mutated and random documents of every kind: only flowengine's own errors come out.

Each file kind (scenario JSON and YAML, tests file, centre file, routing
table, event stream) gets documents made from a real example with parts
replaced or removed, and texts with hostile characters inserted or cut;
whatever the loader makes of them, nothing but a `FlowEngineError` may
escape, and each example is bounded in time (hypothesis' deadline) and in
memory (`MEMORY_BOUND`, measured with tracemalloc). Event streams go through
every reader of them: the queue_log export and `event_from_dict`, which
rebuilds typed events (after upgrading earlier versions).

The hostile corpus (tests/data/hostile/) goes through every loader as well,
each file within the same bounds.
"""

from __future__ import annotations

import copy
import json
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowengine.acd import load_centre
from flowengine.acd.analysis.export import queue_log_lines, read_events
from flowengine.errors import FlowEngineError
from flowengine.events import event_from_dict, upgrade_stream
from flowengine.scenario.loader import load_scenario_file, load_scenario_text
from flowengine.scenario.routing import load_routing_file
from flowengine.testing.cases import load_case_file
from flowengine.validation import validate

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EVENTS = Path(__file__).resolve().parents[1] / "data" / "events" / "v1_calls.jsonl"
SCENARIO = json.loads((EXAMPLES / "call_centre.json").read_text(encoding="utf-8"))
CENTRE = yaml.safe_load((EXAMPLES / "centre.yaml").read_text(encoding="utf-8"))
CASES = yaml.safe_load((EXAMPLES / "call_centre.tests.yaml").read_text(encoding="utf-8"))
ROUTING = yaml.safe_load((EXAMPLES / "routing.yaml").read_text(encoding="utf-8"))
HOSTILE_CORPUS = Path(__file__).resolve().parents[1] / "data" / "hostile"
#: peak memory one hostile document may cost its loader
MEMORY_BOUND = 64 * 1024 * 1024

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
    """Run `action`: a FlowEngineError is fine, anything else fails the test,
    and so does a peak of traced memory above `MEMORY_BOUND`."""
    tracemalloc.start()
    try:
        action()
    except FlowEngineError:
        pass
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < MEMORY_BOUND, f"{peak / 2**20:.0f} MiB"


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
    _in_file("events.jsonl", text, read_every_way)


def read_every_way(path: Path) -> None:
    """Every reader of an event file: the queue_log export, and typed events."""
    list(queue_log_lines(read_events([path])))
    for data in upgrade_stream(read_events([path])):
        event_from_dict(data)


@BOUNDED
@given(st.one_of(mutated(ROUTING).map(yaml.safe_dump), mangled(yaml.safe_dump(ROUTING)), st.text(max_size=200)))
def test_routing_file(text: str) -> None:
    _in_file("routing.yaml", text, load_routing_file)


LOADERS: dict[str, Callable[[Path], object]] = {
    "scenario": lambda path: validate(load_scenario_file(path)),
    "tests file": load_case_file,
    "centre file": load_centre,
    "routing table": load_routing_file,
    "event stream": read_every_way,
}


@pytest.mark.parametrize("kind", sorted(LOADERS))
@pytest.mark.parametrize("path", sorted(HOSTILE_CORPUS.iterdir()), ids=lambda p: p.name)
def test_every_hostile_file_through_every_loader(path: Path, kind: str) -> None:
    began = time.monotonic()
    only_our_errors(lambda: LOADERS[kind](path))
    assert time.monotonic() - began < 10  # seconds, on a loaded machine; these take milliseconds
