"""The supervisor's wallboard, built from the event streams alone.

Everything here is derived from call, operator and queue events (docs/events.md),
never from the ACD's memory, so the board is the same on the simulator and on
real SIP, and a board replayed from a stored stream equals the live one.

Times are not ticked: the board gives the instant a status, state or wait
began (`*_since`, epoch seconds, the events' `ts`), and the viewer counts the
seconds itself. So a board changes only when an event arrives, and a delta is
only the entities that event touched.

"Today" is the calendar day in the centre's time zone of the latest event:
when an event of a new day arrives, the daily counters start again from zero.

One thing is not in the event stream: whether an operator's SIP phone is
registered. The SIP backend's registrar tells it (`phone(...)`) as it
changes; an operator without a SIP account has `phone: null`, and a board
replayed from a stored stream has none.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from flowengine.events import (
    CallEvent,
    CallStarted,
    OperatorStateChanged,
    OperatorStatusChanged,
    QueueAbandoned,
    QueueCallbackRequested,
    QueueCompleted,
    QueueConnected,
    QueueEntered,
    QueueNoAnswer,
    QueueNoOperators,
    QueueOverflow,
    QueueTimeout,
    StreamEvent,
)

__all__ = ["QueueInfo", "Wallboard", "queue_infos"]

#: queue events after which the call no longer waits in that queue
_LEFT = (QueueAbandoned, QueueTimeout, QueueNoOperators, QueueNoAnswer, QueueCallbackRequested)


@dataclass(frozen=True)
class QueueInfo:
    """What the board needs from the centre file about one queue."""

    #: seconds: a call answered within it counts toward the service level
    threshold: float = 20.0
    #: the share of calls the centre wants answered within `threshold`
    target: float = 0.8
    #: operator ids of the queue's members
    members: tuple[str, ...] = ()
    name: str = ""


def queue_infos(centre: Any) -> dict[str, QueueInfo]:
    """Queue id -> `QueueInfo`, from a loaded centre (`flowengine.acd.model.Centre`)."""
    return {
        q.id: QueueInfo(
            threshold=float(q.service_level),
            target=float(q.service_level_target),
            members=tuple(q.member_ids),
            name=q.name.en if getattr(q, "name", None) is not None and hasattr(q.name, "en") else "",
        )
        for q in centre.queues
    }


@dataclass
class _Operator:
    status: str | None = None
    available: bool = False
    reason: str | None = None
    status_since: float | None = None
    logged_in: bool = False
    state: str = "idle"
    state_since: float | None = None
    call_id: str | None = None
    last_call_end: float | None = None
    answered_today: int = 0
    #: the SIP phone: registered, bindings, since, user_agent (None: no SIP account)
    phone: dict[str, Any] | None = None

    def view(self, op_id: str) -> dict[str, Any]:
        return {
            "id": op_id,
            "status": self.status,
            "reason": self.reason,
            "available": self.available,
            "logged_in": self.logged_in,
            "status_since": self.status_since,
            "state": self.state,
            "state_since": self.state_since,
            "call_id": self.call_id,
            "last_call_end": self.last_call_end,
            "answered_today": self.answered_today,
            "phone": self.phone,
            # an operator whose phone is not registered cannot be rung (the ACD has removed them)
            "reachable": self.phone is None or bool(self.phone["registered"]),
        }


@dataclass
class _Waiting:
    since: float
    priority: int
    caller: str


@dataclass
class _Queue:
    info: QueueInfo
    waiting: dict[str, _Waiting] = field(default_factory=dict)
    offered: int = 0
    answered: int = 0
    answered_within: int = 0
    abandoned: int = 0
    other_lost: int = 0
    overflow_in: int = 0
    overflow_out: int = 0
    talk_total: float = 0.0
    completed: int = 0
    wait_total: float = 0.0

    def reset_day(self) -> None:
        self.offered = self.answered = self.answered_within = 0
        self.abandoned = self.other_lost = self.completed = 0
        self.overflow_in = self.overflow_out = 0
        self.talk_total = self.wait_total = 0.0


def _member_index(queues: Mapping[str, _Queue]) -> dict[str, list[str]]:
    index: dict[str, list[str]] = {}
    for qid, q in queues.items():
        for op_id in q.info.members:
            index.setdefault(op_id, []).append(qid)
    return index


class Wallboard:
    """Operators and queues as the events tell them; see the module docstring.

    `apply(event)` folds one event in; `snapshot()` gives the whole board;
    `take_changes()` the entities changed since the last call, as deltas."""

    def __init__(
        self,
        queues: Mapping[str, QueueInfo] | None = None,
        *,
        tz: dt.tzinfo | str = "UTC",
        operators: Iterable[str] = (),
    ) -> None:
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        self._queues = {qid: _Queue(info) for qid, info in (queues or {}).items()}
        self._ops: dict[str, _Operator] = {op: _Operator() for op in operators}
        self._callers: dict[str, str] = {}
        #: operator id -> the queues they are a member of (whose rows show their counts)
        self._member_of = _member_index(self._queues)
        #: call id -> the queue it waits in now
        self._waiting_in: dict[str, str] = {}
        self._day: dt.date | None = None
        #: ts of the latest event folded in
        self.now: float | None = None
        self._dirty: set[tuple[str, str]] = set()

    @classmethod
    def for_centre(cls, centre: Any) -> Wallboard:
        """A board for a loaded centre: its queues, operators and time zone."""
        return cls(queue_infos(centre), tz=centre.timezone, operators=[op.id for op in centre.operators])

    def configure(self, queues: Mapping[str, QueueInfo]) -> None:
        """New queue settings (the centre changed): thresholds and members
        follow at once; today's counts are kept; new queues start empty."""
        for qid, info in queues.items():
            q = self._queues.get(qid)
            if q is None:
                self._queues[qid] = _Queue(info)
            else:
                q.info = info
            self._dirty.add(("queue", qid))
        self._member_of = _member_index(self._queues)

    # ---- folding events in ---------------------------------------------------------
    def apply(self, event: StreamEvent) -> None:
        ts = event.ts
        if self.now is None or ts > self.now:
            self.now = ts
            day = dt.datetime.fromtimestamp(ts, self.tz).date()
            if day != self._day:
                if self._day is not None:
                    self._new_day()
                self._day = day
        if isinstance(event, OperatorStatusChanged):
            self._status(event)
        elif isinstance(event, OperatorStateChanged):
            self._state(event)
        elif isinstance(event, CallStarted):
            self._callers[event.call_id] = event.caller
        elif isinstance(event, CallEvent) and event.name == "call_ended":
            self._callers.pop(event.call_id, None)
            qid = self._waiting_in.pop(event.call_id, None)
            if qid is not None:  # a caller gone without a queue event
                self._queue(qid).waiting.pop(event.call_id, None)
        elif isinstance(event, QueueEntered):
            q = self._queue(event.queue_id)
            q.offered += 1
            q.waiting[event.call_id] = _Waiting(ts, event.priority, self._callers.get(event.call_id, ""))
            self._waiting_in[event.call_id] = event.queue_id
        elif isinstance(event, QueueConnected):
            q = self._queue(event.queue_id)
            q.waiting.pop(event.call_id, None)
            self._waiting_in.pop(event.call_id, None)
            q.answered += 1
            q.wait_total += event.wait
            if event.wait <= q.info.threshold:
                q.answered_within += 1
            op = self._op(event.operator_id)
            op.answered_today += 1
        elif isinstance(event, QueueCompleted):
            q = self._queue(event.queue_id)
            q.completed += 1
            q.talk_total += event.talk_time
            self._op(event.operator_id).last_call_end = ts
        elif isinstance(event, QueueOverflow):
            # the call moves on with its seniority: it waits in the new queue from the same instant
            q = self._queue(event.queue_id)
            was = q.waiting.pop(event.call_id, None)
            q.overflow_out += 1
            target = self._queue(event.to_queue)
            target.overflow_in += 1
            target.waiting[event.call_id] = was or _Waiting(ts - event.wait, 0, self._callers.get(event.call_id, ""))
            self._waiting_in[event.call_id] = event.to_queue
        elif isinstance(event, _LEFT):
            q = self._queue(event.queue_id)
            self._waiting_in.pop(event.call_id, None)
            if q.waiting.pop(event.call_id, None) is not None:
                if isinstance(event, QueueAbandoned):
                    q.abandoned += 1
                else:
                    q.other_lost += 1

    def _queue(self, qid: str) -> _Queue:
        q = self._queues.get(qid)
        if q is None:  # a queue the board was not told about (private operator queues)
            q = self._queues[qid] = _Queue(QueueInfo())
        self._dirty.add(("queue", qid))
        return q

    def _op(self, op_id: str) -> _Operator:
        op = self._ops.get(op_id)
        if op is None:
            op = self._ops[op_id] = _Operator()
        self._dirty.add(("operator", op_id))
        for qid in self._member_of.get(op_id, ()):  # members' counts live on the queue
            self._dirty.add(("queue", qid))
        return op

    def _status(self, e: OperatorStatusChanged) -> None:
        op = self._op(e.operator_id)
        op.status, op.available, op.reason = e.status, e.available, e.reason
        op.status_since = e.ts
        # the ACD removes an operator (logout, device gone) as not_available/"removed"
        op.logged_in = not (e.status == "not_available" and e.reason == "removed")

    def _state(self, e: OperatorStateChanged) -> None:
        op = self._op(e.operator_id)
        op.state, op.state_since = e.state, e.ts
        op.call_id = e.call_id if e.state != "idle" else None

    def phone(self, op_id: str, *, registered: bool, bindings: int, at: float, user_agent: str | None = None) -> None:
        """The operator's SIP phone as the registrar says now; `at` (epoch
        seconds) is when it changed, kept as `since` while `registered` holds."""
        op = self._op(op_id)
        old = op.phone
        since = old["since"] if old is not None and old["registered"] == registered else at
        op.phone = {"registered": registered, "bindings": bindings, "since": since, "user_agent": user_agent}

    def _new_day(self) -> None:
        for qid, q in self._queues.items():
            q.reset_day()
            self._dirty.add(("queue", qid))
        for op_id, op in self._ops.items():
            if op.answered_today:
                op.answered_today = 0
                self._dirty.add(("operator", op_id))

    # ---- reading -------------------------------------------------------------------
    def threshold(self, qid: str) -> float:
        q = self._queues.get(qid)
        return q.info.threshold if q is not None else QueueInfo.threshold

    def target(self, qid: str) -> float:
        q = self._queues.get(qid)
        return q.info.target if q is not None else QueueInfo.target

    def oldest_waits(self) -> dict[str, float]:
        """Queue id -> when its longest-waiting call began to wait (queues with callers)."""
        return {qid: min(w.since for w in q.waiting.values()) for qid, q in self._queues.items() if q.waiting}

    def operator_view(self, op_id: str) -> dict[str, Any]:
        return self._ops[op_id].view(op_id)

    def queue_view(self, qid: str) -> dict[str, Any]:
        q = self._queues[qid]
        order = sorted(q.waiting.items(), key=lambda kv: (-kv[1].priority, kv[1].since))
        waiting = [
            {"call_id": cid, "position": i, "since": w.since, "caller": w.caller, "priority": w.priority}
            for i, (cid, w) in enumerate(order, 1)
        ]
        members = [self._ops[m] for m in q.info.members if m in self._ops]
        finished = q.answered + q.abandoned + q.other_lost + q.overflow_out
        return {
            "id": qid,
            "name": q.info.name,
            "waiting": waiting,
            "longest_wait_since": min((w.since for w in q.waiting.values()), default=None),
            "offered": q.offered,
            "answered": q.answered,
            "abandoned": q.abandoned,
            "lost_other": q.other_lost,
            "overflow_in": q.overflow_in,
            "overflow_out": q.overflow_out,
            "avg_wait": round(q.wait_total / q.answered, 3) if q.answered else None,
            "avg_talk": round(q.talk_total / q.completed, 3) if q.completed else None,
            "threshold": q.info.threshold,
            "service_level_target": q.info.target,
            # answered within the threshold over every call that stopped waiting
            "service_level": round(q.answered_within / finished, 4) if finished else None,
            "logged_in": sum(1 for op in members if op.logged_in),
            "available": sum(1 for op in members if op.logged_in and op.available and op.state == "idle"),
        }

    def snapshot(self) -> dict[str, Any]:
        """The whole board, as it is now."""
        return {
            "now": self.now,
            "day": self._day.isoformat() if self._day else None,
            "operators": [self.operator_view(o) for o in sorted(self._ops)],
            "queues": [self.queue_view(q) for q in sorted(self._queues)],
        }

    def take_changes(self) -> list[dict[str, Any]]:
        """The operators and queues changed since the last call (or snapshot)."""
        dirty, self._dirty = self._dirty, set()
        out = []
        for kind, key in sorted(dirty):
            view = self.operator_view(key) if kind == "operator" else self.queue_view(key)
            out.append({"kind": kind, "id": key, "data": view})
        return out
