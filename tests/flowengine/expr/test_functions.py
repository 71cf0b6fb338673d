"""Built-in functions and the registry."""

from __future__ import annotations

import datetime
import random

import pytest

from flowengine.errors import FlowEngineError, RegistryError
from flowengine.expr import (
    ExpressionError,
    ExpressionRuntimeError,
    ExpressionSyntaxError,
    FunctionRegistryError,
    MappingEnv,
    NoCentreError,
    Value,
    compile_expression,
    evaluate_text,
    function_names,
    function_specs,
    register_function,
)
from flowengine.expr.env import Env


def test_call_facts(env: MappingEnv) -> None:
    assert evaluate_text("calledid()", env) == "74951234567"
    assert evaluate_text("callerid()", env) == "+79161234567"
    assert evaluate_text("digits()", env) == "42"
    assert evaluate_text("CALLERID()", env) == "+79161234567"  # names are case-insensitive
    assert evaluate_text("calledid_raw()", env) == "74951234567"  # no rules: the raw number is the number
    assert evaluate_text("line()", env) == ""


def test_raw_numbers_and_line() -> None:
    env = MappingEnv(called="+74951230001", called_raw="84951230001", caller="+7916", caller_raw="8916", line_name="trunk-1")
    assert evaluate_text("calledid() & ' ' & calledid_raw()", env) == "+74951230001 84951230001"
    assert evaluate_text("callerid_raw()", env) == "8916"
    assert evaluate_text("line() = 'trunk-1'", env) is True


def test_time_functions(env: MappingEnv) -> None:
    assert evaluate_text("now()", env) == "2026-11-23T10:07:30+03:00"
    assert evaluate_text("hour()", env) == 10
    assert evaluate_text("minute()", env) == 7
    assert evaluate_text("weekday()", env) == 1  # Monday
    assert evaluate_text("date()", env) == "2026-11-23"
    env.clock = datetime.datetime(2026, 11, 29, 23, 59, tzinfo=datetime.UTC)
    assert evaluate_text("weekday()", env) == 7  # Sunday
    assert evaluate_text("hour() >= 9 and hour() < 18", env) is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("len('привет')", 6),
        ("len(12345)", 5),
        ("len(null)", 0),
        ("substr('hello', 1)", "ello"),
        ("substr('hello', 1, 3)", "ell"),
        ("substr('hello', -3, 2)", "he"),  # negative start clamps to 0
        ("substr('hello', 10)", ""),
        ("substr('hello', 2, -1)", ""),
        ("substr('hello', 3, 100)", "lo"),
        ("substr(74951234567, 0, 4)", "7495"),
        ("substr('hello', '1', 2.0)", "el"),
        ("lower('ОТДЕЛ Sales')", "отдел sales"),
        ("upper('отдел')", "ОТДЕЛ"),
        ("trim('  x y \t')", "x y"),
        ("contains('hello', 'ell')", True),
        ("contains('hello', 'xyz')", False),
        ("startswith(CALLEDID, '7495')", True),
        ("startswith(CALLEDID, '7812')", False),
        ("endswith('file.wav', '.wav')", True),
        ("endswith('file.wav', '.mp3')", False),
        ("replace('a-b-c', '-', '+')", "a+b+c"),
        ("replace('abc', '', 'x')", "abc"),
        ("text(null)", ""),
        ("text(true)", "true"),
        ("text(false)", "false"),
        ("text(2.0)", "2"),
        ("text(2.5)", "2.5"),
        ("text(-0.0)", "0"),
        ("text(10 / 4)", "2.5"),
        ("text(42)", "42"),
    ],
)
def test_text_functions(env: MappingEnv, text: str, expected: Value) -> None:
    result = evaluate_text(text, env)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("matches('abc123', '[0-9]+')", True),
        ("matches('abc', '^[0-9]+$')", False),
        (r"matches('8-800-555', '^\d-\d{3}')", True),  # search semantics, \d kept
        ("matches(CALLEDID, '^7(495|499)')", True),
        ("matches('ПРИВЕТ', '(?i)привет')", True),
    ],
)
def test_matches(env: MappingEnv, text: str, expected: bool) -> None:
    assert evaluate_text(text, env) is expected


