"""The component catalogue for the web editor, and a live check of expressions."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from flowengine.api.component_info import Catalogue, catalogue
from flowengine.api.deps import AnyUser, SupervisorUser
from flowengine.api.problems import PROBLEM_RESPONSES
from flowengine.expr import (
    ExpressionError,
    compile_expression,
    compile_template,
    function_names,
    limits,
)

router = APIRouter(prefix="/api/v1", tags=["components"], responses=PROBLEM_RESPONSES)


class ExpressionCheck(BaseModel):
    model_config = {"extra": "forbid"}
    expression: str = Field(max_length=limits.MAX_TEMPLATE_LENGTH, description="the text to check")
    kind: Literal["expression", "template"] = Field(
        default="expression", description="an expression, or a template with {expression} holes"
    )
    variables: list[str] | None = Field(
        default=None, max_length=1000, description="declared variable names; reads of others are listed as unknown"
    )


class ExpressionResult(BaseModel):
    ok: bool
    error: str | None = Field(default=None, description="what is wrong (no column in the text)")
    column: int | None = Field(default=None, description="1-based column of the error in the text")
    variables: list[str] = Field(default_factory=list, description="variables the text reads")
    functions: list[str] = Field(default_factory=list, description="functions the text calls")
    unknown_variables: list[str] = Field(default_factory=list, description="read but not among `variables`")


@router.get("/components", operation_id="listComponents", response_model=Catalogue)
async def list_components(_user: AnyUser) -> Catalogue:
    """Every node type: titles in English and Russian, exits (fixed and how
    params add more), and the JSON Schema of its params."""
    return Catalogue(components=catalogue(), functions=sorted(function_names()))


@router.post("/expressions/check", operation_id="checkExpression", response_model=ExpressionResult)
async def check_expression(body: ExpressionCheck, _user: SupervisorUser) -> ExpressionResult:
    """Compiles an expression (or template) as the loader would. A syntax
    error is an answer (`ok: false` with its column), not an HTTP error."""
    try:
        compiled = compile_expression(body.expression) if body.kind == "expression" else compile_template(body.expression)
    except ExpressionError as exc:
        return ExpressionResult(ok=False, error=exc.message, column=exc.column)
    reads = sorted(compiled.variables)
    unknown = [] if body.variables is None else [v for v in reads if v not in set(body.variables)]
    return ExpressionResult(ok=True, variables=reads, functions=sorted(compiled.functions), unknown_variables=unknown)
