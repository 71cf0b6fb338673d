"""Equality and ordering rules (values.py), through the language."""

from __future__ import annotations

import pytest

from flowengine.expr import ExpressionRuntimeError, MappingEnv, equals, evaluate_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # numbers numerically
        ("1 = 1.0", True),
        ("2 == 2", True),
        ("0.1 + 0.2 = 0.3", False),  # floats are binary floats
        # text exactly
        ("'abc' = 'abc'", True),
        ("'abc' = 'ABC'", False),
        ("'1' = '01'", False),  # two texts never compare as numbers
        # number vs text: numerically when the text is a number
        ("CALLEDID = 74951234567", True),
        ("74951234567 = CALLEDID", True),
        ("CALLEDID = 74951234568", False),
        ("'007' = 7", True),
        ("' 3.50 ' = 3.5", True),
        ("'+7' = 7", True),
        ("'abc' = 0", False),
        ("'' = 0", False),
        ("'1e3' = 1000", False),  # no exponents
        # null only equals null; booleans only booleans
        ("null = null", True),
        ("null = ''", False),
        ("null = 0", False),
        ("true = true", True),
        ("true = 1", False),
        ("false = 0", False),
        ("false = ''", False),
        ("true = 'true'", False),
        # inequality is the exact negation
        ("1 != 2", True),
        ("1 <> 1", False),
        ("'a' != null", True),
        ("CALLEDID != 74951234567", False),
    ],
)
def test_equality(env: MappingEnv, text: str, expected: bool) -> None:
    assert evaluate_text(text, env) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 < 2", True),
        ("2 <= 2", True),
        ("3 > 2.5", True),
        ("2 >= 3", False),
        ("'apple' < 'banana'", True),
        ("'b' > 'abc'", True),  # lexicographic
        ("'10' < '9'", True),  # text vs text stays lexicographic
        ("'10' > 9", True),  # numeric text vs number is numeric
        ("9 < '10'", True),
        ("'Я' > 'А'", True),
    ],
)
def test_ordering(env: MappingEnv, text: str, expected: bool) -> None:
    assert evaluate_text(text, env) is expected


@pytest.mark.parametrize(
    "text",
    [
        "'abc' < 1",
        "1 > 'abc'",
        "true < false",
        "null < 1",
        "1 >= null",
        "'a' <= true",
        "(1 < 2) < 3",
    ],
)
def test_ordering_of_unorderable_values_is_a_type_error(env: MappingEnv, text: str) -> None:
    with pytest.raises(ExpressionRuntimeError, match="cannot compare"):
        evaluate_text(text, env)


def test_equals_helper_matches_the_operator() -> None:
    # The Menu node compares case values with the same rules.
    assert equals("74951234567", 74951234567)
    assert not equals(True, 1)
    assert not equals(None, "")
    assert equals(2, 2.0)
