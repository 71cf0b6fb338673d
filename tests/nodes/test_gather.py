"""Gather: a DTMF menu with retries, timeout/invalid prompts and exits, or free input."""

from __future__ import annotations

from typing import Any

import pytest
from scenario_builders import doc, events, load, node, run, say, start

from flowengine.errors import ScenarioError
from flowengine.telephony import Prompt
from telephony_adapters.sim.call import prompt_seconds

MENU = "Press 1 for sales, 2 for support"
TIMEOUT = "We did not hear your choice."
INVALID = "There is no such option."


def menu(**params: Any) -> dict[str, Any]:
    p = {
        "prompt": MENU,
        "options": [{"digits": "1", "exit": "sales"}, {"digits": "2", "exit": "support"}],
        "retries": 2,
        "first_timeout": 5,
        "timeout_prompt": TIMEOUT,
        "invalid_prompt": INVALID,
        "variable": "CHOICE",
        **params,
    }
    return doc(
        [
            start("g"),
            node("g", "gather", p, sales="s", support="t", timeout="to", invalid="inv"),
            say("s", "Sales, you pressed {digits()}", "bye"),
            say("t", "Support, {CHOICE}", "bye"),
            say("to", "Goodbye, silent caller", "bye"),
            say("inv", "Goodbye, confused caller", "bye"),
            node("bye", "hangup"),
        ]
    )


def gathered(trace: Any) -> list[tuple[str, str]]:
    return [(d["digits"], d["reason"]) for d in events(trace, "digits_received")]


def exit_of(trace: Any) -> str:
    return next(e["exit"] for e in trace.exits if e["node"] == "g")


@pytest.mark.parametrize(("digit", "exit_name", "said"), [("1", "sales", "Sales, you pressed 1"), ("2", "support", "Support, 2")])
def test_options(digit: str, exit_name: str, said: str) -> None:
    trace = run(menu(), [{"input": digit}])
    assert exit_of(trace) == exit_name
    assert trace.prompts == [MENU, said]
    assert trace.variables == {"CHOICE": digit}


def test_retries_play_invalid_and_timeout_prompts_in_order() -> None:
    p, i = (prompt_seconds(Prompt("say", t)) for t in (MENU, INVALID))
    # 9 is invalid; then silence through the second attempt; 2 on the third
    silence = i + p + 5 + 0.5
    trace = run(menu(), [{"input": "9"}, {"wait": silence}, {"input": "2"}])
    assert trace.prompts == [MENU, INVALID, MENU, TIMEOUT, MENU, "Support, 2"]
    assert gathered(trace) == [("9", "max_digits"), ("", "timeout"), ("2", "max_digits")]
    assert exit_of(trace) == "support"
    assert trace.variables["CHOICE"] == "2"


def test_timeout_exit_after_retries() -> None:
    trace = run(menu(retries=1), [])
    # no timeout prompt after the last attempt: the timeout branch speaks next
    assert trace.prompts == [MENU, TIMEOUT, MENU, "Goodbye, silent caller"]
    assert gathered(trace) == [("", "timeout"), ("", "timeout")]
    assert exit_of(trace) == "timeout"
    assert trace.variables["CHOICE"] == ""


def test_invalid_exit_after_retries() -> None:
    trace = run(menu(retries=1), [{"input": "7"}, {"input": "8"}])
    assert trace.prompts == [MENU, INVALID, MENU, "Goodbye, confused caller"]
    assert exit_of(trace) == "invalid"
    assert trace.variables["CHOICE"] == "8"


def test_last_failure_decides_the_exit() -> None:
    # invalid first, then silence: the caller ends up on "timeout"
    trace = run(menu(retries=1), [{"input": "7"}])
    assert exit_of(trace) == "timeout"


def test_no_retries() -> None:
    trace = run(menu(retries=0), [{"input": "5"}])
    assert trace.prompts == [MENU, "Goodbye, confused caller"]


