"""The call-centre description ("centre file"): operators, statuses, queues.

A centre file is JSON or YAML. It is a *definition*: the ACD core
(`flowengine.acd.core.ACD`) builds its run-time state from it and never writes
back. Until the service stores these in a database, `run`, `test` and
`simulate` take one with ``--centre FILE``.

Validation happens in two layers, both inside ``Centre.model_validate``:

* field by field (types, ranges, unknown keys are errors: a misspelt key in a
  hand-written YAML file must not be silently ignored);
* cross-references, collected together so the user sees every problem at once:
  unknown operators in member lists, unknown overflow targets, unknown
  strategies and their parameters, duplicate ids, personal managers who are
  not members of the queue.

`load_centre(path)` turns every problem into a `CentreError` whose message
names the file and the place, e.g.
``centre.yaml: queues[1].members[0].operator: unknown operator 'ivanov'``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from flowengine.acd.calendar import Calendar
from flowengine.documents import DocumentError, load_document
from flowengine.errors import Problem, ProblemsError
from flowengine.field_errors import problems_from_validation as field_problems
from flowengine.monitor.settings import AlertSettings
from flowengine.telephony.dialpolicy import DialPolicy, PatternError, compile_pattern

__all__ = [
    "BUILTIN_STATUSES",
    "Announcements",
    "CallbackPolicy",
    "Centre",
    "CentreError",
    "CustomStatus",
    "DialPolicySpec",
    "EMPTY_CONDITIONS",
    "LocalizedName",
    "Member",
    "ON_DEMAND",
    "OperatorRetryDelays",
    "OperatorSpec",
    "OverflowRule",
    "PhoneTarget",
    "QueueSpec",
    "RetryDelays",
    "SkillStep",
    "TierRules",
    "load_centre",
]

#: Statuses every centre has. The value says whether an operator in that
#: status may be offered calls. ``break`` carries a free-text reason.
BUILTIN_STATUSES: dict[str, bool] = {
    "available": True,
    "not_available": False,
    "break": False,
    # mod_callcenter's "Available (On Demand)": takes one call; when its
    # conversation ends the ACD sets the operator not available
    "available_on_demand": True,
}

#: the status an operator takes one call in, then is set not available
ON_DEMAND = "available_on_demand"

#: operator states a queue's ``join_empty`` / ``leave_when_empty`` may count as
#: "nobody there" (app_queue's joinempty / leavewhenempty conditions)
EmptyCondition = Literal["paused", "unavailable", "inuse", "ringing", "wrapup"]
EMPTY_CONDITIONS: tuple[str, ...] = ("paused", "unavailable", "inuse", "ringing", "wrapup")
#: offer failures that may count toward auto-break (`QueueSpec.auto_break_on`)
MissReason = Literal["no_answer", "busy", "rejected", "failed"]

#: Names reserved for the system-set state; a custom status may not reuse them,
#: because `OperatorRuntime.time_in` looks both up by name.
RESERVED_NAMES = frozenset({"idle", "ringing", "talking", "wrap_up"})

Seconds = Annotated[float, Field(ge=0)]


def _int_as_text(v: Any) -> Any:
    return str(v) if isinstance(v, int) else v


#: An id or phone number: YAML reads ``901`` unquoted as a number; take it as text.
Text = Annotated[str, BeforeValidator(_int_as_text)]
SkillLevel = Annotated[int, Field(ge=1, le=10)]
RequiredLevel = Annotated[int, Field(ge=0, le=10)]


class CentreError(ProblemsError):
    """A centre file could not be loaded; carries every problem found."""

    what = "centre file"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LocalizedName(_Model):
    """A display name in English and Russian; a plain string sets both."""

    en: str = ""
    ru: str = ""

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"en": data, "ru": data}
        return data

    def get(self, lang: str = "en") -> str:
        """The name in `lang`, falling back to the other language."""
        first, second = (self.ru, self.en) if lang == "ru" else (self.en, self.ru)
        return first or second


class PhoneTarget(_Model):
    """One phone of an operator, rung `after` seconds into each offer.

    A desk phone at 0 s and a mobile at 15 s means: ring the desk phone, and if
    nobody has answered after 15 s ring the mobile too (the desk phone keeps
    ringing). The offer as a whole ends after the ring timeout, so a target
    whose `after` is not below the ring timeout is never used.
    """

    number: Text = Field(min_length=1)
    after: Seconds = 0.0

    @model_validator(mode="before")
    @classmethod
    def _from_scalar(cls, data: Any) -> Any:
        if isinstance(data, str | int):
            return {"number": str(data)}
        return data


class OperatorRetryDelays(_Model):
    """An operator's own delays after a miss, by reason (mod_callcenter's
    ``no-answer-delay-time``, ``busy-delay-time``, ``reject-delay-time``);
    a reason left out uses the queue's `RetryDelays`."""

    no_answer: Seconds | None = None
    busy: Seconds | None = None
    rejected: Seconds | None = None
    failed: Seconds | None = None


