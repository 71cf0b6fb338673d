"""Callback / Обратный звонок: file a request to be called back into an ACD queue.

    {"queue": "sales", "priority": "if(VIP, 10, 0)",
     "attempts": 2, "interval": 120, "reason_variable": "CB_REFUSED"}

Outside the Queue node: e.g. after the Queue's "timeout" exit (max wait), or
from a Gather option "press 2 to be called back". The request takes a place
in the queue ordered by when the caller first joined a queue in this call
(now, if they never did), then by `priority`, as a waiting caller would.
When it is the request's turn and an operator is free, the ACD reserves the
operator, rings their phone, and once they answer dials the caller's number
(on the engine's router; the centre's dial policy applies). An operator who
does not answer misses it like any queue call, and the next free operator
gets it. A caller who does not pick up (no answer, busy, rejected, failed)
costs one of `attempts`, the next one waits `interval` seconds, and after
the last the ACD gives up. None of the caller's misses count against the
operator. `attempts` / `interval` default to the queue's
``callback: {attempts, interval}``, else 3 attempts 60 s apart. Every attempt
is in the queue's event stream (`callback_attempted`, `callback_missed`,
`callback_connected`, `callback_completed`, `callback_given_up`).

Exits: "filed" (the request holds its place: say goodbye and hang up) and
"refused" — the centre's dial policy does not allow calling the caller's
number back (``policy``, with a `dial_blocked` event), the queue is not in
the centre (``unknown_queue``), or this call or this number already holds a
callback place in the queue, or the call is still waiting in it
(``duplicate``). `reason_variable` gets the reason ("" when filed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from flowengine.acd.driver import driver_of
from flowengine.components.fields import Expr, VarName
from flowengine.components.node import NodeType, ParamsModel
from flowengine.components.registry import registry
from flowengine.events import DialBlocked
from flowengine.expr.values import to_number

if TYPE_CHECKING:
    from flowengine.runtime.context import CallContext


class CallbackParams(ParamsModel):
    queue: str = Field(min_length=1, description="queue (department) id from the centre file")
    priority: Expr | None = Field(default=None, description="caller priority, higher first; e.g. if(VIP, 10, 0)")
    attempts: int | None = Field(
        default=None, ge=1, description="times to try the caller; default: the queue's callback attempts, else 3"
    )
    interval: float | None = Field(
        default=None, ge=0, description="seconds between attempts; default: the queue's callback interval, else 60"
    )
    reason_variable: VarName | None = Field(
        default=None, description="gets why the request was refused (policy, unknown_queue, duplicate), or ''"
    )


@registry.register
class CallbackNode(NodeType[CallbackParams]):
    type_name = "callback"
    title_en = "Callback"
    title_ru = "Обратный звонок"
    description = "File a request to be called back by the next free operator of a queue"
    category = "acd"
    Params = CallbackParams
    exits = ("filed", "refused")
    __slots__ = ("_priority",)

    def __init__(self, node_id: str, params: CallbackParams) -> None:
        super().__init__(node_id, params)
        self._priority = self.expr(params.priority) if params.priority else None

    def writes(self) -> set[str]:
        p = self.params
        return {p.reason_variable} if p.reason_variable else set()

    def references(self) -> dict[str, set[str]]:
        return {"queue": {self.params.queue}}

    async def run(self, ctx: CallContext) -> str:
        p = self.params
        driver = driver_of(ctx)
        priority = int(to_number(self._priority.evaluate(ctx))) if self._priority is not None else 0
        reason = self._policy_refusal(ctx)
        if reason is None:
            reason = driver.file_callback(
                ctx, self.id, p.queue, priority=priority, attempts=p.attempts, interval=p.interval
            )
        if p.reason_variable:
            ctx.set_var(p.reason_variable, reason or "", self.id)
        return "refused" if reason else "filed"

    def _policy_refusal(self, ctx: CallContext) -> str | None:
        """A callback dials the number the caller presents, which they control:
        it is filed only if the centre's dial policy allows that number (a
        refusal is in the stream as `dial_blocked`)."""
        number = ctx.call.caller
        verdict = driver_of(ctx).centre.dial_rules.check(number)
        if verdict.allowed:
            return None
        ctx.emit(
            DialBlocked,
            node_id=self.id,
            number=number[:64],
            reason=verdict.reason,
            policy=verdict.policy or "number",
            rule=verdict.rule,
        )
        return "policy"
