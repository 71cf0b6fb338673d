r"""Menu / Меню: branch on any expression — CalledID, CallerID, a variable, digits.

    {"value": "CALLEDID",
     "cases": [{"equals": "+74951230001", "exit": "moscow"},
               {"in": ["+78125550002", "+78125550003"], "exit": "spb"},
               {"prefix": "+7800", "exit": "toll_free"},
               {"range": [100, 199], "exit": "internal"},
               {"regex": "^\\+7(9\\d{9})$", "exit": "mobile"}]}

Cases are tried in order; the first that matches picks its exit (several cases
may share one exit); nothing matched → "other". `equals`/`in` compare like the
expression language's `=` (text "74951230001" equals number 74951230001);
`range` is inclusive and numeric; `regex` is RE2 (linear time) with search
semantics, so anchor it with ^ and $ to match the whole value.

Phone numbers with or without `+`: `calledid()` and `callerid()` are text,
the number as the line's normalisation rules left it (docs/routing.md), or as
the line sent it when there are none. A text case compares text exactly, so
"+74951230001" and "74951230001" differ; a number case (a JSON number)
compares numerically, reading the text as a number, so a leading `+` (and
leading zeros) make no difference; `prefix` is text; `range` is numeric. Write
numbers the way the line rules produce them (E.164 with `+` is the usual
choice), as text. With `calledid()` as the value:

| `calledid()` | case | matches |
| --- | --- | --- |
| `+74951230001` | `{"equals": "+74951230001", "exit": "moscow"}` | yes |
| `74951230001` | `{"equals": "+74951230001", "exit": "moscow"}` | no: text is compared exactly |
| `74951230001` | `{"equals": 74951230001, "exit": "moscow"}` | yes: a number case compares numbers |
| `+74951230001` | `{"equals": 74951230001, "exit": "moscow"}` | yes: "+74951230001" reads as 74951230001 |
| `84951230001` | `{"equals": 74951230001, "exit": "moscow"}` | no: another number |
| `74951230001` | `{"in": ["+74951230001", "74951230001"], "exit": "moscow"}` | yes: either form listed |
| `+78005550101` | `{"prefix": "+7800", "exit": "toll_free"}` | yes |
| `78005550101` | `{"prefix": "+7800", "exit": "toll_free"}` | no: a prefix is text |
| `78005550101` | `{"regex": "^[+]?7800", "exit": "toll_free"}` | yes: the regex allows both |
| `+74951230001` | `{"range": [74950000000, 74959999999], "exit": "moscow"}` | yes: a range is numeric |

Regex cases obey the expression language's limits (docs/expressions.md): a
pattern of at most `MAX_REGEX_LENGTH` characters and `MAX_REGEX_PROGRAM`
compiled instructions (a load error), compiled once when the node is built;
a value longer than `MAX_REGEX_TEXT_LENGTH` characters, or regex cases whose
work on the value exceeds one evaluation's step budget, fail the node (its
"error" exit) instead of holding the event loop that serves every call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import re2
from pydantic import Field, model_validator

from flowengine.components.fields import Expr
from flowengine.components.node import NodeType, ParamsModel
from flowengine.components.registry import registry
from flowengine.errors import NodeError
from flowengine.expr import limits
from flowengine.expr.errors import ExpressionRuntimeError
from flowengine.expr.regex import RegexError, check_text, compile_regex, regex_steps, search
from flowengine.expr.values import equals, parse_number, to_text

if TYPE_CHECKING:
    from flowengine.runtime.context import CallContext

EXIT_PATTERN = r"^[^\W\d]\w{0,63}$|^\d{1,16}$"
RESERVED_EXITS = {"other", "error"}
Scalar = str | int | float | bool | None
MATCH_KINDS = ("equals", "in", "prefix", "range", "regex")


class MenuCase(ParamsModel):
    exit: str = Field(pattern=EXIT_PATTERN, description="exit taken when this case matches")
    title: str | None = None
    equals: Scalar = None
    in_: list[Scalar] | None = Field(default=None, alias="in")
    prefix: str | None = None
    range: tuple[float, float] | None = None
    regex: str | None = Field(default=None, max_length=limits.MAX_REGEX_LENGTH)

    @model_validator(mode="before")
    @classmethod
    def _count_kinds(cls, data: Any) -> Any:
        if isinstance(data, dict):
            given = [k for k in MATCH_KINDS if k in data]
            if len(given) != 1:
                raise ValueError(
                    "a case has exactly one of equals, in, prefix, range, regex"
                    + (f" (got {', '.join(given)})" if given else "")
                )
            exit_name = data.get("exit")
            if isinstance(exit_name, str) and exit_name in RESERVED_EXITS:  # a list is not hashable
                raise ValueError(f"exit '{exit_name}' is reserved; name the case's exit otherwise")
        return data

    @model_validator(mode="after")
    def _check(self) -> MenuCase:
        if self.range is not None and self.range[0] > self.range[1]:
            raise ValueError(f"range [{self.range[0]}, {self.range[1]}] is empty (min > max)")
        if self.regex is not None:
            try:
                compile_regex(self.regex)
            except RegexError as exc:
                raise ValueError(f"bad regex: {exc}") from None
        return self

    @property
    def kind(self) -> str:
        if self.in_ is not None:
            return "in"
        for k in ("prefix", "range", "regex"):
            if getattr(self, k) is not None:
                return k
        return "equals"


class MenuParams(ParamsModel):
    value: Expr = Field(description="expression whose value picks the branch, e.g. CALLEDID")
    cases: list[MenuCase] = Field(default_factory=list)


class _Matcher:
    __slots__ = ("exit", "test", "regex")

    def __init__(self, case: MenuCase) -> None:
        self.exit = case.exit
        self.regex: re2._Regexp | None = None
        kind = case.kind
        if kind == "equals":
            expected = case.equals
            self.test = lambda v: equals(v, expected)
        elif kind == "in":
            options = list(case.in_ or [])
            self.test = lambda v: any(equals(v, o) for o in options)
        elif kind == "prefix":
            prefix = case.prefix or ""
            self.test = lambda v: to_text(v).startswith(prefix)
        elif kind == "range":
            low, high = case.range or (0.0, 0.0)
            self.test = lambda v: _in_range(v, low, high)
        else:
            pattern = self.regex = compile_regex(case.regex or "")
            self.test = lambda v: search(pattern, to_text(v))


def _in_range(value: Any, low: float, high: float) -> bool:
    if isinstance(value, bool):
        return False
    number = value if isinstance(value, int | float) else parse_number(to_text(value))
    return number is not None and low <= number <= high


@registry.register
class MenuNode(NodeType[MenuParams]):
    type_name = "menu"
    title_en = "Menu"
    title_ru = "Меню"
    description = "Branch on a value: exact, list, prefix, range or regex cases, else 'other'"
    Params = MenuParams
    exits = ("other",)
    default_exits = ("other",)
    params_exits = (
        "one per case's `exit` (cases may share one), required; `other`, required as the "
        "default branch (unwired: `no_default`)"
    )
    __slots__ = ("_value", "_matchers")

    def __init__(self, node_id: str, params: MenuParams) -> None:
        super().__init__(node_id, params)
        self._value = self.expr(params.value)
        self._matchers = [_Matcher(c) for c in params.cases]

    @classmethod
    def exit_names(cls, params: MenuParams) -> list[str]:
        names = list(dict.fromkeys(c.exit for c in params.cases))
        return names + ["other"]

    async def run(self, ctx: CallContext) -> str:
        value = self._value.evaluate(ctx)
        # the walk lets the other calls run after costly matching
        ctx.note_work(self._regex_work(value))
        for matcher in self._matchers:
            if matcher.test(value):
                return matcher.exit
        return "other"

    def _regex_work(self, value: Any) -> int:
        """Steps the regex cases would cost on `value`; too many fail the node
        before any of them runs (the cases are tried in order, so count all)."""
        regexes = [m.regex for m in self._matchers if m.regex is not None]
        if not regexes:
            return 0
        text = to_text(value)
        try:
            check_text(text)
        except ExpressionRuntimeError as exc:
            raise NodeError(str(exc), code="regex_limit") from None
        steps = sum(regex_steps(r, text) for r in regexes)
        if steps > limits.MAX_EVAL_STEPS:
            raise NodeError(
                f"regex cases would take {steps} steps on a value of {len(text)} characters "
                f"(the limit is {limits.MAX_EVAL_STEPS})",
                code="regex_limit",
            )
        return steps

