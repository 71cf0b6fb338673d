"""Record: voicemail on the simulator — how a recording ends, and hang-up keeps it."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from flowengine.events import NodeFailed, Notified, PromptPlayed, RecordingMade
from flowengine.scenario.loader import load_scenario_data
from flowengine.testing.harness import CallTrace, run_scenario
from flowengine.testing.script import CallerScript
from flowengine.validation import validate
from nodes.record import RecordParams


def voicemail(params: dict[str, Any] | None = None) -> Any:
    params = {
        "prompt": "Leave a message after the tone",
        "variable": "VOICEMAIL",
        "duration_variable": "SECONDS",
        **(params or {}),
    }
    return load_scenario_data(
        {
            "schema": 1,
            "id": "vm",
            "variables": [{"name": "VOICEMAIL"}, {"name": "SECONDS"}],
            "nodes": [
                {"id": "start", "type": "start", "exits": {"next": "record"}},
                {
                    "id": "record",
                    "type": "record",
                    "params": params,
                    "exits": {"next": "thanks", "empty": "sorry"},
                },
                {
                    "id": "thanks",
                    "type": "say",
                    "params": {"text": "Thank you"},
                    "exits": {"next": "bye"},
                },
                {
                    "id": "sorry",
                    "type": "say",
                    "params": {"text": "No message recorded"},
                    "exits": {"next": "bye"},
                },
                {"id": "bye", "type": "hangup"},
                {
                    "id": "after",
                    "type": "start",
                    "params": {"entry": "after_hangup"},
                    "exits": {"next": "deliver"},
                },
                {
                    "id": "deliver",
                    "type": "notify",
                    "params": {"message": "voicemail {VOICEMAIL} ({SECONDS} s)"},
                    "exits": {"next": "done"},
                },
                {"id": "done", "type": "hangup"},
            ],
        }
    )


def call(
    steps: list[dict[str, Any]], params: dict[str, Any] | None = None, **script: Any
) -> CallTrace:
    return run_scenario(voicemail(params), CallerScript(steps=steps, **script))


def recording(trace: CallTrace) -> RecordingMade:
    [event] = [e for e in trace.events if isinstance(e, RecordingMade)]
    return event


def test_caller_who_hangs_up_keeps_the_message() -> None:
    trace = call([{"say": "Hi, call me back"}, {"wait": 6}, {"hangup": True}], {"silence_end": 10})
    made = recording(trace)
    assert made.reason == "hangup"
    # said after 1 s of thinking, then 6 s more: the whole message is kept
    assert made.duration == pytest.approx(7.0)
    assert trace.variables["VOICEMAIL"] == made.uri
    assert trace.variables["SECONDS"] == pytest.approx(7.0)
    assert trace.path == ["start", "record", "after", "deliver", "done"]
    assert {"node": "record", "exit": "next"} in trace.exits
    [note] = [e for e in trace.events if isinstance(e, Notified)]
    assert note.message == f"voicemail {made.uri} (7 s)"
    assert not [e for e in trace.events if isinstance(e, NodeFailed)]


def test_terminator_ends_the_recording() -> None:
    trace = call([{"say": "Hello"}, {"wait": 2}, {"press": "#"}])
    made = recording(trace)
    assert (made.reason, made.duration) == ("terminator", pytest.approx(3.0))
    assert trace.path == ["start", "record", "thanks", "bye", "after", "deliver", "done"]
    assert trace.prompts == ["Leave a message after the tone", "Thank you"]


def test_silence_ends_the_recording() -> None:
    trace = call([{"say": "Hello"}], {"silence_end": 3, "min_length": 0.5})
    made = recording(trace)
    assert (made.reason, made.duration) == ("silence", pytest.approx(4.0))
    assert trace.path == ["start", "record", "thanks", "bye", "after", "deliver", "done"]


def test_max_length_ends_the_recording() -> None:
    talk = [{"say": f"word {i}"} for i in range(10)]
    trace = call(talk, {"max_length": 3.5, "silence_end": 2})
    made = recording(trace)
    assert (made.reason, made.duration) == ("max_length", pytest.approx(3.5))


def test_nothing_said_is_empty() -> None:
    trace = call([], {"silence_end": 3})
    made = recording(trace)
    assert made.reason == "silence"
    assert trace.path == ["start", "record", "sorry", "bye", "after", "deliver", "done"]
    assert trace.variables["VOICEMAIL"] is None
    assert trace.variables["SECONDS"] == pytest.approx(3.0)


def test_a_key_over_the_prompt_skips_it_and_does_not_end_the_recording() -> None:
    trace = call([{"press": "#"}, {"say": "Hello"}], {"silence_end": 2, "min_length": 0.5})
    prompt = next(e for e in trace.events if isinstance(e, PromptPlayed))
    assert prompt.interrupted
    made = recording(trace)
    assert made.reason == "silence"  # the "#" pressed over the prompt was discarded
    assert trace.path == ["start", "record", "thanks", "bye", "after", "deliver", "done"]


def test_hangup_during_the_prompt_leaves_an_empty_recording() -> None:
    trace = call([{"wait": 0.5}, {"hangup": True}])
    made = recording(trace)
    assert (made.reason, made.duration) == ("hangup", 0.0)
    assert trace.duration == pytest.approx(0.5)
    assert trace.variables["VOICEMAIL"] is None
    assert trace.path == ["start", "record", "after", "deliver", "done"]
    assert {"node": "record", "exit": "empty"} in trace.exits


def test_voicemail_scenario_passes_the_validator() -> None:
    scenario = voicemail()
    assert [p for p in validate(scenario) if p.severity == "error"] == []
    node = scenario.nodes["record"]
    assert node.all_exits == ("next", "empty")
    assert node.writes() == {"VOICEMAIL", "SECONDS"}
    assert node.waits_for_caller and node.needs_media and node.completes_on_hangup


@pytest.mark.parametrize(
    ("params", "where"),
    [
        ({"max_length": 0}, ("max_length",)),
        ({"silence_end": -1}, ("silence_end",)),
        ({"terminators": "x"}, ("terminators",)),
        ({"variable": "2nd"}, ("variable",)),
        ({"prompt": {"say": "a", "play": "b.wav"}}, ("prompt",)),
        ({"timeout": 5}, ("timeout",)),
    ],
)
def test_bad_params_name_the_field(params: dict[str, Any], where: tuple[str, ...]) -> None:
    with pytest.raises(ValidationError) as info:
        RecordParams.model_validate(params)
    [error] = info.value.errors()
    assert tuple(error["loc"]) == where