def test_multi_digit_options() -> None:
    data = menu(
        max_digits=3,
        options=[{"digits": "10", "exit": "sales"}, {"digits": "200", "exit": "support"}],
    )
    assert exit_of(run(data, [{"input": "10#"}])) == "sales"
    assert exit_of(run(data, [{"input": "200"}])) == "support"
    assert exit_of(run(data, [{"input": "1#"}, {"input": "1#"}, {"input": "1#"}])) == "invalid"


def test_hash_option_needs_the_terminator_off() -> None:
    options = [{"digits": "1", "exit": "sales"}, {"digits": "#", "exit": "support"}]
    # with the default terminator '#' the option could never be chosen: refused at load
    with pytest.raises(ScenarioError) as info:
        load(menu(options=options))
    assert "terminator" in info.value.problems[0].message
    assert info.value.problems[0].path == "nodes[1].params"
    trace = run(menu(options=options, terminator=""), [{"input": "#"}])
    assert exit_of(trace) == "support"
    assert trace.variables["CHOICE"] == "#"


def free_input(**params: Any) -> dict[str, Any]:
    p = {
        "prompt": "Enter your contract number, then hash",
        "max_digits": 10,
        "terminator": "#",
        "retries": 0,
        "variable": "CONTRACT",
        **params,
    }
    return doc(
        [
            start("g"),
            node("g", "gather", p, done="ok", timeout="none"),
            say("ok", "Contract {CONTRACT}, digits {digits()}, length {len(digits())}", "bye"),
            say("none", "No number entered", "bye"),
            node("bye", "hangup"),
        ]
    )


def test_no_options_done_with_terminator() -> None:
    trace = run(free_input(), [{"input": "12345#"}])
    assert exit_of(trace) == "done"
    assert gathered(trace) == [("12345", "terminator")]
    assert trace.prompts[-1] == "Contract 12345, digits 12345, length 5"


def test_no_options_done_on_inter_digit_timeout_and_max_digits() -> None:
    assert gathered(run(free_input(), [{"input": "77"}])) == [("77", "timeout")]
    assert exit_of(run(free_input(), [{"input": "77"}])) == "done"
    assert gathered(run(free_input(max_digits=4), [{"input": "123456"}])) == [("1234", "max_digits")]


def test_no_options_timeout() -> None:
    trace = run(free_input(), [])
    assert exit_of(trace) == "timeout"
    assert trace.prompts[-1] == "No number entered"


def test_no_options_exits() -> None:
    scenario = load(free_input())
    assert scenario.nodes["g"].all_exits == ("done", "timeout")
    with_options = load(menu())
    assert with_options.nodes["g"].all_exits == ("sales", "support", "timeout", "invalid")


def test_audio_prompt() -> None:
    trace = run(menu(prompt={"play": "media/menu.wav"}), [{"input": "1"}])
    played = events(trace, "prompt_played")[0]
    assert (played["kind"], played["text"]) == ("play", "media/menu.wav")


def test_prompt_template_sees_variables() -> None:
    data = menu(prompt="Hello {NAME}, press 1")
    data["variables"] = [{"name": "NAME", "default": "Anna"}]
    assert run(data, [{"input": "1"}]).prompts[0] == "Hello Anna, press 1"


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"options": [{"digits": "1", "exit": "timeout"}]}, "reserved"),
        ({"options": [{"digits": "1", "exit": "a"}, {"digits": "1", "exit": "b"}]}, "two options"),
        ({"options": [{"digits": "12", "exit": "a"}]}, "longer than max_digits"),
        ({"options": [{"digits": "1x", "exit": "a"}]}, "pattern"),
        ({"prompt": {"say": "a", "play": "b.wav"}}, "exactly one"),
        ({"max_digits": 0}, "greater than"),
        ({"terminator": "x"}, "pattern"),
    ],
)
def test_bad_params_are_load_errors(params: dict[str, Any], words: str) -> None:
    data = doc([start("g"), node("g", "gather", params)])
    with pytest.raises(ScenarioError) as info:
        load(data)
    (problem,) = info.value.problems
    assert problem.node_id == "g" and problem.path.startswith("nodes[1].params")
    assert words in problem.message
