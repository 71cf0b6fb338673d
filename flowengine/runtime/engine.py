"""The engine: published scenarios, number routing, and one task per call.

Backends hand incoming calls to `Engine.start_call`; the engine picks the
scenario bound to the called number (or the default), pins the call to the
version published at that moment, and runs it in a named, tracked task.
Events of every call go to the registered sinks (storage, monitor, traces).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flowengine.errors import UsageError
from flowengine.events import CallEvent, CallStarted
from flowengine.runtime.clock import WallClock
from flowengine.runtime.context import CallContext
from flowengine.runtime.interpreter import run_call
from flowengine.telephony.backend import TargetRouter

if TYPE_CHECKING:
    import httpx

    from flowengine.scenario.compiled import Scenario
    from flowengine.telephony import Call

log = logging.getLogger("flowengine.runtime.engine")

EventSink = Callable[[CallEvent], None]


class Engine:
    def __init__(self, *, clock: WallClock | None = None, keep_events: bool = True) -> None:
        self.clock = clock or WallClock()
        self.keep_events = keep_events
        self._by_id: dict[str, Scenario] = {}
        self._by_number: dict[str, Scenario] = {}
        self._default: Scenario | None = None
        self._sinks: list[EventSink] = []
        self._tasks: set[asyncio.Task[CallContext]] = set()
        self._http: httpx.AsyncClient | None = None
        #: services other parts attach (e.g. "acd"); looked up by node handlers
        self.services: dict[str, Any] = {}
        #: which backend rings a target (backends register themselves)
        self.router = TargetRouter()

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
    def add_sink(self, sink: EventSink) -> None:
        self._sinks.append(sink)

    def publish_event(self, event: CallEvent) -> None:
        for sink in self._sinks:
            try:
                sink(event)
            except Exception:  # a broken sink must not break the call
                log.exception("event sink %r failed", sink)

    # ---- calls ------------------------------------------------------------------------
    def start_call(self, call: Call, scenario: Scenario | None = None) -> asyncio.Task[CallContext]:
        task = asyncio.get_running_loop().create_task(
            self.run(call, scenario), name=f"call:{call.call_id}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def run(self, call: Call, scenario: Scenario | None = None) -> CallContext:
        chosen = scenario or self.scenario_for(call.called)
        ctx = CallContext(self, call, chosen, self._by_id)
        if not self.keep_events:
            ctx.events = _Discard()
        ctx.emit(
            CallStarted,
            wall=self.clock.now().isoformat(),
            caller=call.caller,
            called=call.called,
            scenario_id=chosen.id,
            scenario_version=chosen.version,
            backend=call.backend_name,
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
        """Cancel running calls (they hang up cleanly) and close shared clients."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel("engine shutdown")
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)
        if self._http is not None:
            await self._http.aclose()
            self._http = None


class _Discard(list):  # type: ignore[type-arg]
    """An event list that keeps nothing (load runs that only count)."""

    def append(self, item: Any) -> None:
        pass
