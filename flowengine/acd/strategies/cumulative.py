"""cumulative — «по нарастающей»: add the next operator (or group) every N s, keep the others ringing.

Progressive ringing: the first free member rings; every `interval` seconds
the next free member (in list order, or longest idle first with
``order: longest_idle``) is added while the ones already ringing go on. All
legs end together when the round's `total` time is up (default: the queue's
ring timeout plus one interval per further member, so the last one added still
gets a full ring timeout). If every leg fails early, the next operator is added
at once instead of waiting for the interval.

**In groups.** With ``steps`` — the same syntax as ``sequential``: ``steps:
[[901, 902], [903, 904, 905]]`` — a whole group joins at each interval: 901
and 902 ring; after `interval` s 903–905 join them, and everybody rings until
`total` (default: the ring timeout plus one interval per further group). A
group with nobody free is passed over at once (the next one joins in its
place); members named in no step are not rung. ``order`` applies only
without steps.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from flowengine.acd.model import Text
from flowengine.acd.strategies.base import (
    EMPTY,
    CheckProblem,
    HuntRound,
    OfferContext,
    Resolver,
    Round,
    Step,
    Strategy,
    StrategyParams,
)
from flowengine.acd.strategies.longest_idle import IdleKey
from flowengine.acd.strategies.sequential import resolve_steps, steps_problems

if TYPE_CHECKING:
    from flowengine.acd.model import QueueSpec

__all__ = ["Cumulative", "CumulativeParams"]


class CumulativeParams(StrategyParams):
    interval: Annotated[float, Field(gt=0)] = 5.0
    total: Annotated[float, Field(gt=0)] | None = None
    order: Literal["members", "longest_idle"] = "members"
    steps: list[list[Text]] | None = None


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


class _CumulativeGroupsRound(Round):
    __slots__ = ("strategy", "groups", "end_at", "next_group")

    def __init__(self, strategy: Cumulative, groups: list[list[str]]) -> None:
        super().__init__()
        self.strategy = strategy
        self.groups = groups
        self.end_at: float | None = None
        self.next_group = 0

    def advance(self, ctx: OfferContext, live: int) -> Step:
        now = ctx.now
        s = self.strategy
        groups = self.groups
        if self.end_at is None:
            total = s.total
            if total is None:
                total = ctx.ring_timeout + s.interval * max(0, len(groups) - 1)
            self.end_at = now + total
        end = self.end_at
        if now >= end:
            return EMPTY
        ok = ctx.ok
        while self.next_group < len(groups):
            group = groups[self.next_group]
            self.next_group += 1
            ring = tuple(op for op in group if ok(op))
            if ring:
                nxt = now + s.interval
                more = self.next_group < len(groups) and nxt < end
                return Step(ring, end - now, nxt if more else None)
        return EMPTY  # every group has joined: the legs ring on until `end`


class Cumulative(Strategy):
    """Progressive ringing: one more operator (or group) every interval."""

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
        #: resolved steps (None: one member at a time)
        self.groups = resolve_steps(params.steps, resolve) if params.steps is not None else None
        self.flat = [op for g in self.groups for op in g] if self.groups is not None else None

    @classmethod
    def check(
        cls, params: StrategyParams, queue: QueueSpec, resolve: Resolver
    ) -> Iterable[CheckProblem]:
        assert isinstance(params, CumulativeParams)
        if params.steps is not None and params.order != "members":
            yield ("order",), "'order' applies only without 'steps'", params.order
        yield from steps_problems(params.steps, queue, resolve)

    def new_round(self, ctx: OfferContext) -> Round:
        if self.groups is not None:
            return _CumulativeGroupsRound(self, self.groups)
        return _CumulativeRound(self)

    def pick(self, ctx: OfferContext, rnd: HuntRound | None) -> str | None:
        if self.flat is not None:
            ok = ctx.ok
            for op in self.flat:
                if ok(op):
                    return op
            return None
        if self.order == "longest_idle":
            return ctx.pool.best("longest_idle", self._key(ctx.operators), ctx.accept)
        return ctx.pool.first_in_order(ctx.accept, 0)
