"""The streams of the example calls keep the storage contract: gap-free `seq`
from 1, `ts` on every event, stable registered names, `call_started` first and
`call_ended` last, node events naming their scenario and version, and every
operator's and queue's stream numbered on its own. Every case of every
examples/*.tests.yaml file is one example call (the call centre's with
examples/centre.yaml)."""

from __future__ import annotations

import asyncio
import json
import math
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import pytest

from flowengine.events import JsonLinesSink, StreamEvent, event_from_dict, event_types
from flowengine.scenario.loader import load_scenario_file
from flowengine.testing.cases import Case, run_case_file
from flowengine.testing.harness import CallTrace

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
CASE_FILES = sorted(EXAMPLES.glob("*.tests.yaml"))


def example_traces(path: Path) -> list[tuple[str, CallTrace]]:
    traces: list[tuple[str, CallTrace]] = []

    def keep(case: Case, trace: CallTrace) -> None:
        traces.append((case.name, trace))

    results = run_case_file(path, on_trace=keep)
    assert all(r.passed for r in results), [(r.name, r.failures, r.error) for r in results if not r.passed]
    assert len(traces) == len(results) > 0
    return traces


def assert_numbered(events: Iterable[StreamEvent], what: str) -> None:
    """Per stream: seq 1, 2, 3… in publication order, ts never going back."""
    by_stream: dict[str, list[StreamEvent]] = defaultdict(list)
    for e in events:
        by_stream[e.stream_key].append(e)
    for key, stream in by_stream.items():
        assert [e.seq for e in stream] == list(range(1, len(stream) + 1)), f"{what} {key}"
        stamps = [e.ts for e in stream]
        assert stamps == sorted(stamps), f"{what} {key}: ts goes back"


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.name)
def test_every_example_call_keeps_the_stream_contract(path: Path) -> None:
    names = event_types()
    scenarios = {
        (s.id, s.version)
        for s in [load_scenario_file(p) for p in EXAMPLES.glob("*.json")]
    }
    for case, trace in example_traces(path):
        events = trace.events
        assert events[0].name == "call_started" and events[-1].name == "call_ended", case
        assert [e.name for e in events].count("call_ended") == 1, case
        assert {e.call_id for e in events} == {trace.call_id}, case
        assert_numbered(events, case)
        start = events[0]
        for e in events:
            assert names[e.name] is type(e), (case, e.name)
            assert e.v == 2
            # ts on every event: the call's start instant plus t
            assert isinstance(e.ts, float) and math.isclose(e.ts - e.t, start.ts, abs_tol=1e-6), (case, e)
            if type(e).in_scenario:
                assert (e.scenario_id, e.scenario_version) in scenarios, (case, e)  # type: ignore[attr-defined]
        # the backend's own id is kept, distinct from the engine's
        assert start.platform_id and start.platform_id != trace.call_id  # type: ignore[attr-defined]
        assert_numbered(trace.centre_events, f"{case}: centre")
        if trace.operators is not None:
            starts = [e for e in trace.centre_events if e.seq == 1 and e.name == "operator_status_changed"]
            assert {e.operator_id for e in starts} == {op["id"] for op in trace.operators}  # type: ignore[attr-defined]


def test_the_call_centre_examples_cover_the_queue_and_operator_streams() -> None:
    seen = set()
    for _case, trace in example_traces(EXAMPLES / "call_centre.tests.yaml"):
        seen.update(e.name for e in trace.events)
        seen.update(e.name for e in trace.centre_events)
    assert {
        "queue_entered", "queue_offered", "queue_offer_missed", "queue_offer_cancelled", "queue_connected",
        "queue_completed", "queue_abandoned", "queue_announced", "queue_overflow", "queue_callback_requested",
        "operator_status_changed", "operator_state_changed", "operator_wrap_up_started",
    } <= seen


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.name)
def test_example_streams_survive_a_json_lines_round_trip(path: Path, tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    written: list[StreamEvent] = []
    for _case, trace in example_traces(path):
        written += [*trace.events, *trace.centre_events]

    async def store() -> None:
        sink = JsonLinesSink(out)
        await sink.write_batch(written[:10])
        await sink.write_batch(written[10:])
        await sink.close()

    asyncio.run(store())
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(written)
    assert [event_from_dict(json.loads(line)) for line in lines] == written
