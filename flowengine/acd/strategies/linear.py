"""linear — «линейно сверху»: always start from the top of the member list.

Asterisk ``linear``, FreeSWITCH ``top-down``. One operator at a time, each for
the ring timeout; every new call starts again with the first free member, so
the members at the top take most of the calls (a deliberate overflow order:
senior staff first, helpers below).
"""

from __future__ import annotations

from flowengine.acd.strategies.base import HuntRound, OfferContext, Strategy

__all__ = ["Linear"]


class Linear(Strategy):
    """First free member in list order."""

    name = "linear"
    title_en = "linear (from the top)"
    title_ru = "линейно сверху"

    def pick(self, ctx: OfferContext, rnd: HuntRound | None) -> str | None:
        return ctx.pool.first_in_order(ctx.accept, 0)