class SimulatedHold(_Model):
    """On the simulator: a `share` (0..1) of the operator's answered calls is
    put on hold once, `after` seconds into the conversation, for `seconds`."""

    share: Annotated[float, Field(ge=0, le=1)] = 0.0
    after: Seconds = 10.0
    seconds: Annotated[float, Field(gt=0)] = 20.0


class SimulatedTransfer(_Model):
    """On the simulator: a `share` (0..1) of the operator's answered calls is
    handed on to `to` (an operator's id or extension, a queue id or a
    number, as an operator would type it), `after` seconds into the conversation."""

    share: Annotated[float, Field(ge=0, le=1)] = 0.0
    after: Seconds = 30.0
    to: Text = Field(min_length=1, max_length=64)


class OperatorSimulation(_Model):
    """How the simulator's virtual operator behaves beyond answering and
    talking (`flowengine simulate`, `run`, `test`, `serve`); real phones ignore it."""

    hold: SimulatedHold | None = None
    transfer: SimulatedTransfer | None = None


class OperatorSpec(_Model):
    """A person who takes calls."""

    id: Text = Field(min_length=1)
    name: str = ""
    extension: Text | None = None
    targets: tuple[PhoneTarget, ...] = ()
    skills: dict[str, SkillLevel] = Field(default_factory=dict)
    status: str = "available"
    break_reason: str | None = None
    #: replaces the queues' ``retry_delays`` for this operator, reason by reason
    retry_delays: OperatorRetryDelays = OperatorRetryDelays()
    #: the password of the operator's SIP phone account (user name: the
    #: extension, else the id); None: no SIP account. Never shown by the API.
    sip_secret: str | None = Field(default=None, min_length=1, repr=False)
    #: the simulator's virtual operator: holds and transfers it makes
    sim: OperatorSimulation | None = None

    @model_validator(mode="after")
    def _default_target(self) -> OperatorSpec:
        if not self.targets:
            if self.extension is None:
                raise ValueError("an operator needs an extension or at least one target")
            object.__setattr__(self, "targets", (PhoneTarget(number=self.extension),))
        else:
            ordered = tuple(sorted(self.targets, key=lambda t: t.after))
            object.__setattr__(self, "targets", ordered)
        return self


class CustomStatus(_Model):
    """A status declared by the centre, e.g. ``training`` or ``backoffice``."""

    id: str = Field(min_length=1)
    name: LocalizedName = LocalizedName()
    available: bool = False


class Member(_Model):
    """An operator's membership of a queue.

    Order in the member list is the queue's linear order (linear, round robin,
    cumulative and sequential-by-default use it). `rank` is the competence
    rating used by the ``priority`` strategy: higher ranks are offered first.
    `penalty` (alias `level`: app_queue's member penalty, mod_callcenter's
    tier level) puts the member on a level: every strategy tries the lowest
    level first (``wrandom`` weighs by it instead), and the queue's
    `tier_rules` may hold callers back from higher levels. `position` orders
    members within a level (mod_callcenter's tier position); the queue's
    member order is by penalty, then position, then as listed.
    A plain string or number is shorthand for ``{operator: ...}``.
    """

    operator: Text
    rank: int = 0
    penalty: Annotated[int, Field(ge=0, validation_alias=AliasChoices("penalty", "level"))] = 0
    position: Annotated[int, Field(ge=0)] = 0

    @model_validator(mode="before")
    @classmethod
    def _from_scalar(cls, data: Any) -> Any:
        if isinstance(data, str | int):
            return {"operator": str(data)}
        if isinstance(data, dict) and "penalty" in data and "level" in data:
            raise ValueError("give either 'penalty' or 'level', not both")
        if isinstance(data, dict) and "priority" in data and "rank" not in data:
            data = {**data, "rank": data["priority"]}
            del data["priority"]
        return data


