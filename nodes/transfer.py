"""Transfer / Переключение: connect the caller to a number, an operator or a department.

    {"to": "number", "numbers": ["+74951112233", "{MANAGER_MOBILE}"], "allow": ["+79XXXXXXXXX"],
     "strategy": "sequential", "ring_timeout": 20, "total_timeout": 60}

    {"to": "operator", "operator": "904", "ring_timeout": 25}

    {"to": "department", "department": "support", "strategy": "cumulative", "interval": 5}

Ring strategies: `all` (every target at once), `sequential` (one after
another, `ring_timeout` each), `cumulative` (add the next target every
`interval` s, keeping the earlier ones ringing), `random` (a random target
per attempt, then another). `total_timeout` bounds the whole transfer.
Without `strategy`, numbers ring all at once and a department rings as its
own strategy in the centre file says (with its own strategy parameters).

Numbers are rung directly: the first to answer is connected, the others are
released at once (ringing ones cancelled, one that answered in the same
instant hung up); an operator whose number answered is busy for the ACD
until the conversation ends (unless the centre has `ring_in_use`).
Operators and departments go through the ACD, so an
operator who is talking, in wrap-up or on a break is never rung, and the
answering operator is busy for the ACD until the conversation and wrap-up end.
Any operator of the centre can be the target, member of a queue or not: the
call waits in the operator's private queue, which counts in no queue's
statistics.

`blind: true` hands a single number the call for good (SIP REFER): the far
end accepts the request, then reports whether the target took the call. That
may take a while; `total_timeout` bounds the wait. Events `transfer_accepted`
and then `transfer_completed` or `transfer_failed` (refused, failed, timeout)
record it.

Dial policy (docs/dial-policy.md): a number is a dial string — a leading
`+` and 0-9 * # only, no SIP URI, at most 32 characters. A number with an
`{expression}` hole is computed at run time, and before anything rings it
must match the centre's `dial_policy` (its `allow` patterns or an operator's
extension, and none of its `deny` patterns) and the node's own `allow`
patterns; with neither a centre nor `allow`, it is refused. Patterns: `X`
any digit, `Z` 1-9, `N` 2-9, `[1-5]` a set, a final `.` one or more digits
(`9XX`, `+7.`). A refused number is a `dial_blocked` event and the node
leaves by "error" (code dial_blocked) without ringing anyone. A number built
from what the caller controls (Gather and Recognize variables, digits(),
callerid(), calledid()) needs `allow` on the node, or `flowengine validate`
reports it (dial_unrestricted).

Whoever answers may put the caller on hold (the caller hears music on
hold) and hand the caller on from their phone or desk: to an operator of
the centre (id or extension), a queue of the centre, or a number the
centre's dial policy allows; anything else is refused and the
conversation goes on. The caller is then rung through to the target (see
docs/acd.md, "Operators hand callers on"); whether that succeeds or not,
the node then leaves by "answered", as after any conversation.

Exits: "answered" (the conversation is over; for a blind transfer: the call
was handed over), "busy" (every target busy or nobody free), "no_answer"
(rang out), "failed" (no target could be rung; a blind transfer that did not
happen, with the caller still on the line).
"""

from __future__ import annotations

import asyncio
from contextlib import nullcontext
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from flowengine.acd import decisions as d
from flowengine.acd.driver import attached_driver, driver_of
from flowengine.acd.handover import hand_on, talk
from flowengine.components.fields import DialPatternText, TemplateText, VarName
from flowengine.components.node import Dialled, NodeType, ParamsModel
from flowengine.components.registry import registry
from flowengine.errors import NodeError
from flowengine.events import (
    DialAttempted,
    DialBlocked,
    TransferAccepted,
    TransferCompleted,
    TransferFailed,
)
from flowengine.expr import ExpressionError, Template, compile_template
from flowengine.telephony import DialOutcome, Leg, dialing
from flowengine.telephony.causes import ANSWERED_ELSEWHERE, CANCELLED, NO_ANSWER
from flowengine.telephony.dialpolicy import DialPolicy, check_destination, check_number

if TYPE_CHECKING:
    from flowengine.runtime.context import CallContext

