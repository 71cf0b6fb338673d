"""The simulated call: digit collection, barge-in, type-ahead and the scripted caller.

Times are exact: the simulator runs on virtual time, a TTS prompt lasts
len(text) * SAY_SECONDS_PER_CHAR seconds (at least MIN_PROMPT_SECONDS), and the
caller answers an `input` step `think` seconds after the engine starts listening.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from scenario_builders import check_stream, doc, events, hangup, node, run, say, start

from flowengine.telephony import Prompt
from flowengine.testing.script import CallerScript, Step
from telephony_adapters.sim.call import prompt_seconds

PROMPT = "Enter your number"  # 17 characters
P = prompt_seconds(Prompt("say", PROMPT))


def collect(**params: Any) -> dict[str, Any]:
    """A scenario that collects digits once (no options) and hangs up."""
    p = {"prompt": PROMPT, "retries": 0, "max_digits": 10, **params}
    return doc([start("g"), node("g", "gather", p, done="bye", timeout="bye"), hangup()])


def digits_of(trace: Any) -> list[tuple[str, str, float]]:
    return [(d["digits"], d["reason"], d["t"]) for d in events(trace, "digits_received")]


def test_prompt_length_model() -> None:
    assert P == pytest.approx(17 * 0.06)
    assert prompt_seconds(Prompt("say", "Hi")) == 0.5  # a floor for short prompts
    assert prompt_seconds(Prompt("play", "missing.wav")) == 1.0


def test_max_digits_stops_collection() -> None:
    trace = run(collect(max_digits=3), [{"input": "12345"}])
    assert digits_of(trace) == [("123", "max_digits", pytest.approx(P + 1.0))]


def test_terminator_ends_input_and_is_not_included() -> None:
    trace = run(collect(terminator="#"), [{"input": "42#7"}])
    assert digits_of(trace) == [("42", "terminator", pytest.approx(P + 1.0))]
    assert trace.variables == {}
    assert trace.exits[1] == {"node": "g", "exit": "done"}


def test_other_terminators() -> None:
    trace = run(collect(terminator="*"), [{"input": "9#*"}])
    assert digits_of(trace)[0][:2] == ("9#", "terminator")


def test_first_digit_timeout() -> None:
    trace = run(collect(first_timeout=4, inter_timeout=1), [])
    assert digits_of(trace) == [("", "timeout", pytest.approx(P + 4))]
    assert trace.exits[1] == {"node": "g", "exit": "timeout"}


def test_inter_digit_timeout_keeps_what_was_typed() -> None:
    steps = [{"wait": P + 1}, {"press": "1"}, {"wait": 2}, {"press": "2"}, {"wait": 10}, {"press": "3"}]
    trace = run(collect(first_timeout=5, inter_timeout=3), steps)
    # 2 s between 1 and 2 is within the inter-digit timeout; 10 s after 2 is not
    assert digits_of(trace) == [("12", "timeout", pytest.approx(P + 1 + 2 + 3))]
    assert trace.exits[1] == {"node": "g", "exit": "done"}


def test_inter_digit_timeout_is_not_the_first_digit_timeout() -> None:
    steps = [{"wait": P + 4}, {"press": "1"}, {"wait": 2}, {"press": "2"}]
    trace = run(collect(first_timeout=5, inter_timeout=1.5), steps)
    assert digits_of(trace) == [("1", "timeout", pytest.approx(P + 4 + 1.5))]


def test_type_ahead_digits_count_for_the_next_gather() -> None:
    data = doc(
        [
            start("welcome"),
            say("welcome", "Welcome to the company, please listen carefully", "g"),
            node("g", "gather", {"prompt": PROMPT, "max_digits": 2, "retries": 0}, done="bye", timeout="bye"),
            hangup(),
        ]
    )
    trace = run(data, [{"press": "7"}, {"wait": 1}, {"press": "4"}])
    welcome, menu = events(trace, "prompt_played")
    assert welcome["interrupted"] is False  # a Say is not interruptible
    assert menu["interrupted"] is True and menu["t"] == welcome["t"]  # cut at once
    assert digits_of(trace) == [("74", "max_digits", welcome["t"])]


def test_digits_left_over_go_to_the_next_gather() -> None:
    data = doc(
        [
            start("a"),
            node("a", "gather", {"prompt": PROMPT, "max_digits": 3, "retries": 0, "variable": "A"}, done="b"),
            node("b", "gather", {"prompt": PROMPT, "max_digits": 2, "retries": 0, "variable": "B"}, done="bye"),
            hangup(),
        ]
    )
    trace = run(data, [{"input": "12345"}])
    assert trace.variables == {"A": "123", "B": "45"}


@pytest.mark.parametrize("barge_in", [True, False])
def test_barge_in(barge_in: bool) -> None:
    long_prompt = "Please choose from the following eight options, listen carefully. " * 2
    length = prompt_seconds(Prompt("say", long_prompt))
    data = doc(
        [
            start("g"),
            node(
                "g",
                "gather",
                {"prompt": long_prompt, "options": [{"digits": "2", "exit": "two"}], "retries": 0, "barge_in": barge_in},
                two="chosen",
            ),
            say("chosen", "Two", "bye"),
            hangup(),
        ]
    )
    trace = run(data, [{"wait": 2}, {"press": "2"}])
    (played, _two) = events(trace, "prompt_played")
    assert trace.path == ["start", "g", "chosen", "bye"]
    if barge_in:
        assert played["interrupted"] is True and played["t"] == 2
        assert digits_of(trace) == [("2", "max_digits", 2)]
    else:
        assert played["interrupted"] is False and played["t"] == pytest.approx(length)
        assert digits_of(trace) == [("2", "max_digits", pytest.approx(length))]


def test_input_is_typed_only_once_the_engine_listens() -> None:
    data = doc(
        [
            start("s"),
            say("s", "A three second announcement.", "g"),
            node("g", "gather", {"prompt": PROMPT, "max_digits": 1, "retries": 0}, done="bye"),
            hangup(),
        ]
    )
    announcement = prompt_seconds(Prompt("say", "A three second announcement."))
    trace = run(data, [{"input": "5"}], think=2.5)
    announced, prompt = events(trace, "prompt_played")
    assert announced["interrupted"] is False and prompt["interrupted"] is False
    assert digits_of(trace) == [("5", "max_digits", pytest.approx(announcement + P + 2.5))]


def test_input_never_typed_when_nobody_listens() -> None:
    trace = run(doc([start("s"), say("s", "Goodbye", "bye"), hangup()]), [{"input": "5"}])
    assert digits_of(trace) == [] and trace.hangup_cause == "normal"


def test_hangup_after() -> None:
    trace = run(collect(first_timeout=60), [], hangup_after=7)
    (hung,) = events(trace, "call_hung_up")
    assert (hung["by"], hung["cause"], hung["t"]) == ("caller", "normal", 7)
    assert trace.duration == 7
    check_stream(trace.events)


def test_wait_then_hangup_step() -> None:
    trace = run(collect(first_timeout=60), [{"wait": 3}, {"wait": 1.5}, {"hangup": True}])
    assert events(trace, "call_hung_up")[0]["t"] == 4.5


def test_engine_hangup_cause() -> None:
    trace = run(doc([start("bye"), hangup("bye", "busy")]))
    (hung,) = events(trace, "call_hung_up")
    assert (hung["by"], hung["cause"]) == ("engine", "busy")
    assert trace.hangup_cause == "busy"


def test_digits_after_hangup_are_ignored() -> None:
    trace = run(collect(first_timeout=60), [{"hangup": True}, {"press": "1"}])
    assert digits_of(trace) == []


def test_script_steps_have_exactly_one_action() -> None:
    with pytest.raises(ValidationError, match="exactly one"):
        Step.model_validate({"input": "1", "wait": 2})
    with pytest.raises(ValidationError, match="exactly one"):
        Step.model_validate({})
    with pytest.raises(ValidationError):
        Step.model_validate({"press": "12x"})
    with pytest.raises(ValidationError):
        CallerScript.model_validate({"steps": [], "hangup_after": 0})
    script = CallerScript.simple(inputs=["1", "#"], says=["billing"])
    assert [s.kind for s in script.steps] == ["input", "input", "say"]


def test_the_start_node_answers_and_says_so_in_the_stream() -> None:
    trace = run(doc([start("a"), say("a", "Hello", "bye"), hangup()]), [])
    [answered] = events(trace, "call_answered")
    assert (answered["t"], answered["node_id"], answered["ring_time"]) == (0.0, "start", 0.0)
    # answer: false leaves the call unanswered (early media, or a reject); no event
    early = run(doc([node("start", "start", {"answer": False}, next="a"), say("a", "Hello", "bye"), hangup("bye", "busy")]), [])
    assert events(early, "call_answered") == []
    assert early.hangup_cause == "busy"
