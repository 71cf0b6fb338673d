"""Subscenario: call another scenario and come back, or jump to it for good."""

from __future__ import annotations

from typing import Any

from scenario_builders import assign, check_stream, doc, events, hangup, load, node, run, say, start


def library(*extra_nodes: dict[str, Any], returns: bool = True, **variables: Any) -> Any:
    nodes = [
        start("lookup"),
        assign("lookup", "tell" if returns else "tell", BALANCE="ACCOUNT * 10", WHERE="'billing'"),
        say("tell", "Balance for {ACCOUNT} is {BALANCE}", "back" if returns else None),
        *extra_nodes,
    ]
    if returns:
        nodes.append(node("back", "return"))
    return load(doc(nodes, scenario_id="billing", variables=variables or None))


def caller_scenario(mode: str = "call", target: str = "billing", **exits: str) -> dict[str, Any]:
    sub_exits = {"next": "after"} if mode == "call" else {}
    sub_exits.update(exits)
    return doc(
        [
            start("set"),
            assign("set", "sub", ACCOUNT="42"),
            node("sub", "subscenario", {"scenario": target, "mode": mode}, **sub_exits),
            say("after", "Back in main: {WHERE}, {BALANCE}", "bye"),
            say("oops", "Billing is unavailable", "bye"),
            hangup(),
        ],
        scenario_id="main",
    )


def test_call_mode_returns_and_continues_with_next() -> None:
    trace = run(caller_scenario(), library=[library()])
    assert trace.path == ["start", "set", "sub", "start", "lookup", "tell", "back", "after", "bye"]
    assert trace.prompts == ["Balance for 42 is 420", "Back in main: billing, 420"]
    assert {"node": "sub", "exit": "next"} in trace.exits
    entered = [(e["scenario_id"], e["mode"]) for e in events(trace, "scenario_entered")]
    assert entered == [("billing", "call"), ("main", "return")]
    check_stream(trace.events)


def test_call_mode_without_return_node_comes_back_at_the_end_of_the_flow() -> None:
    trace = run(caller_scenario(), library=[library(returns=False)])
    assert trace.path[-2:] == ["after", "bye"]


def test_variables_are_shared_both_ways_and_defaults_fill_only_unset_ones() -> None:
    lib = library(ACCOUNT=7, LIMIT=1000)  # ACCOUNT is already set by main: it stays 42
    trace = run(caller_scenario(), library=[lib])
    assert trace.variables == {"ACCOUNT": 42, "BALANCE": 420, "WHERE": "billing", "LIMIT": 1000}


def test_jump_mode_hands_the_call_over() -> None:
    lib = library(hangup("end", "transferred_to_billing"), returns=False)
    lib_doc = lib.doc.dump()
    lib_doc["nodes"][2]["exits"] = {"next": "end"}
    trace = run(caller_scenario("jump"), library=[load(lib_doc)])
    assert trace.path == ["start", "set", "sub", "start", "lookup", "tell", "end"]
    assert "after" not in trace.path
    assert {"node": "sub", "exit": "jump"} in trace.exits
    assert [(e["scenario_id"], e["mode"]) for e in events(trace, "scenario_entered")] == [("billing", "jump")]
    assert trace.hangup_cause == "transferred_to_billing"
    check_stream(trace.events)


def test_jump_mode_has_no_next_exit() -> None:
    scenario = load(caller_scenario("jump"), None)
    assert scenario.nodes["sub"].all_exits == ()


def test_unknown_subscenario_fails_with_its_code() -> None:
    trace = run(caller_scenario(target="nope", error="oops"), library=[library()])
    (failed,) = events(trace, "node_failed")
    assert (failed["node_id"], failed["code"], failed["handled_by"]) == ("sub", "unknown_scenario", "oops")
    assert "nope" in failed["message"]
    assert trace.prompts == ["Billing is unavailable"]


def test_unknown_subscenario_without_error_exit_ends_the_call() -> None:
    trace = run(caller_scenario(target="nope"))
    assert events(trace, "node_failed")[0]["code"] == "unknown_scenario"
    assert trace.hangup_cause == "error"