#: Transfer's ring strategies and the ACD strategies that implement them
ACD_STRATEGY = {"all": "ring_all", "sequential": "sequential", "cumulative": "cumulative", "random": "random"}


def _literal_number(text: str) -> str:
    """A number without holes is checked when the scenario loads, not when a caller waits."""
    try:
        template = compile_template(text)
    except ExpressionError:
        return text  # the loader reports it, with the column
    if not _is_dynamic(template):
        verdict = check_number(text.strip())
        if not verdict.allowed:
            raise ValueError(f"'{text}' is not a number the engine can dial: {verdict.detail}")
    return text


Number = Annotated[TemplateText, AfterValidator(_literal_number)]


class TransferParams(ParamsModel):
    to: Literal["number", "operator", "department"] = "number"
    numbers: list[Number] = Field(default_factory=list, description="for to=number; {expression} holes allowed")
    allow: list[DialPatternText] = Field(
        default_factory=list,
        description="dial patterns a number with {expression} holes must match (9XX, +7., [1-5]XX), "
        "on top of the centre's dial_policy",
    )
    operator: str | None = Field(default=None, description="operator id, for to=operator")
    department: str | None = Field(default=None, description="queue/department id, for to=department")
    strategy: Literal["all", "sequential", "cumulative", "random"] | None = Field(
        default=None,
        description="how to ring; unset: numbers all at once, a department by its own strategy",
    )
    ring_timeout: float = Field(default=20.0, gt=0, le=600, description="seconds per attempt")
    total_timeout: float = Field(default=60.0, gt=0, le=3600, description="seconds for the whole transfer")
    interval: float = Field(default=5.0, gt=0, le=600, description="cumulative: add the next target every N s")
    blind: bool = Field(default=False, description="hand the call over for good (one number only)")
    operator_variable: VarName | None = Field(default=None, description="gets who answered")
    record: bool = Field(default=False, description="record the conversation (both parties)")

    @model_validator(mode="after")
    def _target(self) -> TransferParams:
        if self.to == "number" and not self.numbers:
            raise ValueError("to=number needs 'numbers'")
        if self.to == "operator" and not self.operator:
            raise ValueError("to=operator needs 'operator'")
        if self.to == "department" and not self.department:
            raise ValueError("to=department needs 'department'")
        if self.blind and (self.to != "number" or len(self.numbers) != 1):
            raise ValueError("blind transfer takes exactly one number")
        return self


