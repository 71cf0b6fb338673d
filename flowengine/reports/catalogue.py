"""What each report is: its kind, its columns with their types and meaning,
and the filters it takes. The CLI, the REST API (its response models) and
docs/reports.md all read this one table, so a column added here shows up in
each of them, in the same order.

A report's JSON is ``{"kind", "from", "to", "tz", "filters", "columns",
"rows"}`` (the ``load`` report has ``by_hour`` and ``by_weekday`` instead of
``rows``); a column is ``(name, type, meaning)`` with type one of ``str``,
``int``, ``float`` (None when there is nothing to average) or ``dict``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from flowengine.errors import FlowEngineError

__all__ = ["KINDS", "COLUMNS", "Column", "ReportFilter", "ReportKind", "UnknownReport", "kind_of"]


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # str, int, float, dict
    meaning: str


def _c(spec: str) -> tuple[Column, ...]:
    """Columns from lines ``name type meaning``."""
    out = []
    for line in spec.strip().splitlines():
        name, kind, meaning = line.strip().split(" ", 2)
        out.append(Column(name, kind, meaning))
    return tuple(out)


@dataclass(frozen=True)
class ReportKind:
    name: str
    title: str
    columns: tuple[Column, ...]
    #: query filters it honours besides the period
    filters: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReportFilter:
    """Who and what a report covers: None means everyone / everything.

    `queues` keeps the calls of these queues; `operators` keeps these operators
    (a department given by the API becomes its members here); `caller` is the
    number of the caller history; `scenario` one scenario's paths."""

    queues: frozenset[str] | None = None
    operators: frozenset[str] | None = None
    caller: str | None = None
    scenario: str | None = None
    #: queue id -> its service-level threshold, seconds (the centre's)
    thresholds: dict[str, float] = field(default_factory=dict)
    default_threshold: float = 20.0
    #: an abandon within this many seconds is "short"
    short_abandon: float = 5.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.short_abandon) and self.short_abandon >= 0):
            raise FlowEngineError("short abandon must be a number of seconds, 0 or more")


class UnknownReport(FlowEngineError):
    pass


QUEUE = _c("""
queue str the queue (department) id
threshold float T, the queue's service-level threshold in seconds
offered int stays in the queue that began in the period: arrivals and overflows in
overflow_in int of them, calls overflowed in from another queue
answered int stays answered by an operator
answered_within int answered within T (T itself included)
abandoned int callers who hung up while waiting
short_abandoned int of them, within the short-abandon time
avg_abandon_wait float mean wait before callers hung up, seconds
timeout int stays that reached the queue's max wait
no_operators int stays ended because no operator could take calls
full int calls refused because the queue held its max length
no_answer int stays ended after rounds that nobody answered
overflow_out int stays that overflowed to another queue
callbacks_requested int callers who asked to be called back
callbacks_completed int callbacks that reached the caller (in the period)
callbacks_given_up int callbacks given up (in the period)
asa float average speed of answer: mean wait of the answered calls
avg_talk float mean talk time of the answered calls
avg_wrap_up float mean wrap-up after this queue's calls
aht float average handling time: mean talk + mean wrap-up
longest_wait float the longest wait of any stay
sl_offered float answered within T / offered
sl_offered_minus_short float answered within T / (offered - short abandons)
sl_with_abandons float (answered within T + abandoned within T) / offered
sl_answered float answered within T / answered
""")

OPERATOR = _c("""
operator str the operator id
offered int queue calls offered (rung) in the period
answered int offers answered
missed int offers the operator failed (no answer, busy, rejected, failed)
missed_no_answer int missed: rang out
missed_busy int missed: busy
missed_rejected int missed: rejected
missed_failed int missed: the phone could not be reached
cancelled int offers stopped because someone else answered or the caller left
answer_rate float answered / offered
avg_ring_time float mean ringing time before the operator answered, seconds
talk_total float talk time of their queue calls, seconds
talk_avg float talk_total / answered
hold_total float seconds the operator kept callers on hold (holds begun in the period)
ended_by_caller int their calls the caller hung up
ended_by_operator int their calls the operator hung up
wrap_up_total float after-call work, seconds
direct_answered int Transfer calls to the operator's phone they answered
transfers_attempted int Transfer calls rung to the operator's phone
transfers_failed int of them, not answered (busy, no answer, rejected, failed)
answered_vs_avg float answered minus the mean over the operators in the report
talk_avg_vs_avg float talk_avg minus the mean
missed_vs_avg float missed minus the mean
avg_ring_time_vs_avg float avg_ring_time minus the mean
hold_count int times the operator put a caller on hold
hold_avg float hold_total / hold_count
transfers_requested int times the operator asked to hand a caller on (refused requests included)
transfers_made int of them, taken by the engine and rung (operator transfers, not the Transfer calls above)
transfers_made_answered int transfers made that someone answered
transfers_made_failed int transfers made that nobody took (busy, no answer, rejected, failed, the caller left)
hold_total_vs_avg float hold_total minus the mean
transfers_made_vs_avg float transfers_made minus the mean
""")

