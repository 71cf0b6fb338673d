"""Start / Старт: where a call enters the scenario.

`entry: main` is where every call begins; `entry: after_hangup` is entered once
the call is over (caller or engine hung up), for post-processing such as a
CRM note or a survey request. The main start answers the call unless
`answer: false` (e.g. to play early media or reject before answering).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from flowengine.components.node import NodeType, ParamsModel
from flowengine.components.registry import registry
from flowengine.events import CallAnswered

if TYPE_CHECKING:
    from flowengine.runtime.context import CallContext


class StartParams(ParamsModel):
    entry: Literal["main", "after_hangup"] = "main"
    answer: bool = Field(default=True, description="answer the call on entry (main entry only)")


@registry.register
class StartNode(NodeType[StartParams]):
    type_name = "start"
    title_en = "Start"
    title_ru = "Старт"
    description = "Entry point of the scenario (main, or after hangup)"
    Params = StartParams
    exits = ("next",)

    async def run(self, ctx: CallContext) -> str:
        params = self.params
        call = ctx.call
        if params.entry == "main" and params.answer and not call.answered and call.active:
            await call.answer()
            ctx.emit(CallAnswered, node_id=self.id, ring_time=round(ctx.elapsed(), 3))
        return "next"
