"""wrandom — «случайно с весами»: a random free member, lower penalty more likely.

Asterisk ``wrandom``. Like ``random``, one member per attempt for the attempt
timer, drawn anew after each no-answer; but the draw is weighted by the
member's penalty: a member is picked with probability proportional to

    weight = 1 / (1 + penalty)

among the free, eligible, not-yet-tried members of the levels the caller has
reached. Penalty 0 weighs 1, penalty 1 weighs 1/2, penalty 3 weighs 1/4: two
members with penalties 0 and 1 get 2/3 and 1/3 of the calls. (app_queue draws
a number below ``1000 × (1 + penalty)`` for every member and rings the
smallest, which favours low penalties a little more — 3/4 and 1/4 there — but
has no weight one can state.) Penalties are weights here, not levels: members
of every open level draw together. The generator is the core's seeded
`random.Random`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowengine.acd.strategies.base import (
    HuntRound,
    OfferContext,
    Resolver,
    Round,
    Strategy,
    StrategyParams,
)
from flowengine.acd.strategies.random_ring import RandomParams

if TYPE_CHECKING:
    from flowengine.acd.model import QueueSpec

__all__ = ["WeightedRandom", "weight"]


def weight(penalty: int) -> float:
    """The share of a member with `penalty` in a weighted random draw."""
    return 1.0 / (1 + penalty)


class WeightedRandom(Strategy):
    """Random free member per attempt, weighted by 1 / (1 + penalty)."""

    name = "wrandom"
    title_en = "weighted random"
    title_ru = "случайно с весами"
    Params = RandomParams
    by_level = False

    def __init__(self, queue: QueueSpec, params: StrategyParams, resolve: Resolver) -> None:
        super().__init__(queue, params, resolve)
        assert isinstance(params, RandomParams)
        self.attempt_timeout = params.attempt_timeout
        self.max_attempts = params.max_attempts

    def new_round(self, ctx: OfferContext) -> Round:
        return HuntRound(self, self.attempt_timeout, self.max_attempts)

    def pick(self, ctx: OfferContext, rnd: HuntRound | None) -> str | None:
        pool = ctx.pool
        accept = ctx.accept
        index = pool.index
        penalties = ctx.penalties
        # member order, so a draw depends on the seed and the state, not on set order
        cands = [o for o in pool.in_member_order() if accept(o)]
        if not cands:
            return None
        weights = [1.0 / (1 + penalties[index[o]]) for o in cands]
        x = ctx.rng.random() * sum(weights)
        for o, w in zip(cands, weights, strict=True):
            x -= w
            if x < 0:
                return o
        return cands[-1]
