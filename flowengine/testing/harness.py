"""Run a scenario with a scripted caller and get the trace back.

This is the harness tests, `flowengine run` and `flowengine test` share:
`run_scenario(scenario, script)` on simulated time (instant) or the real
clock, returning a `CallTrace` built from the call's event stream. The
harness's engine keeps each call's events in memory (for the trace) and can
also store every stream — the call's, and the operators' and queues' of the
centre — in sinks, as `flowengine run --events-out` does.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from flowengine.acd.driver import AcdDriver
from flowengine.acd.model import Centre
from flowengine.errors import UsageError
from flowengine.events import (
    CallEnded,
    CallEvent,
    DigitsReceived,
    EventSink,
    NodeEntered,
    NodeLeft,
    PromptPlayed,
    StreamEvent,
)
from flowengine.runtime.clock import WallClock
from flowengine.runtime.context import CallContext
from flowengine.runtime.engine import Engine, platform_call_ids
from flowengine.runtime.virtual_loop import run_virtual
from flowengine.scenario.compiled import Scenario
from flowengine.scenario.routing import RoutingTable
from flowengine.telephony.backend import create_backend
from flowengine.testing.network import DeclaredNetwork
from flowengine.testing.phones import VirtualPhone, virtual_operators
from flowengine.testing.script import CallerScript

if TYPE_CHECKING:
    from flowengine.telephony import Call


class ScriptedBackend(Protocol):
    """What the harness needs of a backend: scripted callers and virtual phones
    (the simulator has both; a SIP test rig could offer them too).
    `caller_phone` is how a scripted caller's own phone answers a callback."""

    directory: dict[str, VirtualPhone]
    caller_phone: VirtualPhone

    def place_call(
        self,
        script: CallerScript,
        scenario: Scenario | None = None,
        call_id: str | None = None,
        *,
        at: dt.datetime | None = None,
    ) -> tuple[Call, asyncio.Task[CallContext]]: ...


def scripted_backend(engine: Engine, name: str = "sim", **options: Any) -> ScriptedBackend:
    """A backend that takes scripted callers (by default the simulator)."""
    backend = create_backend(name, engine, **options)
    if not hasattr(backend, "place_call"):
        raise UsageError(f"backend '{name}' cannot place scripted calls")
    return backend  # type: ignore[return-value]


@dataclass
class CallTrace:
    call_id: str
    path: list[str]
    exits: list[dict[str, str]]
    prompts: list[str]
    digits: list[str]
    variables: dict[str, Any]
    hangup_cause: str
    duration: float
    events: list[CallEvent] = field(default_factory=list)
    #: with a centre: every operator's status, state and time in each at the end
    operators: list[dict[str, Any]] | None = None
    #: why the engine chose the scenario (None when the caller of the run chose it)
    route: str | None = None
    #: with a centre: the operator and queue streams while the call ran
    centre_events: list[StreamEvent] = field(default_factory=list)

    def to_json(self, *, with_events: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "call_id": self.call_id,
            "path": self.path,
            "exits": self.exits,
            "prompts": self.prompts,
            "digits": self.digits,
            "variables": self.variables,
            "hangup_cause": self.hangup_cause,
            "duration": self.duration,
        }
        if self.operators is not None:
            data["operators"] = self.operators
        if self.route is not None:
            data["route"] = self.route
        if with_events:
            data["events"] = [e.to_dict() for e in self.events]
            if self.operators is not None:
                data["centre_events"] = [e.to_dict() for e in self.centre_events]
        return data


def trace_of(ctx: CallContext) -> CallTrace:
    """The trace of a finished call; its engine must keep events (`keep_events`)."""
    if ctx.events is None:
        raise UsageError("this call kept no events: make its engine with Engine(keep_events=True)")
    path: list[str] = []
    exits: list[dict[str, str]] = []
    prompts: list[str] = []
    digits: list[str] = []
    duration = 0.0
    cause = ctx.call.hangup_cause or "normal"
    for e in ctx.events:
        if isinstance(e, NodeEntered):
            path.append(e.node_id)
        elif isinstance(e, NodeLeft):
            exits.append({"node": e.node_id, "exit": e.exit})
        elif isinstance(e, PromptPlayed):
            prompts.append(e.text)
        elif isinstance(e, DigitsReceived):
            digits.append(e.digits)
        elif isinstance(e, CallEnded):
            duration = e.duration
            cause = e.hangup_cause
    return CallTrace(
        call_id=ctx.call_id,
        path=path,
        exits=exits,
        prompts=prompts,
        digits=digits,
        variables=dict(ctx.variables),
        hangup_cause=cause,
        duration=duration,
        events=list(ctx.events),
        route=ctx.resolution.reason if ctx.resolution is not None else None,
    )


@dataclass
class CentreSetup:
    """A call centre for simulated calls: the centre file's operators become
    virtual phones; `statuses` sets operators' statuses before the call
    ({"902": "break"}); `phones` overrides single targets. Callers rung back
    answer after `callback_answer_after` s and talk `talk_time` s."""

    centre: Centre
    answer_after: float | None = 3.0
    talk_time: float = 60.0
    exponential: bool = False
    statuses: dict[str, str] = field(default_factory=dict)
    phones: dict[str, VirtualPhone] = field(default_factory=dict)
    seed: int = 1
    callback_answer_after: float = 5.0


