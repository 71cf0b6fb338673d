"""The function registry and the built-in functions.

Functions are resolved when an expression compiles, so an unknown name or a
wrong number of arguments is reported when the scenario loads. Names are
case-insensitive (``CalledID()`` is ``calledid()``) and stored in lower case.
Other packages add functions with `register_function` at import time, before
scenarios load. The queue functions (``queue_waiting("sales")`` and friends)
are built in and ask the call's `Env`, which asks the engine's call centre.

A function receives evaluated argument values (and the call's `Env` first when
it was registered with ``needs_env=True``) and returns a `Value`. It signals a
problem by raising `ExpressionRuntimeError` without a column; the compiler
adds the column of the call. Any other exception is reported as a runtime
error of that call too, and every result is checked against the limits.

``if`` and ``coalesce`` are compiled as lazy special forms (only the needed
arguments are evaluated); their entries here describe them and give the
eager meaning.
"""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal

import re2

from flowengine.expr import limits
from flowengine.expr.env import QUEUE_FACTS, Env
from flowengine.expr.errors import ExpressionRuntimeError, FunctionRegistryError
from flowengine.expr.regex import RegexError, check_text, compile_regex, regex_steps, search
from flowengine.expr.values import (
    Value,
    check_number,
    greater,
    less,
    text_too_long,
    to_int,
    to_number,
    to_numeric,
    to_text,
    truthy,
)

_NAME = re.compile(r"[^\W\d]\w*")
KEYWORDS = frozenset({"and", "or", "not", "true", "false", "null"})
LAZY_FUNCTIONS = frozenset({"if", "coalesce"})


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """One registered function: what to call and how many arguments it takes."""

    name: str
    fn: Callable[..., Value]
    min_args: int
    max_args: int | None
    needs_env: bool = False
    description_en: str = ""
    description_ru: str = ""
    #: steps a call costs beyond its own one, from its argument values (expensive built-ins)
    cost: Callable[..., int] | None = None

    def accepts(self, count: int) -> bool:
        return count >= self.min_args and (self.max_args is None or count <= self.max_args)

    def arity(self) -> str:
        """Human text such as "1 argument", "2 to 3 arguments", "at least 1 argument"."""
        lo, hi = self.min_args, self.max_args
        if hi is None:
            return f"at least {_arguments(lo)}"
        if lo == hi:
            return _arguments(lo)
        return f"{lo} to {_arguments(hi)}"


def _arguments(n: int) -> str:
    return f"{n} argument" if n == 1 else f"{n} arguments"


_REGISTRY: dict[str, FunctionSpec] = {}


