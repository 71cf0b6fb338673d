"""Templated text: ``"Hello {NAME}, you are {position + 1}th"``.

Each ``{...}`` holds an expression whose value is rendered with the text()
rules. ``{{`` and ``}}`` are literal braces. Inside ``{...}`` a ``}`` that is
part of a string literal does not close the expression
(``{if(x, '}', '')}``). Errors carry the column inside the template text.
"""

from __future__ import annotations

import functools

from flowengine.expr import limits
from flowengine.expr.compiler import Expression, Run, compile_expression, internal_error
from flowengine.expr.env import Env
from flowengine.expr.errors import ExpressionError, ExpressionSyntaxError
from flowengine.expr.values import text_too_long, to_text

_Part = str | tuple[int, Expression]
"""Literal text, or (offset of the expression text in the template, expression)."""


class Template:
    """A compiled template. Immutable; safe to share between calls."""

    __slots__ = ("source", "variables", "functions", "_parts")

    def __init__(self, source: str, parts: tuple[_Part, ...]) -> None:
        self.source = source
        self._parts = parts
        expressions = [part[1] for part in parts if not isinstance(part, str)]
        self.variables: frozenset[str] = frozenset().union(*(e.variables for e in expressions))
        self.functions: frozenset[str] = frozenset().union(*(e.functions for e in expressions))

    @property
    def parts(self) -> tuple[_Part, ...]:
        """Literal text and `(offset, Expression)` holes, in order: for callers
        that render holes their own way (the HTTP node percent-encodes them)."""
        return self._parts

    def render(self, env: Env) -> str:
        """The text for this call; raises only `ExpressionRuntimeError`.

        All the template's expressions share one step budget."""
        parts = self._parts
        if len(parts) == 1 and isinstance(parts[0], str):
            return parts[0]
        run = Run(env)
        out: list[str] = []
        size = 0
        for part in parts:
            if isinstance(part, str):
                text = part
            else:
                offset, expression = part
                try:
                    text = to_text(expression._fn(run))
                except ExpressionError as exc:
                    if exc.column is None:
                        exc.column = 1
                    raise exc.moved(offset, self.source) from exc
                except Exception as exc:  # a defect here must not take the call down
                    raise internal_error(exc, self.source) from exc
            size += len(text)
            if size > limits.MAX_STRING_LENGTH:
                too_long = text_too_long(size)
                too_long.source = self.source
                raise too_long
            out.append(text)
        return "".join(out)

    def __repr__(self) -> str:
        return f"Template({self.source!r})"


def compile_template(text: str) -> Template:
    """Compile `text` (cached by text); raises `ExpressionSyntaxError`."""
    if not isinstance(text, str):
        raise ExpressionSyntaxError(f"template must be text, not {type(text).__name__}")
    return _compile_cached(text)


@functools.lru_cache(maxsize=4096)
def _compile_cached(text: str) -> Template:
    if len(text) > limits.MAX_TEMPLATE_LENGTH:
        raise ExpressionSyntaxError(
            f"template too long ({len(text)} characters; the limit is {limits.MAX_TEMPLATE_LENGTH})",
            None,
            text,
        )
    parts: list[_Part] = []
    literal: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        char = text[i]
        if char == "{" and text.startswith("{{", i):
            literal.append("{")
            i += 2
        elif char == "}":
            if not text.startswith("}}", i):
                raise ExpressionSyntaxError(
                    "unexpected '}' (write '}}' for a literal brace)", i + 1, text
                )
            literal.append("}")
            i += 2
        elif char == "{":
            end = _closing_brace(text, i)
            if literal:
                parts.append("".join(literal))
                literal = []
            offset = i + 1
            try:
                expression = compile_expression(text[offset:end])
            except ExpressionError as exc:
                raise exc.moved(offset, text) from None
            parts.append((offset, expression))
            i = end + 1
        else:
            literal.append(char)
            i += 1
    if literal or not parts:
        parts.append("".join(literal))
    return Template(text, tuple(parts))


def _closing_brace(text: str, start: int) -> int:
    """Index of the "}" closing the "{" at `start`, skipping string literals."""
    i = start + 1
    n = len(text)
    while i < n:
        char = text[i]
        if char == "}":
            return i
        if char in ("'", '"'):
            quote_at = i
            i += 1
            while i < n and text[i] != char:
                i += 2 if text[i] == "\\" else 1
            if i >= n:
                raise ExpressionSyntaxError("unterminated string", quote_at + 1, text)
        i += 1
    raise ExpressionSyntaxError(
        "unterminated '{' (write '{{' for a literal brace)", start + 1, text
    )


__all__ = ["Template", "compile_template"]
