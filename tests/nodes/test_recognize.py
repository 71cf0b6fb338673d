"""Recognize: phrase matching, retries and timeouts with a scripted speaking caller."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from flowengine.events import SpeechRecognized
from flowengine.scenario.loader import load_scenario_data
from flowengine.testing.harness import CallTrace, run_scenario
from flowengine.testing.script import CallerScript
from flowengine.validation import validate
from nodes.recognize import RecognizeParams, contains_words, words

CHOICES = [
    {"exit": "billing", "phrases": ["billing", "pay", "my bill", "оплата", "счёт"]},
    {"exit": "support", "phrases": ["support", "техподдержка", "не работает"]},
]


def scenario(params: dict[str, Any] | None = None) -> Any:
    params = {
        "prompt": "Say billing or support",
        "choices": CHOICES,
        "timeout": 4,
        "retries": 1,
        "no_match_prompt": "Sorry?",
        "timeout_prompt": "I did not hear you",
        "variable": "SPOKEN",
        **(params or {}),
    }
    choices = params["choices"]
    exits = {c["exit"]: c["exit"] for c in choices} | (
        {"other": "other", "timeout": "timeout"}
        if choices
        else {"done": "billing", "timeout": "timeout"}
    )
    nodes = [
        {"id": "start", "type": "start", "exits": {"next": "ask"}},
        {"id": "ask", "type": "recognize", "params": params, "exits": exits},
    ] + [
        {"id": name, "type": "say", "params": {"text": name}, "exits": {"next": "bye"}}
        for name in ("billing", "support", "other", "timeout")
    ]
    nodes.append({"id": "bye", "type": "hangup"})
    return load_scenario_data({"schema": 1, "id": "asr", "language": "ru", "nodes": nodes})


def call(says: list[str], params: dict[str, Any] | None = None) -> CallTrace:
    # The short waits keep each phrase for the next listening turn: SimCall
    # otherwise answers a second `say` at once while the first turn is still
    # closing, and the phrase is lost (reported to the simulator's owner).
    steps: list[dict[str, Any]] = []
    for text in says:
        steps += [{"say": text}, {"wait": 0.1}]
    return run_scenario(scenario(params), CallerScript(steps=steps))


def heard(trace: CallTrace) -> list[tuple[str, str | None]]:
    return [(e.text, e.matched) for e in trace.events if isinstance(e, SpeechRecognized)]


@pytest.mark.parametrize(
    ("utterance", "phrase", "expected"),
    [
        ("I want to pay my bill", "pay", True),
        ("I want to pay my bill", "my bill", True),
        ("I want to pay my bill", "bill pay", False),
        ("I'd like a payment plan", "pay", False),  # whole words only
        ("Хочу оплатить СЧЁТ!", "счет", True),  # case, ё → е, punctuation
        ("у меня не-работает интернет", "не работает", True),
        ("Support, please.", "SUPPORT", True),
        ("", "pay", False),
    ],
)
def test_whole_word_matching(utterance: str, phrase: str, expected: bool) -> None:
    assert contains_words(words(utterance), words(phrase)) is expected


def test_spoken_choice_takes_its_exit() -> None:
    trace = call(["Хочу оплатить СЧЁТ, пожалуйста"])
    assert trace.path == ["start", "ask", "billing", "bye"]
    assert trace.variables["SPOKEN"] == "Хочу оплатить СЧЁТ, пожалуйста"
    assert heard(trace) == [("Хочу оплатить СЧЁТ, пожалуйста", "billing")]
    assert trace.prompts == ["Say billing or support", "billing"]


def test_first_matching_choice_wins() -> None:
    trace = call(["support for my bill"])
    assert trace.path[2] == "billing"  # billing is listed first


def test_no_match_then_a_match_on_the_retry() -> None:
    trace = call(["what is the weather", "техподдержка"])
    assert trace.path == ["start", "ask", "support", "bye"]
    assert heard(trace) == [("what is the weather", None), ("техподдержка", "support")]
    assert trace.prompts == [
        "Say billing or support",
        "Sorry?",
        "Say billing or support",
        "support",
    ]


def test_no_match_after_retries_is_other() -> None:
    trace = call(["weather", "payment"])
    assert trace.path[2] == "other"
    assert trace.variables["SPOKEN"] == "payment"


def test_silence_is_timeout_after_retries() -> None:
    trace = call([])
    assert trace.path == ["start", "ask", "timeout", "bye"]
    assert heard(trace) == []
    assert trace.prompts == [
        "Say billing or support",
        "I did not hear you",
        "Say billing or support",
        "timeout",
    ]
    assert trace.variables["SPOKEN"] == ""
    # two attempts, each a prompt plus the 4 s wait
    assert trace.duration > 8


def test_free_speech_without_choices_is_done() -> None:
    trace = call(["I lost my card"], {"choices": []})
    assert trace.path[2] == "billing"  # wired from "done"
    assert heard(trace) == [("I lost my card", "done")]
    assert scenario({"choices": []}).nodes["ask"].all_exits == ("done", "timeout")


def test_exits_defaults_and_validator() -> None:
    built = scenario()
    node = built.nodes["ask"]
    assert node.all_exits == ("billing", "support", "other", "timeout")
    assert node.default_exit_names(node.params) == ("other", "timeout")
    assert node.writes() == {"SPOKEN"}
    assert node.waits_for_caller and node.needs_media
    assert [p for p in validate(built) if p.severity == "error"] == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"choices": [{"exit": "other", "phrases": ["x"]}]}, "exit 'other' is reserved"),
        ({"choices": [{"exit": "a", "phrases": []}]}, "at least 1 item"),
        ({"choices": [{"exit": "a", "phrases": ["?!"]}]}, "phrase '?!' has no words"),
        (
            {"choices": [{"exit": "a", "phrases": ["Счёт"]}, {"exit": "b", "phrases": ["счет!"]}]},
            "choices[1]: phrase 'счет!' is already in choice 'a'",
        ),
        ({"choices": [{"exit": "bad exit", "phrases": ["x"]}]}, "String should match pattern"),
        ({"timeout": 0}, "greater than 0"),
        ({"grammar": "x"}, "Extra inputs"),
    ],
)
def test_bad_params_are_refused(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as info:
        RecognizeParams.model_validate(params)
    assert message in str(info.value)


def test_speech_longer_than_any_text_fails_the_node_not_the_engine() -> None:
    """Text limits hold for what the caller says too: a recognizer that hands
    back more than an expression could hold is a node error, and the
    variable keeps its old value."""
    trace = call(["pay " * 25_001])
    failed = [e for e in trace.events if e.name == "node_failed"]
    assert [(e.node_id, e.code) for e in failed] == [("ask", "too_long")]  # type: ignore[attr-defined]
    assert "SPOKEN: text of 100004 characters is too long" in failed[0].message  # type: ignore[attr-defined]
    assert trace.variables.get("SPOKEN") in (None, "")
    assert trace.hangup_cause == "error"
