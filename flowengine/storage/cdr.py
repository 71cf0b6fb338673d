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

from flowengine.reports.calls import CallStory, fold_event

__all__ = ["Cdr", "CdrBuilder", "ENGINE_RESTART", "cdr_of"]

#: the hangup cause of a call closed by start-up recovery
ENGINE_RESTART = "engine_restart"

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
    #: seconds operators held the caller (None: no operator talked with them)
    hold: float | None = None

    def to_row(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


CDR_COLUMNS = tuple(f.name for f in fields(Cdr))


class CdrBuilder:
    """The running summary of one call; `feed` each event dict in order.

    A view of the call's story (`flowengine.reports.calls`): the same fold
    the reports use, so a CDR and a report never disagree about a call."""

    __slots__ = ("story", "count", "last_ts", "last_seq", "has_start")

    def __init__(self, call_id: str) -> None:
        self.story = CallStory(call_id)
        self.count = 0
        self.last_ts = 0.0
        self.last_seq = 0
        self.has_start = False

    @property
    def call_id(self) -> str:
        return self.story.call_id

    @property
    def started_at(self) -> float | None:
        return self.story.started

    def feed(self, name: str, e: Mapping[str, Any]) -> None:
        self.count += 1
        ts = e.get("ts") or 0.0
        self.last_ts = max(self.last_ts, ts)
        self.last_seq = max(self.last_seq, e.get("seq") or 0)
        if name == "call_started":
            self.has_start = True
        fold_event(self.story, name, e)

    def finish(self, ended: Mapping[str, Any] | None, *, interrupted: bool = False) -> Cdr:
        """The record, with `ended` the `call_ended` event (None: recovery)."""
        return cdr_of(self.story, ended, events=self.count, last_ts=self.last_ts, interrupted=interrupted)


def cdr_of(
    story: CallStory, ended: Mapping[str, Any] | None, *, events: int, last_ts: float, interrupted: bool = False
) -> Cdr:
    """The CDR of a call's story; `ended` its `call_ended` event (None: closed
    by recovery), `events` how many events the call had."""
    started = story.started if story.started is not None else last_ts
    cause = story.hangup_cause or ""
    if ended is not None:
        ended_at = ended.get("ts") or last_ts
        duration = ended.get("duration")
        cause = cause or ended.get("hangup_cause") or ""
    else:
        ended_at = last_ts
        duration = None
    by = story.hangup_by or ""
    if interrupted:
        cause, by = ENGINE_RESTART, "engine"
    if duration is None:
        duration = max(0.0, ended_at - started)
    talk = story.bridge_talk if story.bridge_talk is not None else story.queue_talk
    if interrupted:
        result = "interrupted"
    elif story.cdr_operator is not None and talk is not None:
        result = "operator"
    elif story.transferred:
        result = "transferred"
    elif story.queue_outcome is not None:
        result = story.queue_outcome
    elif not story.scenario_id or story.scenario_version == 0:
        result = "refused"
    else:
        result = "ivr"
    return Cdr(
        call_id=story.call_id,
        started_at=started,
        answered_at=story.answered,
        ended_at=ended_at,
        duration=round(float(duration), 6),
        caller=story.caller,
        called=story.called,
        line=story.line,
        scenario_id=story.scenario_id,
        scenario_version=story.scenario_version,
        result=result,
        queue_id=story.cdr_queue,
        operator_id=story.cdr_operator,
        wait=story.cdr_wait,
        talk=talk,
        hangup_cause=cause,
        hangup_by=by,
        events=events + (1 if interrupted else 0),
        hold=round(sum(story.held(h) for h in story.holds), 3) if story.holds else (0.0 if talk is not None else None),
    )
