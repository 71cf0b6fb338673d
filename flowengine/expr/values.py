"""Values of the expression language and the rules that combine them.

A value is ``str | int | float | bool | None`` (`Value`). Python's ``bool`` is
a subclass of ``int``, so every rule here dispatches on ``type(x)`` and never
on ``isinstance``: ``true + 1`` is a type error, not 2.

The functions raise `ExpressionRuntimeError` without a column; the compiler
adds the column of the sub-expression that failed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import TypeAlias

from flowengine.expr import limits
from flowengine.expr.errors import ExpressionRuntimeError

Value: TypeAlias = str | int | float | bool | None

_NUMBER_TEXT = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?", re.ASCII)


def kind(value: object) -> str:
    """The name of a value's type as users see it in messages."""
    t = type(value)
    if t is str:
        return "text"
    if t is int or t is float:
        return "number"
    if t is bool:
        return "boolean"
    if value is None:
        return "null"
    return t.__name__


def out_of_range() -> ExpressionRuntimeError:
    return ExpressionRuntimeError("number out of range")


def check_number(n: int | float) -> int | float:
    """`n` itself, or a runtime error if it is beyond the language's range."""
    if type(n) is int:
        if -limits.MAX_INT <= n <= limits.MAX_INT:
            return n
        raise out_of_range()
    if math.isfinite(n):
        return n
    raise out_of_range()


def check_text(s: str) -> str:
    if len(s) > limits.MAX_STRING_LENGTH:
        raise text_too_long(len(s))
    return s


def text_too_long(length: int) -> ExpressionRuntimeError:
    return ExpressionRuntimeError(
        f"text too long ({length} characters; the limit is {limits.MAX_STRING_LENGTH})"
    )


def check_value(value: object) -> Value:
    """`value` if it is a `Value` within the limits (guards custom functions)."""
    t = type(value)
    if t is str:
        return check_text(value)  # type: ignore[arg-type]
    if t is int or t is float:
        return check_number(value)  # type: ignore[arg-type]
    if t is bool or value is None:
        return value  # type: ignore[return-value]
    raise ExpressionRuntimeError(f"unsupported value of type {t.__name__}")


# --- conversions -------------------------------------------------------------


def parse_number(s: str) -> int | float | None:
    """The number written in `s`, or None if `s` is not a number.

    Accepted: optional surrounding whitespace, an optional sign, ASCII digits,
    an optional decimal point with digits (``"42"``, ``" -3.5 "``,
    ``"+74951234567"``). No exponents, no ``inf``/``nan``, no thousands
    separators. The result is not range-checked (callers decide).
    """
    if len(s) > limits.MAX_NUMBER_TEXT_LENGTH:
        return None
    if s.isdigit() and s.isascii():  # the common case: a phone number or DTMF digits
        return int(s)
    s = s.strip()
    if not _NUMBER_TEXT.fullmatch(s):
        return None
    if "." in s:
        return float(s)
    return int(s)


def to_text(value: Value) -> str:
    """The text() rules: null → "", booleans → "true"/"false", integral
    floats without ".0" (2.0 → "2"), other floats in their shortest form."""
    t = type(value)
    if t is str:
        return value  # type: ignore[return-value]
    if t is int:
        return str(check_number(value))  # type: ignore[arg-type]
    if t is float:
        f: float = value  # type: ignore[assignment]
        if f.is_integer() and abs(f) < 1e16:
            return str(int(f))
        return repr(f)
    if t is bool:
        return "true" if value else "false"
    if value is None:
        return ""
    raise ExpressionRuntimeError(f"unsupported value of type {t.__name__}")


def to_number(value: Value) -> int | float:
    """The number() rules: numbers as they are, booleans 0/1, numeric text
    parsed; anything else is a runtime error."""
    t = type(value)
    if t is int or t is float:
        return check_number(value)  # type: ignore[arg-type]
    if t is bool:
        return 1 if value else 0
    if t is str:
        n = parse_number(value)  # type: ignore[arg-type]
        if n is None:
            raise ExpressionRuntimeError(f"{_show(value)} is not a number")
        return check_number(n)
    raise ExpressionRuntimeError(f"cannot convert {kind(value)} to a number")


def to_int(value: Value, what: str) -> int:
    """A whole number for a function parameter such as a position or count:
    numbers and numeric text are accepted when they are whole."""
    t = type(value)
    if t is int:
        return value  # type: ignore[return-value]
    if t is float or t is str:
        n = to_number(value)
        if isinstance(n, int):
            return n
        if n.is_integer():
            return int(n)
        raise ExpressionRuntimeError(f"{what} must be a whole number, got {_show(value)}")
    raise ExpressionRuntimeError(f"{what} must be a whole number, got {kind(value)}")


def to_numeric(value: Value, what: str) -> int | float:
    """A number for a function parameter: numbers and numeric text."""
    t = type(value)
    if t is int or t is float or t is str:
        return to_number(value)
    raise ExpressionRuntimeError(f"{what} must be a number, got {kind(value)}")


def _show(value: Value) -> str:
    if type(value) is str:
        s: str = value  # type: ignore[assignment]
        return repr(s if len(s) <= 30 else s[:27] + "...")
    return to_text(value) if value is not None else "null"


def truthy(value: Value) -> bool:
    """false, null, 0 and "" are false; everything else is true."""
    return bool(value)


# --- comparison --------------------------------------------------------------


