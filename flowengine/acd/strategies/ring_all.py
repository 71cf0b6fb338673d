"""ring_all — «всем сразу»: ring every free member at once; the first to answer wins.

Asterisk ``ringall``, FreeSWITCH ``ring-all``. The round rings all members that
are free when it starts (in member order, which only matters for the order of
the `Ring` decisions) for the ring timeout; when every leg has ended without an
answer the round is over and the call waits ``queue.retry`` seconds before
ringing everybody free again.
"""

from __future__ import annotations

from flowengine.acd.strategies.base import EMPTY, HuntRound, OfferContext, Round, Step, Strategy

__all__ = ["RingAll"]


class _RingAllRound(Round):
    __slots__ = ("done",)

    def __init__(self) -> None:
        super().__init__()
        self.done = False

    def advance(self, ctx: OfferContext, live: int) -> Step:
        if self.done:
            return EMPTY
        self.done = True
        accept = ctx.accept
        return Step(tuple(op for op in ctx.pool.in_member_order() if accept(op)))


class RingAll(Strategy):
    """Ring all free members simultaneously."""

    name = "ring_all"
    title_en = "ring all"
    title_ru = "всем сразу"

    def new_round(self, ctx: OfferContext) -> Round:
        return _RingAllRound()

    def pick(self, ctx: OfferContext, rnd: HuntRound | None) -> str | None:
        return ctx.pool.first_in_order(ctx.accept)
