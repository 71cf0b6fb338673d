"""Where stored events go: the async sink protocol and two sinks.

A sink receives batches from the engine's single `EventWriter` task, never
from a call: a slow disk or database delays the writer, not the calls (the
writer's bounded queue absorbs bursts and counts what it had to drop).

* `JsonLinesSink(path)` — one JSON object per line, appended, UTF-8; the
  input of `flowengine export` and of any log shipper;
* `MemorySink()` — keeps the events, for tests.

A SQLite/PostgreSQL sink implements the same three methods.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Protocol, runtime_checkable

from flowengine.events.base import StreamEvent
from flowengine.events.codec import event_line


@runtime_checkable
class EventSink(Protocol):
    """What the writer needs of a sink. `write_batch` gets events in the
    order they were published (per stream, in `seq` order); `flush` makes
    what was written durable as far as the sink can; `close` flushes and
    releases the sink. A sink that raises loses that batch (the writer logs
    it and goes on), never the engine."""

    async def write_batch(self, events: Sequence[StreamEvent]) -> None: ...

    async def flush(self) -> None: ...

    async def close(self) -> None: ...


class JsonLinesSink:
    """Appends events to `path` as JSON lines (the file is opened on the
    first batch and created with its directory if needed).

    Writes go through a buffered file on the writer task: an append to the
    page cache is fast enough not to need a thread, and `flush` pushes the
    buffer to the OS (`fsync=True` also asks the disk to keep it).
    """

    def __init__(self, path: Path | str, *, fsync: bool = False) -> None:
        self.path = Path(path)
        self.fsync = fsync
        self._fh: IO[bytes] | None = None

    def _file(self) -> IO[bytes]:
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.path.open("ab")
        return self._fh

    async def write_batch(self, events: Sequence[StreamEvent]) -> None:
        self._file().write(b"".join(event_line(e) for e in events))

    async def flush(self) -> None:
        if self._fh is not None:
            self._fh.flush()
            if self.fsync:
                import os

                os.fsync(self._fh.fileno())

    async def close(self) -> None:
        if self._fh is not None:
            await self.flush()
            self._fh.close()
            self._fh = None


class MemorySink:
    """Keeps written events in `events` (the last `maxlen` if given), for tests."""

    def __init__(self, maxlen: int | None = None) -> None:
        self.events: deque[StreamEvent] = deque(maxlen=maxlen)
        self.batches = 0
        self.flushes = 0
        self.closed = False

    async def write_batch(self, events: Sequence[StreamEvent]) -> None:
        self.events.extend(events)
        self.batches += 1

    async def flush(self) -> None:
        self.flushes += 1

    async def close(self) -> None:
        self.closed = True