def test_hangup_inside_a_called_subscenario_ends_the_call() -> None:
    lib_doc = library(hangup("end", "busy"), returns=False).doc.dump()
    lib_doc["nodes"][2]["exits"] = {"next": "end"}
    trace = run(caller_scenario(), library=[load(lib_doc)])
    assert trace.path[-1] == "end"
    assert "after" not in trace.path  # the caller's scenario does not talk to nobody
    assert events(trace, "node_failed") == []
    assert trace.hangup_cause == "busy"
    (hung,) = events(trace, "call_hung_up")
    assert hung["by"] == "engine"
    check_stream(trace.events)


def test_caller_hangup_inside_a_subscenario_runs_the_callers_after_hangup() -> None:
    data = caller_scenario()
    data["nodes"] += [start("note", entry="after_hangup", node_id="post"), assign("note", None, POST="'after ' & WHERE")]
    trace = run(data, library=[library()], hangup_after=1.0)
    assert trace.exits[-4:-2] == [{"node": "tell", "exit": "hangup"}, {"node": "sub", "exit": "hangup"}]
    assert trace.variables["POST"] == "after billing"
    assert events(trace, "call_hung_up")[0]["by"] == "caller"
    check_stream(trace.events)


def test_a_failure_inside_the_subscenario_uses_its_own_error_handling() -> None:
    lib = load(
        doc(
            [start("calc"), node("calc", "assign", {"assignments": [{"variable": "X", "value": "1 / 0"}]}, next="r"), node("r", "return"),
             assign("sub_oops", "r", WHERE="'error'", BALANCE="0")],
            scenario_id="billing",
            settings={"error_handler": "sub_oops"},
        )
    )
    trace = run(caller_scenario(), library=[lib])
    assert events(trace, "node_failed")[0]["handled_by"] == "sub_oops"
    assert trace.prompts == ["Back in main: error, 0"]
    assert trace.path[-4:] == ["sub_oops", "r", "after", "bye"]


def test_runaway_call_recursion_ends_the_call_with_a_clear_cause() -> None:
    """A calls B calls A ... : the call ends as an error at a fixed depth, not
    with Python's RecursionError reported as an internal failure."""
    from flowengine.runtime.interpreter import MAX_CALL_DEPTH

    def ping_pong(me: str, other: str) -> dict[str, Any]:
        return doc(
            [start("again"), node("again", "subscenario", {"scenario": other}, next="bye", error="bye"), hangup()],
            scenario_id=me,
            settings={"max_steps": 100_000, "max_node_visits": 100_000},
        )

    trace = run(ping_pong("a", "b"), library=[load(ping_pong("b", "a"))])
    (failed,) = events(trace, "node_failed")
    assert failed["code"] == "subscenario_depth" and str(MAX_CALL_DEPTH) in failed["message"]
    assert len(events(trace, "scenario_entered")) == MAX_CALL_DEPTH
    (hung,) = events(trace, "call_hung_up")
    assert (hung["cause"], hung["by"]) == ("error", "engine")
    assert "bye" not in trace.path  # the error exit does not swallow it
    check_stream(trace.events)


def test_runaway_recursion_after_hangup_ends_post_processing_cleanly() -> None:
    loose = {"max_steps": 100_000, "max_node_visits": 100_000}
    main = doc(
        [
            start("bye"),
            hangup(),
            start("again", entry="after_hangup", node_id="post"),
            node("again", "subscenario", {"scenario": "r"}, next="done"),
            assign("done", None, DONE="1"),
        ],
        scenario_id="m",
        settings=loose,
    )
    recursive = doc(
        [start("self"), node("self", "subscenario", {"scenario": "r"}, next="end"), assign("end", None, X="1")],
        scenario_id="r",
        settings=loose,
    )
    trace = run(main, library=[load(recursive)])
    (failed,) = events(trace, "node_failed")
    assert failed["code"] == "subscenario_depth"
    assert "DONE" not in trace.variables and "X" not in trace.variables
    (hung,) = events(trace, "call_hung_up")
    assert hung["cause"] == "normal"  # the call itself had ended normally before post-processing
    check_stream(trace.events)
