"""personal_manager — «персональный менеджер»: the caller's own operator first, then the queue.

The queue's ``personal_managers`` table ties caller numbers to operators:
exact numbers (``"79161234567": "905"``) and prefixes ending in ``*``
(``"7495*": "906"``); the exact number wins, then the longest prefix. Numbers
are compared by their digits only (``+7 (916) 123-45-67`` = ``79161234567``).
The Queue component may instead pass the operator computed by an expression
(``call_arrived(..., manager=...)``), which takes precedence over the table.

If the manager is free, only they are rung, for `fallback_after` seconds;
if they do not answer, or are not free when the call arrives, the call goes to
the `fallback` strategy over the whole queue (the manager included if free
again). With ``wait_for_manager: true`` the call instead waits up to
`fallback_after` seconds for a manager who is logged in but busy.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

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
    start_round,
)

if TYPE_CHECKING:
    from flowengine.acd.model import QueueSpec

__all__ = ["PersonalManager", "PersonalManagerParams", "digits"]


def digits(number: str) -> str:
    """The digits of a phone number, for table lookups."""
    return "".join(ch for ch in number if ch.isdigit())


class PersonalManagerParams(StrategyParams):
    fallback: str = "longest_idle"
    fallback_params: dict[str, Any] = Field(default_factory=dict)
    fallback_after: Annotated[float, Field(gt=0)] = 20.0
    wait_for_manager: bool = False


class _ManagerRound(Round):
    __slots__ = ("manager", "timeout", "inner", "fallback")

    def __init__(self, fallback: Strategy, manager: str, timeout: float) -> None:
        super().__init__()
        self.fallback = fallback
        self.manager = manager
        self.timeout = timeout
        self.inner: Round | None = None

    def advance(self, ctx: OfferContext, live: int) -> Step:
        if self.inner is None:
            if self.attempts == 0 and ctx.ok(self.manager):
                if live:
                    return EMPTY
                # the core counts the attempt; next advance (no legs) falls back
                return Step((self.manager,), self.timeout)
            if live:
                return EMPTY
            self.inner = start_round(self.fallback, ctx)
            self.inner.tried = self.tried
        self.inner.attempts = self.attempts
        return self.inner.advance(ctx, live)


class PersonalManager(Strategy):
    """Caller's personal manager first, then a fallback strategy."""

    name = "personal_manager"
    title_en = "personal manager"
    title_ru = "персональный менеджер"
    Params = PersonalManagerParams
    #: the manager is rung whatever their level; the fallback runs by level
    by_level = False

    def __init__(self, queue: QueueSpec, params: StrategyParams, resolve: Resolver) -> None:
        super().__init__(queue, params, resolve)
        assert isinstance(params, PersonalManagerParams)
        from flowengine.acd.strategies import build_strategy

        self.fallback = build_strategy(params.fallback, params.fallback_params, queue, resolve)
        self.fallback_after = params.fallback_after
        self.wait_for_manager = params.wait_for_manager
        self.exact: dict[str, str] = {}
        self.prefixes: dict[str, str] = {}
        for key, op in queue.personal_managers.items():
            if key.endswith("*"):
                self.prefixes[digits(key[:-1])] = op
            else:
                self.exact[digits(key)] = op

    @classmethod
    def check(
        cls, params: StrategyParams, queue: QueueSpec, resolve: Resolver
    ) -> Iterable[CheckProblem]:
        from flowengine.acd.strategies import STRATEGIES

        assert isinstance(params, PersonalManagerParams)
        sub = STRATEGIES.get(params.fallback)
        if sub is None or sub is cls:
            known = ", ".join(sorted(n for n in STRATEGIES if n != cls.name))
            yield (
                ("fallback",),
                f"unknown fallback strategy '{params.fallback}' (known: {known})",
                params.fallback,
            )
            return
        for loc, message, value in sub.problems(params.fallback_params, queue, resolve):
            yield ("fallback_params", *loc), message, value

    def personal_operator(self, caller: str) -> str | None:
        number = digits(caller)
        if not number:
            return None
        op = self.exact.get(number)
        if op is not None:
            return op
        for k in range(len(number), 0, -1):
            op = self.prefixes.get(number[:k])
            if op is not None:
                return op
        return None

    def exclusive_window(self) -> float | None:
        return self.fallback_after if self.wait_for_manager else None

    def new_round(self, ctx: OfferContext) -> Round:
        manager = ctx.call.manager
        if manager is not None and ctx.call.rounds == 0:
            return _ManagerRound(self.fallback, manager, self.fallback_after)
        return start_round(self.fallback, ctx)

    def pick(self, ctx: OfferContext, rnd: HuntRound | None) -> str | None:
        manager = ctx.call.manager
        if manager is not None and ctx.ok(manager):
            return manager
        return self.fallback.pick(ctx, rnd)

    def on_connected(self, op_id: str, position: int) -> None:
        self.fallback.on_connected(op_id, position)
