"""What the test console did to each test call, for "save as test case".

The keys pressed, phrases said and the hang-up of a test call reach the
engine as they happen, but only their effects are events (the digits a
Gather collected, not when each key went down). This log keeps the actions
themselves with their moments, for the most recent test calls, in memory:
a call made before a restart is recorded from its events alone
(`flowengine.testing.recorded`).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field

from flowengine.testing.recorded import Action

#: test calls whose actions are kept (the oldest is forgotten first)
KEEP_CALLS = 1000
#: actions kept per call (a stuck key cannot grow the log without end)
KEEP_ACTIONS = 1000


@dataclass
class ConsoleCall:
    at: str | None = None
    actions: list[Action] = field(default_factory=list)


class ConsoleLog:
    def __init__(self, keep: int = KEEP_CALLS) -> None:
        self._calls: OrderedDict[str, ConsoleCall] = OrderedDict()
        self._keep = keep

    def started(self, call_id: str, at: str | None) -> None:
        self._calls[call_id] = ConsoleCall(at=at)
        while len(self._calls) > self._keep:
            self._calls.popitem(last=False)

    def record(self, call_id: str, kind: str, value: str = "") -> None:
        call = self._calls.get(call_id)
        if call is None or len(call.actions) >= KEEP_ACTIONS:
            return
        call.actions.append(Action(time.time(), kind, value))  # type: ignore[arg-type]

    def get(self, call_id: str) -> ConsoleCall | None:
        return self._calls.get(call_id)
