"""random — «случайно»: a random free member for `attempt_timeout` s, then another.

Asterisk ``random``, FreeSWITCH ``random``. Each attempt rings one member drawn
uniformly from the free, eligible, not-yet-tried members, for the attempt
timer (default: the queue's ring timeout); on no answer another is drawn.
`max_attempts` bounds the draws per round. The generator is the core's seeded
`random.Random`, so tests and simulations are reproducible.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from flowengine.acd.strategies.base import (
    HuntRound,
    OfferContext,
    Resolver,
    Round,
    Strategy,
    StrategyParams,
)

if TYPE_CHECKING:
    from flowengine.acd.model import QueueSpec

__all__ = ["RandomRing", "RandomParams"]


class RandomParams(StrategyParams):
    attempt_timeout: Annotated[float, Field(gt=0)] | None = None
    max_attempts: Annotated[int, Field(ge=1)] | None = None


class RandomRing(Strategy):
    """Random free member per attempt."""

    name = "random"
    title_en = "random"
    title_ru = "случайно"
    Params = RandomParams

    def __init__(self, queue: QueueSpec, params: StrategyParams, resolve: Resolver) -> None:
        super().__init__(queue, params, resolve)
        assert isinstance(params, RandomParams)
        self.attempt_timeout = params.attempt_timeout
        self.max_attempts = params.max_attempts

    def new_round(self, ctx: OfferContext) -> Round:
        return HuntRound(self, self.attempt_timeout, self.max_attempts)

    def pick(self, ctx: OfferContext, rnd: HuntRound | None) -> str | None:
        return ctx.pool.random(ctx.accept, ctx.rng)
