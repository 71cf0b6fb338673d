"""Run-time records the ACD core keeps per call, per queue and per offer.

Internal to `flowengine.acd.core` and its parts; exposed read-only through
the core's queries (`ACD.snapshot`, `ACD.queue_stats`). Plain records with
slots: the parts that act on them are about decisions, not data layout.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING

from flowengine.acd.estimate import HandleTime
from flowengine.acd.pool import FreePool

if TYPE_CHECKING:
    from flowengine.acd.model import CallbackPolicy, QueueSpec, SkillStep, TierRules
    from flowengine.acd.operators import OperatorRuntime
    from flowengine.acd.strategies import Round, Strategy

__all__ = ["CallState", "QueueStats"]

_EMPTY: Mapping[str, int] = MappingProxyType({})

#: (-priority, first arrival, sequence number, call id): queue order
Entry = tuple[int, float, int, str]

#: tolerance for "has the caller waited `after` seconds yet" on float clocks
EPS = 1e-9


class CallState(StrEnum):
    WAITING = "waiting"  # in the queue, nobody ringing
    OFFERING = "offering"  # in the queue, ringing one or more operators
    CALLBACK = "callback"  # caller left the line, keeps their place
    CALLBACK_OFFERING = "callback_offering"  # an operator is reserved for the callback
    CONNECTED = "connected"  # talking to an operator (no longer in the queue)
    LEFT = "left"  # left the ACD unanswered (abandoned, timeout, no operators...)


#: in a queue (has a position): waiting, being offered, or holding a callback place
QUEUED = (CallState.WAITING, CallState.OFFERING, CallState.CALLBACK, CallState.CALLBACK_OFFERING)
#: may start a round of offers (when not in a retry pause)
DISPATCHABLE = (CallState.WAITING, CallState.CALLBACK)
#: a round of offers is under way
OFFERING = (CallState.OFFERING, CallState.CALLBACK_OFFERING)


@dataclass
class QueueStats:
    """Counters since the core started. Waits are from first arrival at the ACD."""

    offered: int = 0
    answered: int = 0
    answered_within_sl: int = 0
    abandoned: int = 0
    abandoned_within_sl: int = 0
    timeouts: int = 0
    no_answer: int = 0
    overflowed: int = 0
    full: int = 0
    no_operators: int = 0
    callbacks: int = 0
    wait_answered: float = 0.0
    wait_abandoned: float = 0.0
    talk_time: float = 0.0

    @property
    def service_level(self) -> float | None:
        """Answered within the threshold / answered (None before the first answer)."""
        return self.answered_within_sl / self.answered if self.answered else None

    @property
    def asa(self) -> float | None:
        """Average speed of answer over answered calls."""
        return self.wait_answered / self.answered if self.answered else None

    def as_dict(self) -> dict[str, float | int | None]:
        d: dict[str, float | int | None] = dict(self.__dict__)
        d["service_level"] = self.service_level
        d["asa"] = self.asa
        return d


class Offer:
    """The ACD's record of one call being offered to one operator (ringing them).

    Not a telephony `Leg`: the driver may ring several targets (legs) of the
    operator for one offer. `id` is the number decisions carry as ``leg``
    (`Ring.leg`, `CallbackDue.leg`) and `ACD.offer_answered` / `offer_failed`
    take back, so a late report about an earlier offer is recognised."""

    __slots__ = ("started", "ends", "id")

    def __init__(self, started: float, ends: float, offer_id: int) -> None:
        self.started = started
        self.ends = ends
        self.id = offer_id


class QueueRt:
    """A queue at run time: its waiting list, free pool and strategy.

    Members sit on levels (their distinct penalties, lowest first). A queue
    with more than one level keeps a free pool per level beside the pool of
    all members (`level_pools`, sharing its member positions), so a strategy
    can be run over one level at a time, and counts its staffed members per
    level for the tier rule "no agent, no wait". With one level all of that is
    None and costs nothing."""

    __slots__ = (
        "spec",
        "id",
        "members",
        "ranks",
        "penalties",
        "pool",
        "strategy",
        "waiting",
        "ready",
        "staffed",
        "aht",
        "stats",
        "levels",
        "level_pools",
        "level_of",
        "level_staffed",
        "tiers",
        "unstaffed_since",
    )

    def __init__(self, spec: QueueSpec, strategy: Strategy) -> None:
        self.spec = spec
        self.id = spec.id
        ordered = spec.ordered_members
        self.members: list[str] = [m.operator for m in ordered]
        self.ranks: list[int] = [m.rank for m in ordered]
        #: member penalties (levels), by member position
        self.penalties: list[int] = [m.penalty for m in ordered]
        self.pool = FreePool(self.members)
        #: distinct penalties, ascending
        self.levels: list[int] = []
        #: one free pool per level (None: a single level)
        self.level_pools: list[FreePool] | None = None
        #: operator id -> index of their level in `levels` (None: a single level)
        self.level_of: dict[str, int] | None = None
        #: staffed members per level (kept only with `level_pools`)
        self.level_staffed: list[int] = []
        #: the tier rules, when they can hold anybody back (several levels)
        self.tiers: TierRules | None = None
        self.strategy = strategy
        #: sorted entries ``(-priority, arrived, seq, call_id)`` of every call
        #: in the queue: waiting, being offered, or holding a callback place
        self.waiting: list[Entry] = []
        #: the subset that may be offered now (waiting or holding a callback
        #: place, not in a retry pause), same order: what a free operator scans
        self.ready: list[Entry] = []
        #: members present with a status that takes calls
        self.staffed = 0
        self.aht = HandleTime(spec.expected_handle_time)
        self.stats = QueueStats()
        #: since when no member has been staffed (None: somebody is), for
        #: ``max_wait_no_operator``
        self.unstaffed_since: float | None = None
        self._build_levels({})

    def _build_levels(self, staffed: Mapping[int, int]) -> None:
        """(Re)build the level indexes from `penalties` and the free pool;
        `staffed` maps level values to their staffed counts so far."""
        levels = sorted(set(self.penalties))
        self.levels = levels
        if len(levels) < 2:
            self.level_pools = self.level_of = None
            self.level_staffed = []
            self.tiers = None
            return
        at = {v: i for i, v in enumerate(levels)}
        members = self.members
        self.level_of = {members[i]: at[p] for i, p in enumerate(self.penalties)}
        self.level_pools = [FreePool(members, self.pool.index) for _ in levels]
        for op_id, epoch in self.pool.free.items():
            self.level_pools[self.level_of[op_id]].add(op_id, epoch)
        self.level_staffed = [staffed.get(v, 0) for v in levels]
        self.tiers = self.spec.tier_rules

    def level_index(self, op_id: str) -> int:
        """Index in `levels` of the member's level (0 with a single level)."""
        lv = self.level_of
        return lv[op_id] if lv is not None else 0

    def add_member(self, op_id: str, penalty: int = 0) -> None:
        """A member joins at run time (not free, not staffed yet)."""
        if op_id in self.pool.index:
            return
        self.pool.add_member(op_id)
        self.ranks.append(0)
        self.penalties.append(penalty)
        if self.level_of is not None and penalty in self.levels:
            self.level_of[op_id] = self.levels.index(penalty)
        elif self.level_of is not None:
            self._build_levels(dict(zip(self.levels, self.level_staffed, strict=True)))
        elif penalty not in self.levels:
            self._build_levels({self.levels[0]: self.staffed} if self.levels else {})

    def level_opens(self) -> list[float]:
        """For each level, the wait in this queue after which it is open to a
        caller (0 for all without tier rules). See `flowengine.acd.model.TierRules`."""
        levels = self.levels
        rules = self.tiers
        if rules is None:
            return [0.0] * len(levels)
        staffed = self.level_staffed
        out = [0.0]
        opens = 0.0
        for k in range(1, len(levels)):
            if rules.no_agent_no_wait and staffed[k - 1] <= 0:
                pass  # nobody there to wait for: opens with the level below
            elif rules.multiply_by_level:
                opens = max(opens, rules.wait * levels[k])
            else:
                opens += rules.wait
            out.append(opens)
        return out

    def open_levels(self, waited: float) -> tuple[int, float | None]:
        """For a caller who has waited `waited` s in this queue: the index of
        the highest level open to them, and the wait at which the next one
        opens (None: all open)."""
        if self.tiers is None:
            return len(self.levels) - 1, None
        opens = self.level_opens()
        for k in range(1, len(opens)):
            if waited + EPS < opens[k]:
                return k - 1, opens[k]
        return len(opens) - 1, None