def equals(a: Value, b: Value) -> bool:
    """Equality: numbers numerically, text exactly, a number and a text
    numerically when the text is a number (else not equal), null only to null,
    booleans only to booleans. Never raises."""
    ta = type(a)
    tb = type(b)
    if ta is tb:
        return a == b
    if (ta is int or ta is float) and (tb is int or tb is float):
        return a == b
    if ta is str and (tb is int or tb is float):
        n = parse_number(a)  # type: ignore[arg-type]
        return n is not None and n == b
    if tb is str and (ta is int or ta is float):
        n = parse_number(b)  # type: ignore[arg-type]
        return n is not None and n == a
    return False


def _ordered(a: Value, b: Value) -> tuple[int | float, int | float] | tuple[str, str]:
    """Two values that Python can order the way the language does."""
    ta = type(a)
    tb = type(b)
    a_num = ta is int or ta is float
    b_num = tb is int or tb is float
    if a_num and b_num:
        return a, b  # type: ignore[return-value]
    if ta is str and tb is str:
        return a, b  # type: ignore[return-value]
    if ta is str and b_num:
        n = parse_number(a)  # type: ignore[arg-type]
        if n is not None:
            return n, b  # type: ignore[return-value]
    elif tb is str and a_num:
        n = parse_number(b)  # type: ignore[arg-type]
        if n is not None:
            return a, n  # type: ignore[return-value]
    raise ExpressionRuntimeError(f"cannot compare {_described(a)} with {_described(b)}")


def _described(value: Value) -> str:
    if type(value) is str:
        return f"text {_show(value)}"
    return kind(value)


def less(a: Value, b: Value) -> bool:
    x, y = _ordered(a, b)
    return x < y  # type: ignore[operator]


def less_equal(a: Value, b: Value) -> bool:
    x, y = _ordered(a, b)
    return x <= y  # type: ignore[operator]


def greater(a: Value, b: Value) -> bool:
    x, y = _ordered(a, b)
    return x > y  # type: ignore[operator]


def greater_equal(a: Value, b: Value) -> bool:
    x, y = _ordered(a, b)
    return x >= y  # type: ignore[operator]


def not_equals(a: Value, b: Value) -> bool:
    return not equals(a, b)


COMPARISONS: dict[str, Callable[[Value, Value], bool]] = {
    "=": equals,
    "==": equals,
    "!=": not_equals,
    "<>": not_equals,
    "<": less,
    "<=": less_equal,
    ">": greater,
    ">=": greater_equal,
}


# --- arithmetic --------------------------------------------------------------


def _numbers(a: Value, b: Value, verb: str) -> tuple[int | float, int | float]:
    ta = type(a)
    tb = type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return a, b  # type: ignore[return-value]
    hint = "; use number(x) to read text as a number" if str in (ta, tb) else ""
    raise ExpressionRuntimeError(f"cannot {verb} {kind(a)} and {kind(b)}{hint}")


def add(a: Value, b: Value) -> Value:
    ta = type(a)
    tb = type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        try:
            return check_number(a + b)  # type: ignore[operator,arg-type]
        except OverflowError:
            raise out_of_range() from None
    if ta is str and tb is str:
        if len(a) + len(b) > limits.MAX_STRING_LENGTH:  # type: ignore[arg-type]
            raise text_too_long(len(a) + len(b))  # type: ignore[arg-type]
        return a + b  # type: ignore[operator]
    if str in (ta, tb) and (ta in (int, float) or tb in (int, float)):
        raise ExpressionRuntimeError("cannot add text and number; use & to join text")
    raise ExpressionRuntimeError(f"cannot add {kind(a)} and {kind(b)}")


def subtract(a: Value, b: Value) -> Value:
    x, y = _numbers(a, b, "subtract")
    try:
        return check_number(x - y)
    except OverflowError:
        raise out_of_range() from None


def multiply(a: Value, b: Value) -> Value:
    x, y = _numbers(a, b, "multiply")
    try:
        return check_number(x * y)
    except OverflowError:
        raise out_of_range() from None


def divide(a: Value, b: Value) -> Value:
    """int / int is an int when the division is exact, else a float."""
    x, y = _numbers(a, b, "divide")
    if y == 0:
        raise ExpressionRuntimeError("division by zero")
    try:
        if type(x) is int and type(y) is int:
            q, r = divmod(x, y)
            if r == 0:
                return check_number(q)
        return check_number(x / y)
    except OverflowError:
        raise out_of_range() from None


def modulo(a: Value, b: Value) -> Value:
    """The remainder has the sign of the divisor (-7 % 3 = 2)."""
    x, y = _numbers(a, b, "take the remainder of")
    if y == 0:
        raise ExpressionRuntimeError("modulo by zero")
    try:
        return check_number(x % y)
    except OverflowError:
        raise out_of_range() from None


def negate(a: Value) -> Value:
    t = type(a)
    if t is int or t is float:
        return check_number(-a)  # type: ignore[operator,arg-type]
    raise ExpressionRuntimeError(f"cannot negate {kind(a)}")


def plus(a: Value) -> Value:
    t = type(a)
    if t is int or t is float:
        return a
    raise ExpressionRuntimeError(f"unary + needs a number, got {kind(a)}")


ARITHMETIC: dict[str, Callable[[Value, Value], Value]] = {
    "+": add,
    "-": subtract,
    "*": multiply,
    "/": divide,
    "%": modulo,
}
