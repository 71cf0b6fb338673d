"""Child process of test_crash.py: writes call events through the engine's
EventWriter into a SqlEventSink until it is killed. Before each batch goes to
the database it prints ``W <events handed over so far>``; after the batch is
committed, ``C <events committed so far>``."""

from __future__ import annotations

import asyncio
import sys

from flowengine.events import CallEnded, CallStarted, EventWriter, NodeEntered
from flowengine.storage import SqlEventSink, open_database


class Reporting(SqlEventSink):
    handed = 0
    committed = 0

    async def write_batch(self, events):  # type: ignore[no-untyped-def]
        self.handed += len(events)
        print(f"W {self.handed}", flush=True)
        await super().write_batch(events)
        self.committed += len(events)
        print(f"C {self.committed}", flush=True)


async def main(url: str, batch: int) -> None:
    db = open_database(url)
    writer = EventWriter([Reporting(db)], batch_size=batch, queue_size=1_000_000)
    call = 0
    while True:
        call += 1
        key = f"call-{call:06d}"
        ts = 1_000_000.0 + call
        writer.put(CallStarted(call_id=key, seq=1, ts=ts, t=0.0, wall="", caller="+7916", called="100",
                               scenario_id="s", scenario_version=1))  # fmt: skip
        for seq in range(2, 10):
            writer.put(NodeEntered(call_id=key, seq=seq, ts=ts, t=0.0, scenario_id="s", scenario_version=1,
                                   node_id=f"n{seq}", node_type="say"))  # fmt: skip
        if call % 2:  # every other call ends; the rest are in flight when the kill comes
            writer.put(CallEnded(call_id=key, seq=10, ts=ts + 1, t=1.0, duration=1.0, steps=8, hangup_cause="normal"))
        await asyncio.sleep(0)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
