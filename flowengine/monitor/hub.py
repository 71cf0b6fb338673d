"""Live fan-out of the wallboard and of call traces to subscribers.

The hub is an engine listener (`engine.add_listener(hub.publish)`) or is fed
replayed events. Folding an event into the board is cheap and synchronous;
the deltas of a burst of events are gathered and sent once, on the next turn
of the event loop, so a hundred events in one instant cost one message.

Backpressure: every subscriber has a bounded queue. A slow one never slows
the engine or the other subscribers: when its queue is full its pending
messages are dropped and replaced by one `resync` message, a fresh snapshot,
after which deltas continue. Every message carries the board's `version`
(1, 2, 3… per hub), so a client can also see a gap itself.

Messages (plain dicts, ready for JSON):
    {"type": "snapshot", "version": N, "board": {...}}
    {"type": "resync",   "version": N, "board": {...}}
    {"type": "delta",    "version": N, "changes": [{"kind", "id", "data"}, ...]}
    {"type": "alert",    "version": N, "alert": {...}}

A snapshot's or resync's board also lists the alerts raised now (`alerts`),
for viewers that see the whole board.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable
from typing import Any

from flowengine.events import CallEvent, StreamEvent
from flowengine.monitor.wallboard import Wallboard

__all__ = ["MonitorHub", "Subscription", "TraceSubscription"]

#: call events a live trace shows (the editor highlights nodes and lists prompts)
TRACE_EVENTS = frozenset(
    {
        "call_started", "node_entered", "node_left", "prompt_played", "digits_received",
        "speech_recognized", "variable_changed", "node_failed", "scenario_entered",
        "queue_entered", "queue_connected", "call_hung_up", "call_ended",
    }
)

Filter = Callable[[dict[str, Any]], bool]


class Subscription:
    """One wallboard viewer: iterate it for messages; `close()` when done."""

    def __init__(self, hub: MonitorHub, limit: int, only: Filter | None) -> None:
        self._hub = hub
        self._limit = limit
        self._only = only
        self._queue: deque[dict[str, Any]] = deque()
        self._ready: asyncio.Event = asyncio.Event()
        self.resyncs = 0
        self.closed = False

    def _offer(self, message: dict[str, Any]) -> None:
        if self.closed:
            return
        if message["type"] == "delta" and self._only is not None:
            changes = [c for c in message["changes"] if self._only(c)]
            if not changes:
                return
            message = {**message, "changes": changes}
        if len(self._queue) >= self._limit:
            # fallen behind: what it missed is replaced by the board as it is now
            self._queue.clear()
            self.resyncs += 1
            message = self._hub._board_message("resync", self._only)
        self._queue.append(message)
        self._ready.set()

    def pending(self) -> int:
        return len(self._queue)

    async def get(self) -> dict[str, Any]:
        while not self._queue:
            if self.closed:
                raise StopAsyncIteration
            self._ready.clear()
            await self._ready.wait()
        return self._queue.popleft()

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self

    async def __anext__(self) -> dict[str, Any]:
        return await self.get()

    def close(self) -> None:
        self.closed = True
        self._ready.set()
        self._hub._subs.discard(self)


class TraceSubscription:
    """The live trace of one call: its events from `from_seq` on."""

    def __init__(self, hub: MonitorHub, call_id: str) -> None:
        self._hub = hub
        self.call_id = call_id
        self._queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()

    def _offer(self, event: dict[str, Any] | None) -> None:
        self._queue.put_nowait(event)

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self

    async def __anext__(self) -> dict[str, Any]:
        item = await self._queue.get()
        if item is None:
            raise StopAsyncIteration
        return item

    def close(self) -> None:
        watchers = self._hub._traces.get(self.call_id)
        if watchers is not None:
            watchers.discard(self)
        self._queue.put_nowait(None)


class MonitorHub:
    """Folds events into a `Wallboard` and fans deltas out to subscribers."""

    def __init__(self, board: Wallboard, *, queue_limit: int = 256, trace_calls: int = 1000, trace_events: int = 2000) -> None:
        self.board = board
        self.version = 0
        self.queue_limit = queue_limit
        self._subs: set[Subscription] = set()
        self._flush_scheduled = False
        #: call id -> its recent trace events (live calls, then the last finished ones)
        self._trace_log: OrderedDict[str, deque[dict[str, Any]]] = OrderedDict()
        self._trace_calls = trace_calls
        self._trace_events = trace_events
        self._traces: dict[str, set[TraceSubscription]] = {}
        #: alert id -> the raised alert, for snapshots
        self._alerts: dict[str, dict[str, Any]] = {}

    # ---- input -----------------------------------------------------------------
    def publish(self, event: StreamEvent) -> None:
        """Fold one event in (an engine listener: quick, never raises on its own)."""
        self.board.apply(event)
        if isinstance(event, CallEvent) and event.name in TRACE_EVENTS:
            self._trace(event)
        self._schedule_flush()

    def phone_changed(self, operator_id: str, *, registered: bool, bindings: int, user_agent: str | None = None) -> None:
        """An operator's SIP phone registered, unregistered or changed its
        bindings (the SIP backend's registrar tells it; not an event of the stream)."""
        self.board.phone(operator_id, registered=registered, bindings=bindings, at=time.time(), user_agent=user_agent)
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        if not self._flush_scheduled and self._subs:
            self._flush_scheduled = True
            try:
                asyncio.get_running_loop().call_soon(self.flush)
            except RuntimeError:  # no loop (a replay): the caller flushes
                self._flush_scheduled = False

    def flush(self) -> None:
        """Send the deltas gathered since the last flush (one message)."""
        self._flush_scheduled = False
        changes = self.board.take_changes()
        if not changes:
            return
        self.version += 1
        message = {"type": "delta", "version": self.version, "changes": changes}
        for sub in list(self._subs):
            sub._offer(message)

    def alert(self, alert: dict[str, Any]) -> None:
        """Send an alert (raised or cleared) to every wallboard viewer that
        sees the whole board (an operator's own-row view gets none); the
        alerts still raised are in every snapshot and resync (`alerts`)."""
        if alert.get("state") == "cleared":
            self._alerts.pop(alert["id"], None)
        else:
            self._alerts[alert["id"]] = alert
        self.version += 1
        message = {"type": "alert", "version": self.version, "alert": alert}
        for sub in list(self._subs):
            if sub._only is None:
                sub._offer(message)

    # ---- wallboard viewers -------------------------------------------------------
    def subscribe(self, *, only: Filter | None = None, limit: int | None = None) -> Subscription:
        """A new viewer; its first message is the snapshot. `only(change)` keeps
        the changes it may see (an operator's own row, say)."""
        self.flush()  # earlier changes belong to the snapshot, not to a delta after it
        sub = Subscription(self, limit or self.queue_limit, only)
        sub._offer(self._board_message("snapshot", only))
        self._subs.add(sub)
        return sub

    def _board_message(self, kind: str, only: Filter | None) -> dict[str, Any]:
        board = self.board.snapshot()
        if only is not None:
            board = {
                **board,
                "operators": [o for o in board["operators"] if only({"kind": "operator", "id": o["id"], "data": o})],
                "queues": [q for q in board["queues"] if only({"kind": "queue", "id": q["id"], "data": q})],
            }
        else:
            board = {**board, "alerts": list(self._alerts.values())}
        return {"type": kind, "version": self.version, "board": board}

    @property
    def subscribers(self) -> int:
        return len(self._subs)

    # ---- call traces -----------------------------------------------------------------
    def _trace(self, event: CallEvent) -> None:
        log = self._trace_log.get(event.call_id)
        if log is None:
            log = self._trace_log[event.call_id] = deque(maxlen=self._trace_events)
            while len(self._trace_log) > self._trace_calls:
                old, _ = self._trace_log.popitem(last=False)
                for w in self._traces.pop(old, set()):
                    w._offer(None)
        row = event.to_dict()
        log.append(row)
        for w in self._traces.get(event.call_id, ()):
            w._offer(row)
        if event.name == "call_ended":
            for w in self._traces.pop(event.call_id, set()):
                w._offer(None)

    def trace(self, call_id: str, from_seq: int = 0) -> TraceSubscription:
        """The trace of `call_id`: the kept events with `seq > from_seq`, then
        live ones until the call ends (the iteration stops there)."""
        sub = TraceSubscription(self, call_id)
        log = self._trace_log.get(call_id, ())
        ended = False
        for row in log:
            if row["seq"] > from_seq:
                sub._offer(row)
            ended = ended or row["event"] == "call_ended"
        if ended:
            sub._offer(None)
        else:
            self._traces.setdefault(call_id, set()).add(sub)
        return sub
