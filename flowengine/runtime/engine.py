"""The engine: published scenarios, number routing, and one task per call.

Backends hand incoming calls to `Engine.start_call`. The engine normalises the
call's numbers by its line's rules, asks the routing table where the call goes
(number binding, line binding, default), takes that scenario version from the
store, pins the call to it (and its Subscenario targets to the versions
published at that moment), and runs it in a named, tracked task. A call
nothing routes is refused with hangup cause ``no_route``. The engine names
every call (`call_ids`, a UUIDv7 by default; the backend's id is kept as
`platform_id` on `call_started`).

Events of every stream (calls, and the operators and queues of an attached
ACD) are published through `publish_event` to two kinds of receiver:

* listeners (`add_listener`) — synchronous in-process callbacks that must be
  quick (the test harness, the live monitor's fan-out);
* sinks (`add_sink`) — async storage behind one `EventWriter`: a bounded
  queue that never blocks a call, drained by one named task.
  `await engine.shutdown()` flushes and closes them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from flowengine.errors import UsageError
from flowengine.events import (
    CallEnded,
    CallStarted,
    EventSink,
    EventWriter,
    StreamEvent,
    UUIDv7,
)
from flowengine.events.writer import QUEUE_SIZE
from flowengine.runtime.clock import WallClock
from flowengine.runtime.context import CallContext
from flowengine.runtime.interpreter import emit_hung_up, run_call
from flowengine.runtime.outbound import HttpLimits, OutboundHttp
from flowengine.scenario.compiled import Scenario
from flowengine.scenario.model import ScenarioDoc
from flowengine.scenario.routing import Resolution, RoutingTable
from flowengine.scenario.store import InMemoryScenarioStore, PublishResult, ScenarioStore
from flowengine.telephony.backend import TargetRouter
from flowengine.telephony.causes import NO_ROUTE  # SIP 404, Q.850 1 (causes.SEND)
from flowengine.telephony.media import MediaFolders

if TYPE_CHECKING:
    import httpx

    from flowengine.telephony import Call

log = logging.getLogger("flowengine.runtime.engine")

EventListener = Callable[[StreamEvent], None]
CallIds = Callable[["Call"], str]


def platform_call_ids(call: Call) -> str:
    """A `call_ids` policy that keeps the backend's id as the engine's: for
    tests and tools that choose ids themselves (deterministic streams)."""
    return call.call_id


class Engine:
    """`keep_events`: every call keeps its own event list (`ctx.events`) —
    for traces and tests; otherwise events only reach listeners and sinks.
    `call_ids(call)` names each new call (default: a UUIDv7).
    `event_queue` bounds the writer's queue (events waiting for the sinks).
    `store` holds the published versions, `routing` the number and line
    bindings (both in memory by default). `http_limits` shares outbound HTTP
    between origins (requests in flight per origin, pool size, how long a
    request waits for a connection; see `flowengine.runtime.outbound`).
    `media_dirs`: the folders audio files are played from, in order; a
    scenario's file names are confined to them (`flowengine.telephony.media`);
    without any, no audio file is read from disk."""

    def __init__(
        self,
        *,
        clock: WallClock | None = None,
        keep_events: bool = False,
        call_ids: CallIds | None = None,
        event_queue: int = QUEUE_SIZE,
        store: ScenarioStore | None = None,
        routing: RoutingTable | None = None,
        http_limits: HttpLimits | None = None,
        media_dirs: Iterable[str | os.PathLike[str]] = (),
    ) -> None:
        self.clock = clock or WallClock()
        self.keep_events = keep_events
        self.call_ids: CallIds = call_ids or UUIDv7()
        self._event_queue = event_queue
        self._listeners: list[EventListener] = []
        self._writer: EventWriter | None = None
        #: where a call's events go: the writer alone when nothing listens
        #: (one call less per event on the hot path), else `publish_event`
        self.deliver: Callable[[StreamEvent], None] = _nowhere
        #: published versions, numbered by the store
        self.store: ScenarioStore = store if store is not None else InMemoryScenarioStore(now=self.clock.now)
        #: number and line bindings, default scenario, normalisation rules
        self.routing = routing if routing is not None else RoutingTable()
        self._tasks: set[asyncio.Task[CallContext]] = set()
        #: outbound HTTP of HTTP and Notify nodes: one pool, a turn per origin
        self.outbound = OutboundHttp(http_limits)
        #: where audio files named by scenarios are looked up (none: not read)
        self.media = MediaFolders(media_dirs)
        #: services other parts attach (e.g. "acd"); looked up by node handlers
        self.services: dict[str, Any] = {}
        #: which backend rings a target (backends register themselves)
        self.router = TargetRouter()

    # ---- publication -------------------------------------------------------------
    def publish(
        self,
        scenario: Scenario | ScenarioDoc,
        *,
        default: bool = False,
        comment: str = "",
        author: str = "",
    ) -> PublishResult:
        """Publish into the store (version N+1, or nothing if unchanged) and
        bind the document's `numbers` — the import convenience.

        Numbers the document lists that are free are bound to the scenario's
        latest version; numbers the previous version listed and this one does
        not are released (their calls go to the line or the default); a number
        another scenario holds stays there and is reported in `warnings`.
        An unchanged document changes nothing, bindings included.
        `default=True` makes this scenario the default for unbound calls; the
        default is never chosen implicitly. Calls already running keep the
        version they started on.
        """
        previous = self.store.find(scenario.doc.id if isinstance(scenario, Scenario) else scenario.id)
        result = self.store.publish(scenario, comment=comment, author=author)
        notes: list[str] = []
        if result.changed:
            before = previous.numbers if previous is not None else []
            notes = self.routing.follow_document_numbers(result.scenario_id, before, result.scenario.numbers)
            for note in notes:
                log.warning("%s", note)
        if default:
            self.routing.set_default(result.scenario_id)
        return dataclasses.replace(result, warnings=result.warnings + tuple(notes))

    def scenario(self, scenario_id: str, version: int | None = None) -> Scenario | None:
        """That published version (None: the latest), or None."""
        return self.store.find(scenario_id, version)

    def resolve(self, called: str, line: str | None = None) -> tuple[Scenario | None, Resolution]:
        """The scenario version a call to `called` (normalised) on `line`
        would run now, and why; None when the call would be refused."""
        resolution = self.routing.resolve(called, line)
        if resolution.scenario_id is None:
            return None, resolution
        found = self.store.find(resolution.scenario_id, resolution.version)
        if found is None:
            resolution = resolution._replace(unpublished=True)
            log.error("cannot route: %s", resolution.reason)
        return found, resolution

    def scenario_for(self, called: str, line: str | None = None) -> Scenario:
        """The scenario a call to `called` on `line` runs now; `UsageError`
        saying why when nothing routes it."""
        found, resolution = self.resolve(called, line)
        if found is None:
            raise UsageError(f"no scenario for the call: {resolution.reason}")
        return found

    # ---- events --------------------------------------------------------------------
    def add_listener(self, listener: EventListener) -> None:
        """Call `listener(event)` for every event, synchronously (keep it quick)."""
        self._listeners.append(listener)
        self.deliver = self.publish_event

    def add_sink(self, sink: EventSink) -> None:
        """Store every event in `sink`, through the engine's event writer."""
        if self._writer is None:
            self._writer = EventWriter(name="event-writer", queue_size=self._event_queue)
        self._writer.add_sink(sink)
        self.deliver = self._writer.put if not self._listeners else self.publish_event

    @property
    def writer(self) -> EventWriter | None:
        """The event writer (its `dropped` count), once a sink was added."""
        return self._writer

    def publish_event(self, event: StreamEvent) -> None:
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:  # a broken listener must not break the call
                log.exception("event listener %r failed", listener)
        if self._writer is not None:
            self._writer.put(event)

    async def flush_events(self) -> None:
        """Wait until every event published so far is in the sinks."""
        if self._writer is not None:
            await self._writer.flush()

    # ---- calls ------------------------------------------------------------------------
    def start_call(
        self, call: Call, scenario: Scenario | None = None, *, at: dt.datetime | None = None
    ) -> asyncio.Task[CallContext]:
        """Run `call` in a task named `call:<id>`. `at` (time zone aware) is
        the wall-clock time the call's scenario sees at its start (schedules,
        `now()`, `hour()`); its clock runs on from there. Events keep the real time."""
        call_id = self.call_ids(call)
        task = asyncio.get_running_loop().create_task(
            self.run(call, scenario, call_id=call_id, at=at), name=f"call:{call_id}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def run(
        self, call: Call, scenario: Scenario | None = None, *, call_id: str | None = None,
        at: dt.datetime | None = None,
    ) -> CallContext:
        """Run one call to its end. Without `scenario` the call is routed;
        either way its numbers are normalised by its line's rules first."""
        called_raw, caller_raw = call.called, call.caller
        call.called, call.caller = self.routing.normalise(call.line, called_raw, caller_raw)
        library: Mapping[str, Scenario] = self.store.latest()
        resolution = None
        if scenario is None:
            scenario, resolution = self.resolve(call.called, call.line)
            if scenario is not None and library.get(scenario.id) is not scenario:
                # pinned to an older version: a Subscenario naming its own id gets it too
                library = {**library, scenario.id: scenario}
        chosen = scenario or _UNROUTED
        ctx = CallContext(
            self,
            call,
            chosen,
            library,
            call_id=call_id or self.call_ids(call),
            keep_events=self.keep_events,
        )
        ctx.called_raw, ctx.caller_raw, ctx.resolution = called_raw, caller_raw, resolution
        if at is not None:
            ctx.clock_shift = at - self.clock.now()
        ctx.emit(
            CallStarted,
            wall=self.clock.now().isoformat(),
            caller=call.caller,
            called=call.called,
            scenario_id=chosen.id,
            scenario_version=chosen.version,
            backend=call.backend_name,
            platform_id=call.call_id,
            line=call.line,
            caller_name=call.caller_name,
            caller_raw=caller_raw if caller_raw != call.caller else None,
            called_raw=called_raw if called_raw != call.called else None,
            route=resolution.reason if resolution is not None else "",
        )
        if scenario is None:
            await _refuse(ctx)
        else:
            await run_call(ctx)
        return ctx

    @property
    def active_calls(self) -> int:
        return len(self._tasks)

    def http(self) -> httpx.AsyncClient:
        """The shared HTTP client behind `outbound` (connection pooling). Nodes
        send through `outbound.stream`, which takes the origin's turn first."""
        return self.outbound.client

    def use_http(self, client: httpx.AsyncClient) -> None:
        """Send the HTTP and Notify nodes' requests through `client` instead
        (the test runner's declared answers); the engine closes it on shutdown."""
        self.outbound.use_client(client)

    async def drain(self) -> None:
        """Wait until every running call has ended (new calls may still start)."""
        while self._tasks:
            await asyncio.wait(list(self._tasks))

    async def shutdown(self, timeout: float = 5.0) -> None:
        """Cancel running calls (they hang up cleanly and end their streams),
        close shared clients, then write out and close the event sinks.

        Services that publish events (an attached ACD driver) should be shut
        down before, so their last events are stored too."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel("engine shutdown")
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)
        await self.outbound.aclose()
        if self._writer is not None:
            await self._writer.close()


def _nowhere(event: StreamEvent) -> None:
    """Events of an engine with no listener and no sink are dropped."""


async def _refuse(ctx: CallContext) -> None:
    """End a call nothing routes, unanswered, with cause `NO_ROUTE`; its stream
    is call_started (no scenario: id "", version 0), call_hung_up, call_ended."""
    call = ctx.call
    reason = ctx.resolution.reason if ctx.resolution is not None else "no route"
    log.warning("call %s refused: %s", ctx.call_id, reason)
    ctx.end_cause = NO_ROUTE
    try:
        if call.active:
            await call.hangup(NO_ROUTE)
            emit_hung_up(ctx, None, NO_ROUTE, "engine")
        else:  # the caller gave up first
            emit_hung_up(ctx, None, call.hangup_cause or "normal", call.hangup_by or "caller")
    finally:
        ctx.emit(CallEnded, duration=round(ctx.elapsed(), 6), steps=0, hangup_cause=call.hangup_cause or NO_ROUTE)


#: stands in for the scenario of a refused call, which runs no node
_UNROUTED = Scenario(
    doc=ScenarioDoc.model_construct(schema_version=1, id="", version=0, nodes=[]),
    nodes={},
    wiring={},
    main_entry="",
    after_hangup_entry=None,
    tz=ZoneInfo("UTC"),
)