def test_bad_regex_is_a_runtime_error_with_column(env: MappingEnv) -> None:
    with pytest.raises(ExpressionRuntimeError) as info:
        evaluate_text("1 = 1 and matches(NAME, '(unclosed')", env)
    assert info.value.column == 11
    assert "invalid regular expression" in info.value.message
    with pytest.raises(ExpressionRuntimeError, match="invalid regular expression"):
        evaluate_text("matches('aaa', '(?=a)')", env)  # lookahead is not RE2


def test_matches_is_linear_on_a_catastrophic_pattern(env: MappingEnv) -> None:
    # Backtracking engines take exponential time here; RE2 answers at once.
    env.variables["s"] = "a" * 5000 + "!"
    assert evaluate_text("matches(s, '^(a+)+$')", env) is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("number('42')", 42),
        ("number(' -3.5 ')", -3.5),
        ("number('+74951234567')", 74951234567),
        ("number(7)", 7),
        ("number(2.5)", 2.5),
        ("number(true)", 1),
        ("number(false)", 0),
        ("number('abc', -1)", -1),
        ("number('', 0)", 0),
        ("number(null, 'none')", "none"),
        ("number(digits()) + 1", 43),
    ],
)
def test_number(env: MappingEnv, text: str, expected: Value) -> None:
    result = evaluate_text(text, env)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("number('abc')", "'abc' is not a number"),
        ("number(null)", "cannot convert null to a number"),
        ("number('99999999999999999999')", "number out of range"),
    ],
)
def test_number_errors(env: MappingEnv, text: str, message: str) -> None:
    with pytest.raises(ExpressionRuntimeError, match=message):
        evaluate_text(text, env)


def test_if_is_lazy(env: MappingEnv) -> None:
    assert evaluate_text("if(position > 1, 'many', 1 / 0)", env) == "many"
    assert evaluate_text("if(position > 5, missing, 'few')", env) == "few"
    assert evaluate_text("if('', 1, 2)", env) == 2
    with pytest.raises(ExpressionRuntimeError, match="division by zero"):
        evaluate_text("if(position > 5, 'many', 1 / 0)", env)


def test_coalesce(env: MappingEnv) -> None:
    assert evaluate_text("coalesce(nothing, empty, NAME)", env) == "Anna"
    assert evaluate_text("coalesce(zero, 5)", env) == 0  # 0 and false are values
    assert evaluate_text("coalesce(false, 5)", env) is False
    assert evaluate_text("coalesce(null, '')", env) is None
    assert evaluate_text("coalesce(NAME, 1 / 0)", env) == "Anna"  # stops at the first value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("round(2.5)", 3),
        ("round(-2.5)", -3),
        ("round(2.4)", 2),
        ("round(1.005, 2)", 1.01),
        ("round(2.675, 2)", 2.68),
        ("round(1234.5678, 1)", 1234.6),
        ("round(1250, -2)", 1300),
        ("round(7, 2)", 7),
        ("round('2.5')", 3),
        ("abs(-3)", 3),
        ("abs(-2.5)", 2.5),
        ("abs('-4')", 4),
        ("min(3, 1, 2)", 1),
        ("max(3, 1, 2)", 3),
        ("max(1, 2.5)", 2.5),
        ("min('pear', 'apple')", "apple"),
        ("max('10', 9)", "10"),  # numeric text vs number compares numerically
        ("min(5)", 5),
    ],
)
def test_number_functions(env: MappingEnv, text: str, expected: Value) -> None:
    result = evaluate_text(text, env)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("round(null)", "round\\(x\\) must be a number, got null"),
        ("abs('x')", "'x' is not a number"),
        ("max(1, 'x')", "cannot compare"),
        ("substr('abc', 1.5)", "substr start must be a whole number"),
        ("random(0)", "random\\(n\\) needs n >= 1"),
        ("random(5, 1)", "random\\(a, b\\) needs a <= b"),
    ],
)
def test_number_function_errors(env: MappingEnv, text: str, message: str) -> None:
    with pytest.raises(ExpressionRuntimeError, match=message):
        evaluate_text(text, env)


