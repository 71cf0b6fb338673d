"""Syntax errors: human messages and the 1-based column."""

from __future__ import annotations

import pickle

import pytest

from flowengine.expr import ExpressionError, ExpressionSyntaxError, compile_expression


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("(1 + 2))", "unexpected ')'", 8),
        ("len(NAME))", "unexpected ')'", 10),
        ("1 + * 2", "unexpected '*', expected an operand", 5),
        ("1 + )", "unexpected ')', expected an operand", 5),
        ("f(1,)", "unexpected ')', expected an operand", 5),
        ("and x", "unexpected 'and', expected an operand", 1),
        ("1 +", "unexpected end of expression, expected an operand", 4),
        ("not  ", "unexpected end of expression, expected an operand", 4),
        ("(1 + 2", "unexpected end of expression, expected ')'", 7),
        ("'abc", "unterminated string", 1),
        ('x = "abc', "unterminated string", 5),
        (r"'abc\'", "unterminated string", 1),
        ("1 # 2", "unexpected character '#'", 3),
        ("x = {y}", "unexpected character '{'", 5),
        ("1 2", "unexpected '2', expected an operator", 3),
        ("NAME 'x'", "unexpected text 'x', expected an operator", 6),
        ("1 < 2 < 3", "unexpected '<' (comparisons do not chain; join them with 'and')", 7),
        ("true()", "unexpected '(', expected an operator", 5),
        ("1.", "unexpected character '.'", 2),
        ("99999999999999999999", "number out of range", 1),
        ("1 + " + "9" * 400 + ".5", "number out of range", 5),
    ],
)
def test_syntax_error_message_and_column(text: str, message: str, column: int) -> None:
    with pytest.raises(ExpressionSyntaxError) as info:
        compile_expression(text)
    assert info.value.message == message
    assert info.value.column == column
    assert info.value.source == text
    assert str(info.value) == f"column {column}: {message}"


def test_column_counts_characters_across_lines() -> None:
    with pytest.raises(ExpressionSyntaxError) as info:
        compile_expression("1 +\n  )")
    assert info.value.column == 7


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_expression(text: str) -> None:
    with pytest.raises(ExpressionSyntaxError, match="empty expression"):
        compile_expression(text)


def test_non_text_input_is_a_syntax_error() -> None:
    with pytest.raises(ExpressionSyntaxError, match="expression must be text"):
        compile_expression(42)  # type: ignore[arg-type]
    with pytest.raises(ExpressionSyntaxError):
        compile_expression(["x"])  # type: ignore[arg-type]


def test_syntax_errors_are_expression_errors() -> None:
    with pytest.raises(ExpressionError):
        compile_expression("1 +")


def test_errors_survive_pickling() -> None:
    # The simulator may run calls in worker processes and send errors back.
    with pytest.raises(ExpressionSyntaxError) as info:
        compile_expression("(1 + 2")
    copy = pickle.loads(pickle.dumps(info.value))
    assert type(copy) is ExpressionSyntaxError
    assert (copy.message, copy.column, copy.source) == (info.value.message, 7, "(1 + 2")
