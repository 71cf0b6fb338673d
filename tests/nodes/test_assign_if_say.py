"""Assign, If, Say, Play, Start and Hangup as a scenario author sees them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from scenario_builders import assign, doc, events, hangup, load, node, run, say, script, start

from flowengine.runtime.engine import Engine
from flowengine.runtime.virtual_loop import run_virtual
from telephony_adapters.sim import SimBackend


def test_assign_runs_in_order_and_later_values_see_earlier_ones() -> None:
    data = doc(
        [
            start("a"),
            node(
                "a",
                "assign",
                {
                    "assignments": [
                        {"variable": "A", "value": "2"},
                        {"variable": "B", "value": "A * 3"},
                        {"variable": "C", "value": "'x' & B"},
                        {"variable": "A", "value": "A + B"},
                    ]
                },
            ),
        ]
    )
    trace = run(data)
    assert trace.variables == {"A": 8, "B": 6, "C": "x6"}
    changes = [(e["variable"], e["value"], e["node_id"]) for e in events(trace, "variable_changed")]
    assert changes == [("A", 2, "a"), ("B", 6, "a"), ("C", "x6", "a"), ("A", 8, "a")]


def test_assign_failure_keeps_earlier_assignments() -> None:
    data = doc(
        [start("a"), node("a", "assign", {"assignments": [{"variable": "A", "value": "1"}, {"variable": "B", "value": "A / 0"}]}, error="e"),
         assign("e", None, SEEN="A")],
    )
    trace = run(data)
    assert trace.variables == {"A": 1, "SEEN": 1}


def test_declared_defaults_are_the_starting_values() -> None:
    trace = run(doc([start("a"), assign("a", None, B="A & '!'")], variables={"A": "hi", "N": 3}))
    assert trace.variables == {"A": "hi", "N": 3, "B": "hi!"}


def test_assign_needs_at_least_one_assignment() -> None:
    from flowengine.errors import ScenarioError

    with pytest.raises(ScenarioError) as info:
        load(doc([start("a"), node("a", "assign", {"assignments": []})]))
    assert info.value.problems[0].path == "nodes[1].params.assignments"


def branch(condition: str, **variables: Any) -> str:
    data = doc(
        [start("i"), node("i", "if", {"condition": condition}, true="yes", false="no"), assign("yes", None, R="'yes'"), assign("no", None, R="'no'")],
        variables=variables or None,
    )
    return run(data, caller="+79161234567", called="100").variables["R"]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("N > 2", "yes"),
        ("N > 5", "no"),
        ("N = 3 and NAME = 'Anna'", "yes"),
        ("not (N = 3) or NAME = 'Bob'", "no"),
        ("startswith(callerid(), '+7916')", "yes"),
        ("calledid() = 100", "yes"),
        ("len(NAME) - 4", "no"),  # 0 is false
        ("NAME", "yes"),  # non-empty text is true
        ("EMPTY", "no"),
    ],
)
def test_if(condition: str, expected: str) -> None:
    assert branch(condition, N=3, NAME="Anna", EMPTY="") == expected


def test_if_error_goes_to_error_exit_with_column() -> None:
    data = doc(
        [start("i"), node("i", "if", {"condition": "N > 'x' + 1"}, true="y", false="y", error="e"), assign("e", None, R="'error'")],
        variables={"N": 1},
    )
    trace = run(data)
    assert trace.variables["R"] == "error"
    failed = events(trace, "node_failed")[0]
    assert failed["code"] == "expression" and failed["column"] == 5


def test_say_renders_variables_with_language_and_voice() -> None:
    data = doc(
        [
            start("a"),
            assign("a", "hello", NAME="'Анна'", N="2 + 3"),
            say("hello", "Здравствуйте, {NAME}! Вы {N}-й в очереди.", "en"),
            node("en", "say", {"text": "Hello {lower(NAME)}", "language": "en", "voice": "en-us-amy"}, next="bye"),
            hangup(),
        ],
        language="ru",
    )
    trace = run(data)
    first, second = events(trace, "prompt_played")
    assert (first["text"], first["language"], first["voice"], first["kind"]) == (
        "Здравствуйте, Анна! Вы 5-й в очереди.",
        "ru",
        None,
        "say",
    )
    assert (second["text"], second["language"], second["voice"]) == ("Hello анна", "en", "en-us-amy")


def test_say_with_unknown_variable_fails_with_column() -> None:
    data = doc([start("s"), say("s", "Hello {NAME}", "bye", error="oops"), say("oops", "Sorry", "bye"), hangup()])
    trace = run(data)
    failed = events(trace, "node_failed")[0]
    assert (failed["node_id"], failed["code"], failed["column"]) == ("s", "expression", 8)
    assert trace.prompts == ["Sorry"]


def test_say_takes_time_proportional_to_its_text() -> None:
    trace = run(doc([start("s"), say("s", "x" * 100, "t"), say("t", "y" * 10, "bye"), hangup()]))
    a, b = events(trace, "prompt_played")
    assert a["t"] == pytest.approx(6.0) and b["t"] == pytest.approx(6.6)


def test_play_repeats() -> None:
    trace = run(doc([start("p"), node("p", "play", {"file": "media/beep.wav", "repeat": 3}, next="bye"), hangup()]))
    played = events(trace, "prompt_played")
    assert [(e["kind"], e["text"]) for e in played] == [("play", "media/beep.wav")] * 3
    assert [e["t"] for e in played] == [1.0, 2.0, 3.0]  # unknown audio counts 1 s each


def test_hangup_cause_and_nothing_after_it() -> None:
    trace = run(doc([start("bye"), hangup("bye", "rejected")]))
    assert trace.hangup_cause == "rejected"
    assert trace.path == ["start", "bye"]
    assert trace.exits[-1] == {"node": "bye", "exit": "hangup"}


@pytest.mark.parametrize("answer", [True, False])
def test_start_answers_unless_told_not_to(answer: bool) -> None:
    scenario = load(doc([node("start", "start", {"answer": answer}, next="s"), say("s", "Early media", "bye"), hangup()]))

    async def main() -> bool:
        engine = Engine(keep_events=True)
        engine.publish(scenario, default=True)
        call, task = SimBackend(engine).place_call(script())
        await asyncio.sleep(0.1)
        answered = call.answered
        await task
        return answered

    assert run_virtual(main()) is answer
