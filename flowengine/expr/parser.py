"""Text to parse tree, with lark errors turned into `ExpressionSyntaxError`.

The grammar lives in grammar.lark beside this module and is loaded into one
LALR parser per process. Parsing is iterative (lark's LALR stack), so deep
nesting cannot overflow Python's stack here; the compiler bounds the depth.
"""

from __future__ import annotations

import functools
from importlib import resources

from lark import Lark, Token, Tree
from lark.exceptions import (
    LarkError,
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
)

from flowengine.expr import limits
from flowengine.expr.errors import ExpressionSyntaxError

_OPERAND_START = frozenset({"NUMBER", "STRING", "NAME", "TRUE", "FALSE", "NULL"})


@functools.cache
def _lark() -> Lark:
    grammar = resources.files("flowengine.expr").joinpath("grammar.lark").read_text("utf-8")
    return Lark(
        grammar,
        parser="lalr",
        lexer="basic",
        propagate_positions=True,
        maybe_placeholders=True,
    )


def parse(text: str) -> Tree[Token]:
    """The parse tree of an expression; raises `ExpressionSyntaxError`."""
    if not isinstance(text, str):
        raise ExpressionSyntaxError(f"expression must be text, not {type(text).__name__}")
    if len(text) > limits.MAX_SOURCE_LENGTH:
        raise ExpressionSyntaxError(
            f"expression too long ({len(text)} characters; the limit is {limits.MAX_SOURCE_LENGTH})",
            None,
            text,
        )
    if not text.strip():
        raise ExpressionSyntaxError("empty expression", 1, text)
    try:
        tree = _lark().parse(text)
    except UnexpectedInput as exc:
        message, column = _describe(text, exc)
        raise ExpressionSyntaxError(message, column, text) from None
    except LarkError as exc:  # not expected from LALR, but never let lark errors out
        raise ExpressionSyntaxError(f"syntax error: {exc}", None, text) from None
    if isinstance(tree, Token):  # a lone token cannot happen with this grammar; be safe
        tree = Tree("start", [tree])
    return tree


def _end_column(text: str) -> int:
    return len(text.rstrip()) + 1


def _describe(text: str, exc: UnexpectedInput) -> tuple[str, int]:
    """A human message and a 1-based column for a lark error."""
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream or 0
        char = text[pos] if 0 <= pos < len(text) else ""
        if char in ("'", '"'):
            return "unterminated string", pos + 1
        return f"unexpected character {char!r}", pos + 1
    if isinstance(exc, UnexpectedToken):
        token = exc.token
        expected = set(exc.expected or ())
        wants_operand = bool(expected & _OPERAND_START)
        if token.type == "$END":
            message = "unexpected end of expression"
            if wants_operand:
                message += ", expected an operand"
            elif "RPAR" in expected:
                message += ", expected ')'"
            return message, _end_column(text)
        message = f"unexpected {_shown(token)}"
        if wants_operand:
            message += ", expected an operand"
        elif token.type == "COMPOP":
            message += " (comparisons do not chain; join them with 'and')"
        elif token.type in _OPERAND_START or token.type == "LPAR":
            message += ", expected an operator"
        start = token.start_pos if token.start_pos is not None else len(text)
        return message, start + 1
    if isinstance(exc, UnexpectedEOF):
        return "unexpected end of expression", _end_column(text)
    return "syntax error", 1


def _shown(token: Token) -> str:
    value = str(token)
    if token.type == "STRING":
        return "text " + (value if len(value) <= 20 else value[:17] + "...")
    if len(value) > 20:
        value = value[:17] + "..."
    return f"'{value}'"
