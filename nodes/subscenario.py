"""Subscenario / Подсценарий: jump to another scenario, or call it and come back.

`mode: "call"` runs the other scenario from its main start until a Return
node (or the end of its flow) and continues here through "next"; `mode:
"jump"` hands the call over for good. Variables are shared both ways; the
other scenario's declared defaults fill variables not set yet. The version
used is the one published when the call started.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from flowengine.components.node import NodeType, ParamsModel
from flowengine.components.registry import registry
from flowengine.errors import NodeError
from flowengine.runtime.interpreter import call_subscenario
from flowengine.scenario.model import NODE_ID_PATTERN

if TYPE_CHECKING:
    from flowengine.runtime.context import CallContext


class SubscenarioParams(ParamsModel):
    scenario: str = Field(pattern=NODE_ID_PATTERN, description="id of the other scenario")
    mode: Literal["call", "jump"] = "call"


@registry.register
class SubscenarioNode(NodeType[SubscenarioParams]):
    type_name = "subscenario"
    title_en = "Subscenario"
    title_ru = "Подсценарий"
    description = "Run another scenario: call it and return, or jump to it"
    Params = SubscenarioParams

    @classmethod
    def exit_names(cls, params: SubscenarioParams) -> list[str]:
        return ["next"] if params.mode == "call" else []

    def references(self) -> dict[str, set[str]]:
        return {"scenario": {self.params.scenario}}

    async def run(self, ctx: CallContext) -> str:
        params = self.params
        target = ctx.library.get(params.scenario)
        if target is None:
            raise NodeError(f"unknown subscenario '{params.scenario}'", code="unknown_scenario")
        for name, value in target.defaults.items():
            ctx.variables.setdefault(name, value)
        if params.mode == "jump":
            ctx.jump = (target, target.main_entry)
            return "jump"
        await call_subscenario(ctx, target, self.id)
        return "next"


class ReturnParams(ParamsModel):
    pass


@registry.register
class ReturnNode(NodeType[ReturnParams]):
    type_name = "return"
    title_en = "Return"
    title_ru = "Возврат"
    description = "End a called subscenario and continue in the calling scenario"
    Params = ReturnParams
    exits = ()
    terminal = True

    async def run(self, ctx: CallContext) -> str:
        return "return"
