"""Call detail records: one row per call, built from its event stream.

`CdrBuilder` folds a call's events, in `seq` order, into a `Cdr` (pure: no
database). The event sink feeds it as batches go by and writes the row in the
batch that carries `call_ended`; start-up recovery feeds it the stored events
of a call that never ended and closes it with cause ``engine_restart``.

`result` says how the call went, in this order of precedence:

* ``interrupted`` — the engine stopped during the call (recovered at start);
* ``operator`` — the caller talked to an operator (queue or transfer);
* ``transferred`` — a blind transfer took the call elsewhere;
* ``abandoned``, ``queue_timeout``, ``queue_full``, ``no_operators``,
  ``no_answer``, ``callback`` — the last way out of a queue without an operator;
* ``refused`` — no scenario took the call (no route);
* ``ivr`` — it ended in the scenario, with no operator.

`wait` is the queue wait (to the operator, or until the caller left);
`talk` the conversation time with operators; both None when there was none.
Times are UTC epoch seconds (the events' `ts`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

__all__ = ["Cdr", "CdrBuilder", "ENGINE_RESTART"]

#: the hangup cause of a call closed by start-up recovery
ENGINE_RESTART = "engine_restart"

_QUEUE_OUTCOMES = {
    "queue_abandoned": "abandoned",
    "queue_timeout": "queue_timeout",
    "queue_full": "queue_full",
    "queue_no_operators": "no_operators",
    "queue_no_answer": "no_answer",
    "queue_callback_requested": "callback",
}


@dataclass(frozen=True, slots=True)
class Cdr:
    """One call, as reports and the API list it."""

    call_id: str
    started_at: float
    answered_at: float | None
    ended_at: float
    duration: float
    caller: str
    called: str
    line: str | None
    scenario_id: str
    scenario_version: int
    result: str
    queue_id: str | None
    operator_id: str | None
    wait: float | None
    talk: float | None
    hangup_cause: str
    hangup_by: str
    events: int

    def to_row(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


CDR_COLUMNS = tuple(f.name for f in fields(Cdr))


class CdrBuilder:
    """The running summary of one call; `feed` each event dict in order."""

    __slots__ = (
        "call_id", "started_at", "answered_at", "caller", "called", "line", "scenario_id",
        "scenario_version", "queue_id", "operator_id", "wait", "bridge_talk", "queue_talk",
        "queue_outcome", "transferred", "cause", "by", "count", "last_ts", "last_seq", "has_start",
    )  # fmt: skip

    def __init__(self, call_id: str) -> None:
        self.call_id = call_id
        self.started_at: float | None = None
        self.answered_at: float | None = None
        self.caller = ""
        self.called = ""
        self.line: str | None = None
        self.scenario_id = ""
        self.scenario_version = 0
        self.queue_id: str | None = None
        self.operator_id: str | None = None
        self.wait: float | None = None
        self.bridge_talk: float | None = None
        self.queue_talk: float | None = None
        self.queue_outcome: str | None = None
        self.transferred = False
        self.cause = ""
        self.by = ""
        self.count = 0
        self.last_ts = 0.0
        self.last_seq = 0
        self.has_start = False

    def feed(self, name: str, e: Mapping[str, Any]) -> None:
        self.count += 1
        ts = e.get("ts") or 0.0
        self.last_ts = max(self.last_ts, ts)
        self.last_seq = max(self.last_seq, e.get("seq") or 0)
        if name == "call_started":
            self.has_start = True
            self.started_at = ts
            self.caller = e.get("caller") or ""
            self.called = e.get("called") or ""
            self.line = e.get("line")
            self.scenario_id = e.get("scenario_id") or ""
            self.scenario_version = e.get("scenario_version") or 0
        elif name == "call_answered":
            if self.answered_at is None:
                self.answered_at = ts
        elif name.startswith("queue_"):
            self.queue_id = e.get("queue_id") or self.queue_id
            if name == "queue_connected":
                self.operator_id = e.get("operator_id")
                self.wait = e.get("wait")
                self.queue_outcome = None
            elif name == "queue_completed":
                self.operator_id = e.get("operator_id") or self.operator_id
                self.queue_talk = (self.queue_talk or 0.0) + (e.get("talk_time") or 0.0)
            elif name in _QUEUE_OUTCOMES:
                self.queue_outcome = _QUEUE_OUTCOMES[name]
                if e.get("wait") is not None:
                    self.wait = e.get("wait")
        elif name == "bridge_started":
            if e.get("operator_id"):
                self.operator_id = e.get("operator_id")
            if self.bridge_talk is None:
                self.bridge_talk = 0.0
        elif name == "bridge_ended":
            self.bridge_talk = (self.bridge_talk or 0.0) + (e.get("talk_time") or 0.0)
        elif name == "transfer_completed":
            self.transferred = True
        elif name == "call_hung_up":
            if not self.cause:  # the first hangup is the call's; after-hangup steps may add more
                self.cause = e.get("cause") or ""
                self.by = e.get("by") or ""

    def finish(self, ended: Mapping[str, Any] | None, *, interrupted: bool = False) -> Cdr:
        """The record, with `ended` the `call_ended` event (None: recovery)."""
        started = self.started_at if self.started_at is not None else self.last_ts
        if ended is not None:
            ended_at = ended.get("ts") or self.last_ts
            duration = ended.get("duration")
            cause = self.cause or ended.get("hangup_cause") or ""
        else:
            ended_at = self.last_ts
            duration = None
            cause = self.cause
        if interrupted:
            cause, by = ENGINE_RESTART, "engine"
        else:
            by = self.by
        if duration is None:
            duration = max(0.0, ended_at - started)
        talk = self.bridge_talk if self.bridge_talk is not None else self.queue_talk
        if interrupted:
            result = "interrupted"
        elif self.operator_id is not None and talk is not None:
            result = "operator"
        elif self.transferred:
            result = "transferred"
        elif self.queue_outcome is not None:
            result = self.queue_outcome
        elif not self.scenario_id or self.scenario_version == 0:
            result = "refused"
        else:
            result = "ivr"
        return Cdr(
            call_id=self.call_id,
            started_at=started,
            answered_at=self.answered_at,
            ended_at=ended_at,
            duration=round(float(duration), 6),
            caller=self.caller,
            called=self.called,
            line=self.line,
            scenario_id=self.scenario_id,
            scenario_version=self.scenario_version,
            result=result,
            queue_id=self.queue_id,
            operator_id=self.operator_id,
            wait=self.wait,
            talk=talk,
            hangup_cause=cause,
            hangup_by=by,
            events=self.count + (1 if interrupted else 0),
        )