def register_function(
    name: str,
    fn: Callable[..., Value],
    *,
    min_args: int,
    max_args: int | None,
    needs_env: bool = False,
    description_en: str = "",
    description_ru: str = "",
) -> None:
    """Make `name(...)` available to expressions compiled from now on.

    With ``needs_env=True`` the function is called as ``fn(env, *args)``.
    Registering a name twice (in any letter case), a name that is not an
    identifier or is a keyword, or an impossible arity raises
    `FunctionRegistryError`.
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise FunctionRegistryError(f"function name {name!r} is not an identifier")
    key = name.lower()
    if key in KEYWORDS:
        raise FunctionRegistryError(f"function name '{name}' is a keyword")
    if not callable(fn):
        raise FunctionRegistryError(f"function '{name}' is not callable")
    if type(min_args) is not int or min_args < 0:
        raise FunctionRegistryError(f"function '{name}': min_args must be an int >= 0")
    if max_args is not None and (type(max_args) is not int or max_args < min_args):
        raise FunctionRegistryError(f"function '{name}': max_args must be None or >= min_args")
    if key in _REGISTRY:
        raise FunctionRegistryError(f"function '{key}' is already registered")
    _REGISTRY[key] = FunctionSpec(
        key, fn, min_args, max_args, needs_env, description_en, description_ru
    )


def lookup_function(name: str) -> FunctionSpec | None:
    return _REGISTRY.get(name.lower())


def function_names() -> list[str]:
    """Every registered function name, sorted (for docs and autocompletion)."""
    return sorted(_REGISTRY)


def function_specs() -> list[FunctionSpec]:
    """Every registered function with its arity and descriptions, by name."""
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]


# --- call facts and time -----------------------------------------------------


def _calledid(env: Env) -> Value:
    return env.calledid()


def _callerid(env: Env) -> Value:
    return env.callerid()


def _calledid_raw(env: Env) -> Value:
    return env.calledid_raw()


def _callerid_raw(env: Env) -> Value:
    return env.callerid_raw()


def _line(env: Env) -> Value:
    return env.line()


def _digits(env: Env) -> Value:
    return env.digits()


def _now(env: Env) -> Value:
    return env.now().isoformat(timespec="seconds")


def _hour(env: Env) -> Value:
    return env.now().hour


def _minute(env: Env) -> Value:
    return env.now().minute


def _weekday(env: Env) -> Value:
    return env.now().isoweekday()


def _date(env: Env) -> Value:
    return env.now().date().isoformat()


def _random(env: Env, *bounds: Value) -> Value:
    rng: random.Random = env.rng()
    if not bounds:
        return rng.random()
    if len(bounds) == 1:
        n = to_int(bounds[0], "random(n)")
        if n < 1:
            raise ExpressionRuntimeError(f"random(n) needs n >= 1, got {n}")
        return rng.randrange(n)
    low = to_int(bounds[0], "random(a, b)")
    high = to_int(bounds[1], "random(a, b)")
    if low > high:
        raise ExpressionRuntimeError(f"random(a, b) needs a <= b, got {low} > {high}")
    return rng.randint(low, high)


# --- text --------------------------------------------------------------------


def _len(s: Value) -> Value:
    return len(to_text(s))


def _substr(s: Value, start: Value, length: Value = None) -> Value:
    text = to_text(s)
    begin = min(max(to_int(start, "substr start"), 0), len(text))
    if length is None:
        return text[begin:]
    count = max(to_int(length, "substr length"), 0)
    return text[begin : begin + count]


def _lower(s: Value) -> Value:
    return to_text(s).lower()


def _upper(s: Value) -> Value:
    return to_text(s).upper()


def _trim(s: Value) -> Value:
    return to_text(s).strip()


def _contains(s: Value, sub: Value) -> Value:
    return to_text(sub) in to_text(s)


def _startswith(s: Value, prefix: Value) -> Value:
    return to_text(s).startswith(to_text(prefix))


def _endswith(s: Value, suffix: Value) -> Value:
    return to_text(s).endswith(to_text(suffix))


def _replace(s: Value, old: Value, new: Value) -> Value:
    """Every occurrence; an empty `old` leaves the text unchanged."""
    text, a, b = to_text(s), to_text(old), to_text(new)
    if not a:
        return text
    size = len(text) + text.count(a) * (len(b) - len(a))
    if size > limits.MAX_STRING_LENGTH:
        raise text_too_long(size)
    return text.replace(a, b)


def _pattern(pattern: Value) -> re2._Regexp:
    try:
        return compile_regex(to_text(pattern))
    except RegexError as exc:
        raise ExpressionRuntimeError(str(exc)) from None


def _matches(s: Value, pattern: Value) -> Value:
    """RE2 search: true if the pattern matches anywhere (anchor with ^ and $)."""
    text = to_text(s)
    check_text(text)
    return search(_pattern(pattern), text)


def _matches_cost(s: Value, pattern: Value) -> int:
    """Steps of one `matches()`: the compiled program's size times the text's length."""
    text = to_text(s)
    check_text(text)
    return regex_steps(_pattern(pattern), text)


# --- conversion --------------------------------------------------------------


def _number(value: Value, *default: Value) -> Value:
    try:
        return to_number(value)
    except ExpressionRuntimeError:
        if default:
            return default[0]
        raise


def _text(value: Value) -> Value:
    return to_text(value)


# --- logic -------------------------------------------------------------------


def _if(condition: Value, then: Value, otherwise: Value) -> Value:
    return then if truthy(condition) else otherwise


def _is_blank(value: Value) -> bool:
    return value is None or (type(value) is str and value == "")


def _coalesce(*values: Value) -> Value:
    for value in values:
        if not _is_blank(value):
            return value
    return None


# --- numbers -----------------------------------------------------------------

_ROUNDING = Context(prec=50, rounding=ROUND_HALF_UP)


def _round(x: Value, ndigits: Value = None) -> Value:
    """Half away from zero (round(2.5) = 3, round(-2.5) = -3), decimally
    (round(1.005, 2) = 1.01). An int without ndigits, or with ndigits <= 0."""
    n = to_numeric(x, "round(x)")
    places = 0 if ndigits is None else to_int(ndigits, "round ndigits")
    places = max(-18, min(places, 15))
    if type(n) is int and places >= 0:
        return n
    if type(n) is float and abs(n) >= 1e16:
        # Already integral at this size; the decimal digits below do not exist.
        return check_number(int(n)) if places <= 0 else n
    exact = Decimal(repr(n)) if type(n) is float else Decimal(n)
    rounded = exact.quantize(Decimal(1).scaleb(-places), context=_ROUNDING)
    if places <= 0:
        return check_number(int(rounded))
    return float(rounded)


def _abs(x: Value) -> Value:
    return check_number(abs(to_numeric(x, "abs(x)")))


def _min(*values: Value) -> Value:
    best = values[0]
    for value in values[1:]:
        if less(value, best):
            best = value
    return best


def _max(*values: Value) -> Value:
    best = values[0]
    for value in values[1:]:
        if greater(value, best):
            best = value
    return best


# --- the call centre's queues ------------------------------------------------


def _queue_function(fact: str) -> Callable[[Env, Value], Value]:
    def queue_fact(env: Env, name: Value) -> Value:
        return env.queue(to_text(name), fact)

    queue_fact.__name__ = f"queue_{fact}"
    return queue_fact


#: fact -> (English, Russian) descriptions of the queue functions
_QUEUE_DESCRIPTIONS = {
    "waiting": ("Calls waiting in the queue.", "Звонков в очереди."),
    "estimated_wait": (
        "Estimated wait of a new caller in seconds (null when nobody staffs the queue).",
        "Ожидаемое время ожидания нового звонка, с (null, если операторов нет).",
    ),
    "available": ("Members who could take a call right now.", "Операторов, свободных прямо сейчас."),
    "logged_in": ("Members logged in, whatever their status.", "Операторов на смене (в любом статусе)."),
    "busy": ("Logged-in members on a call (ringing, talking, wrap-up).", "Операторов, занятых звонком."),
    "longest_wait": ("Seconds the longest-waiting caller has waited (0 if none).", "Дольше всех ждущий звонок, с."),
    "service_level": (
        "Per cent answered within the queue's threshold (null before the first answer).",
        "Уровень обслуживания, % (null до первого ответа).",
    ),
}


def _register_builtins() -> None:
    def add(
        name: str,
        fn: Callable[..., Value],
        lo: int,
        hi: int | None,
        en: str,
        ru: str,
        *,
        env: bool = False,
    ) -> None:
        register_function(
            name, fn, min_args=lo, max_args=hi, needs_env=env, description_en=en, description_ru=ru
        )

    # fmt: off
    add("calledid", _calledid, 0, 0, "The dialled number (DNIS), normalised by the line's rules.", "Набранный номер (CalledID), после нормализации.", env=True)
    add("callerid", _callerid, 0, 0, "The caller's number (ANI), normalised by the line's rules.", "Номер звонящего (CallerID), после нормализации.", env=True)
    add("calledid_raw", _calledid_raw, 0, 0, "The dialled number as the line sent it.", "Набранный номер, как его передала линия.", env=True)
    add("callerid_raw", _callerid_raw, 0, 0, "The caller's number as the line sent it.", "Номер звонящего, как его передала линия.", env=True)
    add("line", _line, 0, 0, 'Name of the line (trunk) the call came in on ("" if unknown).', "Имя линии (транка), по которой пришёл звонок.", env=True)
    add("digits", _digits, 0, 0, 'Digits of the last Gather ("" if none).', "Цифры последнего сбора DTMF.", env=True)
    add("now", _now, 0, 0, "Current time as ISO text with offset.", "Текущее время в формате ISO.", env=True)
    add("hour", _hour, 0, 0, "Current hour, 0-23.", "Текущий час, 0-23.", env=True)
    add("minute", _minute, 0, 0, "Current minute, 0-59.", "Текущая минута, 0-59.", env=True)
    add("weekday", _weekday, 0, 0, "Day of week, 1 = Monday .. 7 = Sunday.", "День недели, 1 = пн .. 7 = вс.", env=True)
    add("date", _date, 0, 0, 'Current date as "YYYY-MM-DD".', "Текущая дата, ГГГГ-ММ-ДД.", env=True)
    add("random", _random, 0, 2, "random(): 0..1; random(n): 0..n-1; random(a, b): a..b.", "Случайное число.", env=True)
    add("len", _len, 1, 1, "Length of the text.", "Длина текста.")
    add("substr", _substr, 2, 3, "Part of the text from a 0-based start.", "Подстрока с позиции (с 0).")
    add("lower", _lower, 1, 1, "Text in lower case.", "Текст строчными буквами.")
    add("upper", _upper, 1, 1, "Text in upper case.", "Текст прописными буквами.")
    add("trim", _trim, 1, 1, "Text without surrounding spaces.", "Текст без пробелов по краям.")
    add("contains", _contains, 2, 2, "Whether the text contains the part.", "Содержит ли текст подстроку.")
    add("startswith", _startswith, 2, 2, "Whether the text starts with the prefix.", "Начинается ли текст с префикса.")
    add("endswith", _endswith, 2, 2, "Whether the text ends with the suffix.", "Оканчивается ли текст суффиксом.")
    add("matches", _matches, 2, 2, "Whether an RE2 regular expression matches anywhere.", "Совпадает ли регулярное выражение.")
    _REGISTRY["matches"] = dataclasses.replace(_REGISTRY["matches"], cost=_matches_cost)
    add("replace", _replace, 3, 3, "Text with every occurrence replaced.", "Замена всех вхождений.")
    add("number", _number, 1, 2, "Text as a number (or the default).", "Текст как число (или значение по умолчанию).")
    add("text", _text, 1, 1, "Any value as text.", "Значение как текст.")
    add("if", _if, 3, 3, "if(condition, a, b): a when true, else b; lazy.", "Условие: a если истина, иначе b.")
    add("coalesce", _coalesce, 1, None, "First argument that is not null or empty.", "Первое непустое значение.")
    add("round", _round, 1, 2, "Rounded half away from zero.", "Округление (половина — от нуля).")
    add("abs", _abs, 1, 1, "Absolute value.", "Модуль числа.")
    add("min", _min, 1, None, "Smallest argument.", "Наименьшее значение.")
    add("max", _max, 1, None, "Largest argument.", "Наибольшее значение.")
    # fmt: on
    for fact in QUEUE_FACTS:
        en, ru = _QUEUE_DESCRIPTIONS[fact]
        add(f"queue_{fact}", _queue_function(fact), 1, 1, en, ru, env=True)


_register_builtins()

__all__ = [
    "KEYWORDS",
    "LAZY_FUNCTIONS",
    "FunctionSpec",
    "function_names",
    "function_specs",
    "lookup_function",
    "register_function",
]
