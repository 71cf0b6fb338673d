"""Literals, variables, operators and precedence."""

from __future__ import annotations

import pytest

from flowengine.expr import (
    ExpressionRuntimeError,
    MappingEnv,
    compile_expression,
    evaluate_text,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("42", 42),
        ("3.5", 3.5),
        ("007", 7),
        ("'single'", "single"),
        ('"double"', "double"),
        (r"'it\'s'", "it's"),
        (r'"say \"hi\""', 'say "hi"'),
        (r"'a\nb\tc\\d'", "a\nb\tc\\d"),
        (r"'\d+'", "\\d+"),  # unknown escapes stay as written (regex friendly)
        ("''", ""),
        ("true", True),
        ("FALSE", False),
        ("Null", None),
        ("True", True),
    ],
)
def test_literals(env: MappingEnv, text: str, expected: object) -> None:
    result = evaluate_text(text, env)
    assert result == expected
    assert type(result) is type(expected)


def test_variables_are_case_sensitive_and_unicode(env: MappingEnv) -> None:
    assert evaluate_text("NAME", env) == "Anna"
    assert evaluate_text("ОТДЕЛ", env) == "продажи"
    env.variables["имя_2"] = "Иван"
    assert evaluate_text("имя_2", env) == "Иван"
    with pytest.raises(ExpressionRuntimeError, match="unknown variable 'name'"):
        evaluate_text("name", env)


def test_keywords_need_a_word_boundary(env: MappingEnv) -> None:
    env.variables.update({"order": 1, "android": 2, "nothingness": 3, "true_value": 4})
    assert evaluate_text("order", env) == 1
    assert evaluate_text("android", env) == 2
    assert evaluate_text("nothingness", env) == 3
    assert evaluate_text("true_value", env) == 4
    assert evaluate_text("order or android", env) is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2", 3),
        ("1 + 2.5", 3.5),
        ("'ab' + 'cd'", "abcd"),
        ("10 - 4 - 3", 3),  # left to right
        ("2 * 3", 6),
        ("7 / 2", 3.5),
        ("6 / 3", 2),
        ("-6 / 4", -1.5),
        ("7.5 / 2.5", 3.0),
        ("7 % 3", 1),
        ("-7 % 3", 2),
        ("7.5 % 2", 1.5),
        ("-5", -5),
        ("+5", 5),
        ("- -5", 5),
        ("-(2 + 3)", -5),
        ("'a' & 'b'", "ab"),
        ("1 & 2", "12"),
        ("'x' & null & true & 2.0", "xtrue2"),
    ],
)
def test_arithmetic_and_concatenation(env: MappingEnv, text: str, expected: object) -> None:
    result = evaluate_text(text, env)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("10 - 2 * 3 % 4", 8),
        ("2 * -3", -6),
        ("-2 * 3 + 1", -5),
        ("1 + 2 & 3 + 4", "37"),  # & binds looser than +
        ("'n=' & 1 + 1 = 'n=2'", True),  # comparison looser than &
        ("not 1 = 2", True),  # not looser than comparison
        ("not false and false", False),  # not tighter than and
        ("true or false and false", True),  # and tighter than or
        ("(true or false) and false", False),
        ("!false && !false || false", True),
        ("not not true", True),
    ],
)
def test_precedence(env: MappingEnv, text: str, expected: object) -> None:
    assert evaluate_text(text, env) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 and 'x'", True),
        ("0 and 'x'", False),
        ("'' or 0", False),
        ("null or 2.5", True),
        ("not ''", True),
        ("not '0'", False),  # non-empty text is true
        ("not 0.0", True),
        ("!null", True),
    ],
)
def test_truthiness_and_boolean_results(env: MappingEnv, text: str, expected: bool) -> None:
    assert evaluate_text(text, env) is expected


def test_and_or_short_circuit(env: MappingEnv) -> None:
    # The right side would fail (unknown variable, division by zero) if evaluated.
    assert evaluate_text("false and missing", env) is False
    assert evaluate_text("true or 1 / 0", env) is True
    with pytest.raises(ExpressionRuntimeError, match="unknown variable 'missing'"):
        evaluate_text("true and missing", env)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1 / 0", "division by zero"),
        ("1.5 / 0.0", "division by zero"),
        ("5 % 0", "modulo by zero"),
        ("NAME + 1", "cannot add text and number; use & to join text"),
        ("1 + '1'", "cannot add text and number"),
        ("true + 1", "cannot add boolean and number"),
        ("null + null", "cannot add null and null"),
        ("'5' - 1", "cannot subtract text and number; use number"),
        ("'a' * 2", "cannot multiply text and number"),
        ("-'x'", "cannot negate text"),
        ("+true", "unary \\+ needs a number"),
        ("1000000000000000000 + 1", "number out of range"),
        ("-1000000000000000000 - 1", "number out of range"),
        ("1000000000 * 1000000000 * 2", "number out of range"),
    ],
)
def test_arithmetic_errors(env: MappingEnv, text: str, message: str) -> None:
    with pytest.raises(ExpressionRuntimeError, match=message):
        evaluate_text(text, env)


def test_limits_of_integers_are_inclusive(env: MappingEnv) -> None:
    assert evaluate_text("1000000000000000000", env) == 10**18
    assert evaluate_text("999999999999999999 + 1", env) == 10**18
    assert evaluate_text("-1000000000000000000", env) == -(10**18)


def test_float_overflow_is_a_range_error(env: MappingEnv) -> None:
    env.variables["big"] = 1e300
    with pytest.raises(ExpressionRuntimeError, match="number out of range"):
        evaluate_text("big * big", env)
    env.variables["huge"] = 10**400  # out of range value coming from outside
    with pytest.raises(ExpressionRuntimeError, match="number out of range"):
        evaluate_text("huge + 1.5", env)


def test_runtime_error_column_is_where_the_failing_subexpression_starts(env: MappingEnv) -> None:
    with pytest.raises(ExpressionRuntimeError) as info:
        evaluate_text("1 + (10 / (position - 2))", env)
    assert info.value.column == 6
    assert str(info.value) == "column 6: division by zero"
    assert info.value.source == "1 + (10 / (position - 2))"
    with pytest.raises(ExpressionRuntimeError) as info:
        evaluate_text("NAME & ' ' & missing_var", env)
    assert info.value.column == 14
    assert "missing_var" in info.value.message


def test_compiled_expression_reports_what_it_reads() -> None:
    expression = compile_expression("if(ОТДЕЛ = 'x', upper(NAME), CalledID()) & NAME")
    assert expression.variables == frozenset({"ОТДЕЛ", "NAME"})
    assert expression.functions == frozenset({"if", "upper", "calledid"})
    assert expression.source == "if(ОТДЕЛ = 'x', upper(NAME), CalledID()) & NAME"


def test_compile_is_cached_and_reusable(env: MappingEnv) -> None:
    first = compile_expression("position * 10")
    assert compile_expression("position * 10") is first
    assert first.evaluate(env) == 20
    env.variables["position"] = 5
    assert first.evaluate(env) == 50
