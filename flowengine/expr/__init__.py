"""The flowengine expression language (contract 2).

Used in node parameters: Assign values, Menu values, If conditions and
templated prompt text. Expressions are parsed once with a LALR grammar
(grammar.lark), compiled to Python closures and evaluated many times per call;
there is no Python eval anywhere. The reference for scenario authors is
docs/expressions.md.

Everything the language raises is an `ExpressionError` with a 1-based column:
`ExpressionSyntaxError` when compiling, `ExpressionRuntimeError` when
evaluating. Nothing else escapes compile, evaluate or render.
"""

from flowengine.expr import limits
from flowengine.expr.compiler import Expression, compile_expression, evaluate_text
from flowengine.expr.env import Env, MappingEnv
from flowengine.expr.errors import (
    ExpressionError,
    ExpressionRuntimeError,
    ExpressionSyntaxError,
    FunctionRegistryError,
    NoCentreError,
)
from flowengine.expr.functions import (
    FunctionSpec,
    function_names,
    function_specs,
    register_function,
)
from flowengine.expr.template import Template, compile_template
from flowengine.expr.values import Value, equals, to_number, to_text, truthy

__all__ = [
    "Env",
    "Expression",
    "ExpressionError",
    "ExpressionRuntimeError",
    "ExpressionSyntaxError",
    "FunctionRegistryError",
    "FunctionSpec",
    "MappingEnv",
    "NoCentreError",
    "Template",
    "Value",
    "compile_expression",
    "compile_template",
    "equals",
    "evaluate_text",
    "function_names",
    "function_specs",
    "limits",
    "register_function",
    "to_number",
    "to_text",
    "truthy",
]
