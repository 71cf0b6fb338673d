"""Templated text."""

from __future__ import annotations

import pytest

from flowengine.expr import (
    ExpressionRuntimeError,
    ExpressionSyntaxError,
    MappingEnv,
    compile_template,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello {NAME}, you are {position + 1}th", "Hello Anna, you are 3th"),
        ("plain text", "plain text"),
        ("", ""),
        ("{{literal}} {{", "{literal} {"),
        ("}}{NAME}{{", "}Anna{"),
        ("{{{NAME}}}", "{Anna}"),
        ("{ if(flag, '}', '{') }", "}"),
        ('{"a}b" & NAME}', "a}bAnna"),
        (r"{'it\'s }'}", "it's }"),
        ("Отдел: {upper(ОТДЕЛ)}!", "Отдел: ПРОДАЖИ!"),
        ("{nothing}|{flag}|{price * 2}|{10 / 4}", "|true|5|2.5"),
        ("{1}\n{2}", "1\n2"),
    ],
)
def test_render(env: MappingEnv, text: str, expected: str) -> None:
    assert compile_template(text).render(env) == expected


def test_template_reports_what_it_reads() -> None:
    template = compile_template("{NAME} {upper(ОТДЕЛ)} {{x}} {calledid()}")
    assert template.variables == frozenset({"NAME", "ОТДЕЛ"})
    assert template.functions == frozenset({"upper", "calledid"})
    assert template.source == "{NAME} {upper(ОТДЕЛ)} {{x}} {calledid()}"
    assert compile_template("{NAME} {upper(ОТДЕЛ)} {{x}} {calledid()}") is template


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("Hi {NAME", "unterminated '{' (write '{{' for a literal brace)", 4),
        ("Hi } there", "unexpected '}' (write '}}' for a literal brace)", 4),
        ("Hi {}", "empty expression", 5),
        ("Hi {  }", "empty expression", 5),
        ("Hi {NAME +}", "unexpected end of expression, expected an operand", 11),
        ("ab {x} {1 + )}", "unexpected ')', expected an operand", 13),
        ("x {'abc}", "unterminated string", 4),
        ("x {foo()}", "unknown function 'foo'", 4),
    ],
)
def test_template_syntax_errors_carry_template_columns(
    text: str, message: str, column: int
) -> None:
    with pytest.raises(ExpressionSyntaxError) as info:
        compile_template(text)
    assert info.value.message == message
    assert info.value.column == column
    assert info.value.source == text


def test_template_runtime_errors_carry_template_columns(env: MappingEnv) -> None:
    template = compile_template("Dear {NAME}, {1 + missing}")
    with pytest.raises(ExpressionRuntimeError) as info:
        template.render(env)
    assert info.value.message == "unknown variable 'missing'"
    assert info.value.column == 19
    assert info.value.source == "Dear {NAME}, {1 + missing}"
    with pytest.raises(ExpressionRuntimeError) as info:
        compile_template("ab{ 1/0 }").render(env)
    assert info.value.column == 5
    assert info.value.message == "division by zero"


def test_rendered_text_is_limited(env: MappingEnv) -> None:
    env.variables["chunk"] = "x" * 60_000
    with pytest.raises(ExpressionRuntimeError, match="text too long"):
        compile_template("{chunk}{chunk}").render(env)


def test_non_text_template_is_a_syntax_error() -> None:
    with pytest.raises(ExpressionSyntaxError, match="template must be text"):
        compile_template(None)  # type: ignore[arg-type]