def test_round_of_a_huge_float_is_out_of_range(env: MappingEnv) -> None:
    env.variables["big"] = 1e300
    with pytest.raises(ExpressionRuntimeError, match="number out of range"):
        evaluate_text("round(big)", env)
    assert evaluate_text("round(big, 2)", env) == 1e300


def test_random_uses_the_call_rng(env: MappingEnv) -> None:
    env.generator = random.Random(1)
    expected = random.Random(1)
    assert evaluate_text("random()", env) == expected.random()
    assert evaluate_text("random(10)", env) == expected.randrange(10)
    assert evaluate_text("random(1, 6)", env) == expected.randint(1, 6)
    values = {evaluate_text("random(1, 3)", env) for _ in range(200)}
    assert values == {1, 2, 3}
    assert all(0 <= evaluate_text("random(4)", env) < 4 for _ in range(50))  # type: ignore[operator]


def test_builtin_names_are_listed() -> None:
    names = function_names()
    assert names == sorted(names)
    for name in ["calledid", "callerid", "calledid_raw", "callerid_raw", "line", "now", "hour", "minute", "weekday", "date", "len",
                 "substr", "lower", "upper", "trim", "contains", "startswith", "endswith",
                 "matches", "replace", "number", "text", "if", "random", "digits", "round",
                 "abs", "min", "max", "coalesce"]:  # fmt: skip
        assert name in names


def test_unknown_function_and_wrong_arity_fail_at_compile_time() -> None:
    with pytest.raises(ExpressionSyntaxError) as info:
        compile_expression("1 + foo(2)")
    assert info.value.column == 5
    assert info.value.message == "unknown function 'foo'"
    with pytest.raises(ExpressionSyntaxError, match="did you mean 'upper'"):
        compile_expression("uper('x')")
    with pytest.raises(ExpressionSyntaxError) as info:
        compile_expression("'x' & substr('abc')")
    assert info.value.column == 7
    assert info.value.message == "function 'substr' takes 2 to 3 arguments, got 1"
    with pytest.raises(ExpressionSyntaxError, match="'calledid' takes 0 arguments, got 1"):
        compile_expression("calledid(1)")
    with pytest.raises(ExpressionSyntaxError, match="'min' takes at least 1 argument, got 0"):
        compile_expression("min()")


# --- registry ----------------------------------------------------------------


def test_registering_a_name_twice_raises() -> None:
    register_function("test_twice_fn", lambda: 1, min_args=0, max_args=0)
    with pytest.raises(FunctionRegistryError, match="already registered") as info:
        register_function("TEST_TWICE_FN", lambda: 2, min_args=0, max_args=0)
    assert isinstance(info.value, ExpressionError)
    assert isinstance(info.value, RegistryError)
    assert isinstance(info.value, FlowEngineError)
    with pytest.raises(FunctionRegistryError):
        register_function("len", lambda s: 0, min_args=1, max_args=1)


@pytest.mark.parametrize(
    ("name", "min_args", "max_args"),
    [("not", 0, 0), ("1abc", 0, 0), ("a-b", 0, 0), ("ok_name_neg", -1, 0), ("ok_name_max", 2, 1)],
)
def test_registering_bad_names_or_arity_raises(name: str, min_args: int, max_args: int) -> None:
    with pytest.raises(FunctionRegistryError):
        register_function(name, lambda: 1, min_args=min_args, max_args=max_args)


