"""longest_idle — «дольше всех свободен»: the member whose last call ended longest ago.

Asterisk ``leastrecent``, FreeSWITCH ``longest-idle-agent``. "Idle" is measured
from the end of the member's last conversation (wrap-up counts as idle time
already spent after the call); members who never had a call come first, in
list order. One operator at a time. Backed by a lazy heap, so a pick costs
O(log n) however many members are free.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from flowengine.acd.pool import KeyFn
from flowengine.acd.strategies.base import HuntRound, OfferContext, Strategy

if TYPE_CHECKING:
    from flowengine.acd.operators import OperatorRuntime

__all__ = ["LongestIdle", "IdleKey"]


class IdleKey:
    """Heap key "earliest end of the last call", built once per operator table."""

    __slots__ = ("_ops", "_fn")

    def __init__(self) -> None:
        self._ops: Mapping[str, OperatorRuntime] | None = None
        self._fn: KeyFn | None = None

    def __call__(self, ops: Mapping[str, OperatorRuntime]) -> KeyFn:
        if self._ops is not ops or self._fn is None:

            def fn(o: str) -> tuple[float, ...]:
                return (ops[o].last_call_end,)

            self._ops, self._fn = ops, fn
        return self._fn


class LongestIdle(Strategy):
    """Free member with the earliest last-call end."""

    name = "longest_idle"
    title_en = "longest idle"
    title_ru = "дольше всех свободен"
    _key = None

    def pick(self, ctx: OfferContext, rnd: HuntRound | None) -> str | None:
        if self._key is None:
            self._key = IdleKey()
        return ctx.pool.best("longest_idle", self._key(ctx.operators), ctx.accept)
