"""rrordered — «по кругу по списку»: round robin in member order, after the last one rung.

Asterisk ``rrordered``. The queue remembers the member it rang last (for any
call); the next ring goes to the next free member after them in the queue's
member order (by level, then position, then as listed), wrapping at the end.
Unlike ``round_robin`` (app_queue ``rrmemory``-like here: after the member
who *answered* last), a member who lets a call ring out still moves the turn
on, so nobody is rung twice in a row while others wait their turn. One
operator at a time; with levels, the turn goes round within the lowest level
that has someone free.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowengine.acd.strategies.base import (
    HuntRound,
    OfferContext,
    Resolver,
    Strategy,
    StrategyParams,
)

if TYPE_CHECKING:
    from flowengine.acd.model import QueueSpec

__all__ = ["RoundRobinOrdered"]


class RoundRobinOrdered(Strategy):
    """Round robin in member order, continuing after the last member rung."""

    name = "rrordered"
    title_en = "round robin in list order"
    title_ru = "по кругу по списку"

    def __init__(self, queue: QueueSpec, params: StrategyParams, resolve: Resolver) -> None:
        super().__init__(queue, params, resolve)
        #: member position of the last operator rung (-1: none yet)
        self.last = -1

    def pick(self, ctx: OfferContext, rnd: HuntRound | None) -> str | None:
        op = ctx.pool.first_in_order(ctx.accept, self.last + 1)
        if op is not None:
            self.last = ctx.pool.index[op]
        return op
