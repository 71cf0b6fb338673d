"""The event writer: a bounded queue between calls and sinks.

Calls publish events with `put`, which never blocks and never raises: an
append to a bounded buffer (a deque, and a wake-up for the writer when it
sleeps: cheaper than an `asyncio.Queue` on this per-event hot path). One
named writer task drains it
in batches (up to `batch_size` events that are already waiting; it never
waits to fill a batch) and hands each batch to every sink in order. A full
queue means the sinks cannot keep up: the event is dropped, counted in
`dropped`, and logged once per burst of drops (with the burst's size when it
ends) — losing a stored event is bad, stalling every call in the centre is
worse. A sink that raises loses that batch for that sink only (`failed`
counts them); the other sinks and the calls carry on.

`flush()` returns once everything queued before it is written and the sinks
are flushed; `close()` flushes, stops the task and closes the sinks.
Both are awaited at engine shutdown.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Iterable

from flowengine.events.base import StreamEvent
from flowengine.events.sinks import EventSink

log = logging.getLogger("flowengine.events.writer")

#: default queue bound: about a second of a busy centre's events (see docs/events.md)
QUEUE_SIZE = 50_000
BATCH_SIZE = 500


class EventWriter:
    def __init__(
        self,
        sinks: Iterable[EventSink] = (),
        *,
        queue_size: int = QUEUE_SIZE,
        batch_size: int = BATCH_SIZE,
        name: str = "event-writer",
    ) -> None:
        if queue_size < 1 or batch_size < 1:
            raise ValueError("queue_size and batch_size must be at least 1")
        self.sinks: list[EventSink] = list(sinks)
        self.batch_size = batch_size
        self.name = name
        #: events refused because the queue was full
        self.dropped = 0
        #: events a sink failed to write (counted once per failing sink)
        self.failed = 0
        #: events handed to the sinks
        self.written = 0
        self.queue_size = queue_size
        self._buffer: deque[StreamEvent] = deque()
        #: set while the writer task sleeps on an empty buffer
        self._wake: asyncio.Future[None] | None = None
        #: set while a flush waits for the buffer to drain
        self._drained: asyncio.Future[None] | None = None
        self._busy = False
        self._task: asyncio.Task[None] | None = None
        self._burst = 0
        self._closed = False

    def add_sink(self, sink: EventSink) -> None:
        self.sinks.append(sink)

    @property
    def pending(self) -> int:
        """Events waiting for the sinks (queued, and the batch being written)."""
        return len(self._buffer)

    # ---- the calls' side -----------------------------------------------------------
    def put(self, event: StreamEvent) -> None:
        """Queue `event` for the sinks; never blocks, never raises."""
        if self._closed:
            self._drop(event, "closed")
            return
        buffer = self._buffer
        if len(buffer) >= self.queue_size:
            self._drop(event, "full")
            return
        buffer.append(event)
        if self._burst:
            log.warning("event writer: queue accepts events again after dropping %d", self._burst)
            self._burst = 0
        wake = self._wake
        if wake is not None:
            self._wake = None
            if not wake.done():
                wake.set_result(None)
        elif self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=self.name)

    def _drop(self, event: StreamEvent, why: str) -> None:
        self.dropped += 1
        if self._burst == 0:
            log.warning(
                "event writer %s: dropping events (first: %s %s seq %d); sinks are not keeping up",
                why,
                event.name,
                event.stream_key,
                event.seq,
            )
        self._burst += 1

    # ---- the writer task ---------------------------------------------------------------
    async def _run(self) -> None:
        buffer = self._buffer
        loop = asyncio.get_running_loop()
        while True:
            if not buffer:
                drained = self._drained
                if drained is not None:
                    self._drained = None
                    if not drained.done():
                        drained.set_result(None)
                self._wake = loop.create_future()
                await self._wake
                continue
            take = min(len(buffer), self.batch_size)
            batch = [buffer.popleft() for _ in range(take)]
            self._busy = True
            try:
                await self._write(batch)
            finally:
                self._busy = False

    async def _write(self, batch: list[StreamEvent]) -> None:
        for sink in self.sinks:
            try:
                await sink.write_batch(batch)
            except Exception:  # a broken sink loses its batch, not the engine
                self.failed += len(batch)
                log.exception("event sink %r failed to write %d events", sink, len(batch))
        self.written += len(batch)

    # ---- shutdown ------------------------------------------------------------------------
    async def flush(self) -> None:
        """Wait until every event queued so far is written, then flush the sinks."""
        task = self._task
        while task is not None and not task.done() and (self._buffer or self._busy):
            if self._drained is None or self._drained.done():
                self._drained = asyncio.get_running_loop().create_future()
            drained = self._drained
            wake = self._wake
            if wake is not None and not wake.done():  # an idle writer with events: start it
                self._wake = None
                wake.set_result(None)
            await asyncio.wait([drained, task], return_when=asyncio.FIRST_COMPLETED)
        for sink in self.sinks:
            try:
                await sink.flush()
            except Exception:
                log.exception("event sink %r failed to flush", sink)

    async def close(self) -> None:
        """Flush, stop the writer task and close the sinks; later events are dropped."""
        if self._closed:
            return
        await self.flush()
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        for sink in self.sinks:
            try:
                await sink.close()
            except Exception:
                log.exception("event sink %r failed to close", sink)
