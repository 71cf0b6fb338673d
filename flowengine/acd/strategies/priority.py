"""priority — «по приоритету/рейтингу»: highest competence rating first, ties by longest idle.

Each member has a `rank` in the queue (its competence rating; higher is
better). The call goes to the free member with the highest rank; among equal
ranks, to the one idle longest. One operator at a time; lazy-heap backed.
Asterisk approximates this with member penalties, FreeSWITCH with tiers.
"""

from __future__ import annotations

from flowengine.acd.strategies.base import HuntRound, OfferContext, Strategy

__all__ = ["Priority"]


class Priority(Strategy):
    """Highest member rank, then longest idle."""

    name = "priority"
    title_en = "priority / competence rating"
    title_ru = "по приоритету/рейтингу"

    def pick(self, ctx: OfferContext, rnd: HuntRound | None) -> str | None:
        ops = ctx.operators
        ranks = ctx.ranks
        index = ctx.pool.index

        def key(o: str) -> tuple[float, ...]:
            return (-ranks[index[o]], ops[o].last_call_end)

        return ctx.pool.best("priority", key, ctx.accept)
