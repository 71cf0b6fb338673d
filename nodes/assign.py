"""Assign / Присвоение: set variables from expressions, in order.

    {"assignments": [{"variable": "CALLEDID", "value": "calledid()"},
                     {"variable": "GREETING", "value": "if(hour() < 12, 'morning', 'day')"}]}

Later assignments see earlier ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from flowengine.components.fields import Expr, VarName
from flowengine.components.node import Computed, NodeType, ParamsModel
from flowengine.components.registry import registry
from flowengine.expr import Expression

if TYPE_CHECKING:
    from flowengine.runtime.context import CallContext


class Assignment(ParamsModel):
    variable: VarName
    value: Expr


class AssignParams(ParamsModel):
    assignments: list[Assignment] = Field(min_length=1)


@registry.register
class AssignNode(NodeType[AssignParams]):
    type_name = "assign"
    title_en = "Assign"
    title_ru = "Присвоение"
    description = "Set one or more variables from expressions"
    category = "data"
    Params = AssignParams
    exits = ("next",)
    __slots__ = ("_steps",)

    def __init__(self, node_id: str, params: AssignParams) -> None:
        super().__init__(node_id, params)
        self._steps: list[tuple[str, Expression]] = [
            (a.variable, self.expr(a.value)) for a in params.assignments
        ]

    def reads(self) -> set[str]:
        # A variable assigned earlier in the same node is not a read before assignment.
        read: set[str] = set()
        assigned: set[str] = set()
        for name, expression in self._steps:
            read |= expression.variables - assigned
            assigned.add(name)
        return read

    def writes(self) -> set[str]:
        return {name for name, _ in self._steps}

    def computed(self) -> list[Computed]:
        return [Computed(name, e.variables, e.functions) for name, e in self._steps]

    async def run(self, ctx: CallContext) -> str:
        for name, expression in self._steps:
            ctx.set_var(name, expression.evaluate(ctx), self.id)
        return "next"
