"""The engine: published scenarios, number routing, and one task per call.

Backends hand incoming calls to `Engine.start_call`; the engine names the
call (`call_ids`, a UUIDv7 by default; the backend's id is kept as
`platform_id`), picks the scenario bound to the called number (or the
default), pins the call to the version published at that moment, and runs it
in a named, tracked task.

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
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flowengine.errors import UsageError
from flowengine.events import CallStarted, EventSink, EventWriter, StreamEvent, UUIDv7
from flowengine.events.writer import QUEUE_SIZE
from flowengine.runtime.clock import WallClock
from flowengine.runtime.context import CallContext
from flowengine.runtime.interpreter import run_call

if TYPE_CHECKING:
    import httpx

    from flowengine.scenario.compiled import Scenario
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
    `event_queue` bounds the writer's queue (events waiting for the sinks)."""

    def __init__(
        self,
        *,
        clock: WallClock | None = None,
        keep_events: bool = False,
        call_ids: CallIds | None = None,
        event_queue: int = QUEUE_SIZE,
    ) -> None:
        self.clock = clock or WallClock()
        self.keep_events = keep_events
        self.call_ids: CallIds = call_ids or UUIDv7()
        self._event_queue = event_queue
        self._by_id: dict[str, Scenario] = {}
        self._by_number: dict[str, Scenario] = {}
        self._default: Scenario | None = None
        self._listeners: list[EventListener] = []
        self._writer: EventWriter | None = None
        self._tasks: set[asyncio.Task[CallContext]] = set()
        self._http: httpx.AsyncClient | None = None
        #: services other parts attach (e.g. "acd"); looked up by node handlers
        self.services: dict[str, Any] = {}

    # ---- publication -------------------------------------------------------------
    def publish(self, scenario: Scenario, *, default: bool = False) -> None:
        """Make `scenario` the current version of its id and bind its numbers.

        Calls already running keep the version they started on: the maps are
        replaced, never mutated, so a call's snapshot stays as it was.
        """
        by_id = dict(self._by_id)
        by_id[scenario.id] = scenario
        by_number = dict(self._by_number)
        for number in scenario.numbers:
            by_number[number] = scenario
        self._by_id, self._by_number = by_id, by_number
        if default or self._default is None or self._default.id == scenario.id:
            self._default = scenario

    def scenario(self, scenario_id: str) -> Scenario | None:
        return self._by_id.get(scenario_id)

    def scenario_for(self, called: str) -> Scenario:
        found = self._by_number.get(called) or self._default
        if found is None:
            raise UsageError("no scenario published")
        return found

    # ---- events --------------------------------------------------------------------
    def add_listener(self, listener: EventListener) -> None:
        """Call `listener(event)` for every event, synchronously (keep it quick)."""
        self._listeners.append(listener)

    def add_sink(self, sink: EventSink) -> None:
        """Store every event in `sink`, through the engine's event writer."""
        if self._writer is None:
            self._writer = EventWriter(name="event-writer", queue_size=self._event_queue)
        self._writer.add_sink(sink)

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
    def start_call(self, call: Call, scenario: Scenario | None = None) -> asyncio.Task[CallContext]:
        call_id = self.call_ids(call)
        task = asyncio.get_running_loop().create_task(
            self.run(call, scenario, call_id=call_id), name=f"call:{call_id}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def run(
        self, call: Call, scenario: Scenario | None = None, *, call_id: str | None = None
    ) -> CallContext:
        chosen = scenario or self.scenario_for(call.called)
        ctx = CallContext(
            self,
            call,
            chosen,
            self._by_id,
            call_id=call_id or self.call_ids(call),
            keep_events=self.keep_events,
        )
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
        )
        await run_call(ctx)
        return ctx

    @property
    def active_calls(self) -> int:
        return len(self._tasks)

    def http(self) -> httpx.AsyncClient:
        """One shared HTTP client (connection pooling) for HTTP and Notify nodes."""
        if self._http is None:
            import httpx

            self._http = httpx.AsyncClient(follow_redirects=False)
        return self._http

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
        if self._http is not None:
            await self._http.aclose()
            self._http = None
        if self._writer is not None:
            await self._writer.close()
