"""Distribution strategies, one module each, and their registry.

=================  ===========================  =====================================
name               Russian                      shape
=================  ===========================  =====================================
ring_all           всем сразу                   all free members at once
sequential         последовательно группами     group after group
cumulative         по нарастающей               one more every interval, none dropped
random             случайно                     random member per attempt
wrandom            случайно с весами            random, weighted 1/(1 + penalty)
fewest_calls       наименьшее число звонков     hunt, fewest answered in window
longest_idle       дольше всех свободен         hunt, longest since last call
priority           по приоритету/рейтингу       hunt, highest rank, then longest idle
round_robin        по кругу с памятью           hunt, after the last who got a call
rrordered          по кругу по списку           hunt, list order after the last rung
linear             линейно сверху               hunt, always from the top
skills             по навыкам                   hunt, best skill score
personal_manager   персональный менеджер        caller's manager, then a fallback
=================  ===========================  =====================================

Members may carry a penalty (level): every strategy runs over the lowest
level first (`start_round`), except ``wrandom`` (penalties are its weights)
and ``personal_manager`` (the manager whatever their level; its fallback by
level).

`STRATEGIES` maps names to classes; `build_strategy` validates parameters and
instantiates one for a queue. Registering a name twice is an error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from flowengine.acd.strategies.base import (
    CallView,
    HuntRound,
    LevelRound,
    NoParams,
    OfferContext,
    Resolver,
    Round,
    Step,
    Strategy,
    StrategyParams,
    member_resolver,
    start_round,
)
from flowengine.acd.strategies.cumulative import Cumulative
from flowengine.acd.strategies.fewest_calls import FewestCalls
from flowengine.acd.strategies.linear import Linear
from flowengine.acd.strategies.longest_idle import LongestIdle
from flowengine.acd.strategies.personal_manager import PersonalManager
from flowengine.acd.strategies.priority import Priority
from flowengine.acd.strategies.random_ring import RandomRing
from flowengine.acd.strategies.ring_all import RingAll
from flowengine.acd.strategies.round_robin import RoundRobin
from flowengine.acd.strategies.rr_ordered import RoundRobinOrdered
from flowengine.acd.strategies.sequential import Sequential
from flowengine.acd.strategies.skills import Skills
from flowengine.acd.strategies.weighted_random import WeightedRandom
from flowengine.errors import RegistryError, UsageError

if TYPE_CHECKING:
    from flowengine.acd.model import QueueSpec

__all__ = [
    "STRATEGIES",
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
    "build_strategy",
    "member_resolver",
    "register",
    "start_round",
]

STRATEGIES: dict[str, type[Strategy]] = {}


def register(cls: type[Strategy]) -> type[Strategy]:
    """Add a strategy class under its `name`; a second registration is an error."""
    if not cls.name:
        raise RegistryError(f"{cls.__name__} has no name")
    if cls.name in STRATEGIES:
        raise RegistryError(f"strategy '{cls.name}' is already registered")
    STRATEGIES[cls.name] = cls
    return cls


for _cls in (
    RingAll,
    Sequential,
    Cumulative,
    RandomRing,
    FewestCalls,
    LongestIdle,
    Priority,
    RoundRobin,
    Linear,
    Skills,
    PersonalManager,
    WeightedRandom,
    RoundRobinOrdered,
):
    register(_cls)


def build_strategy(
    name: str, params: dict[str, Any] | None, queue: QueueSpec, resolve: Resolver | None = None
) -> Strategy:
    """Instantiate strategy `name` for `queue`; bad names/params raise `UsageError`."""
    cls = STRATEGIES.get(name)
    if cls is None:
        known = ", ".join(sorted(STRATEGIES))
        raise UsageError(f"unknown strategy '{name}' (known: {known})")
    try:
        p = cls.Params.model_validate(params or {})
    except ValidationError as e:
        raise UsageError(f"strategy '{name}': {e}") from None
    if resolve is None:
        resolve = member_resolver(queue.member_ids, {})
    return cls(queue, p, resolve)
