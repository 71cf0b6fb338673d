"""Queue / Очередь: put the caller in an ACD queue until an operator answers.

    {"queue": "sales", "priority": "if(VIP, 10, 0)",
     "greeting": "Все операторы заняты, пожалуйста, оставайтесь на линии.",
     "music": "moh/default.wav",
     "callback_digit": "1",
     "operator_variable": "OPERATOR"}

The queue itself (strategy, members, ring timeout, wrap-up, max wait, max
length, overflow, announcement period, whether callback is allowed) is
described in the centre file (docs/acd.md); the node may override `max_wait`
(the wait in each queue) and `skills` per call, and bound the whole wait
across overflows (`max_total_wait`). While waiting the caller hears music on hold and, every
announcement period, their position and estimated wait (from position,
staffing and recent handle times). With `callback_digit` and a queue that
allows callback, the announcement offers a call back that keeps the caller's
place; pressing the digit leaves the line through the "callback" exit. After
an overflow into a queue without callbacks the offer is no longer made and
the digit is ignored (the caller keeps waiting).

The queue's `announce` settings shape what is said: `ahead_limit` (more
callers ahead than that: "there are more than N callers ahead of you"
instead of the position), `hold_time` (the estimated wait `on` every
time, `once`, or `off`) and `periodic` (every N seconds, apart from the
position announcements, the node's `periodic_prompt` or a thank-you for
waiting, in Russian or English after the scenario's language).

The operator may put the caller on hold (the caller hears music on hold)
and hand the caller on to another operator, a queue or a number the dial
policy allows (docs/acd.md, "Operators hand callers on"); the node leaves
by "answered" once the last conversation is over, or once a hand-over
failed (the target busy or not answering).

Exits: "answered" (the conversation with the operator is over; the scenario
may go on, e.g. to a survey), "timeout" (max wait), "full" (max length),
"no_operators" (nobody can take calls, by the queue's `no_operators`,
`join_empty`, `leave_when_empty` or `max_wait_no_operator`; the
`queue_no_operators` event says which), "callback".
A caller who hangs up is counted as abandoned and the call goes to the
after-hangup entry.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from pydantic import Field

from flowengine.acd import decisions as d
from flowengine.acd.driver import AcdDriver, QueueSession, driver_of
from flowengine.components.fields import Expr, MediaName, VarName
from flowengine.components.node import NodeType, ParamsModel
from flowengine.components.registry import registry
from flowengine.events import DialBlocked
from flowengine.expr.values import to_number, to_text
from nodes.prompt import PromptSpec, play_prompt

if TYPE_CHECKING:
    from flowengine.runtime.context import CallContext

ANNOUNCEMENTS = {
    "ru": (
        "Ваш номер в очереди: {position}.",
        " Примерное время ожидания: {minutes} мин.",
        " Примерное время ожидания: меньше минуты.",
        " Чтобы мы перезвонили вам, сохранив вашу очередь, нажмите {digit}.",
    ),
    "en": (
        "You are number {position} in the queue.",
        " Your estimated waiting time is {minutes} minutes.",
        " Your estimated waiting time is less than a minute.",
        " To be called back without losing your place, press {digit}.",
    ),
}
#: said instead of the position when more callers are ahead than the queue's
#: ``announce.ahead_limit``
AHEAD_LIMIT = {
    "ru": "Перед вами в очереди больше {limit} абонентов.",
    "en": "There are more than {limit} callers ahead of you.",
}
#: the queue's own periodic message (``announce.periodic``) unless the node
#: gives its ``periodic_prompt``
PERIODIC = {
    "ru": "Спасибо за ожидание. Ваш звонок очень важен для нас, пожалуйста, оставайтесь на линии.",
    "en": "Thank you for waiting. Your call is important to us, please stay on the line.",
}


#: the exit for a decision that takes the call out of the queue unanswered
_LEFT_EXIT: dict[type, str] = {d.QueueFull: "full", d.NoOperators: "no_operators"}


class QueueParams(ParamsModel):
    queue: str = Field(min_length=1, description="queue (department) id from the centre file")
    priority: Expr | None = Field(default=None, description="caller priority, higher first; e.g. if(VIP, 10, 0)")
    greeting: PromptSpec | None = None
    music: MediaName | None = Field(default=None, description="music on hold (audio file, relative to the media folders)")
    announce: bool = Field(default=True, description="announce position and estimated wait, and the periodic message")
    periodic_prompt: PromptSpec | None = Field(
        default=None,
        description="said every announce.periodic seconds of the queue; default: a thank-you for waiting",
    )
    callback_digit: str | None = Field(default=None, pattern=r"^[0-9*#]$")
    max_wait: float | None = Field(
        default=None, gt=0, description="seconds in each queue (again after an overflow); default: the queue's"
    )
    max_total_wait: float | None = Field(
        default=None, gt=0, description="seconds in all, across overflows (and the queues' max_total_wait)"
    )
    skills: dict[str, int] | None = Field(default=None, description="required skill levels for this call")
    manager: Expr | None = Field(default=None, description="personal manager's operator id (expression)")
    operator_variable: VarName | None = Field(default=None, description="gets the answering operator's id")
    record: bool = Field(default=False, description="record the conversation (also when the queue's own record is set)")


@registry.register
class QueueNode(NodeType[QueueParams]):
    type_name = "queue"
    title_en = "Queue"
    title_ru = "Очередь"
    description = "Wait in an ACD queue for an operator (music, announcements, callback, overflow)"
    category = "acd"
    Params = QueueParams
    exits = ("answered", "timeout", "full", "no_operators", "callback")
    #: after the conversation the call may simply end
    optional_exits = frozenset({"answered"})
    exit_conditions = {"callback": "only with `callback_digit`"}
    waits_for_caller = True
    needs_media = True
    __slots__ = ("_priority", "_manager")

    def __init__(self, node_id: str, params: QueueParams) -> None:
        super().__init__(node_id, params)
        self._priority = self.expr(params.priority) if params.priority else None
        self._manager = self.expr(params.manager) if params.manager else None

    def writes(self) -> set[str]:
        p = self.params
        return {p.operator_variable} if p.operator_variable else set()

    def writes_on(self, exit_name: str) -> set[str]:
        return self.writes() if exit_name == "answered" else set()

    def possible_exits(self) -> tuple[str, ...]:
        if self.params.callback_digit:
            return self.all_exits
        return tuple(e for e in self.all_exits if e != "callback")

    def references(self) -> dict[str, set[str]]:
        return {"queue": {self.params.queue}}

    async def run(self, ctx: CallContext) -> str:
        p = self.params
        driver = driver_of(ctx)
        spec = driver.queue_spec(p.queue)
        options: dict[str, object] = {}
        if self._priority is not None:
            options["priority"] = int(to_number(self._priority.evaluate(ctx)))
        if self._manager is not None:
            manager = to_text(self._manager.evaluate(ctx))
            if manager:
                options["manager"] = manager
        if p.max_wait is not None:
            options["max_wait"] = p.max_wait
        if p.max_total_wait is not None:
            options["max_total_wait"] = p.max_total_wait
        if p.skills is not None:
            options["skills"] = p.skills
        music = ctx.media_source(p.music)  # a bad file fails before the caller queues
        await play_prompt(ctx, self.id, p.greeting)
        session = driver.enter(ctx, self.id, p.queue, **options)
        session.record = p.record
        session.watch_digits = bool(p.callback_digit and spec.callback) and self._may_call_back(ctx, driver)
        told_wait = False  # for announce.hold_time "once"
        try:
            await ctx.call.start_music(music)
            while True:
                await session.wait()
                if session.watch_digits and ctx.call.pending_digits():
                    if self._callback_pressed(ctx, driver, session):
                        return "callback"
                    continue
                decision = session.mailbox.popleft()
                if isinstance(decision, d.Connected):
                    if p.operator_variable:
                        ctx.set_var(p.operator_variable, decision.operator_id, self.id)
                    await driver.converse(session, decision)
                    return "answered"
                if isinstance(decision, d.Announce):
                    if p.announce:
                        told_wait = await self._announce(ctx, session, decision, told_wait)
                    continue
                return _LEFT_EXIT.get(type(decision), "timeout")  # MaxWaitReached, NoAnswer
        finally:
            driver.leave(session)
            if ctx.call.active:
                await ctx.call.stop_music()

    async def _announce(
        self, ctx: CallContext, session: QueueSession, a: d.Announce, told_wait: bool
    ) -> bool:
        """Say the announcement `a`; return whether an estimated wait has been
        told by now (for the queue's ``announce.hold_time: once``)."""
        p = self.params
        lang = "ru" if (ctx.scenario.doc.language or "").startswith("ru") else "en"
        settings = driver_of(ctx).queue_spec(session.queue_id)
        if a.announcement == "periodic":
            if p.periodic_prompt is not None:
                await self._while_waiting(
                    ctx, session, play_prompt(ctx, self.id, p.periodic_prompt, barge_in=session.watch_digits)
                )
            else:
                await self._while_waiting(
                    ctx, session, ctx.say(self.id, PERIODIC[lang], language=lang, barge_in=session.watch_digits)
                )
            return told_wait
        position_text, wait_text, short_wait_text, callback_text = ANNOUNCEMENTS[lang]
        limit = settings.announce.ahead_limit
        if limit is not None and a.position - 1 > limit:
            text = AHEAD_LIMIT[lang].format(limit=limit)
        else:
            text = position_text.format(position=a.position)
        hold_time = settings.announce.hold_time
        if a.estimated_wait is not None and (hold_time == "on" or (hold_time == "once" and not told_wait)):
            minutes = math.ceil(a.estimated_wait / 60)
            text += wait_text.format(minutes=minutes) if minutes > 1 else short_wait_text
            told_wait = True
        if session.watch_digits and settings.callback:
            text += callback_text.format(digit=p.callback_digit)
        await self._while_waiting(ctx, session, ctx.say(self.id, text, language=lang, barge_in=session.watch_digits))
        return told_wait

    async def _while_waiting(self, ctx: CallContext, session: QueueSession, speech: Coroutine[Any, Any, bool]) -> None:
        """Play `speech` to the waiting caller; it yields to an operator who
        answers meanwhile (or any other decision for the call)."""
        play = asyncio.get_running_loop().create_task(speech, name=f"announce:{ctx.call_id}")
        waiter = asyncio.get_running_loop().create_task(
            session.wait(), name=f"announce-wait:{ctx.call_id}"
        )
        try:
            await asyncio.wait({play, waiter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (play, waiter):
                if not task.done():
                    task.cancel()
            await asyncio.gather(play, waiter, return_exceptions=True)

    def _may_call_back(self, ctx: CallContext, driver: AcdDriver) -> bool:
        """A callback dials the caller's number, which the caller controls (a
        faked caller id is the classic way to get a premium number dialled):
        the offer is made only when the centre's dial policy allows that
        number, and a refusal is in the stream as `dial_blocked`."""
        verdict = driver.centre.dial_rules.check(ctx.call.caller)
        if not verdict.allowed:
            ctx.emit(
                DialBlocked,
                node_id=self.id,
                number=ctx.call.caller[:64],
                reason=verdict.reason,
                policy=verdict.policy or "number",
                rule=verdict.rule,
            )
        return verdict.allowed

    def _callback_pressed(self, ctx: CallContext, driver: AcdDriver, session: QueueSession) -> bool:
        p = self.params
        digits = ctx.call.take_digits()
        if p.callback_digit and p.callback_digit in digits:
            # the ACD records it (queue_callback_requested, with the place kept);
            # in a queue without callbacks (after an overflow) the digit means nothing
            return driver.request_callback(session)
        return False