class TierRules(_Model):
    """When a waiting caller reaches the queue's higher levels (mod_callcenter's
    tier rules). Without them every level is open from the start; lower levels
    are still tried first.

    The lowest level is open at once. Each further level opens `wait` seconds
    (of waiting in this queue) after the one below it, or, with
    `multiply_by_level`, after `wait` × its level number. With
    `no_agent_no_wait` a level where no member is logged in with an available
    status does not hold callers back: the next level opens together with it.
    """

    wait: Annotated[float, Field(gt=0)]
    multiply_by_level: bool = False
    no_agent_no_wait: bool = False


class SkillStep(_Model):
    """Skill levels required once the caller has waited `after` seconds.

    Steps widen the requirement as the caller waits: ``[{after: 0, required:
    {english: 8}}, {after: 30, required: {english: 5}}, {after: 60,
    required: {}}]`` needs level 8 first, 5 after 30 s and anybody after 60 s.
    """

    after: Seconds = 0.0
    required: dict[str, RequiredLevel] = Field(default_factory=dict)


class OverflowRule(_Model):
    """Move a waiting call to another queue after `after` seconds in this one."""

    after: Annotated[float, Field(gt=0)]
    to: str


class RetryDelays(_Model):
    """How long an operator is not offered calls after missing one, by reason."""

    no_answer: Seconds = 0.0
    busy: Seconds = 0.0
    rejected: Seconds = 0.0
    failed: Seconds = 0.0


def _on_off(v: Any) -> Any:
    # YAML 1.1 reads unquoted on/off/yes/no as booleans
    if v is True:
        return "on"
    if v is False:
        return "off"
    return v


def _conditions(v: Any) -> Any:
    """``"paused,unavailable"`` (app_queue's spelling) as a list; ``false`` none."""
    if v is False or v is None:
        return ()
    if isinstance(v, str):
        return tuple(part.strip() for part in v.split(",") if part.strip())
    return v


#: conditions under which a queue counts as empty (see `QueueSpec.join_empty`)
EmptyConditions = Annotated[tuple[EmptyCondition, ...], BeforeValidator(_conditions)]


class Announcements(_Model):
    """When to tell waiting callers their position and estimated wait.

    Every `period` seconds of waiting (and on entry with `on_entry`) the core
    emits `Announce` with both figures; what is actually said (prompts,
    language, whether to mention the wait) is the Queue component's business.
    """

    period: Annotated[float, Field(gt=0)] | None = None
    on_entry: bool = False
    #: seconds between announcements of the queue's own message (app_queue's
    #: periodic-announce, mod_callcenter's announce-frequency), counted apart
    #: from `period`; the Queue node says what (its ``periodic_prompt``)
    periodic: Annotated[float, Field(gt=0)] | None = None
    #: with more than this many callers ahead, the position is not said, only
    #: "more than N callers are ahead of you" (app_queue announce-position-limit)
    ahead_limit: Annotated[int, Field(ge=0)] | None = None
    #: the estimated wait in position announcements: every time (``on``),
    #: in the first one that has an estimate (``once``) or never (``off``)
    #: (app_queue announce-holdtime yes / once / no)
    hold_time: Annotated[Literal["on", "once", "off"], BeforeValidator(_on_off)] = "on"


class CallbackPolicy(_Model):
    """Calling back a caller who left the line keeping their place.

    An attempt the caller does not pick up (no answer within the ring
    timeout, busy, rejected, failed) counts toward `attempts`; after the last
    one the ACD gives up with `NoAnswer`. The next attempt waits `interval`
    seconds (the place is kept meanwhile). Neither is held against the
    operator who was reserved for the attempt. In a centre file ``callback:
    true`` means the defaults, ``false`` (the default) no callbacks.
    """

    attempts: Annotated[int, Field(ge=1)] = 3
    interval: Seconds = 60.0


def _callback_policy(v: Any) -> Any:
    if v is True:
        return CallbackPolicy()
    if v is False or v is None:
        return None
    if isinstance(v, dict | CallbackPolicy):
        return v
    raise ValueError("callback must be true, false or {attempts: N, interval: SECONDS}")


