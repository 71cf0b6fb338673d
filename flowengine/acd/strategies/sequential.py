"""sequential — «последовательно группами»: ring one group of lines, then the next.

The classic hunt group in steps: ``steps: [[901, 902, 903], [904, 905, 906,
907]]`` rings 901–903 together for `step_timeout` seconds (default: the queue's
ring timeout); if nobody answers, those stop and 904–907 ring. A group whose
members are all busy is skipped at once, and a group whose legs all fail early
(rejected, busy) hands over to the next group without waiting out the step.
Steps name operators by id or extension; without `steps` every member is its
own step, in list order.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated

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

if TYPE_CHECKING:
    from flowengine.acd.model import QueueSpec

__all__ = ["Sequential", "SequentialParams", "resolve_steps", "steps_problems"]


def steps_problems(
    steps: list[list[str]] | None, queue: QueueSpec, resolve: Resolver
) -> Iterable[CheckProblem]:
    """Problems of a `steps` list (groups of members by id or extension)."""
    seen: set[str] = set()
    for i, group in enumerate(steps or ()):
        if not group:
            yield ("steps", i), "a step must name at least one operator", group
        for j, ref in enumerate(group):
            op = resolve(ref)
            if op is None:
                yield ("steps", i, j), f"'{ref}' is not a member of queue '{queue.id}'", ref
            elif op in seen:
                yield ("steps", i, j), f"operator '{op}' appears in two steps", ref
            else:
                seen.add(op)


def resolve_steps(steps: list[list[str]], resolve: Resolver) -> list[list[str]]:
    """`steps` with every reference turned into a member id (unknown ones dropped)."""
    return [[r for r in (resolve(x) for x in g) if r is not None] for g in steps]


class SequentialParams(StrategyParams):
    steps: list[list[Text]] | None = None
    step_timeout: Annotated[float, Field(gt=0)] | None = None


class _SequentialRound(Round):
    __slots__ = ("groups", "timeout", "next_group", "group_of", "left")

    def __init__(
        self,
        groups: list[list[str]],
        timeout: float | None,
        group_of: dict[str, int] | None = None,
        left: list[int] | None = None,
    ) -> None:
        super().__init__()
        self.groups = groups
        self.timeout = timeout
        self.next_group = 0
        #: operator -> index of their group; members in groups[i:] (see `advance`)
        self.group_of = group_of
        self.left = left

    def advance(self, ctx: OfferContext, live: int) -> Step:
        if live:
            return EMPTY
        ok = ctx.ok
        free = ctx.pool.free
        i = self.next_group
        left = self.left
        if self.group_of is not None and left is not None and i < len(left) and len(free) < left[i]:
            # fewer free operators than members still to go: the first group at
            # or after `i` with a member who may be rung, found from the free
            # ones (only they can be) — the same group the scan below finds
            first = len(self.groups)
            group_of = self.group_of
            for op in free:
                g = group_of.get(op)
                if g is not None and i <= g < first and ok(op):
                    first = g
            self.next_group = first
        while self.next_group < len(self.groups):
            group = self.groups[self.next_group]
            self.next_group += 1
            ring = tuple(op for op in group if ok(op))
            if ring:
                return Step(ring, self.timeout)
        return EMPTY


class Sequential(Strategy):
    """Groups of members rung one group after another."""

    name = "sequential"
    title_en = "sequential in steps"
    title_ru = "последовательно группами"
    Params = SequentialParams

    def __init__(self, queue: QueueSpec, params: StrategyParams, resolve: Resolver) -> None:
        super().__init__(queue, params, resolve)
        assert isinstance(params, SequentialParams)
        if params.steps is None:
            self.groups = [[m] for m in queue.member_ids]
        else:
            self.groups = resolve_steps(params.steps, resolve)
        self.step_timeout = params.step_timeout
        self.flat = [op for g in self.groups for op in g]
        self.group_of = {op: i for i, g in enumerate(self.groups) for op in g}
        self.position = {op: i for i, op in enumerate(self.flat)}
        self.left = [0] * len(self.groups)
        total = 0
        for i in range(len(self.groups) - 1, -1, -1):
            total += len(self.groups[i])
            self.left[i] = total

    @classmethod
    def check(
        cls, params: StrategyParams, queue: QueueSpec, resolve: Resolver
    ) -> Iterable[CheckProblem]:
        assert isinstance(params, SequentialParams)
        return steps_problems(params.steps, queue, resolve)

    def new_round(self, ctx: OfferContext) -> Round:
        return _SequentialRound(self.groups, self.step_timeout, self.group_of, self.left)

    def pick(self, ctx: OfferContext, rnd: HuntRound | None) -> str | None:
        ok = ctx.ok
        free = ctx.pool.free
        if len(free) < len(self.flat):  # the first in step order, found from the free ones
            position = self.position
            best: tuple[int, str] | None = None
            for op in free:
                at = position.get(op)
                if at is not None and (best is None or at < best[0]) and ok(op):
                    best = (at, op)
            return best[1] if best is not None else None
        for op in self.flat:
            if ok(op):
                return op
        return None
