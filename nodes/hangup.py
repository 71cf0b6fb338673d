"""Hangup / Завершение: end the call, with a cause for CDRs and reports."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from flowengine.components.node import NodeType, ParamsModel
from flowengine.components.registry import registry

if TYPE_CHECKING:
    from flowengine.runtime.context import CallContext


class HangupParams(ParamsModel):
    cause: str = Field(default="normal", pattern=r"^[a-z_]{1,32}$")


@registry.register
class HangupNode(NodeType[HangupParams]):
    type_name = "hangup"
    title_en = "Hangup"
    title_ru = "Завершение"
    description = "Hang up the call"
    Params = HangupParams
    exits = ()
    terminal = True
    ends_call = True

    async def run(self, ctx: CallContext) -> str:
        params = self.params
        ctx.end_cause = params.cause
        if ctx.call.active:
            await ctx.call.hangup(params.cause)
        return "hangup"
