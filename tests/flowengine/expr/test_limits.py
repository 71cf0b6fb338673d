"""Safety limits: source length, nesting depth, evaluation steps, text size."""

from __future__ import annotations

import pytest

from flowengine.expr import (
    ExpressionRuntimeError,
    ExpressionSyntaxError,
    MappingEnv,
    compile_expression,
    compile_template,
    evaluate_text,
    limits,
)


def test_source_length_limit(env: MappingEnv) -> None:
    longest = "'" + "x" * (limits.MAX_SOURCE_LENGTH - 2) + "'"
    assert evaluate_text(longest, env) == "x" * (limits.MAX_SOURCE_LENGTH - 2)
    with pytest.raises(ExpressionSyntaxError, match="expression too long"):
        compile_expression(longest + " ")


def test_template_length_limit() -> None:
    compile_template("x" * limits.MAX_TEMPLATE_LENGTH)
    with pytest.raises(ExpressionSyntaxError, match="template too long"):
        compile_template("x" * (limits.MAX_TEMPLATE_LENGTH + 1))


def test_depth_limit_boundary(env: MappingEnv) -> None:
    # n unary minuses over a literal make a tree n + 1 deep.
    deepest = "-" * (limits.MAX_DEPTH - 1) + "1"
    assert evaluate_text(deepest, env) == -1  # 63 minuses
    with pytest.raises(ExpressionSyntaxError, match="nested too deeply") as info:
        compile_expression("-" + deepest)
    assert info.value.column == limits.MAX_DEPTH + 1  # the node beyond the limit


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-(" * 10_000 + "1" + ")" * 10_000, "expression too long"),
        ("not " * 10_000 + "true", "expression too long"),
        ("!" * 3000 + "true", "nested too deeply"),
        ("-(" * 999 + "1" + ")" * 999, "nested too deeply"),
        ("len(" * 500 + "'x'" + ")" * 500, "nested too deeply"),
        ("not " * 100 + "true", "nested too deeply"),
        ("1 + (" * 200 + "1" + ")" * 200, "nested too deeply"),
    ],
    ids=["neg-10000", "not-10000", "bang-3000", "neg-999", "len-500", "not-100", "sum-200"],
)
def test_deep_nesting_is_a_syntax_error_not_a_crash(text: str, message: str) -> None:
    with pytest.raises(ExpressionSyntaxError, match=message):
        compile_expression(text)


def test_redundant_parentheses_and_long_chains_do_not_count_as_depth(env: MappingEnv) -> None:
    assert evaluate_text("(" * 1999 + "1" + ")" * 1999, env) == 1
    assert evaluate_text("1" + " + 1" * 999, env) == 1000
    assert evaluate_text(" & ".join(["'a'"] * 300), env) == "a" * 300
    assert evaluate_text(" or ".join(["false"] * 400), env) is False


def test_step_limit(env: MappingEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_EVAL_STEPS", 10)
    assert evaluate_text("1+1+1+1+1+1+1+1+1", env) == 9  # 9 literals + 1 chain = 10 steps
    with pytest.raises(ExpressionRuntimeError, match="too many steps"):
        evaluate_text("1+1+1+1+1+1+1+1+1+1", env)
    # Each evaluation gets a fresh budget.
    expression = compile_expression("1+1+1+1")
    assert [expression.evaluate(env) for _ in range(5)] == [4] * 5
    # A lazy branch that is not taken costs nothing.
    assert evaluate_text("if(true, 1, 1+1+1+1+1+1+1+1+1+1+1+1)", env) == 1
    # A template's expressions share one budget.
    template = compile_template("{1+1+1} {1+1+1} {1+1+1}")  # 3 x 4 steps
    with pytest.raises(ExpressionRuntimeError, match="too many steps"):
        template.render(env)


def test_string_size_limit(env: MappingEnv) -> None:
    half = "x" * (limits.MAX_STRING_LENGTH // 2)
    env.variables.update({"half": half, "more": half + "x", "sharp_s": "ß" * 60_000})
    assert len(evaluate_text("half & half", env)) == limits.MAX_STRING_LENGTH  # type: ignore[arg-type]
    for text in [
        "half & more",
        "half + more",
        "replace(half, 'x', 'xxx')",
        "upper(sharp_s)",  # "ß".upper() is "SS"
        "text(more) & text(more)",
    ]:
        with pytest.raises(ExpressionRuntimeError, match="text too long"):
            evaluate_text(text, env)


def test_matches_limits_pattern_text_and_work(env: MappingEnv) -> None:
    import time

    env.variables.update(
        {
            "long_text": "ab" * (limits.MAX_REGEX_TEXT_LENGTH // 2),
            "too_long": "ab" * 50_000,
            "long_pattern": "a" * (limits.MAX_REGEX_LENGTH + 1),
            "big_pattern": "a[ab]{900}c",
            "huge_pattern": "[ab]{1000}" * 5 + "x{1000}",
            "costly_to_compile": "a{1000}" * 140,  # 980 characters, 140,000 instructions
        }
    )
    assert evaluate_text("matches(long_text, 'b$')", env) is True
    cases = {
        "matches(too_long, 'b$')": "too long to match",
        "matches('x', long_pattern)": "1001 characters long",
        "matches('x', huge_pattern)": "too large once compiled",
        "matches('x', costly_to_compile)": "repetitions add up to 140000",
        "matches(long_text, big_pattern)": "too many steps",
        "matches('x', '([a-')": "invalid regular expression",
    }
    for text, words in cases.items():
        started = time.perf_counter()
        with pytest.raises(ExpressionRuntimeError, match=words) as info:
            evaluate_text(text, env)
        assert info.value.column == 1
        assert time.perf_counter() - started < 1.0, text  # minutes before the limits; generous for a loaded machine


def test_matches_costs_steps_in_proportion_to_its_work(env: MappingEnv) -> None:
    env.variables["t"] = "x" * 1000
    # programsize of "x$" is small: 1000 characters cost a few hundred steps at most
    assert evaluate_text("matches(t, 'x$')", env) is True
    env.variables["t"] = "x" * 5000
    with pytest.raises(ExpressionRuntimeError, match="too many steps"):
        evaluate_text("matches(t, 'a[ab]{100}c')", env)  # about 100 x 5000 / 50 = 10,000 steps
