"""The run loop of a call: guards, error routing, hangup, version pinning,
isolation between calls, both clocks, and the event stream's shape."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from scenario_builders import (
    assign,
    check_stream,
    deadline,
    doc,
    events,
    hangup,
    load,
    node,
    registry_with,
    run,
    say,
    script,
    start,
)

from flowengine.components.node import NodeType
from flowengine.events import QueueOffered, event_from_dict, event_types
from flowengine.runtime.engine import Engine
from flowengine.runtime.virtual_loop import run_virtual
from flowengine.telephony import Prompt
from flowengine.testing.harness import trace_of
from telephony_adapters.sim import SimBackend
from telephony_adapters.sim.call import prompt_seconds


def failures(trace: Any) -> list[dict[str, Any]]:
    return events(trace, "node_failed")


def gather(node_id: str, prompt: str, *, options: dict[str, str] | None = None, **params: Any) -> dict[str, Any]:
    p: dict[str, Any] = {"prompt": prompt, **params}
    if options:
        p["options"] = [{"digits": d, "exit": e} for d, e in options.items()]
    return node(node_id, "gather", p)


# ---- guards ----------------------------------------------------------------------------


def test_step_limit_ends_an_endless_loop() -> None:
    data = doc(
        [start("inc"), assign("inc", "check", N="N + 1"), node("check", "if", {"condition": "N > -1"}, true="inc")],
        variables={"N": 0},
        settings={"max_steps": 40, "max_node_visits": 1000},
    )
    trace = run(data)
    (failed,) = failures(trace)
    assert failed["code"] == "step_limit" and "40" in failed["message"]
    assert len(trace.path) == 41  # 40 steps, then the 41st is refused
    assert trace.hangup_cause == "error"
    check_stream(trace.events)


def test_step_limit_is_final_even_when_error_exits_form_a_cycle() -> None:
    # a and b fail and send each other their errors: without a hard stop the
    # call would never end (and never yield to other calls).
    data = doc(
        [start("a"), assign("a", "x", X="1/0"), assign("b", "x", Y="1/0")],
        settings={"max_steps": 30, "max_node_visits": 3},
    )
    data["nodes"][1]["exits"]["error"] = "b"
    data["nodes"][2]["exits"]["error"] = "a"
    with deadline(5):
        trace = run(data)
    assert failures(trace)[-1]["code"] == "step_limit"
    assert {f["code"] for f in failures(trace)} == {"expression", "repeat_limit", "step_limit"}
    assert len(trace.path) == 31
    assert trace.hangup_cause == "error"


def test_repeat_guard_fails_the_node_and_follows_its_error_exit() -> None:
    data = doc(
        [
            start("again"),
            node("again", "assign", {"assignments": [{"variable": "N", "value": "N + 1"}]}, next="again", error="sorry"),
            say("sorry", "Too many attempts", "bye"),
            hangup(),
        ],
        variables={"N": 0},
        settings={"max_node_visits": 5},
    )
    trace = run(data)
    (failed,) = failures(trace)
    assert failed["code"] == "repeat_limit" and failed["node_id"] == "again"
    assert failed["handled_by"] == "sorry"
    assert trace.variables["N"] == 5  # the sixth visit did not run the node
    assert trace.path == ["start"] + ["again"] * 6 + ["sorry", "bye"]
    assert trace.exits[6] == {"node": "again", "exit": "error"}
    assert trace.prompts == ["Too many attempts"]
    assert trace.hangup_cause == "normal"


def test_repeat_guard_counts_nodes_per_scenario() -> None:
    # main and the library both have a node "work"; each runs 3 times, under
    # the limit of 4 each. They are different nodes, so nothing may fail.
    lib = load(doc([start("work"), assign("work", None, L="L + 1")], scenario_id="lib", settings={"max_node_visits": 4}))
    data = doc(
        [
            start("work"),
            assign("work", "sub", M="M + 1"),
            node("sub", "subscenario", {"scenario": "lib"}, next="again"),
            node("again", "if", {"condition": "M < 3"}, true="work"),
        ],
        scenario_id="main",
        variables={"M": 0, "L": 0},
        settings={"max_node_visits": 4},
    )
    trace = run(data, library=[lib])
    assert failures(trace) == []
    assert trace.variables == {"M": 3, "L": 3}


def test_a_busy_call_lets_other_calls_run() -> None:
    busy = load(
        doc(
            [start("inc"), assign("inc", "check", N="N + 1"), node("check", "if", {"condition": "N > -1"}, true="inc")],
            variables={"N": 0},
            settings={"max_steps": 5000, "max_node_visits": 5000},
        )
    )

    async def main() -> tuple[int, Any]:
        ticks = 0

        async def other_work() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        engine = Engine(keep_events=True)
        engine.publish(busy, default=True)
        other = asyncio.ensure_future(other_work())
        _call, task = SimBackend(engine).place_call(script())
        ctx = await task
        other.cancel()
        return ticks, trace_of(ctx)

    ticks, trace = run_virtual(main())
    assert failures(trace)[0]["code"] == "step_limit"
    assert ticks >= 5000 // 100  # the loop got the event loop back regularly


def test_a_call_busy_matching_regexes_yields_after_each_heavy_node() -> None:
    """Regex work counts too: a loop of costly matches() lets other calls run
    after every couple of nodes, not only every YIELD_EVERY steps."""
    busy = load(
        doc(
            [
                start("inc"),
                assign("inc", "check", N="N + 1", HIT="matches(T, 'a[ab]{100}c')"),
                node("check", "if", {"condition": "N < 40"}, true="inc"),
            ],
            variables={"N": 0, "T": "ab" * 400},
            settings={"max_steps": 5000, "max_node_visits": 5000},
        )
    )

    async def main() -> tuple[int, Any]:
        ticks = 0

        async def other_work() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        engine = Engine(keep_events=True)
        engine.publish(busy, default=True)
        other = asyncio.ensure_future(other_work())
        _call, task = SimBackend(engine).place_call(script())
        ctx = await task
        other.cancel()
        return ticks, trace_of(ctx)

    ticks, trace = run_virtual(main())
    assert failures(trace) == [] and trace.variables["N"] == 40
    assert ticks >= 15  # 80 steps alone would have yielded once or twice


# ---- error routing ---------------------------------------------------------------------


def failing(error: str | None, handler: bool) -> dict[str, Any]:
    exits = {"next": "fine"}
    if error:
        exits["error"] = error
    nodes = [
        start("calc"),
        node("calc", "assign", {"assignments": [{"variable": "R", "value": "100 / ZERO"}]}, **exits),
        say("fine", "All good", "bye"),
        say("local", "Local error path", "bye"),
        say("global", "Scenario error handler", "bye"),
        hangup(),
    ]
    return doc(nodes, variables={"ZERO": 0}, settings={"error_handler": "global"} if handler else None)


@pytest.mark.parametrize(
    ("error", "handler", "prompts", "handled_by", "cause"),
    [
        ("local", True, ["Local error path"], "local", "normal"),
        ("local", False, ["Local error path"], "local", "normal"),
        (None, True, ["Scenario error handler"], "global", "normal"),
        (None, False, [], None, "error"),
    ],
    ids=["exit wins over handler", "exit only", "handler only", "neither"],
)
def test_error_exit_then_handler_then_end(
    error: str | None, handler: bool, prompts: list[str], handled_by: str | None, cause: str
) -> None:
    trace = run(failing(error, handler))
    (failed,) = failures(trace)
    assert failed["handled_by"] == handled_by
    assert "fine" not in trace.path and "R" not in trace.variables
    assert trace.prompts == prompts
    assert trace.hangup_cause == cause
    (hung,) = events(trace, "call_hung_up")
    assert (hung["by"], hung["cause"]) == ("engine", cause)


def test_failing_error_handler_does_not_loop() -> None:
    data = doc(
        [start("a"), assign("a", "bye", X="1/0"), assign("oops", "bye", Y="'x' * 2"), hangup()],
        settings={"error_handler": "oops"},
    )
    trace = run(data)
    assert [f["node_id"] for f in failures(trace)] == ["a", "oops"]
    assert trace.path == ["start", "a", "oops"]
    assert trace.hangup_cause == "error"


@pytest.mark.parametrize(
    ("expression", "column", "words"),
    [("1 + 10 / ZERO", 5, "division by zero"), ("NAME - 1", 1, "subtract"), ("len(NAME) + NAME", 1, "")],
)
def test_runtime_expression_error_takes_error_exit_with_column(expression: str, column: int, words: str) -> None:
    data = doc(
        [
            start("calc"),
            node("calc", "assign", {"assignments": [{"variable": "R", "value": expression}]}, next="bye", error="oops"),
            say("oops", "Sorry", "bye"),
            hangup(),
        ],
        variables={"ZERO": 0, "NAME": "Anna"},
    )
    trace = run(data)
    (failed,) = failures(trace)
    assert (failed["code"], failed["column"], failed["node_id"]) == ("expression", column, "calc")
    assert words in failed["message"]
    assert trace.exits[1] == {"node": "calc", "exit": "error"}
    assert trace.prompts == ["Sorry"]


def test_exit_to_a_missing_node_ends_the_call_as_an_error() -> None:
    trace = run(doc([start("a"), say("a", "hi", "nowhere")]))
    (failed,) = failures(trace)
    assert failed["code"] == "missing_node" and failed["node_id"] == "nowhere"
    assert trace.hangup_cause == "error"
    check_stream(trace.events)


def test_unwired_exit_ends_the_call_normally() -> None:
    trace = run(doc([start("a"), say("a", "hi")]))
    assert trace.path == ["start", "a"] and trace.hangup_cause == "normal"
    assert events(trace, "call_hung_up")[0]["by"] == "engine"


# ---- hangup ------------------------------------------------------------------------------

LONG = "This is a long announcement that takes a while to read out. " * 3


def after_hangup_scenario() -> dict[str, Any]:
    return doc(
        [
            start("remember"),
            assign("remember", "menu", CALLEDID="calledid()", STAGE="'menu'"),
            gather("menu", LONG, options={"1": "one"}, first_timeout=30, retries=0) | {"exits": {"one": "thanks", "timeout": "bye"}},
            say("thanks", "Thanks", "bye"),
            hangup(),
            start("note", entry="after_hangup"),
            assign("note", "goodbye", SUMMARY="CALLEDID & ':' & STAGE & ':' & text(caller_gone)"),
            node("goodbye", "say", {"text": "Bye"}, next="done", error="log"),
            assign("log", "done", MEDIA="'gone'"),
            assign("done", None, POST="'done'"),
        ],
        variables={"caller_gone": True},
    )


@pytest.mark.parametrize("hangup_at", [2.0, 15.0])  # during the prompt; while collecting digits
def test_caller_hangup_interrupts_the_gather_and_runs_after_hangup(hangup_at: float) -> None:
    prompt_len = prompt_seconds(Prompt("say", LONG))
    assert 2.0 < prompt_len < 15.0 < prompt_len + 30
    trace = run(after_hangup_scenario(), called="+74951230001", hangup_after=hangup_at)
    assert trace.path == ["start", "remember", "menu", "after", "note", "goodbye", "log", "done"]
    assert {"node": "menu", "exit": "hangup"} in trace.exits
    assert "thanks" not in trace.path and "bye" not in trace.path
    (hung,) = events(trace, "call_hung_up")
    assert (hung["by"], hung["node_id"], hung["t"]) == ("caller", "menu", hangup_at)
    # the main flow's variables are there after the hangup
    assert trace.variables["SUMMARY"] == "+74951230001:menu:true"
    # a media node after hangup fails with no_media and is routed by its error exit
    (failed,) = failures(trace)
    assert (failed["node_id"], failed["code"], failed["handled_by"]) == ("goodbye", "no_media", "log")
    assert trace.variables["MEDIA"] == "gone" and trace.variables["POST"] == "done"
    assert trace.prompts == [LONG]
    assert events(trace, "prompt_played")[0]["interrupted"] is (hangup_at < prompt_len)
    assert trace.duration == hangup_at
    check_stream(trace.events)


def test_caller_hangup_interrupts_a_say() -> None:
    trace = run(doc([start("s"), say("s", LONG, "after_say"), say("after_say", "never"), hangup()]), hangup_after=1.5)
    assert trace.path == ["start", "s"]
    (played,) = events(trace, "prompt_played")
    assert played["interrupted"] is True and played["t"] == 1.5
    assert trace.exits[-1] == {"node": "s", "exit": "hangup"}
    check_stream(trace.events)


def test_engine_shutdown_ends_streams_cleanly() -> None:
    scenario = load(doc([start("g"), gather("g", "Hello", first_timeout=100, retries=0), hangup()]))
    seen: list[Any] = []

    async def main() -> None:
        engine = Engine(keep_events=True)
        engine.publish(scenario, default=True)
        engine.add_listener(seen.append)
        call, task = SimBackend(engine).place_call(script())
        await asyncio.sleep(10)
        await engine.shutdown()
        assert task.cancelled()
        assert call.hangup_cause == "shutdown"

    run_virtual(main())
    names = [e.name for e in seen]
    assert names[-3:] == ["node_left", "call_hung_up", "call_ended"]
    assert seen[-3].exit == "cancelled" and seen[-2].cause == "shutdown" and seen[-2].by == "engine"
    check_stream(seen)


# ---- version pinning -----------------------------------------------------------------------


def versioned(version: int) -> dict[str, Any]:
    return doc(
        [
            start("menu"),
            gather("menu", f"Menu version {version}", options={"1": "one"}, first_timeout=60, retries=0)
            | {"exits": {"one": "done"}},
            say("done", f"Done on version {version}", "bye"),
            hangup(),
        ],
        scenario_id="ivr",
        version=version,
        numbers=["100"],
    )


def test_a_call_keeps_the_version_it_started_on() -> None:
    v1, v2 = load(versioned(1)), load(versioned(2))

    async def main() -> tuple[Any, Any]:
        engine = Engine(keep_events=True)
        engine.publish(v1)
        backend = SimBackend(engine)
        # the old call waits 20 s inside the Gather before pressing 1
        _old, old_task = backend.place_call(script([{"wait": 20}, {"press": "1"}]))
        await asyncio.sleep(5)
        engine.publish(v2)
        assert engine.scenario_for("100").version == 2
        _new, new_task = backend.place_call(script([{"input": "1"}]))
        return trace_of(await old_task), trace_of(await new_task)

    old, new = run_virtual(main())
    assert old.prompts == ["Menu version 1", "Done on version 1"]
    assert new.prompts == ["Menu version 2", "Done on version 2"]
    assert events(old, "call_started")[0]["scenario_version"] == 1
    assert events(new, "call_started")[0]["scenario_version"] == 2
    assert old.duration > 20 and new.duration < 20  # the new call finished first


def test_subscenarios_are_pinned_too() -> None:
    main_doc = doc(
        [
            start("wait"),
            gather("wait", "Hold on", first_timeout=30, retries=0) | {"exits": {"timeout": "sub"}},
            node("sub", "subscenario", {"scenario": "lib"}, next="bye"),
            hangup(),
        ],
        scenario_id="main",
    )

    def lib(version: int) -> Any:
        return load(doc([start("s"), say("s", f"Library v{version}")], scenario_id="lib", version=version))

    async def main() -> Any:
        engine = Engine(keep_events=True)
        engine.publish(lib(1))
        engine.publish(load(main_doc), default=True)
        _call, task = SimBackend(engine).place_call(script())
        await asyncio.sleep(10)  # the call is inside the Gather
        engine.publish(lib(2))
        return trace_of(await task)

    trace = run_virtual(main())
    assert trace.prompts == ["Hold on", "Library v1"]


# ---- isolation ------------------------------------------------------------------------------


class BoomNode(NodeType):
    type_name = "boom"
    title_en = "Boom"
    title_ru = "Бум"

    async def run(self, ctx) -> str:  # type: ignore[no-untyped-def]
        raise RuntimeError("kaboom")


def test_one_calls_crash_never_touches_the_others() -> None:
    scenario = load(
        doc(
            [
                start("route"),
                node("route", "menu", {"value": "calledid()", "cases": [{"equals": "666", "exit": "bad"}]}, bad="hold", other="menu"),
                say("hold", "One moment please", "crash"),
                node("crash", "boom", next="bye"),
                gather("menu", "Press 1", options={"1": "one"}, variable="CHOICE") | {"exits": {"one": "thanks", "timeout": "bye"}},
                say("thanks", "You pressed {CHOICE}", "bye"),
                hangup(),
            ]
        ),
        registry_with(BoomNode),
    )

    async def main() -> tuple[Any, list[Any]]:
        engine = Engine(keep_events=True)
        engine.publish(scenario, default=True)
        backend = SimBackend(engine)
        good = [backend.place_call(script([{"input": "1"}], called=f"2{i:02d}", think=3))[1] for i in range(25)]
        _bad_call, bad = backend.place_call(script(called="666"))
        good += [backend.place_call(script([{"input": "1"}], called=f"3{i:02d}", think=3))[1] for i in range(25)]
        assert engine.active_calls == 51
        results = await asyncio.gather(bad, *good)
        return trace_of(results[0]), [trace_of(ctx) for ctx in results[1:]]

    bad, good = run_virtual(main())
    (failed,) = failures(bad)
    assert (failed["code"], failed["node_id"]) == ("internal", "crash")
    assert "RuntimeError: kaboom" in failed["message"]
    assert bad.hangup_cause == "error"
    assert len(good) == 50
    for trace in good:
        assert trace.path == ["start", "route", "menu", "thanks", "bye"]
        assert trace.prompts == ["Press 1", "You pressed 1"]
        assert trace.hangup_cause == "normal" and not failures(trace)
    # the crash happened while the good calls were waiting in their Gather
    assert events(bad, "node_failed")[0]["t"] < events(good[0], "digits_received")[0]["t"]


# ---- both clocks ----------------------------------------------------------------------------


def test_same_behaviour_on_virtual_and_real_clock() -> None:
    data = doc(
        [
            start("menu"),
            gather(
                "menu",
                "Hello",
                options={"1": "one", "2": "two"},
                first_timeout=0.3,
                inter_timeout=0.2,
                retries=1,
                timeout_prompt="Again",
                variable="CHOICE",
            )
            | {"exits": {"one": "pick", "two": "pick", "timeout": "bye"}},
            assign("pick", "bye", PICKED="'option ' & digits()"),
            hangup(),
        ]
    )
    steps = [{"wait": 1.0}, {"input": "2"}]  # silent through the first attempt
    virtual = run(data, steps, think=0.1)
    started = time.monotonic()
    real = run(data, steps, think=0.1, realtime=True)
    assert time.monotonic() - started < 3.0
    for trace in (virtual, real):
        assert trace.path == ["start", "menu", "pick", "bye"]
        assert trace.prompts == ["Hello", "Again", "Hello"]
        assert trace.variables == {"CHOICE": "2", "PICKED": "option 2"}
        assert [d["reason"] for d in events(trace, "digits_received")] == ["timeout", "max_digits"]
    assert real.exits == virtual.exits
    assert virtual.duration == pytest.approx(0.5 + 0.3 + 0.5 + 0.5 + 0.1)
    assert real.duration == pytest.approx(virtual.duration, abs=0.25)


# ---- the event stream -------------------------------------------------------------------------


def sample_traces() -> list[Any]:
    sub = load(doc([start("s"), say("s", "In the library"), node("r", "return")], scenario_id="lib"))
    return [
        run(after_hangup_scenario(), hangup_after=3),
        run(after_hangup_scenario(), [{"input": "1"}]),
        run(failing(None, False)),
        run(
            doc([start("call"), node("call", "subscenario", {"scenario": "lib"}, next="bye"), hangup()], scenario_id="m"),
            library=[sub],
        ),
    ]


def test_every_stream_is_well_formed() -> None:
    for trace in sample_traces():
        check_stream(trace.events)
        ended = trace.events[-1]
        assert ended.hangup_cause == trace.hangup_cause
        assert ended.steps == len(trace.path)
        assert len({e.call_id for e in trace.events}) == 1


def test_events_round_trip_through_json() -> None:
    seen_kinds: set[str] = set()
    for trace in sample_traces():
        for event in trace.events:
            data = json.loads(json.dumps(event.to_dict()))
            assert data["event"] == event.name
            assert event_from_dict(data) == event
            seen_kinds.add(event.name)
    assert {"call_started", "node_entered", "node_left", "variable_changed", "prompt_played", "digits_received",
            "node_failed", "scenario_entered", "call_hung_up", "call_ended"} <= seen_kinds
    queue = QueueOffered(
        call_id="c", seq=4, ts=1.5, t=1.5, scenario_id="m", scenario_version=1, node_id="q",
        queue_id="sales", operator_id="7", target="907", timeout=15.0,
    )
    assert event_from_dict(json.loads(json.dumps(queue.to_dict()))) == queue
    assert set(event_types()) >= seen_kinds | {"queue_offered"}


def test_unknown_event_type_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown event type"):
        event_from_dict({"event": "teleported", "call_id": "c", "t": 0})


def test_node_entered_names_the_scenario() -> None:
    sub = load(doc([start("s"), say("s", "In the library")], scenario_id="lib"))
    trace = run(doc([start("call"), node("call", "subscenario", {"scenario": "lib"})], scenario_id="m"), library=[sub])
    assert [(e["node_id"], e["scenario_id"]) for e in events(trace, "node_entered")] == [
        ("start", "m"),
        ("call", "m"),
        ("start", "lib"),
        ("s", "lib"),
    ]


# ---- maximum call duration ---------------------------------------------------------------


def silent_caller_loop(settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """A menu that asks again for ever when the caller says nothing."""
    return doc(
        [
            start("ask"),
            gather("ask", "Press one", first_timeout=60, retries=0) | {"exits": {"timeout": "ask", "done": "bye"}},
            hangup(),
            start("note", entry="after_hangup"),
            assign("note", None, POST="'done'"),
        ],
        settings={"max_steps": 1_000_000, "max_node_visits": 1_000_000, **(settings or {})},
    )


def test_max_call_duration_ends_a_silent_caller_in_a_retry_loop() -> None:
    with deadline(20):
        trace = run(silent_caller_loop({"max_call_duration": 3600}))
    (hung,) = events(trace, "call_hung_up")
    assert (hung["cause"], hung["by"], hung["node_id"]) == ("max_duration", "engine", "ask")
    assert trace.duration == 3600
    assert trace.exits[trace.path.index("note") - 2] == {"node": "ask", "exit": "hangup"}
    assert trace.variables["POST"] == "done"  # post-processing still runs
    (ended,) = events(trace, "call_ended")
    assert ended["hangup_cause"] == "max_duration"
    check_stream(trace.events)


def test_max_call_duration_defaults_to_four_hours() -> None:
    with deadline(60):
        trace = run(silent_caller_loop())
    (hung,) = events(trace, "call_hung_up")
    assert hung["cause"] == "max_duration" and trace.duration == 4 * 3600


@pytest.mark.parametrize("value", [0, -5, 8 * 86_400, "nan", "inf"])
def test_max_call_duration_must_be_a_sane_number(value: Any) -> None:
    from flowengine.errors import ScenarioError

    with pytest.raises(ScenarioError) as err:
        load(silent_caller_loop({"max_call_duration": float(value) if isinstance(value, str) else value}))
    assert "settings.max_call_duration" in str(err.value)
