"""Errors of the expression language.

Every error carries the 1-based column inside the expression (or template)
text where the offending part starts, and the text itself. The node id is not
known here; the scenario loader and the interpreter add it.
"""

from __future__ import annotations

from flowengine.errors import FlowEngineError, RegistryError


class ExpressionError(FlowEngineError):
    """Base of every error the expression language raises.

    `column` counts characters from 1 at the start of the expression or
    template text (a newline counts as one character).
    """

    def __init__(self, message: str, column: int | None = None, source: str | None = None) -> None:
        super().__init__(message, column, source)  # all in args: errors survive pickling
        self.message = message
        self.column = column
        self.source = source

    def __str__(self) -> str:
        if self.column is None:
            return self.message
        return f"column {self.column}: {self.message}"

    def moved(self, offset: int, source: str) -> ExpressionError:
        """The same error, with its column shifted by `offset` inside `source`.

        Used by templates: an error at column 3 of ``{...}`` that starts at
        offset 10 of the template is at column 13 of the template.
        """
        column = None if self.column is None else self.column + offset
        moved = type(self)(self.message, column, source)
        moved.__cause__ = self.__cause__
        return moved


class ExpressionSyntaxError(ExpressionError):
    """The text is not a valid expression (found when the scenario loads)."""


class ExpressionRuntimeError(ExpressionError):
    """Evaluation failed: a type mismatch, division by zero, an unknown
    variable, a bad regular expression, or a limit exceeded."""


class NoCentreError(ExpressionRuntimeError):
    """A queue function was called in a call handled without a call centre."""

    code = "no_centre"


class FunctionRegistryError(ExpressionError, RegistryError):
    """A function was registered twice, or with an unusable name or arity."""