def test_custom_function_with_env(env: MappingEnv) -> None:
    waiting = {"sales": 3, "support": 0}

    def queue_waiting(call: Env, queue: Value) -> Value:
        assert call is env
        return waiting[str(queue)]

    register_function(
        "test_queue_waiting",
        queue_waiting,
        min_args=1,
        max_args=1,
        needs_env=True,
        description_en="Calls waiting in a queue.",
        description_ru="Звонков в очереди.",
    )
    assert "test_queue_waiting" in function_names()
    assert evaluate_text("test_queue_waiting('sales') > 2", env) is True
    assert evaluate_text("test_queue_waiting('sup' & 'port')", env) == 0
    with pytest.raises(ExpressionSyntaxError, match="takes 1 argument, got 0"):
        compile_expression("test_queue_waiting()")
    # An exception inside a custom function becomes a runtime error of that call.
    with pytest.raises(ExpressionRuntimeError) as info:
        evaluate_text("1 + test_queue_waiting('nope')", env)
    assert info.value.column == 5
    assert "function 'test_queue_waiting' failed: KeyError" in info.value.message


def test_custom_function_results_are_checked(env: MappingEnv) -> None:
    register_function("test_returns_list", lambda: [1, 2], min_args=0, max_args=0)  # type: ignore[arg-type,return-value]
    register_function("test_returns_huge", lambda *a: 10**30, min_args=0, max_args=None)
    with pytest.raises(ExpressionRuntimeError, match="unsupported value of type list"):
        evaluate_text("test_returns_list()", env)
    with pytest.raises(ExpressionRuntimeError, match="number out of range"):
        evaluate_text("test_returns_huge(1, 2, 3)", env)


def test_function_registered_later_is_found_by_later_compiles(env: MappingEnv) -> None:
    with pytest.raises(ExpressionSyntaxError, match="unknown function 'test_late_fn'"):
        compile_expression("test_late_fn()")
    register_function("test_late_fn", lambda: "late", min_args=0, max_args=0)
    assert evaluate_text("test_late_fn()", env) == "late"


def test_function_specs_carry_descriptions() -> None:
    specs = {spec.name: spec for spec in function_specs()}
    assert specs["substr"].arity() == "2 to 3 arguments"
    assert specs["weekday"].needs_env
    assert specs["upper"].description_en and specs["upper"].description_ru


# --- the call centre's queues ----------------------------------------------------
def test_queue_functions_ask_the_centre_about_a_named_queue() -> None:
    facts: dict[str, Value] = {
        "waiting": 12, "estimated_wait": 90.0, "available": 0, "logged_in": 5, "busy": 4,
        "longest_wait": 140.5, "service_level": 75.0,
    }
    env = MappingEnv(queues={"sales": facts})
    for fact, value in facts.items():
        assert evaluate_text(f"queue_{fact}('sales')", env) == value
    assert evaluate_text("if(queue_waiting('sales') > 10, 'callback', 'wait')", env) == "callback"
    assert evaluate_text("Queue_Waiting('sa' & 'les')", env) == 12  # any expression names the queue


def test_an_unknown_queue_is_an_error_naming_it() -> None:
    env = MappingEnv(queues={"sales": {"waiting": 0}})
    with pytest.raises(ExpressionRuntimeError, match="column 1: unknown queue 'salse'"):
        evaluate_text("queue_waiting('salse')", env)


def test_queue_functions_without_a_centre_are_a_no_centre_error() -> None:
    with pytest.raises(NoCentreError, match="no call centre") as caught:
        evaluate_text("queue_busy('sales')", MappingEnv())
    assert caught.value.code == "no_centre"


def test_queue_functions_take_one_queue_name() -> None:
    with pytest.raises(ExpressionSyntaxError, match="function 'queue_waiting' takes 1 argument, got 0"):
        compile_expression("queue_waiting()")