def attach_centre(engine: Engine, backend: ScriptedBackend, setup: CentreSetup) -> AcdDriver:
    """Run an ACD for `setup.centre` in this engine, with virtual operators."""
    driver = AcdDriver(setup.centre, seed=setup.seed).attach(engine)
    backend.directory.update(
        virtual_operators(
            setup.centre,
            answer_after=setup.answer_after,
            talk_time=setup.talk_time,
            exponential=setup.exponential,
            phones=setup.phones,
        )
    )
    backend.caller_phone = VirtualPhone(answer_after=setup.callback_answer_after, talk_time=setup.talk_time)
    for operator, status in setup.statuses.items():
        reason = None
        if ":" in status:
            status, reason = status.split(":", 1)
        driver.set_status(operator, status, reason)
    return driver


async def run_call_async(
    engine: Engine,
    script: CallerScript,
    scenario: Scenario | None = None,
    *,
    directory: dict[str, VirtualPhone] | None = None,
    call_id: str | None = None,
    centre: CentreSetup | None = None,
) -> CallTrace:
    """Place one scripted call in `engine` and return its trace.

    The engine is set to keep the call's events. `call_id` names the call
    for the backend and in the stream alike (deterministic tests); without
    it the engine assigns its own id.
    """
    engine.keep_events = True
    if call_id is not None:
        engine.call_ids = platform_call_ids
    centre_events: list[StreamEvent] = []

    def centre_event(event: StreamEvent) -> None:
        if event.stream != "call":
            centre_events.append(event)

    if centre is not None:
        engine.add_listener(centre_event)
    # the centre's seed drives the virtual operators' talk times as well as the ACD
    backend = scripted_backend(engine, directory=directory, seed=centre.seed if centre is not None else 1)
    driver = attach_centre(engine, backend, centre) if centre is not None else None
    _call, task = backend.place_call(script, scenario, call_id)
    ctx = await task
    trace = trace_of(ctx)
    if driver is not None:
        trace.operators = driver.operator_report()
        await driver.shutdown()
        trace.centre_events = centre_events
    return trace


#: a call's wall-clock start must fall within these years (UTC): its clock runs
#: on from there, and times near year 9999 overflow Python's datetime mid-call
START_YEARS = (1970, 2999)


def check_start(at: dt.datetime | None) -> None:
    """UsageError unless `at` (a call's start) is within `START_YEARS`."""
    if at is None:
        return
    try:
        year = at.astimezone(dt.UTC).year
    except OverflowError:
        year = at.year + 1
    if not START_YEARS[0] <= year <= START_YEARS[1]:
        raise UsageError(
            f"start time {at.isoformat()} is out of range: give a time in the years "
            f"{START_YEARS[0]}..{START_YEARS[1]}"
        )


def run_scenario(
    scenario: Scenario,
    script: CallerScript,
    *,
    at: dt.datetime | None = None,
    realtime: bool = False,
    library: Iterable[Scenario] = (),
    directory: dict[str, VirtualPhone] | None = None,
    centre: CentreSetup | None = None,
    call_id: str | None = None,
    routing: RoutingTable | None = None,
    sinks: Sequence[EventSink] = (),
    media: Sequence[str | os.PathLike[str]] = (),
    http: DeclaredNetwork | None = None,
) -> CallTrace:
    """Run one call of `scenario` and return its trace.

    `at` sets the wall-clock start (time zone aware) on simulated time; the
    default is now. `library` holds the scenarios Subscenario nodes refer to.
    Without `routing` the call runs `scenario` whatever its number (its line
    still names the call's line). With `routing` (a copy is used) the call is
    routed as in production: its line's rules normalise the numbers, and the
    bindings decide among `scenario` and `library`, with `scenario` as the
    default when the table names none.

    `sinks` also receive every event (call, operator and queue streams) and
    are flushed and closed before this returns. `media` are the folders audio
    files are played from (see `flowengine.telephony.media`). With `http`, the
    HTTP and Notify nodes talk to its declared answers only (no network).
    """

    check_start(at)

    async def main() -> CallTrace:
        clock = WallClock(None if realtime and at is None else at or dt.datetime.now(dt.UTC))
        table = routing.model_copy(deep=True) if routing is not None else None
        engine = Engine(clock=clock, routing=table, keep_events=True, media_dirs=media)
        if http is not None:
            engine.use_http(http.client())
        for sink in sinks:
            engine.add_sink(sink)
        for other in library:
            engine.publish(other)
        published = engine.publish(scenario, default=table is None or table.default is None)
        forced = published.scenario if table is None else None
        try:
            return await run_call_async(
                engine, script, forced, directory=directory, centre=centre, call_id=call_id
            )
        finally:
            await engine.shutdown()

    if realtime:
        return asyncio.run(main())
    return run_virtual(main())
