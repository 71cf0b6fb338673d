"""What a distribution strategy is, and the shapes of ringing it can produce.

A strategy answers two questions for a waiting call, given the queue's free
members at this instant:

* **order** — `Strategy.pick`: the one operator to offer the call to next
  (used by hunt-style strategies, and by every strategy for callbacks, where
  exactly one operator is reserved);
* **shape over time** — `Strategy.new_round` returns a `Round`, the per-call
  state of one pass through the members. The core calls `Round.advance` when
  the round starts, when the round's own timer (`Step.next_at`) fires, and
  whenever the call has no ringing leg left. Each call returns a `Step`:
  operators to start ringing now (with the leg timeout), and optionally when
  to be asked again. A round is over when it rings nobody, asks for no timer
  and no leg is ringing; the call then waits ``queue.retry`` seconds before a
  new round (if anybody was rung at all).

Strategies never see busy operators: every candidate passes through
``ctx.ok`` / ``ctx.accept``, which the core implements as "free right now
(status available, state idle, past any retry delay, not ringing for another
call), eligible for this call (skills, personal-manager phase, restriction
list) and not yet tried in this round".

Strategies hold no clock and no I/O; randomness comes from ``ctx.rng`` (a
seeded `random.Random` owned by the core), so runs are reproducible.

**Levels.** Members may sit on levels (penalties). In a queue with several,
`start_round` wraps a strategy's round in a `LevelRound`: the strategy runs
over the free members of the lowest level only (``ctx.pool`` is that level's
pool), and when that inner round is over the next level gets a fresh inner
round, up to the highest level the caller has reached (``ctx.top_level``,
from the queue's tier rules). So "lower levels first" holds for every
strategy without each one knowing about levels. A strategy that uses
penalties itself (``wrandom``) sets ``by_level = False`` and sees every open
level at once (``ctx.accept`` refuses members of levels not reached yet).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, Protocol

from pydantic import BaseModel, ConfigDict, ValidationError

from flowengine.acd.calendar import Calendar

if TYPE_CHECKING:
    from flowengine.acd.model import QueueSpec
    from flowengine.acd.operators import OperatorRuntime
    from flowengine.acd.pool import FreePool

__all__ = [
    "CallView",
    "HuntRound",
    "LevelRound",
    "NoParams",
    "OfferContext",
    "Resolver",
    "Round",
    "Step",
    "Strategy",
    "StrategyParams",
    "member_resolver",
    "start_round",
]

#: Maps a reference from the centre file (operator id or extension) to the id
#: of a member of the queue, or None.
Resolver = Callable[[str], "str | None"]
#: (location under strategy_params, message, offending value)
CheckProblem = tuple[tuple[str | int, ...], str, Any]


def member_resolver(members: Collection[str], by_extension: Mapping[str, str]) -> Resolver:
    """The `Resolver` for a queue with `members`, given extension -> operator id.

    Both are read at each lookup, not copied, so later additions count."""

    def resolve(ref: str) -> str | None:
        if ref in members:
            return ref
        op = by_extension.get(ref)
        return op if op in members else None

    return resolve


class StrategyParams(BaseModel):
    """Base of every strategy's parameter model (unknown keys are errors)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoParams(StrategyParams):
    pass


class CallView(Protocol):
    """What a strategy may know about the call it is placing."""

    @property
    def call_id(self) -> str: ...
    @property
    def caller(self) -> str: ...
    @property
    def priority(self) -> int: ...
    @property
    def manager(self) -> str | None: ...
    @property
    def rounds(self) -> int: ...


class OfferContext(Protocol):
    """The view of the ACD a strategy gets while placing one call (read-only)."""

    #: the free members to choose from (one level's, inside a `LevelRound`)
    pool: FreePool

    @property
    def now(self) -> float: ...
    @property
    def call(self) -> CallView: ...
    @property
    def members(self) -> Sequence[str]: ...
    @property
    def ranks(self) -> Sequence[int]: ...
    @property
    def penalties(self) -> Sequence[int]:
        """Member penalties (levels), by member position (``pool.index``)."""
        ...
    @property
    def levels(self) -> Sequence[FreePool]:
        """Free pools per level, lowest first; empty when the queue has one level."""
        ...
    @property
    def top_level(self) -> int:
        """Index in `levels` of the highest level the caller has reached."""
        ...
    @property
    def operators(self) -> Mapping[str, OperatorRuntime]: ...
    @property
    def rng(self) -> random.Random: ...
    @property
    def ring_timeout(self) -> float: ...
    @property
    def requirement(self) -> Mapping[str, int]: ...

    def accept(self, op_id: str) -> bool:
        """`op_id` (known to be free) is eligible and untried in this round."""
        ...

    def ok(self, op_id: str) -> bool:
        """`op_id` is free now *and* `accept`s."""
        ...


class Step(NamedTuple):
    """What a round wants now: ring these, each leg lasting `timeout`, ask me at `next_at`."""

    ring: tuple[str, ...] = ()
    timeout: float | None = None
    next_at: float | None = None


EMPTY = Step()


