"""Number routing and versions as a caller and an admin notice them: which
scenario and version a call runs, what it sees of its numbers, and what
happens when nothing routes it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from scenario_builders import (
    PER_NUMBER_IVR,
    assign,
    check_stream,
    doc,
    events,
    hangup,
    load,
    node,
    say,
    script,
    start,
)

from flowengine.cli import main
from flowengine.runtime.engine import Engine
from flowengine.runtime.virtual_loop import run_virtual
from flowengine.scenario.routing import LineConfig, RoutingError, RoutingTable
from flowengine.testing.harness import CallTrace, run_scenario, trace_of
from telephony_adapters.sim import SimBackend


def greeting(scenario_id: str, text: str, numbers: list[str] | None = None) -> Any:
    return load(doc([start("hello"), say("hello", text, "bye"), hangup()], scenario_id=scenario_id, numbers=numbers or []))


def call(engine: Engine, called: str = "100", **fields: Any) -> CallTrace:
    """One call on the simulator, to its end."""

    async def main() -> CallTrace:
        _call, task = SimBackend(engine).place_call(script(called=called, **fields))
        return trace_of(await task)

    return run_virtual(main())


def started(trace: CallTrace) -> dict[str, Any]:
    (event,) = events(trace, "call_started")
    return event


# ---- numbers and versions ------------------------------------------------------------------


def test_a_number_dropped_in_version_2_goes_to_the_default_scenario() -> None:
    engine = Engine(keep_events=True)
    engine.publish(greeting("main", "Main menu"), default=True)
    engine.publish(greeting("sales", "Sales v1", ["100", "101"]))
    assert call(engine, "101").prompts == ["Sales v1"]
    engine.publish(greeting("sales", "Sales v2", ["100"]))  # 101 dropped
    dropped = call(engine, "101")
    assert dropped.prompts == ["Main menu"]
    assert dropped.route == "number 101 not bound; default scenario 'main' (latest)"
    kept = call(engine, "100")
    assert kept.prompts == ["Sales v2"] and started(kept)["scenario_version"] == 2


def test_a_call_nothing_routes_is_refused_with_a_clear_cause() -> None:
    engine = Engine(keep_events=True)
    engine.publish(greeting("sales", "Sales", ["100"]))
    engine.publish(greeting("sales", "Sales v2"))  # drops 100; there is no default
    trace = call(engine, "100")
    assert trace.hangup_cause == "no_route"
    assert trace.route == "number 100 not bound, and no default scenario"
    assert trace.prompts == [] and trace.path == []
    assert [e.name for e in trace.events] == ["call_started", "call_hung_up", "call_ended"]
    assert started(trace)["scenario_id"] == "" and started(trace)["scenario_version"] == 0
    (hung_up,) = events(trace, "call_hung_up")
    assert (hung_up["cause"], hung_up["by"]) == ("no_route", "engine")
    # refused before answer as an unallocated number (SIP 404, Q.850 1), not a plain 480
    assert (hung_up["sip_status"], hung_up["q850"]) == (404, 1)
    check_stream(trace.events)


def test_a_binding_to_a_version_that_does_not_exist_is_refused_too(caplog: pytest.LogCaptureFixture) -> None:
    engine = Engine(keep_events=True)
    engine.publish(greeting("sales", "Sales"))
    engine.routing.bind_number("100", "sales", version=4)
    trace = call(engine, "100")
    assert trace.hangup_cause == "no_route"
    assert trace.route == "number 100 bound to 'sales' v4, but v4 of it is not published"
    assert "cannot route" in caplog.text


def test_a_number_bound_to_one_scenario_is_not_taken_by_another() -> None:
    engine = Engine(keep_events=True)
    engine.publish(greeting("sales", "Sales", ["100"]))
    result = engine.publish(greeting("support", "Support", ["100", "200"]))
    assert result.changed and result.warnings == (
        "number 100 stays with 'sales': 'support' lists it, but a number is moved only by binding it with replace=True",
    )
    assert call(engine, "100").prompts == ["Sales"]
    assert call(engine, "200").prompts == ["Support"]
    with pytest.raises(RoutingError, match="needs replace=True"):
        engine.routing.bind_number("100", "support")
    engine.routing.bind_number("100", "support", replace=True)
    assert call(engine, "100").prompts == ["Support"]


def test_publishing_an_unchanged_document_changes_nothing_and_says_so() -> None:
    engine = Engine(keep_events=True)
    first = engine.publish(greeting("sales", "Sales", ["100"]), default=True)
    again = engine.publish(greeting("sales", "Sales", ["100"]))
    assert (first.version, first.changed) == (1, True)
    assert (again.version, again.changed) == (1, False)
    assert again.message == "scenario 'sales' unchanged: same as version 1, nothing published"
    assert [v.version for v in engine.store.versions("sales")] == [1]
    engine.routing.unbind_number("100")  # an admin took the number away from the document
    engine.publish(greeting("sales", "Sales", ["100"]))  # unchanged: the binding stays away
    assert engine.routing.number_binding("100") is None


def test_republishing_version_1_is_version_3_and_new_calls_get_it() -> None:
    engine = Engine(keep_events=True)
    engine.publish(greeting("sales", "Hello", ["100"]))
    engine.publish(greeting("sales", "Changed", ["100"]))
    rollback = engine.publish(greeting("sales", "Hello", ["100"]))
    assert (rollback.version, rollback.changed) == (3, True)
    trace = call(engine, "100")
    assert trace.prompts == ["Hello"] and started(trace)["scenario_version"] == 3


def versioned(text: str) -> Any:
    """A scenario whose call waits 60 s in a Gather, so a publish can happen mid-call."""
    menu = {"prompt": f"{text}: press 1", "options": [{"digits": "1", "exit": "one"}], "first_timeout": 60, "retries": 0}
    return load(
        doc(
            [
                start("menu"),
                node("menu", "gather", menu, one="done"),
                say("done", f"Done on {text}", "bye"),
                hangup(),
            ],
            scenario_id="ivr",
            numbers=["100"],
        )
    )


def test_a_call_in_flight_keeps_its_version_and_a_pinned_number_keeps_its_own() -> None:
    async def main() -> list[CallTrace]:
        engine = Engine(keep_events=True)
        engine.publish(versioned("v1"))
        engine.publish(versioned("v2"))
        engine.routing.bind_number("200", "ivr", version=1)  # pinned
        backend = SimBackend(engine)
        _a, in_flight = backend.place_call(script([{"wait": 20}, {"press": "1"}], called="100"))
        _b, pinned = backend.place_call(script([{"wait": 20}, {"press": "1"}], called="200"))
        await asyncio.sleep(5)  # both calls wait inside the Gather
        engine.publish(versioned("v3"))
        _c, fresh = backend.place_call(script([{"input": "1"}], called="100"))
        _d, pinned_later = backend.place_call(script([{"input": "1"}], called="200"))
        return [trace_of(ctx) for ctx in await asyncio.gather(in_flight, pinned, fresh, pinned_later)]

    in_flight, pinned, fresh, pinned_later = run_virtual(main())
    assert in_flight.prompts == ["v2: press 1", "Done on v2"] and started(in_flight)["scenario_version"] == 2
    assert fresh.prompts == ["v3: press 1", "Done on v3"] and started(fresh)["scenario_version"] == 3
    assert pinned.prompts[-1] == "Done on v1" and pinned_later.prompts[-1] == "Done on v1"
    assert started(pinned_later)["scenario_version"] == 1
    assert pinned_later.route == "number 200 bound to 'ivr' v1"


# ---- lines and normalisation ----------------------------------------------------------------

FACTS = doc(
    [
        start("facts"),
        assign("facts", "bye", CALLED="calledid()", RAW="calledid_raw()", CALLER="callerid()",
               CALLER_RAW="callerid_raw()", LINE="line()"),  # fmt: skip
        hangup(),
    ],
    scenario_id="facts",
)


def test_a_call_with_no_dialled_number_reaches_its_lines_scenario() -> None:
    engine = Engine(keep_events=True)
    engine.publish(greeting("main", "Main menu"), default=True)
    engine.publish(load(FACTS))
    engine.routing.bind_line("analog-2", "facts")
    trace = call(engine, "", line="analog-2")
    assert trace.route == "no dialled number; line analog-2 bound to 'facts' (latest)"
    assert trace.variables["LINE"] == "analog-2" and trace.variables["CALLED"] == ""
    assert call(engine, "", line="analog-3").prompts == ["Main menu"]  # another line: the default


def test_numbers_are_normalised_before_routing_and_before_the_scenario_sees_them() -> None:
    routing = RoutingTable()
    routing.configure_line(
        LineConfig.model_validate(
            {"name": "trunk-1", "called": ["8XXXXXXXXXX -> +7XXXXXXXXXX"], "caller": ["8XXXXXXXXXX -> +7XXXXXXXXXX"]}
        )
    )
    engine = Engine(routing=routing, keep_events=True)
    engine.publish(greeting("main", "Main menu"), default=True)
    engine.publish(load(FACTS | {"numbers": ["+74951230001"]}))
    trace = call(engine, "84951230001", caller="89161234567", line="trunk-1")
    assert trace.route == "number +74951230001 bound to 'facts' (latest)"
    assert trace.variables == {
        "CALLED": "+74951230001",
        "RAW": "84951230001",
        "CALLER": "+79161234567",
        "CALLER_RAW": "89161234567",
        "LINE": "trunk-1",
    }
    assert (started(trace)["called"], started(trace)["caller"]) == ("+74951230001", "+79161234567")
    # on a line without rules the same digits are another number, which nothing binds
    assert call(engine, "84951230001", line="other").prompts == ["Main menu"]


def test_run_scenario_without_routing_runs_the_scenario_and_knows_the_line() -> None:
    trace = run_scenario(load(FACTS), script(called="84951230001", line="analog-2"))
    assert trace.variables["LINE"] == "analog-2" and trace.variables["RAW"] == "84951230001"
    assert trace.route is None and started(trace)["scenario_version"] == 1


def test_cli_run_with_a_routing_file_and_a_line(capsys: pytest.CaptureFixture[str]) -> None:
    routing = str(PER_NUMBER_IVR.parent / "routing.yaml")
    args = ["run", str(PER_NUMBER_IVR), "--routing", routing, "--line", "analog-2", "--called", "", "--input", "2"]
    assert main([*args, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["variables"]["CALLEDID"] == "+78125550002"
    assert out["path"][-2:] == ["spb_delivery", "goodbye"]
    assert out["route"] == "number +78125550002 bound to 'per_number_ivr' (latest)"
    assert main(args) == 0
    assert "routed: number +78125550002 bound to 'per_number_ivr' (latest)" in capsys.readouterr().out


def test_cli_refuses_a_routing_file_naming_scenarios_it_was_not_given(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text("default: billing\nnumbers: [{number: '1', scenario_id: per_number_ivr, version: 2}]\n")
    assert main(["run", str(PER_NUMBER_IVR), "--routing", str(path)]) == 1
    err = capsys.readouterr().err
    assert "default.scenario_id: scenario 'billing' is not among the scenario files given (per_number_ivr)" in err
    assert "numbers[0].version: version 2 of 'per_number_ivr' does not exist here" in err


def test_validate_knows_the_new_call_facts(tmp_path: Any) -> None:
    from flowengine.validation import validate_files

    path = tmp_path / "facts.json"
    path.write_text(json.dumps(FACTS), encoding="utf-8")
    assert validate_files([path])[str(path)] == []
    path.write_text(json.dumps(FACTS).replace("line()", "line(1)"), encoding="utf-8")
    (problem,) = validate_files([path])[str(path)]
    assert "'line' takes 0 arguments, got 1" in problem.message