@registry.register
class TransferNode(NodeType[TransferParams]):
    type_name = "transfer"
    title_en = "Transfer"
    title_ru = "Переключение"
    description = "Ring a number, an operator or a department and connect the caller"
    category = "acd"
    Params = TransferParams
    exits = ("answered", "busy", "no_answer", "failed")
    #: after the conversation (or a blind transfer) the call may simply end
    optional_exits = frozenset({"answered"})
    exit_conditions = {"busy": "not with `blind`", "no_answer": "not with `blind`"}
    waits_for_caller = True
    needs_media = True
    __slots__ = ("_numbers", "_allow")

    def __init__(self, node_id: str, params: TransferParams) -> None:
        super().__init__(node_id, params)
        self._numbers = [self.template(t) for t in params.numbers]
        self._allow = DialPolicy(params.allow, name="node") if params.allow else None

    def writes(self) -> set[str]:
        p = self.params
        return {p.operator_variable} if p.operator_variable else set()

    def writes_on(self, exit_name: str) -> set[str]:
        return self.writes() if exit_name == "answered" else set()

    def possible_exits(self) -> tuple[str, ...]:
        if self.params.to == "number" and self.params.blind:
            return ("answered", "failed")  # handed over, or not: nobody rings here
        return self.all_exits

    def dialled(self) -> list[Dialled]:
        p = self.params
        if p.to != "number":
            return []
        return [Dialled(f"numbers[{i}]", text, tuple(p.allow)) for i, text in enumerate(p.numbers)]

    def references(self) -> dict[str, set[str]]:
        p = self.params
        if p.to == "operator" and p.operator:
            return {"operator": {p.operator}}
        if p.to == "department" and p.department:
            return {"queue": {p.department}}
        return {}

    async def run(self, ctx: CallContext) -> str:
        p = self.params
        if p.to == "number":
            numbers = self._permitted_numbers(ctx)
            if not numbers:
                return "failed"
            if p.blind:
                return await self._blind(ctx, numbers[0])
            return await self._ring_numbers(ctx, numbers)
        return await self._via_acd(ctx)

    async def _blind(self, ctx: CallContext, target: str) -> str:
        transfer = ctx.call.blind_transfer(target, timeout=self.params.total_timeout)
        if await transfer.accepted():
            ctx.emit(TransferAccepted, node_id=self.id, target=target)
        result = await transfer.result()
        if result.ok:
            ctx.emit(TransferCompleted, node_id=self.id, target=target, sip_status=result.sip_status)
            return "answered"
        ctx.emit(
            TransferFailed, node_id=self.id, target=target, reason=result.reason, sip_status=result.sip_status
        )
        return "failed"

    # ---- numbers, rung directly ------------------------------------------------------
    def _permitted_numbers(self, ctx: CallContext) -> list[str]:
        """The numbers rendered for this call, once the dial policy has passed every one.

        An empty number (a variable with nothing in it) is skipped. If the
        policy refuses any number, nothing is rung: each refusal is a
        `dial_blocked` event and the node fails with code "dial_blocked".
        """
        driver = attached_driver(ctx)
        centre = driver.centre.dial_rules if driver is not None else None
        numbers: list[str] = []
        refused: list[str] = []
        for template in self._numbers:
            number = ctx.render(template).strip()
            if not number:
                continue
            verdict = check_destination(
                number, dynamic=_is_dynamic(template), centre=centre, node=self._allow
            )
            if verdict.allowed:
                numbers.append(number)
                continue
            shown = number if len(number) <= 64 else number[:63] + "…"
            ctx.emit(
                DialBlocked,
                node_id=self.id,
                number=shown,
                reason=verdict.reason,
                policy=verdict.policy,
                rule=verdict.rule,
            )
            refused.append(f"{shown!r}: {verdict.detail}")
        if refused:
            raise NodeError("dial policy refused " + "; ".join(refused), code="dial_blocked")
        return numbers

    async def _ring_numbers(self, ctx: CallContext, numbers: list[str]) -> str:
        p = self.params
        strategy = p.strategy or "all"
        loop = asyncio.get_running_loop()
        pending = list(numbers)
        if strategy == "random":
            ctx.rng().shuffle(pending)
        deadline = loop.time() + p.total_timeout
        live: dict[asyncio.Future[DialOutcome], Leg] = {}
        outcomes: list[DialOutcome] = []
        next_add = loop.time()
        timed_out = False
        # a number that is an operator's phone is reported as that operator's
        driver = attached_driver(ctx)
        # (looked up once per number: the lookup scans the centre's operators)
        operator_of = {n: driver.operator_at(n) for n in numbers} if driver is not None else {}
        try:
            while True:
                now = loop.time()
                if now >= deadline:
                    outcomes.append(DialOutcome.NO_ANSWER)
                    timed_out = True
                    break
                if strategy == "all":
                    starting, pending = pending, []
                elif strategy == "cumulative":
                    starting = [pending.pop(0)] if pending and (now >= next_add or not live) else []
                    if starting:
                        next_add = now + p.interval
                else:
                    starting = [pending.pop(0)] if pending and not live else []
                for number in starting:
                    leg = dialing.dial(
                        ctx, number, ring_timeout=min(p.ring_timeout, deadline - now), node_id=self.id,
                        operator_id=operator_of.get(number),
                    )
                    live[leg.outcome()] = leg
                if not live:
                    break
                wake = deadline if strategy != "cumulative" or not pending else min(deadline, next_add)
                done, _ = await asyncio.wait(
                    set(live), timeout=max(0.0, wake - now), return_when=asyncio.FIRST_COMPLETED
                )
                # in the order the legs were started, so a tie has a fixed winner
                for fut in [f for f in live if f in done]:
                    leg = live.pop(fut)
                    outcome = DialOutcome.FAILED if fut.cancelled() else fut.result()
                    ctx.emit(
                        DialAttempted, node_id=self.id, target=leg.target, outcome=str(outcome),
                        operator_id=operator_of.get(leg.target),
                    )
                    if outcome is DialOutcome.ANSWERED:
                        # the others are released, even one that answered in the same instant
                        for other in live.values():
                            other.hangup(ANSWERED_ELSEWHERE)
                        live.clear()
                        return await self._talk(ctx, leg, leg.target, operator_of.get(leg.target))
                    outcomes.append(outcome)
        finally:
            for leg in live.values():
                leg.hangup(NO_ANSWER if timed_out else CANCELLED)
        return _verdict(outcomes)

    async def _talk(self, ctx: CallContext, leg: Leg, who: str, operator_id: str | None) -> str:
        p = self.params
        if p.operator_variable:
            ctx.set_var(p.operator_variable, who, self.id)
        driver = attached_driver(ctx)
        # an operator's phone on this call is busy for the ACD meanwhile (ring_in_use)
        with driver.engaged(leg.target, operator_id) if driver is not None else nullcontext():
            _result, handover = await talk(ctx, leg, node_id=self.id, operator_id=operator_id, record=p.record)
        # the far end handed the caller on (flowengine.acd.handover): however that
        # goes, the node then leaves as after a conversation
        await hand_on(ctx, handover, node_id=self.id, record=p.record)
        return "answered"

    # ---- operators and departments, through the ACD ------------------------------------
    async def _via_acd(self, ctx: CallContext) -> str:
        p = self.params
        driver = driver_of(ctx)
        options: dict[str, object] = {
            "ring_timeout": p.ring_timeout,
            "max_wait": p.total_timeout,
            "max_total_wait": p.total_timeout,  # across a department's overflow too
            "max_rounds": 1,
            "no_operators": "busy",
        }
        if p.to == "department":
            queue_id = p.department or ""
            driver.queue_spec(queue_id)
            if p.strategy is not None:  # else the department's own strategy and its parameters
                options["strategy"] = ACD_STRATEGY[p.strategy]
            if p.strategy == "cumulative":
                options["strategy_params"] = {"interval": p.interval}
            elif p.strategy == "random":
                options["strategy_params"] = {"attempt_timeout": p.ring_timeout}
        else:
            operator = p.operator or ""
            queue_id = driver.operator_queue(operator)  # ring_all over that one operator
        session = driver.enter(ctx, self.id, queue_id, **options)
        session.record = p.record
        try:
            while True:
                await session.wait()
                decision = session.mailbox.popleft()
                if isinstance(decision, d.Connected):
                    if p.operator_variable:
                        ctx.set_var(p.operator_variable, decision.operator_id, self.id)
                    await driver.converse(session, decision)
                    return "answered"
                if isinstance(decision, d.Announce):
                    continue
                if isinstance(decision, d.NoOperators | d.QueueFull):
                    return "busy"
                if isinstance(decision, d.NoAnswer) and session.misses:
                    # every member was tried: say why, as for numbers
                    return _verdict([_MISS_OUTCOME.get(r, DialOutcome.NO_ANSWER) for r in session.misses])
                return "no_answer"  # MaxWaitReached: somebody may still have been ringing
        finally:
            driver.leave(session)


#: an ACD miss reason as the dial outcome it stands for
_MISS_OUTCOME = {
    "busy": DialOutcome.BUSY,
    "rejected": DialOutcome.REJECTED,
    "no_answer": DialOutcome.NO_ANSWER,
    "failed": DialOutcome.FAILED,
}


def _is_dynamic(template: Template) -> bool:
    """Whether the number is computed at run time (it has an {expression} hole)."""
    return any(not isinstance(part, str) for part in template.parts)


def _verdict(outcomes: list[DialOutcome]) -> str:
    """Declined (busy or rejected) everywhere is "busy"; any ring-out is "no_answer"."""
    declined = (DialOutcome.BUSY, DialOutcome.REJECTED)
    if outcomes and all(o in declined for o in outcomes):
        return "busy"
    if DialOutcome.NO_ANSWER in outcomes:
        return "no_answer"
    if any(o in declined for o in outcomes):
        return "busy"
    return "failed"