class Round:
    """Per-call state of one pass of a strategy over the members."""

    __slots__ = ("tried", "attempts")

    def __init__(self) -> None:
        #: operators rung in this round (the core adds them); never rung twice
        self.tried: set[str] = set()
        self.attempts = 0

    def advance(self, ctx: OfferContext, live: int) -> Step:
        """Called at start, at `Step.next_at`, and when no leg is ringing (`live` = 0)."""
        raise NotImplementedError


class HuntRound(Round):
    """One operator at a time, in the strategy's order, each for `timeout` s."""

    __slots__ = ("strategy", "timeout", "max_attempts", "cursor")

    def __init__(
        self, strategy: Strategy, timeout: float | None = None, max_attempts: int | None = None
    ) -> None:
        self.tried = set()
        self.attempts = 0
        self.strategy = strategy
        self.timeout = timeout
        self.max_attempts = max_attempts
        #: strategy-private position (round robin continues from here)
        self.cursor: int | None = None

    def advance(self, ctx: OfferContext, live: int) -> Step:
        if live:
            return EMPTY
        if self.max_attempts is not None and self.attempts >= self.max_attempts:
            return EMPTY
        op = self.strategy.pick(ctx, self)
        if op is None:
            return EMPTY
        return Step((op,), self.timeout)


RoundFactory = Callable[[OfferContext], Round]


class LevelRound(Round):
    """A round over the queue's levels: the inner strategy's round for the
    lowest level, then a fresh one for the next, while the caller has reached it.

    Inner rounds share `tried` (nobody rings twice in the round) and see the
    round's `attempts` (so a strategy's ``max_attempts`` bounds the whole
    round). A level whose inner round rings nobody is passed at once."""

    __slots__ = ("factory", "inner", "level")

    def __init__(self, factory: RoundFactory) -> None:
        super().__init__()
        self.factory = factory
        self.inner: Round | None = None
        self.level = 0

    def advance(self, ctx: OfferContext, live: int) -> Step:
        levels = ctx.levels
        whole = ctx.pool
        try:
            while True:
                if self.level > ctx.top_level or self.level >= len(levels):
                    return EMPTY
                ctx.pool = levels[self.level]
                inner = self.inner
                if inner is None:
                    if live:
                        return EMPTY  # the next level waits for the legs ringing
                    inner = self.inner = self.factory(ctx)
                    inner.tried = self.tried
                inner.attempts = self.attempts
                step = inner.advance(ctx, live)
                if step.ring or step.next_at is not None or live:
                    return step
                self.inner = None
                self.level += 1
        finally:
            ctx.pool = whole


def start_round(strategy: Strategy, ctx: OfferContext, factory: RoundFactory | None = None) -> Round:
    """A new round of `strategy` (made by `factory`, default its `new_round`),
    level by level when the queue has several levels and the strategy runs by level."""
    make = factory if factory is not None else strategy.new_round
    if ctx.levels and strategy.by_level:
        return LevelRound(make)
    return make(ctx)


class Strategy:
    """Base of every distribution strategy (one subclass per module).

    Subclasses set `name` (the id used in centre files), `title_ru` (the
    Russian name shown in the editor), `Params`, and implement `pick`;
    group-shaped strategies also override `new_round`.
    """

    name: ClassVar[str] = ""
    title_en: ClassVar[str] = ""
    title_ru: ClassVar[str] = ""
    Params: ClassVar[type[StrategyParams]] = NoParams
    #: run over one level at a time, lowest first (see `LevelRound`)
    by_level: ClassVar[bool] = True
    #: the centre's calendar (the core sets it): wall-clock hours and days
    calendar: Calendar = Calendar()

    def __init__(self, queue: QueueSpec, params: StrategyParams, resolve: Resolver) -> None:
        self.queue = queue
        self.params = params

    @classmethod
    def check(
        cls, params: StrategyParams, queue: QueueSpec, resolve: Resolver
    ) -> Iterable[CheckProblem]:
        """Cross-reference problems of `params` against the queue (centre load time)."""
        return ()

    @classmethod
    def problems(
        cls, raw: Mapping[str, Any], queue: QueueSpec, resolve: Resolver
    ) -> Iterable[CheckProblem]:
        """Every problem of `raw` as this strategy's parameters for `queue`:
        field errors, or (when the fields are valid) `check`'s cross-references."""
        try:
            params = cls.Params.model_validate(raw)
        except ValidationError as e:
            for err in e.errors():
                yield tuple(err["loc"]), err["msg"], err.get("input")
            return
        yield from cls.check(params, queue, resolve)

    def new_round(self, ctx: OfferContext) -> Round:
        """A fresh pass over the members for the call in `ctx`."""
        return HuntRound(self)

    def pick(self, ctx: OfferContext, rnd: HuntRound | None) -> str | None:
        """The next operator to offer the call to, or None if nobody fits now."""
        raise NotImplementedError

    def personal_operator(self, caller: str) -> str | None:
        """The operator this caller is tied to (personal manager), if any."""
        return None

    def exclusive_window(self) -> float | None:
        """Seconds during which only the personal operator may take the call."""
        return None

    def on_connected(self, op_id: str, position: int) -> None:
        """A call of this queue was answered by the member at `position`."""