class QueueSpec(_Model):
    """A queue (department): who answers, in what order, and its limits.

    Times are seconds. ``None`` for `max_wait` / `max_total_wait` /
    `max_length` means unlimited. `max_wait` bounds the wait in this queue
    (it starts again in a queue the call overflows to); `max_total_wait`
    bounds the caller's whole stay in the ACD, from the first arrival and
    across overflows, for calls that have been in this queue.
    `no_operators` says what happens when nobody can take calls: ``wait``
    (queue anyway), ``unavailable`` (refuse, and empty the queue, when no
    member is logged in with an available status) or ``busy`` (refuse when no
    member is free to be rung right now — the Transfer component's mode).
    """

    id: Text = Field(min_length=1)
    name: LocalizedName = LocalizedName()
    strategy: str = "ring_all"
    strategy_params: dict[str, Any] = Field(default_factory=dict)
    members: tuple[Member, ...] = ()
    skills: tuple[SkillStep, ...] = ()
    ring_timeout: Annotated[float, Field(gt=0)] = 20.0
    retry: Seconds = 5.0
    wrap_up: Seconds = 0.0
    max_wait: Annotated[float, Field(gt=0)] | None = None
    max_total_wait: Annotated[float, Field(gt=0)] | None = None
    max_length: Annotated[int, Field(ge=0)] | None = None
    max_rounds: Annotated[int, Field(ge=1)] | None = None
    service_level: Annotated[float, Field(gt=0)] = 20.0
    service_level_target: Annotated[float, Field(gt=0, le=1)] = 0.8
    overflow: OverflowRule | None = None
    announce: Announcements = Announcements()
    #: None: no callbacks (``callback: false``); ``callback: true`` = the defaults
    callback: Annotated[CallbackPolicy | None, BeforeValidator(_callback_policy)] = None
    auto_break_after: Annotated[int, Field(ge=1)] | None = None
    retry_delays: RetryDelays = RetryDelays()
    personal_managers: dict[str, str] = Field(default_factory=dict)
    no_operators: Literal["wait", "unavailable", "busy"] = "wait"
    #: record each conversation of this queue (both parties; the call gets a
    #: ``recording_made`` event) on backends that can
    record: bool = False
    expected_handle_time: Annotated[float, Field(gt=0)] = 180.0
    #: a caller who hung up and calls again (same number, same queue) within
    #: this many seconds gets their place back (mod_callcenter
    #: abandoned-resume-allowed + discard-abandoned-after); None: off
    abandoned_resume: Annotated[float, Field(gt=0)] | None = None
    #: refuse a new caller (exit no_operators, reason ``join_empty``) when every
    #: member is in one of these conditions (app_queue joinempty)
    join_empty: EmptyConditions = ()
    #: send waiting callers out (reason ``leave_empty``) as soon as every member
    #: is in one of these conditions (app_queue leavewhenempty)
    leave_when_empty: EmptyConditions = ()
    #: a waiting caller leaves (reason ``no_operator_timeout``) after this many
    #: seconds with no member logged in with an available status
    #: (mod_callcenter max-wait-time-with-no-agent); None: never
    max_wait_no_operator: Annotated[float, Field(gt=0)] | None = None
    #: a caller who joins when the queue has been without operators for
    #: `max_wait_no_operator` already waits only this long (mod_callcenter
    #: max-wait-time-with-no-agent-time-reached)
    max_wait_no_operator_reached: Seconds = 5.0
    #: the misses that count toward `auto_break_after`: only no-answers by
    #: default, as app_queue (add busy / failed for its autopausebusy /
    #: autopauseunavail); the others are recorded but neither count nor break
    #: the streak
    auto_break_on: tuple[MissReason, ...] = ("no_answer",)
    #: None: every level open from the start (see `Member.penalty`)
    tier_rules: TierRules | None = None

    @field_validator("personal_managers", mode="before")
    @classmethod
    def _table_text(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {str(k): str(val) if isinstance(val, int) else val for k, val in v.items()}
        return v

    @field_validator("skills")
    @classmethod
    def _steps_increase(cls, v: tuple[SkillStep, ...]) -> tuple[SkillStep, ...]:
        afters = [s.after for s in v]
        if any(b <= a for a, b in zip(afters, afters[1:], strict=False)):
            raise ValueError("skill steps must have strictly increasing 'after'")
        return v

    @property
    def ordered_members(self) -> list[Member]:
        """The members in the queue's order: by penalty, then position, then as listed."""
        ms = self.members
        if all(m.penalty == 0 and m.position == 0 for m in ms):
            return list(ms)
        return sorted(ms, key=lambda m: (m.penalty, m.position))  # stable: as listed

    @property
    def member_ids(self) -> list[str]:
        """Member operator ids in the queue's order (`ordered_members`)."""
        return [m.operator for m in self.ordered_members]


def _dial_pattern(text: str) -> str:
    try:
        compile_pattern(text)
    except PatternError as e:
        raise ValueError(str(e)) from None
    return text


DialPatternText = Annotated[Text, AfterValidator(_dial_pattern)]


class DialPolicySpec(_Model):
    """Which numbers computed at run time scenarios may dial (docs/dial-policy.md).

    `deny` patterns are tried first; then a number must match an `allow`
    pattern or be an operator's extension. Numbers written literally in a
    scenario are not subject to these lists (only to the dial-string rules).
    The default — nothing listed — lets computed numbers reach the
    operators' extensions and nothing else.
    """

    allow: tuple[DialPatternText, ...] = ()
    deny: tuple[DialPatternText, ...] = ()


class HandOverSettings(_Model):
    """How an operator's hand-over rings its target (docs/acd.md, "Operators
    hand callers on"): `ring_timeout` for an operator's phone or a number,
    `max_wait` for the whole wait for an operator (then "no_answer")."""

    ring_timeout: Annotated[float, Field(gt=0)] = 20.0
    max_wait: Annotated[float, Field(gt=0)] = 60.0


class Centre(_Model):
    """The whole call-centre description."""

    version: Literal[1] = 1
    operators: tuple[OperatorSpec, ...] = ()
    statuses: tuple[CustomStatus, ...] = ()
    queues: tuple[QueueSpec, ...] = ()
    dial_policy: DialPolicySpec = DialPolicySpec()
    #: app_queue's ``ringinuse``: false (the default) keeps an operator whose
    #: phone is on a call the engine bridged outside the ACD (a Transfer to their
    #: number) from being offered queue calls until that call ends
    ring_in_use: bool = False
    #: the time zone of calendar windows ("this hour", "today" of the
    #: fewest_calls strategy) and of wall-clock recalculation hours
    timezone: str = "UTC"
    #: what the live monitor raises alerts for (docs/monitor.md); none by default
    alerts: AlertSettings = AlertSettings()
    #: how an operator's hand-over of a caller rings its target
    hand_over: HandOverSettings = HandOverSettings()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            Calendar(v)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            shown = v if len(v) <= 60 else v[:57] + "..."
            raise ValueError(f"unknown time zone '{shown}' (e.g. Europe/Moscow, UTC)") from None
        return v

    @model_validator(mode="before")
    @classmethod
    def _departments_alias(cls, data: Any) -> Any:
        if isinstance(data, dict) and "departments" in data:
            if "queues" in data:
                raise ValueError("give either 'queues' or 'departments', not both")
            data = dict(data)
            data["queues"] = data.pop("departments")
        return data

    @model_validator(mode="after")
    def _cross_references(self) -> Centre:
        found = list(_check_references(self))
        if found:
            errors = [
                InitErrorDetails(
                    type=PydanticCustomError("centre_reference", message),
                    loc=loc,
                    input=value,
                )
                for loc, message, value in found
            ]
            raise ValidationError.from_exception_data("Centre", errors)
        return self

    # -- lookups used by the core ------------------------------------------
    def operator(self, op_id: str) -> OperatorSpec:
        for op in self.operators:
            if op.id == op_id:
                return op
        raise KeyError(op_id)

    def queue(self, queue_id: str) -> QueueSpec:
        for q in self.queues:
            if q.id == queue_id:
                return q
        raise KeyError(queue_id)

    @functools.cached_property
    def dial_rules(self) -> DialPolicy:
        """`dial_policy` compiled, with the operators' extensions always allowed."""
        extensions = (o.extension for o in self.operators if o.extension)
        return DialPolicy(
            self.dial_policy.allow, self.dial_policy.deny, exact=extensions, name="centre"
        )

    def status_table(self) -> dict[str, bool]:
        """Every known status id mapped to "may be offered calls"."""
        table = dict(BUILTIN_STATUSES)
        table.update({s.id: s.available for s in self.statuses})
        return table


Loc = tuple[str | int, ...]


def _check_references(c: Centre) -> Iterable[tuple[Loc, str, Any]]:
    """Yield (location, message, offending value) for every cross-reference problem."""
    # late: strategies import this module
    from flowengine.acd.strategies import STRATEGIES, member_resolver

    statuses = c.status_table()
    for i, s in enumerate(c.statuses):
        if s.id in BUILTIN_STATUSES:
            yield (
                ("statuses", i, "id"),
                f"status '{s.id}' is built in and cannot be redeclared",
                s.id,
            )
        elif s.id in RESERVED_NAMES:
            yield (
                ("statuses", i, "id"),
                f"status '{s.id}' clashes with an operator state name",
                s.id,
            )
    yield from _duplicates("statuses", [s.id for s in c.statuses], "status")

    op_ids = {o.id for o in c.operators}
    by_ext = {o.extension: o.id for o in c.operators if o.extension}
    yield from _duplicates("operators", [o.id for o in c.operators], "operator")
    yield from _duplicates(
        "operators", [o.extension for o in c.operators], "extension", field="extension"
    )
    for i, o in enumerate(c.operators):
        if o.status not in statuses:
            yield ("operators", i, "status"), f"unknown status '{o.status}'", o.status

    q_ids = {q.id for q in c.queues}
    yield from _duplicates("queues", [q.id for q in c.queues], "queue")
    for qi, q in enumerate(c.queues):
        members = q.member_ids
        for mi, m in enumerate(q.members):
            if m.operator not in op_ids:
                yield (
                    ("queues", qi, "members", mi, "operator"),
                    f"unknown operator '{m.operator}'",
                    m.operator,
                )
        seen: set[str] = set()
        for mi, m in enumerate(q.members):
            if m.operator in seen:
                yield (
                    ("queues", qi, "members", mi, "operator"),
                    f"operator '{m.operator}' is listed twice",
                    m.operator,
                )
            seen.add(m.operator)
        if q.overflow is not None:
            if q.overflow.to not in q_ids:
                yield (
                    ("queues", qi, "overflow", "to"),
                    f"unknown queue '{q.overflow.to}'",
                    q.overflow.to,
                )
            elif q.overflow.to == q.id:
                yield (
                    ("queues", qi, "overflow", "to"),
                    "a queue cannot overflow to itself",
                    q.overflow.to,
                )
        for key, op in q.personal_managers.items():
            loc: Loc = ("queues", qi, "personal_managers", key)
            if op not in op_ids:
                yield loc, f"unknown operator '{op}'", op
            elif op not in members:
                yield loc, f"operator '{op}' is not a member of queue '{q.id}'", op
        cls = STRATEGIES.get(q.strategy)
        if cls is None:
            known = ", ".join(sorted(STRATEGIES))
            yield (
                ("queues", qi, "strategy"),
                f"unknown strategy '{q.strategy}' (known: {known})",
                q.strategy,
            )
            continue
        resolve = member_resolver(members, by_ext)
        for sub, message, value in cls.problems(q.strategy_params, q, resolve):
            yield ("queues", qi, "strategy_params", *sub), message, value


def _duplicates(
    section: str, ids: list[str | None], what: str, field: str = "id"
) -> Iterable[tuple[Loc, str, Any]]:
    seen: set[str] = set()
    for i, x in enumerate(ids):
        if x is None:
            continue
        if x in seen:
            yield (section, i, field), f"duplicate {what} '{x}'", x
        seen.add(x)


def problems_from_validation(err: ValidationError) -> list[Problem]:
    """Pydantic errors as `Problem`s with JSON-path-like locations, echoing
    the bad value as every document's errors do (`flowengine.field_errors`)."""
    return field_problems(err)


def parse_centre(data: Any, source: str | None = None) -> Centre:
    """Validate already-parsed data; raise `CentreError` naming `source`."""
    if not isinstance(data, dict):
        raise CentreError([Problem("the centre file must be a mapping at the top level")], source)
    try:
        return Centre.model_validate(data)
    except ValidationError as e:
        raise CentreError(problems_from_validation(e), source) from None


def load_centre(path: str | Path) -> Centre:
    """Read a centre file (``.json``, ``.yaml`` or ``.yml``) and validate it.

    Malformed JSON/YAML is reported with its line and column; every semantic
    problem is reported at once, each with its place in the document.
    """
    p = Path(path)
    try:
        data = load_document(p, yaml_unless_json=True)
    except DocumentError as exc:
        raise CentreError(exc.problems, str(p)) from None
    return parse_centre(data, str(p))
