"""cumulative — «по нарастающей»: add the next operator every N s, keep the others ringing.

Progressive ringing: the first free member rings; every `interval` seconds
the next free member (in list order, or longest idle first with
``order: longest_idle``) is added while the ones already ringing go on. All
legs end together when the round's `total` time is up (default: the queue's
ring timeout plus one interval per further member, so the last one added still
gets a full ring timeout). If every leg fails early, the next operator is added
at once instead of waiting for the interval.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from flowengine.acd.strategies.base import (
    EMPTY,
    HuntRound,
    OfferContext,
    Resolver,
    Round,
    Step,
    Strategy,
    StrategyParams,
)
from flowengine.acd.strategies.longest_idle import IdleKey

if TYPE_CHECKING:
    from flowengine.acd.model import QueueSpec

__all__ = ["Cumulative", "CumulativeParams"]


class CumulativeParams(StrategyParams):
    interval: Annotated[float, Field(gt=0)] = 5.0
    total: Annotated[float, Field(gt=0)] | None = None
    order: Literal["members", "longest_idle"] = "members"


class _CumulativeRound(Round):
    __slots__ = ("strategy", "end_at")

    def __init__(self, strategy: Cumulative) -> None:
        super().__init__()
        self.strategy = strategy
        self.end_at: float | None = None

    def advance(self, ctx: OfferContext, live: int) -> Step:
        now = ctx.now
        s = self.strategy
        if self.end_at is None:
            total = s.total
            if total is None:
                total = ctx.ring_timeout + s.interval * max(0, len(ctx.members) - 1)
            self.end_at = now + total
        end = self.end_at
        if now >= end:
            return EMPTY
        nxt = now + s.interval
        op = s.pick(ctx, None)
        if op is None:
            # nobody to add right now; look again at the next tick while legs ring
            return Step((), None, nxt) if live and nxt < end else EMPTY
        return Step((op,), end - now, nxt if nxt < end else None)


class Cumulative(Strategy):
    """Progressive ringing: one more operator every interval."""

    name = "cumulative"
    title_en = "cumulative (progressive)"
    title_ru = "по нарастающей"
    Params = CumulativeParams

    def __init__(self, queue: QueueSpec, params: StrategyParams, resolve: Resolver) -> None:
        super().__init__(queue, params, resolve)
        assert isinstance(params, CumulativeParams)
        self.interval = params.interval
        self.total = params.total
        self.order = params.order
        self._key = IdleKey()

    def new_round(self, ctx: OfferContext) -> Round:
        return _CumulativeRound(self)

    def pick(self, ctx: OfferContext, rnd: HuntRound | None) -> str | None:
        if self.order == "longest_idle":
            return ctx.pool.best("longest_idle", self._key(ctx.operators), ctx.accept)
        return ctx.pool.first_in_order(ctx.accept, 0)
