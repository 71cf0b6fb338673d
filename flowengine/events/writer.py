"""The event writer: a bounded queue between calls and sinks.

Calls publish events with `put`, which never blocks and never raises: it is
`put_nowait` into a bounded `asyncio.Queue`. One named writer task drains it
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
        self._queue: asyncio.Queue[StreamEvent] = asyncio.Queue(queue_size)
        self._task: asyncio.Task[None] | None = None
        self._burst = 0
        self._closed = False

    def add_sink(self, sink: EventSink) -> None:
        self.sinks.append(sink)

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    # ---- the calls' side -----------------------------------------------------------
    def put(self, event: StreamEvent) -> None:
        """Queue `event` for the sinks; never blocks, never raises."""
        if self._closed:
            self._drop(event, "closed")
            return
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self._drop(event, "full")
            return
        if self._burst:
            log.warning("event writer: queue accepts events again after dropping %d", self._burst)
            self._burst = 0
        if self._task is None:
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
        queue = self._queue
        while True:
            batch = [await queue.get()]
            while len(batch) < self.batch_size and not queue.empty():
                batch.append(queue.get_nowait())
            try:
                await self._write(batch)
            finally:
                for _ in batch:
                    queue.task_done()

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
        if self._task is not None and not self._task.done():
            await self._queue.join()
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
