"""Read-only views of the ACD: positions, estimates, counts, stats, snapshot.

Nothing here changes state or fires timers; a view reflects the latest input
(`ACD.now`). What is returned is a copy or a plain value, except `operator`,
the live record (read it, do not mutate it).
"""

from __future__ import annotations

from typing import Any

from flowengine.acd.bookkeeping import Bookkeeping
from flowengine.acd.estimate import estimated_wait
from flowengine.acd.operators import OperatorRuntime, OperatorState
from flowengine.acd.state import QUEUED, QueueStats

__all__ = ["Queries"]

_IDLE = OperatorState.IDLE


class Queries(Bookkeeping):
    """The ACD's read-only queries."""

    @property
    def now(self) -> float:
        """Time of the latest input."""
        return self._now

    def queue_ids(self) -> list[str]:
        """The centre's queues (not the operators' private ones, `direct_queue`)."""
        return [q.id for q in self.centre.queues]

    def waiting_count(self, queue_id: str) -> int:
        """Calls in the queue: waiting, being offered, or holding a callback place."""
        return len(self._queue(queue_id).waiting)

    def position(self, call_id: str) -> int | None:
        """1-based position of a queued call, None if not in a queue."""
        call = self._calls.get(call_id)
        if call is None or call.state not in QUEUED:
            return None
        return self._position(call)

    def estimated_wait(self, queue_id: str, position: int | None = None) -> float | None:
        """Estimated seconds until a call at `position` (default: a new arrival)
        is offered; None when nobody staffs the queue. See `flowengine.acd.estimate`."""
        q = self._queue(queue_id)
        if position is None:
            position = len(q.waiting) + 1
        return estimated_wait(position, len(q.pool), q.staffed, q.aht.mean)

    def available_count(self, queue_id: str) -> int:
        """Members present with a status that takes calls (busy or not)."""
        return self._queue(queue_id).staffed

    def free_count(self, queue_id: str) -> int:
        """Members who could be rung right now."""
        return len(self._queue(queue_id).pool)

    def queue_facts(self, queue_id: str, now: float | None = None) -> dict[str, float | int | None]:
        """What a scenario may ask about a queue (the `queue_*()` expression functions).

        ``waiting`` calls queued; ``estimated_wait`` seconds for a new arrival
        (None when nobody staffs it); ``available`` members who could be rung
        right now; ``logged_in`` members present, whatever their status;
        ``busy`` present members on a call (ringing, talking, wrap-up, or on a
        call bridged outside the ACD); ``longest_wait`` seconds the longest
        waiting call has waited (0 when none); ``service_level`` per cent of
        the calls answered since the core started that were answered within
        the queue's threshold (None before the first answer).
        """
        q = self._queue(queue_id)
        t = self._now if now is None else now
        calls = self._calls
        members = [self._ops[m] for m in q.members]
        present = [op for op in members if op.present]
        wait = self.estimated_wait(queue_id)
        sl = q.stats.service_level
        return {
            "waiting": len(q.waiting),
            "estimated_wait": None if wait is None else round(wait, 1),
            "available": len(q.pool),
            "logged_in": len(present),
            "busy": sum(1 for op in present if op.state is not _IDLE or op.engaged),
            "longest_wait": round(max((t - calls[e[3]].arrived for e in q.waiting), default=0.0), 1),
            "service_level": None if sl is None else round(100 * sl, 1),
        }

    def average_handle_time(self, queue_id: str) -> float:
        return self._queue(queue_id).aht.mean

    def wrap_up(self, queue_id: str) -> float:
        """Seconds of wrap-up after a call answered in the queue (0 in a private one)."""
        return self._queue(queue_id).spec.wrap_up

    def queue_stats(self, queue_id: str) -> QueueStats:
        """A copy of the queue's counters."""
        st = self._queue(queue_id).stats
        return QueueStats(**st.__dict__)

    def operator_status(self, operator_id: str) -> tuple[str, str | None, str]:
        """(status, status reason, state) of an operator."""
        op = self._op(operator_id)
        return op.status, op.status_reason, op.state.value

    def operator_time_in(self, operator_id: str, name: str, now: float | None = None) -> float:
        """Seconds the operator spent in status or state `name`."""
        return self._op(operator_id).time_in(name, self._now if now is None else now)

    def operator(self, operator_id: str) -> OperatorRuntime:
        """The operator's run-time record (read it, do not mutate it)."""
        return self._op(operator_id)

    def operator_ids(self) -> list[str]:
        return list(self._ops)

    def has_had_calls(self) -> bool:
        """Has any call (or offer) been seen since the ACD was made?"""
        return self._seq > 0

    def call_state(self, call_id: str) -> str | None:
        call = self._calls.get(call_id)
        return call.state.value if call is not None else None

    def snapshot(self, now: float | None = None) -> dict[str, Any]:
        """Everything the live monitor shows, as plain data."""
        t = self._now if now is None else now
        queues = []
        direct = set(self._direct.values())
        for q in self._queues.values():
            if q.id in direct:
                continue
            calls = []
            for i, entry in enumerate(q.waiting, 1):
                c = self._calls[entry[3]]
                calls.append(
                    {
                        "call_id": c.call_id,
                        "position": i,
                        "wait": t - c.arrived,
                        "priority": c.priority,
                        "state": c.state.value,
                        "caller": c.caller,
                        "ringing": sorted(c.offers),
                    }
                )
            queues.append(
                {
                    "id": q.id,
                    "name": {"en": q.spec.name.en, "ru": q.spec.name.ru},
                    "strategy": q.spec.strategy,
                    "waiting": len(q.waiting),
                    "staffed": q.staffed,
                    "free": len(q.pool),
                    "aht": q.aht.mean,
                    "longest_wait": max(
                        (t - self._calls[e[3]].arrived for e in q.waiting), default=0.0
                    ),
                    "estimated_wait": self.estimated_wait(q.id),
                    "calls": calls,
                    "stats": q.stats.as_dict(),
                }
            )
        operators = []
        for op in self._ops.values():
            in_status, in_state = op.since(t)
            operators.append(
                {
                    "id": op.id,
                    "name": op.spec.name,
                    "present": op.present,
                    "status": op.status,
                    "reason": op.status_reason,
                    "state": op.state.value,
                    "in_status": in_status,
                    "in_state": in_state,
                    "call_id": op.call_id,
                    "queues": [qid for qid in op.queues if qid not in direct],
                    "answered": op.answered,
                    "missed": dict(op.missed),
                    "consecutive_misses": op.consecutive_misses,
                    "talk_time": op.talk_time,
                }
            )
        return {"time": t, "queues": queues, "operators": operators}