class CallRt:
    """A call known to the ACD, from arrival until it leaves or completes."""

    __slots__ = (
        "call_id",
        "caller",
        "priority",
        "manager",
        "explicit_manager",
        "exclusive",
        "exclusive_until",
        "arrived",
        "entered",
        "seq",
        "entry",
        "queue",
        "strategy",
        "own_strategy",
        "skill_steps",
        "own_skills",
        "widen_next",
        "ring_timeout_override",
        "max_wait_override",
        "total_deadline",
        "max_rounds",
        "operators",
        "state",
        "round",
        "offers",
        "eligible_at",
        "rounds",
        "orig_position",
        "operator",
        "answered_at",
        "connected_queue",
        "timers",
        "ready",
        "callback_failures",
        "callback_policy",
        "callback_operator_up",
    )

    def __init__(self, call_id: str, caller: str, priority: int, arrived: float, seq: int) -> None:
        self.call_id = call_id
        self.caller = caller
        self.priority = priority
        #: callbacks the caller did not pick up (not the operator's misses)
        self.callback_failures = 0
        #: a callback offer's operator has answered and the caller is being rung
        #: (before: a failure is the operator's miss; after: the caller's)
        self.callback_operator_up = False
        #: attempts and interval of a callback filed with its own (`file_callback`);
        #: None: the queue's ``callback`` setting, else its defaults
        self.callback_policy: CallbackPolicy | None = None
        self.manager: str | None = None
        self.explicit_manager: str | None = None
        self.exclusive: str | None = None
        self.exclusive_until = 0.0
        self.arrived = arrived
        self.entered = arrived
        self.seq = seq
        #: sort key in waiting lists; holds the id, not the call, so that a
        #: finished call is freed by reference counting (no cycle for the GC)
        self.entry: Entry = (-priority, arrived, seq, call_id)
        self.queue: QueueRt
        self.strategy: Strategy
        self.own_strategy = False
        self.skill_steps: Sequence[SkillStep] = ()
        self.own_skills = False
        self.widen_next = 1
        self.ring_timeout_override: float | None = None
        self.max_wait_override: float | None = None
        #: when the caller's total wait runs out (the earliest of the limits of
        #: the call and of every queue it has been in), None: no limit
        self.total_deadline: float | None = None
        self.max_rounds: int | None = None
        self.operators: frozenset[str] | None = None
        self.state = CallState.WAITING
        self.round: Round | None = None
        #: operator id -> the offer ringing them for this call
        self.offers: dict[str, Offer] = {}
        self.eligible_at = arrived
        self.rounds = 0
        self.orig_position = 0
        self.operator: str | None = None
        self.answered_at = 0.0
        self.connected_queue: QueueRt | None = None
        #: bit mask of call timer kinds scheduled (so leaving cancels only those)
        self.timers = 0
        #: in `QueueRt.ready`
        self.ready = False

    @property
    def ring_timeout(self) -> float:
        o = self.ring_timeout_override
        return o if o is not None else self.queue.spec.ring_timeout

    def requirement(self, now: float) -> tuple[tuple[str, int], ...]:
        """Skill levels required at this instant (steps widen with waiting)."""
        steps = self.skill_steps
        if not steps:
            return ()
        wait = now - self.entered + EPS
        cur = steps[0]
        for s in steps[1:]:
            if s.after <= wait:
                cur = s
            else:
                break
        return tuple(cur.required.items())

    def eligible(self, op: OperatorRuntime, now: float) -> bool:
        """May `op` take this call now (restrictions, manager phase, skills)?"""
        if self.operators is not None and op.id not in self.operators:
            return False
        if self.exclusive is not None and now < self.exclusive_until and op.id != self.exclusive:
            return False
        if self.skill_steps:
            skills = op.spec.skills
            for s, lvl in self.requirement(now):
                if skills.get(s, 0) < lvl:
                    return False
        q = self.queue
        if q.tiers is not None and q.level_index(op.id) > q.open_levels(now - self.entered)[0]:
            return False
        return True


