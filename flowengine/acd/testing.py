"""A fake-clock harness around the ACD core with scripted virtual operators.

Shipped with the package (like pipecat's ``tests/utils.py``) so that node and
simulator tests can say "operator 901 answers after 3 s, 902 rejects, 903
never picks up" and get back the trace of decisions with their times::

    run = VirtualCentre(ACD(centre), {"902": Behaviour(fail="rejected")})
    run.arrive(0, "c1", "sales")
    run.run(until=120)
    assert run.rang("c1") == [(0, "901"), (0, "902"), (0, "903"), (15, "904"), ...]

Events and the core's own timers are interleaved on one simulated clock; every
decision is recorded as ``(time, decision)`` in `trace`.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from flowengine.acd import decisions as d
from flowengine.acd.core import ACD

__all__ = ["Behaviour", "VirtualCentre"]

D = TypeVar("D", bound=d.Decision)


@dataclass(frozen=True)
class Behaviour:
    """How a virtual operator reacts to an offer.

    `fail` (``rejected``, ``busy``, ``failed``) makes them refuse after
    `fail_after` s; otherwise they answer after `answer_after` s, or never
    (None). Answered calls last `talk` s (None: until the test ends them).
    """

    answer_after: float | None = 2.0
    fail: str | None = None
    fail_after: float = 1.0
    talk: float | None = 60.0


class VirtualCentre:
    """Drives an `ACD` on a simulated clock with scripted operators."""

    def __init__(
        self,
        acd: ACD,
        behaviours: Mapping[str, Behaviour] | None = None,
        default: Behaviour | None = None,
    ) -> None:
        self.acd = acd
        self.behaviours = dict(behaviours or {})
        self.default = default or Behaviour()
        self.now = 0.0
        self.trace: list[tuple[float, d.Decision]] = []
        self._events: list[tuple[float, int, Callable[[float], list[d.Decision]]]] = []
        self._seq = 0
        self._legs: dict[tuple[str, str], int] = {}

    # -- scheduling inputs -----------------------------------------------------
    def at(self, t: float, fn: Callable[[float], list[d.Decision]]) -> None:
        """Run input `fn(now)` at time `t`."""
        self._seq += 1
        heapq.heappush(self._events, (t, self._seq, fn))

    def arrive(self, t: float, call_id: str, queue_id: str, **kw: Any) -> None:
        self.at(t, lambda now: self.acd.call_arrived(now, call_id, queue_id, **kw))

    def abandon(self, t: float, call_id: str) -> None:
        self.at(t, lambda now: self.acd.call_abandoned(now, call_id))

    def complete(self, t: float, call_id: str, by: str = "caller") -> None:
        self.at(t, lambda now: self.acd.call_completed(now, call_id, by=by))

    def status(self, t: float, op: str, status: str, reason: str | None = None) -> None:
        self.at(t, lambda now: self.acd.set_status(now, op, status, reason))

    def remove(self, t: float, op: str) -> None:
        self.at(t, lambda now: self.acd.remove_operator(now, op))

    def callback(self, t: float, call_id: str) -> None:
        self.at(t, lambda now: self.acd.request_callback(now, call_id))

    def file_callback(self, t: float, call_id: str, queue_id: str, **kw: Any) -> None:
        self.at(t, lambda now: self.acd.file_callback(now, call_id, queue_id, **kw))

    # -- running -----------------------------------------------------------------
    def run(self, until: float) -> list[tuple[float, d.Decision]]:
        """Process events and core timers up to `until`; return the new trace part."""
        start = len(self.trace)
        while True:
            te = self._events[0][0] if self._events else None
            tt = self.acd.next_timer()
            if tt is not None and tt <= until and (te is None or tt <= te):
                self.now = tt
                self._record(tt, self.acd.handle_timer(tt))
            elif te is not None and te <= until:
                t, _, fn = heapq.heappop(self._events)
                self.now = t
                self._record(t, fn(t))
            else:
                break
        self.now = max(self.now, until)
        return self.trace[start:]

    def _record(self, t: float, out: Iterable[d.Decision]) -> None:
        for x in out:
            self.trace.append((t, x))
            if isinstance(x, d.Ring | d.CallbackDue):
                key = (x.call_id, x.operator_id)
                if self._legs.get(key) == x.leg:
                    continue  # a further target of the same offer
                self._legs[key] = x.leg
                b = self.behaviours.get(x.operator_id, self.default)
                if b.fail is not None:
                    self.at(t + b.fail_after, self._fail(key, x.leg, b.fail))
                elif b.answer_after is not None:
                    self.at(t + b.answer_after, self._answer(key, x.leg))
            elif isinstance(x, d.StopRinging | d.OfferMissed):
                self._legs.pop((x.call_id, x.operator_id), None)
            elif isinstance(x, d.Connected):
                self._legs.pop((x.call_id, x.operator_id), None)
                talk = self.behaviours.get(x.operator_id, self.default).talk
                if talk is not None:
                    self.complete(t + talk, x.call_id)

    def _answer(self, key: tuple[str, str], leg: int) -> Callable[[float], list[d.Decision]]:
        def fn(now: float) -> list[d.Decision]:
            if self._legs.get(key) != leg:
                return []
            return self.acd.offer_answered(now, key[0], key[1], leg)

        return fn

    def _fail(
        self, key: tuple[str, str], leg: int, reason: str
    ) -> Callable[[float], list[d.Decision]]:
        def fn(now: float) -> list[d.Decision]:
            if self._legs.get(key) != leg:
                return []
            del self._legs[key]
            return self.acd.offer_failed(now, key[0], key[1], reason, leg)

        return fn

    # -- reading the trace ----------------------------------------------------------
    def of(self, cls: type[D], call_id: str | None = None) -> list[tuple[float, D]]:
        """Decisions of type `cls` (for `call_id` if given), with their times."""
        return [
            (t, x)
            for t, x in self.trace
            if isinstance(x, cls) and (call_id is None or getattr(x, "call_id", None) == call_id)
        ]

    def rang(self, call_id: str | None = None) -> list[tuple[float, str]]:
        """(time, operator) of every offer (its first `Ring`), in order."""
        active: set[tuple[str, str]] = set()
        out = []
        for t, x in self.trace:
            if isinstance(x, d.Ring):
                key = (x.call_id, x.operator_id)
                if key not in active:
                    active.add(key)
                    if call_id is None or x.call_id == call_id:
                        out.append((t, x.operator_id))
            elif isinstance(x, d.StopRinging | d.OfferMissed | d.Connected):
                active.discard((x.call_id, x.operator_id))
        return out

    def connected(self, call_id: str) -> tuple[float, str] | None:
        """(time, operator) the call was connected, or None."""
        for t, x in self.of(d.Connected, call_id):
            return t, x.operator_id
        return None

    def who_got(self) -> dict[str, str]:
        """call id -> operator who answered it."""
        return {x.call_id: x.operator_id for _, x in self.of(d.Connected)}
