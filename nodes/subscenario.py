"""Subscenario / Подсценарий: jump to another scenario, or call it and come back.

    {"scenario": "billing", "mode": "call"}

`mode: "call"` runs the other scenario from its main start until a Return
node (or an exit left unwired there) and continues here through "next";
`mode: "jump"` hands the call over for good (the node has no exits).
Variables are shared both ways; the other scenario's declared defaults fill
variables not set yet. The version used is the one published when the call
started.

A Hangup inside the called scenario ends the call (the calling scenario does
not go on), and so does a failure there that no "error" exit or error
handler of that scenario takes: the call is hung up with cause "error", as
anywhere else. `flowengine validate` reports scenarios that call each other
in a circle (subscenario_cycle), and counts a variable as set after the call
only if the called scenario sets it on every way back.
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
    params_exits = "`next` in call mode, required; none in jump mode"

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
