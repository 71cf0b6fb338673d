"""If / Условие: branch on a condition, exits "true" and "false"."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowengine.components.fields import Expr
from flowengine.components.node import NodeType, ParamsModel
from flowengine.components.registry import registry
from flowengine.expr.values import truthy

if TYPE_CHECKING:
    from flowengine.runtime.context import CallContext


class IfParams(ParamsModel):
    condition: Expr


@registry.register
class IfNode(NodeType[IfParams]):
    type_name = "if"
    title_en = "If"
    title_ru = "Условие"
    description = "Go to 'true' or 'false' depending on a condition"
    Params = IfParams
    exits = ("true", "false")
    __slots__ = ("_condition",)

    def __init__(self, node_id: str, params: IfParams) -> None:
        super().__init__(node_id, params)
        self._condition = self.expr(params.condition)

    async def run(self, ctx: CallContext) -> str:
        return "true" if truthy(self._condition.evaluate(ctx)) else "false"
