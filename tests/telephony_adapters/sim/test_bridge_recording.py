"""Recording a bridged conversation, as the scenario and the centre ask
for it, on the simulator: a queue's `record`, a Queue node's or a Transfer
node's `record` give the call a `recording_made` as long as the talk."""

from __future__ import annotations

from typing import Any

import pytest
from scenario_builders import AT, doc, hangup, load, node, script, start

from flowengine.acd import parse_centre
from flowengine.testing.harness import CentreSetup, run_scenario
from flowengine.testing.phones import VirtualPhone

EXITS = dict.fromkeys(("answered", "timeout", "full", "no_operators", "callback"), "bye")


def centre(record: bool) -> Any:
    return parse_centre(
        {"operators": [{"id": "901", "extension": "901"}],
         "queues": [{"id": "q", "members": ["901"], "ring_timeout": 10, "record": record}]}
    )


def recordings(trace: Any) -> list[Any]:
    return [e for e in trace.events if type(e).__name__ == "RecordingMade"]


@pytest.mark.parametrize(("queue_record", "node_record", "recorded"), [(True, False, True), (False, True, True), (False, False, False)])
def test_a_queue_conversation_is_recorded_when_the_queue_or_the_node_says_so(
    queue_record: bool, node_record: bool, recorded: bool
) -> None:
    scenario = load(doc([start("q"), node("q", "queue", {"queue": "q", "record": node_record}, **EXITS), hangup("bye")]))
    trace = run_scenario(
        scenario, script(), at=AT,
        centre=CentreSetup(centre(queue_record), answer_after=2.0, talk_time=30.0),
    )
    made = recordings(trace)
    if not recorded:
        assert made == []
        return
    assert len(made) == 1
    assert made[0].node_id == "q" and made[0].uri.startswith("sim://recordings/")
    assert made[0].duration == pytest.approx(30.0, abs=0.5)


def test_a_transfer_to_a_number_records_when_its_node_says_so() -> None:
    scenario = load(doc([
        start("x"),
        node("x", "transfer", {"numbers": ["555"], "record": True}, answered="bye", busy="bye", no_answer="bye"),
        hangup("bye"),
    ]))
    trace = run_scenario(scenario, script(), at=AT, directory={"555": VirtualPhone(answer_after=1.0, talk_time=12.0)})
    (made,) = recordings(trace)
    assert made.node_id == "x" and made.duration == pytest.approx(12.0, abs=0.5)