STATUSES = _c("""
operator str the operator id
seconds dict seconds in each status (available, not_available, break: any break, break:REASON: each reason) and state (idle, ringing, talking, wrap_up)
""")

LOAD_HOUR = _c("""
hour int hour of day in the report's time zone, 0-23
offered int calls that arrived
answered int calls where the caller talked to a person
lost int calls that waited in a queue and never talked to anyone
peak_concurrent int the most calls in progress at once
""")

LOAD_WEEKDAY = _c("""
weekday str mon ... sun, in the report's time zone
offered int calls that arrived
answered int calls where the caller talked to a person
lost int calls that waited in a queue and never talked to anyone
""")

LOST = _c("""
call_id str the call
started str when it began, ISO time in the report's time zone
caller str the caller's number, to call back
called str the number dialled
queue str the last queue it waited in (None: none)
reason str abandoned, max_wait, no_operators, no_answer, queue_full, outside_hours, ivr_hangup, no_route
detail str after how long, or at which node
""")

TRANSFERS = _c("""
target str the operator id, or the number rung; for an operator transfer, the target as the operator gave it
operator str the operator whose phone it is (None: an outside number, a queue)
attempts int times a Transfer rang it, or an operator asked to transfer to it
answered int answered
busy int busy
no_answer int rang out
rejected int rejected
failed int could not be reached
success_rate float answered / attempts
transfer str scenario (a Transfer node rang it) or operator (an operator handed the caller on)
from_operator str the operator who handed the caller on (None: a scenario transfer)
target_kind str operator, queue or number (None: every request refused)
hangup int the caller left before anyone answered
refused int requests the engine refused (not rung)
refused_reasons dict refusal reason (unknown_target, dial_blocked, pending, not_in_call, hangup) -> requests
""")

HISTORY = _c("""
call_id str the call
started str when it began, ISO time in the report's time zone
called str the number dialled
scenario str scenario id and version
path str the nodes the call went through
queue str the last queue it waited in
operator str the operator who talked to the caller
result str talked, a lost reason, or ivr
""")

PATHS = _c("""
scenario str scenario id
version int its published version
node str node id
entered int calls that entered the node
exits dict exit name -> calls that left by it
caller_hangups int callers who hung up at this node
""")

KINDS: dict[str, ReportKind] = {
    k.name: k
    for k in (
        ReportKind("queues", "per queue: offered, answered, abandoned, the four service levels, ASA, AHT",
                   QUEUE, ("queue", "department")),
        ReportKind("operators", "per operator: offers, answers, misses, talk, wrap-up, against the average",
                   OPERATOR, ("queue", "department", "operator")),
        ReportKind("statuses", "per operator: seconds in each status and state", STATUSES,
                   ("department", "operator")),
        ReportKind("load", "calls by hour of day and weekday: offered, answered, lost, peak at once",
                   LOAD_HOUR, ("queue", "department")),
        ReportKind("lost", "every lost call with its reason and the caller's number", LOST, ("queue", "department")),
        ReportKind("transfers", "per Transfer target, and per operator and target of operators' transfers: "
                   "attempts, answered, failures, success rate", TRANSFERS,
                   ("department", "operator")),
        ReportKind("history", "every call of one caller: path, queue, operator, result", HISTORY, ("caller",)),
        ReportKind("paths", "per scenario node: calls that entered, exits taken, caller hangups", PATHS,
                   ("scenario",)),
    )
}  # fmt: skip

COLUMNS: dict[str, tuple[str, ...]] = {k: tuple(c.name for c in v.columns) for k, v in KINDS.items()}


def kind_of(name: str) -> ReportKind:
    try:
        return KINDS[name]
    except KeyError:
        raise UnknownReport(f"no report '{name}'; the reports are: {', '.join(KINDS)}") from None
