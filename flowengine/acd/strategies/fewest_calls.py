"""fewest_calls — «наименьшее число звонков»: the member who answered fewest calls lately.

Asterisk ``fewestcalls`` counts since the queue was loaded; here the count is
of calls *answered* by the operator (in any queue: it is a workload measure)
over a `window` — ``hour`` or ``day`` — that is either

* ``period: sliding`` (the default): the last 60 minutes / 24 hours, or
* ``period: calendar``: this hour / today on the wall clock, in the centre's
  ``timezone`` (`flowengine.acd.calendar`). At 10:00 (at local midnight) the
  counts start again from zero — computed from the clock at each pick, so no
  event is needed at the boundary.

Ties go to the longest idle, then to list order.

`recalc` says how fresh the counts are:

* ``every_call`` — counted at each pick, exactly (O(free members)).
* ``hourly`` — counts are taken at each full hour of the wall clock (in the
  centre's time zone) and kept for the hour, as many PBXes do; picks are
  O(log n) from a lazy heap rebuilt once an hour. With ``period: calendar``
  and ``window: day`` that is today's calls up to the last full hour
  (``window: hour`` would always count nothing, and is refused).

After a restart the counts come back from the operator stream
(`flowengine.acd.restore`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal

from flowengine.acd.strategies.base import (
    CheckProblem,
    HuntRound,
    OfferContext,
    Resolver,
    Strategy,
    StrategyParams,
)

if TYPE_CHECKING:
    from flowengine.acd.model import QueueSpec

__all__ = ["FewestCalls", "FewestCallsParams"]

WINDOWS = {"hour": 3600.0, "day": 86400.0}
RECALC_PERIOD = 3600.0
#: `calls_between` counts (start, end]: an answer at the very instant a
#: calendar window starts belongs to it
_EDGE = 1e-6


class FewestCallsParams(StrategyParams):
    window: Literal["hour", "day"] = "day"
    period: Literal["sliding", "calendar"] = "sliding"
    recalc: Literal["every_call", "hourly"] = "every_call"


class FewestCalls(Strategy):
    """Fewest answered calls over a sliding window."""

    name = "fewest_calls"
    title_en = "fewest calls"
    title_ru = "наименьшее число звонков"
    Params = FewestCallsParams

    def __init__(self, queue: QueueSpec, params: StrategyParams, resolve: Resolver) -> None:
        super().__init__(queue, params, resolve)
        assert isinstance(params, FewestCallsParams)
        self.window_name = params.window
        self.window = WINDOWS[params.window]
        self.calendar_window = params.period == "calendar"
        self.recalc = params.recalc
        self._heap_name = f"fewest_calls:{params.period}:{params.window}"

    @classmethod
    def check(
        cls, params: StrategyParams, queue: QueueSpec, resolve: Resolver
    ) -> Iterable[CheckProblem]:
        assert isinstance(params, FewestCallsParams)
        if params.period == "calendar" and params.window == "hour" and params.recalc == "hourly":
            yield (
                ("recalc",),
                "with period 'calendar' and window 'hour', counts taken at the full hour "
                "would always be zero: use recalc 'every_call'",
                params.recalc,
            )

    def start_of(self, now: float) -> float:
        """Where the window counted at `now` begins (core time)."""
        if self.calendar_window:
            return self.calendar.window_start(self.window_name, now) - _EDGE
        return now - self.window

    def pick(self, ctx: OfferContext, rnd: HuntRound | None) -> str | None:
        ops = ctx.operators
        if self.recalc == "hourly":
            at = self.calendar.hour_start(ctx.now)
            since = self.start_of(at)

            def key(o: str) -> tuple[float, ...]:
                op = ops[o]
                return (op.calls_between(since, at), op.last_call_end)

            return ctx.pool.best(self._heap_name, key, ctx.accept, generation=at)
        now = ctx.now
        start = self.start_of(now)

        def live_key(o: str) -> tuple[float, ...]:
            op = ops[o]
            return (op.calls_between(start, now), op.last_call_end)

        return ctx.pool.least(live_key, ctx.accept)
