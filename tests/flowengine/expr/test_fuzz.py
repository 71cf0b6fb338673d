"""Property: whatever the text and the variables, only ExpressionError escapes.

Two kinds of input: arbitrary text (mostly stopped by the lexer) and text
assembled from the language's own tokens (gets into the parser, the compiler
and evaluation). Internal errors are converted to ExpressionRuntimeError as a
last resort, so the property also forbids the "internal error" message.
"""

from __future__ import annotations

import datetime
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from flowengine.expr import (
    ExpressionError,
    MappingEnv,
    Value,
    compile_expression,
    compile_template,
    function_names,
    function_specs,
)
from flowengine.expr.functions import FunctionSpec

NAMES = ["a", "b", "ОТДЕЛ", "x_1"]

values: st.SearchStrategy[Value] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.sampled_from([0, 1, -1, 10**18, -(10**18), 10**400]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["", "0", "42", " 3.5 ", "abc", "(", "\\d+", "\ud800", "x" * 99_999]),
)

variables = st.dictionaries(st.sampled_from(NAMES), values, max_size=len(NAMES))

TOKENS = (
    NAMES
    + ["missing", "0", "1", "2", "3.5", "10", "1000000000000000000", "99999999999999999999"]
    + ["'x'", "'abc'", '"42"', "''", "'('", r"'\d+'", "'a\\'b'", "'", '"']
    + ["true", "false", "null", "TRUE", "and", "or", "not", "&&", "||", "!"]
    + ["+", "-", "*", "/", "%", "&", "=", "==", "!=", "<>", "<", "<=", ">", ">="]
    + ["(", ")", ",", ".", "#", "{", "}"]
    + [f"{name}(" for name in function_names()]
)

token_text = st.builds(
    lambda tokens, sep: sep.join(tokens),
    st.lists(st.sampled_from(TOKENS), min_size=1, max_size=25),
    st.sampled_from([" ", ""]),
)


LITERALS = ["0", "1", "-1", "2.5", "1000000000000000000", "'x'", "'42'", "''", "'(a+)+'"]
BINARY = ["+", "-", "*", "/", "%", "&", "=", "!=", "<", ">=", "and", "or"]
BUILTINS = [spec for spec in function_specs() if not spec.name.startswith("test_")]


def _call(spec: FunctionSpec, children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    most = spec.max_args if spec.max_args is not None else spec.min_args + 2
    return st.lists(children, min_size=spec.min_args, max_size=most).map(
        lambda args: f"{spec.name}({', '.join(args)})"
    )


def _extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(children, st.sampled_from(BINARY), children).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        st.tuples(st.sampled_from(["-", "+", "not ", "!"]), children).map(
            lambda t: f"({t[0]}({t[1]}))"
        ),
        st.sampled_from(BUILTINS).flatmap(lambda spec: _call(spec, children)),
    )


well_formed = st.recursive(st.sampled_from(NAMES + ["missing"] + LITERALS), _extend, max_leaves=12)


def _env(variables: dict[str, Value], seed: int) -> MappingEnv:
    return MappingEnv(
        variables=dict(variables),
        called="74951234567",
        caller="",
        clock=datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.UTC),
        last_digits="1#",
        generator=random.Random(seed),
    )


def _check_expression(text: str, variables: dict[str, Value], seed: int) -> None:
    try:
        expression = compile_expression(text)
    except ExpressionError as exc:
        assert not exc.message.startswith("internal error"), exc
        return
    try:
        result = expression.evaluate(_env(variables, seed))
    except ExpressionError as exc:
        assert not exc.message.startswith("internal error"), exc
        return
    assert result is None or type(result) in (str, int, float, bool)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=40), variables, st.integers(0, 2**32))
def test_arbitrary_text_raises_only_expression_errors(
    text: str, variables: dict[str, Value], seed: int
) -> None:
    _check_expression(text, variables, seed)


@settings(max_examples=500, deadline=None)
@given(token_text, variables, st.integers(0, 2**32))
def test_token_soup_raises_only_expression_errors(
    text: str, variables: dict[str, Value], seed: int
) -> None:
    _check_expression(text, variables, seed)


@settings(max_examples=400, deadline=None)
@given(well_formed, variables, st.integers(0, 2**32))
def test_well_formed_expressions_raise_only_expression_errors(
    text: str, variables: dict[str, Value], seed: int
) -> None:
    compile_expression(text)  # well formed by construction: must compile
    _check_expression(text, variables, seed)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(token_text, st.sampled_from(["{", "}", "{{", "}}", "Hi ", "{a}"])), max_size=6
    ),
    variables,
    st.integers(0, 2**32),
)
def test_templates_raise_only_expression_errors(
    pieces: list[str], variables: dict[str, Value], seed: int
) -> None:
    text = "".join(pieces)
    try:
        template = compile_template(text)
    except ExpressionError as exc:
        assert not exc.message.startswith("internal error"), exc
        return
    try:
        assert isinstance(template.render(_env(variables, seed)), str)
    except ExpressionError as exc:
        assert not exc.message.startswith("internal error"), exc