class Ctx:
    """`OfferContext` for one call at one instant (see strategies.base)."""

    __slots__ = (
        "now",
        "call",
        "pool",
        "members",
        "ranks",
        "penalties",
        "levels",
        "top_level",
        "operators",
        "rng",
        "ring_timeout",
        "requirement",
        "_tried",
        "_restrict",
        "_exclusive",
        "_req",
        "_level_of",
        "_gate",
    )

    def __init__(
        self,
        now: float,
        call: CallRt,
        operators: Mapping[str, OperatorRuntime],
        rng: random.Random,
        tried: AbstractSet[str],
    ) -> None:
        q = call.queue
        self.now = now
        self.call = call
        self.pool = q.pool
        self.members = q.members
        self.ranks = q.ranks
        self.penalties = q.penalties
        lp = q.level_pools
        #: the level pools, lowest first (empty: one level), and the highest open
        self.levels: Sequence[FreePool] = lp if lp is not None else ()
        self._level_of = q.level_of
        self._gate: int | None = None
        if lp is None:
            self.top_level = 0
        elif q.tiers is None:
            self.top_level = len(lp) - 1
        else:
            top = q.open_levels(now - call.entered)[0]
            self.top_level = top
            if top < len(lp) - 1:
                self._gate = top
        self.operators = operators
        self.rng = rng
        self.ring_timeout = call.ring_timeout
        req = call.requirement(now) if call.skill_steps else ()
        self._req = req
        self.requirement = dict(req) if req else _EMPTY
        self._tried = tried
        self._restrict = call.operators
        ex = call.exclusive
        self._exclusive = ex if ex is not None and now < call.exclusive_until else None

    def accept(self, op_id: str) -> bool:
        if op_id in self._tried:
            return False
        if self._restrict is not None and op_id not in self._restrict:
            return False
        if self._exclusive is not None and op_id != self._exclusive:
            return False
        if self._gate is not None:
            assert self._level_of is not None
            if self._level_of[op_id] > self._gate:
                return False  # a level the caller has not reached yet
        if self._req:
            skills = self.operators[op_id].spec.skills
            for s, lvl in self._req:
                if skills.get(s, 0) < lvl:
                    return False
        return True

    def ok(self, op_id: str) -> bool:
        return op_id in self.pool.free and self.accept(op_id)
