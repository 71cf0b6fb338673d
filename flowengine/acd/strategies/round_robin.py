"""round_robin — «по кругу с памятью»: continue after the last member who got a call.

Asterisk ``rrmemory``, FreeSWITCH ``round-robin``. The queue remembers the
member who answered its last call; the next call is offered first to the next
free member after them in list order (wrapping), then hunts on one at a time
from wherever the previous attempt of this round stopped.
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

__all__ = ["RoundRobin"]


class RoundRobin(Strategy):
    """Round robin with memory of the last answering member."""

    name = "round_robin"
    title_en = "round robin with memory"
    title_ru = "по кругу с памятью"

    def __init__(self, queue: QueueSpec, params: StrategyParams, resolve: Resolver) -> None:
        super().__init__(queue, params, resolve)
        #: member position of the last operator who got a call (-1: none yet)
        self.last = -1

    def pick(self, ctx: OfferContext, rnd: HuntRound | None) -> str | None:
        if rnd is not None and rnd.cursor is not None:
            start = rnd.cursor + 1
        else:
            start = self.last + 1
        op = ctx.pool.first_in_order(ctx.accept, start)
        if op is not None and rnd is not None:
            rnd.cursor = ctx.pool.index[op]
        return op

    def on_connected(self, op_id: str, position: int) -> None:
        self.last = position
