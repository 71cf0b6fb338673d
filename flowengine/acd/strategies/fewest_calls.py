"""fewest_calls — «наименьшее число звонков»: the member who answered fewest calls lately.

Asterisk ``fewestcalls`` counts since the queue was loaded; here the count is
over a sliding `window` — the last ``hour`` or the last ``day`` — of calls
*answered* by the operator (in any queue: it is a workload measure). Ties go to
the longest idle, then to list order.

`recalc` says how fresh the counts are:

* ``every_call`` — counted at each pick, exactly (O(free members)).
* ``hourly`` — counts are taken at each full hour of the core's clock and kept
  for the hour, as many PBXes do; picks are O(log n) from a lazy heap rebuilt
  once an hour.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from flowengine.acd.strategies.base import (
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


class FewestCallsParams(StrategyParams):
    window: Literal["hour", "day"] = "day"
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
        self.window = WINDOWS[params.window]
        self.recalc = params.recalc
        self._heap_name = f"fewest_calls:{params.window}"

    def pick(self, ctx: OfferContext, rnd: HuntRound | None) -> str | None:
        ops = ctx.operators
        window = self.window
        if self.recalc == "hourly":
            at = (ctx.now // RECALC_PERIOD) * RECALC_PERIOD

            def key(o: str) -> tuple[float, ...]:
                op = ops[o]
                return (op.calls_between(at - window, at), op.last_call_end)

            return ctx.pool.best(self._heap_name, key, ctx.accept, generation=at)
        now = ctx.now

        def live_key(o: str) -> tuple[float, ...]:
            op = ops[o]
            return (op.calls_between(now - window, now), op.last_call_end)

        return ctx.pool.least(live_key, ctx.accept)
