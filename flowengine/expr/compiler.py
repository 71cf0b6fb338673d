"""Parse tree to Python closures: an `Expression` is compiled once and then
evaluated many times per call without re-walking any tree.

Each node of the tree becomes one closure ``f(run) -> Value``. `Run` carries
the call's `Env` and the remaining step budget; every closure spends one step,
so `limits.MAX_EVAL_STEPS` bounds the work of one evaluation whatever the
expression. The compile walk is recursive but counts its depth and stops at
`limits.MAX_DEPTH`, so Python's own recursion limit is never approached.

Runtime errors from the value rules (values.py) and functions come without a
column; the closure of the node that failed adds the column where that
sub-expression starts.

The step accounting and column tagging are written out in each closure
rather than factored into a wrapper on purpose: a wrapper costs one more
Python call per node per evaluation, on the interpreter's hottest path.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable, Sequence

from lark import Token, Tree

from flowengine.expr import limits
from flowengine.expr.env import Env
from flowengine.expr.errors import ExpressionError, ExpressionRuntimeError, ExpressionSyntaxError
from flowengine.expr.functions import LAZY_FUNCTIONS, FunctionSpec, function_names, lookup_function
from flowengine.expr.parser import parse
from flowengine.expr.values import (
    ARITHMETIC,
    COMPARISONS,
    Value,
    check_value,
    equals,
    negate,
    not_equals,
    plus,
    text_too_long,
    to_text,
)


class Run:
    """The state of one evaluation: the call and the steps left."""

    __slots__ = ("env", "budget")

    def __init__(self, env: Env) -> None:
        self.env = env
        self.budget = limits.MAX_EVAL_STEPS


Compiled = Callable[[Run], Value]


def _too_many_steps(column: int) -> ExpressionRuntimeError:
    return ExpressionRuntimeError(
        f"expression takes too many steps (the limit is {limits.MAX_EVAL_STEPS})", column
    )


class Expression:
    """A compiled expression. Immutable; safe to share between calls."""

    __slots__ = ("source", "variables", "functions", "_fn")

    def __init__(
        self, source: str, variables: frozenset[str], functions: frozenset[str], fn: Compiled
    ) -> None:
        self.source = source
        self.variables = variables
        self.functions = functions
        self._fn = fn

    def evaluate(self, env: Env) -> Value:
        """The value for this call; raises only `ExpressionRuntimeError`."""
        try:
            return self._fn(Run(env))
        except ExpressionError as exc:
            if exc.source is None:
                exc.source = self.source
            raise
        except Exception as exc:  # a defect here must not take the call down
            raise internal_error(exc, self.source) from exc

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"


def internal_error(exc: Exception, source: str) -> ExpressionRuntimeError:
    return ExpressionRuntimeError(f"internal error: {type(exc).__name__}: {exc}", None, source)


def compile_expression(text: str) -> Expression:
    """Compile `text` (cached by text); raises `ExpressionSyntaxError`."""
    if not isinstance(text, str):
        raise ExpressionSyntaxError(f"expression must be text, not {type(text).__name__}")
    return _compile_cached(text)


@functools.lru_cache(maxsize=4096)
def _compile_cached(text: str) -> Expression:
    tree = parse(text)
    walk = _Walk(text)
    try:
        fn = walk.build(tree, 1)
    except ExpressionError:
        raise
    except Exception as exc:  # defensive: never let a compiler defect escape raw
        raise ExpressionSyntaxError(
            f"internal error: {type(exc).__name__}: {exc}", None, text
        ) from exc
    return Expression(text, frozenset(walk.variables), frozenset(walk.functions), fn)


def evaluate_text(text: str, env: Env) -> Value:
    """Compile (cached) and evaluate in one go."""
    return compile_expression(text).evaluate(env)


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


def decode_string(token: str) -> str:
    """The value of a string literal. Unknown escapes stay as written, so a
    regular expression such as '^\\d+$' needs no doubled backslashes."""
    return _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(0)), token[1:-1])


def _column(node: Tree[Token] | Token) -> int:
    if isinstance(node, Token):
        return (node.start_pos or 0) + 1
    meta = node.meta
    return 1 if meta.empty else meta.start_pos + 1


class _Walk:
    """One compile: builds closures and collects variable and function names."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.variables: set[str] = set()
        self.functions: set[str] = set()

    def error(self, message: str, column: int) -> ExpressionSyntaxError:
        return ExpressionSyntaxError(message, column, self.source)

    def build(self, node: Tree[Token] | Token, depth: int) -> Compiled:
        column = _column(node)
        if depth > limits.MAX_DEPTH:
            raise self.error(
                f"expression nested too deeply (the limit is {limits.MAX_DEPTH})", column
            )
        if isinstance(node, Token):  # pragma: no cover - every token sits in a rule
            raise self.error(f"unexpected {node!s}", column)
        kind = str(node.data)
        builder = getattr(self, "_" + kind, None)
        if builder is None:
            raise self.error(f"unsupported construct '{kind}'", column)
        fn: Compiled = builder(node, column, depth)
        return fn

    def _start(self, node: Tree[Token], column: int, depth: int) -> Compiled:
        return self.build(node.children[0], depth)  # type: ignore[arg-type]

    # --- literals and variables ------------------------------------------------

    def _number(self, node: Tree[Token], column: int, depth: int) -> Compiled:
        token = str(node.children[0])
        value: int | float = float(token) if "." in token else int(token)
        if type(value) is int:
            in_range = -limits.MAX_INT <= value <= limits.MAX_INT
        else:
            in_range = value != float("inf")
        if not in_range:
            raise self.error("number out of range", column)
        return _constant(value, column)

    def _string(self, node: Tree[Token], column: int, depth: int) -> Compiled:
        value = decode_string(str(node.children[0]))
        if len(value) > limits.MAX_STRING_LENGTH:  # pragma: no cover - bounded by source length
            raise self.error("text too long", column)
        return _constant(value, column)

    def _true(self, node: Tree[Token], column: int, depth: int) -> Compiled:
        return _constant(True, column)

    def _false(self, node: Tree[Token], column: int, depth: int) -> Compiled:
        return _constant(False, column)

    def _null(self, node: Tree[Token], column: int, depth: int) -> Compiled:
        return _constant(None, column)

    def _variable(self, node: Tree[Token], column: int, depth: int) -> Compiled:
        name = str(node.children[0])
        self.variables.add(name)

        def variable(run: Run) -> Value:
            run.budget -= 1
            if run.budget < 0:
                raise _too_many_steps(column)
            try:
                return run.env.get_variable(name)
            except KeyError:
                raise ExpressionRuntimeError(f"unknown variable '{name}'", column) from None

        return variable

    # --- operators -------------------------------------------------------------

    def _children(self, node: Tree[Token], depth: int) -> list[Compiled]:
        return [self.build(child, depth + 1) for child in node.children]  # type: ignore[arg-type]

    def _sign(self, node: Tree[Token], column: int, depth: int) -> Compiled:
        op = negate if str(node.children[0]) == "-" else plus
        operand = self.build(node.children[1], depth + 1)  # type: ignore[arg-type]

        def sign(run: Run) -> Value:
            run.budget -= 1
            if run.budget < 0:
                raise _too_many_steps(column)
            value = operand(run)
            try:
                return op(value)
            except ExpressionRuntimeError as exc:
                exc.column = column
                raise

        return sign

    def _not_op(self, node: Tree[Token], column: int, depth: int) -> Compiled:
        operand = self.build(node.children[0], depth + 1)  # type: ignore[arg-type]

        def not_op(run: Run) -> Value:
            run.budget -= 1
            if run.budget < 0:
                raise _too_many_steps(column)
            return not operand(run)

        return not_op

    def _and_expr(self, node: Tree[Token], column: int, depth: int) -> Compiled:
        operands = tuple(self._children(node, depth))

        def and_expr(run: Run) -> Value:
            run.budget -= 1
            if run.budget < 0:
                raise _too_many_steps(column)
            for operand in operands:
                if not operand(run):
                    return False
            return True

        return and_expr

    def _or_expr(self, node: Tree[Token], column: int, depth: int) -> Compiled:
        operands = tuple(self._children(node, depth))

        def or_expr(run: Run) -> Value:
            run.budget -= 1
            if run.budget < 0:
                raise _too_many_steps(column)
            for operand in operands:
                if operand(run):
                    return True
            return False

        return or_expr

    def _compare(self, node: Tree[Token], column: int, depth: int) -> Compiled:
        left_node, op_token, right_node = node.children
        left = self.build(left_node, depth + 1)  # type: ignore[arg-type]
        right = self.build(right_node, depth + 1)  # type: ignore[arg-type]
        test = COMPARISONS[str(op_token)]
        if test is equals or test is not_equals:  # never raise: no error handling needed
            want = test is equals

            def equality(run: Run) -> Value:
                run.budget -= 1
                if run.budget < 0:
                    raise _too_many_steps(column)
                return equals(left(run), right(run)) is want

            return equality

        def compare(run: Run) -> Value:
            run.budget -= 1
            if run.budget < 0:
                raise _too_many_steps(column)
            a = left(run)
            b = right(run)
            try:
                return test(a, b)
            except ExpressionRuntimeError as exc:
                exc.column = column
                raise

        return compare

    def _arithmetic(self, node: Tree[Token], column: int, depth: int) -> Compiled:
        """A flat chain such as a + b - c, applied left to right."""
        first = self.build(node.children[0], depth + 1)  # type: ignore[arg-type]
        rest = tuple(
            (ARITHMETIC[str(node.children[i])], self.build(node.children[i + 1], depth + 1))  # type: ignore[arg-type]
            for i in range(1, len(node.children), 2)
        )
        if len(rest) == 1:
            op, second = rest[0]

            def binary(run: Run) -> Value:
                run.budget -= 1
                if run.budget < 0:
                    raise _too_many_steps(column)
                a = first(run)
                b = second(run)
                try:
                    return op(a, b)
                except ExpressionRuntimeError as exc:
                    exc.column = column
                    raise

            return binary

        def chain(run: Run) -> Value:
            run.budget -= 1
            if run.budget < 0:
                raise _too_many_steps(column)
            acc = first(run)
            for op, operand in rest:
                b = operand(run)
                try:
                    acc = op(acc, b)
                except ExpressionRuntimeError as exc:
                    exc.column = column
                    raise
            return acc

        return chain

    _sum = _arithmetic
    _product = _arithmetic

    def _concat(self, node: Tree[Token], column: int, depth: int) -> Compiled:
        operands = tuple(self._children(node, depth))

        def concat(run: Run) -> Value:
            run.budget -= 1
            if run.budget < 0:
                raise _too_many_steps(column)
            values = [operand(run) for operand in operands]
            try:
                parts = [to_text(value) for value in values]
            except ExpressionRuntimeError as exc:
                exc.column = column
                raise
            size = sum(map(len, parts))
            if size > limits.MAX_STRING_LENGTH:
                raise _at(text_too_long(size), column)
            return "".join(parts)

        return concat

    # --- function calls --------------------------------------------------------

    def _call(self, node: Tree[Token], column: int, depth: int) -> Compiled:
        name_token, arguments = node.children
        name = str(name_token)
        spec = lookup_function(name)
        if spec is None:
            raise self.error(_unknown_function(name), column)
        argument_nodes: Sequence[Tree[Token] | Token] = (
            arguments.children if isinstance(arguments, Tree) else ()
        )
        if not spec.accepts(len(argument_nodes)):
            raise self.error(
                f"function '{spec.name}' takes {spec.arity()}, got {len(argument_nodes)}", column
            )
        self.functions.add(spec.name)
        args = tuple(self.build(child, depth + 1) for child in argument_nodes)
        if spec.name in LAZY_FUNCTIONS:
            return _if(args, column) if spec.name == "if" else _coalesce(args, column)
        return _call(spec, args, column)


def _at(exc: ExpressionRuntimeError, column: int) -> ExpressionRuntimeError:
    exc.column = column
    return exc


def _unknown_function(name: str) -> str:
    close = difflib.get_close_matches(name.lower(), function_names(), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"unknown function '{name}'{hint}"


def _constant(value: Value, column: int) -> Compiled:
    def constant(run: Run) -> Value:
        run.budget -= 1
        if run.budget < 0:
            raise _too_many_steps(column)
        return value

    return constant


def _if(args: tuple[Compiled, ...], column: int) -> Compiled:
    condition, then, otherwise = args

    def if_(run: Run) -> Value:
        run.budget -= 1
        if run.budget < 0:
            raise _too_many_steps(column)
        return then(run) if condition(run) else otherwise(run)

    return if_


def _coalesce(args: tuple[Compiled, ...], column: int) -> Compiled:
    def coalesce(run: Run) -> Value:
        run.budget -= 1
        if run.budget < 0:
            raise _too_many_steps(column)
        for arg in args:
            value = arg(run)
            if value is not None and value != "":
                return value
        return None

    return coalesce


def _call_failed(exc: Exception, column: int, name: str) -> ExpressionRuntimeError:
    """A function raised something other than an ExpressionError (a defect or
    a failing lookup in a custom function): a runtime error of that call."""
    return ExpressionRuntimeError(f"function '{name}' failed: {type(exc).__name__}: {exc}", column)


def _call(spec: FunctionSpec, args: tuple[Compiled, ...], column: int) -> Compiled:
    """A call of a registered function; 0, 1 and 2 arguments are the common
    cases and get closures without argument lists."""
    fn = spec.fn
    name = spec.name
    needs_env = spec.needs_env
    cost = spec.cost

    if cost is not None:

        def costly_call(run: Run) -> Value:
            run.budget -= 1
            if run.budget < 0:
                raise _too_many_steps(column)
            values = [arg(run) for arg in args]
            try:
                steps = cost(*values)
                run.budget -= steps
                if run.budget < 0:
                    raise _too_many_steps(column)
                # tell the call (when it listens) so that its walk yields after heavy work
                note_work = getattr(run.env, "note_work", None)
                if note_work is not None:
                    note_work(steps)
                return check_value(fn(run.env, *values) if needs_env else fn(*values))
            except ExpressionError as exc:
                if exc.column is None:
                    exc.column = column
                raise
            except Exception as exc:
                raise _call_failed(exc, column, name) from exc

        return costly_call

    if not args:

        def call0(run: Run) -> Value:
            run.budget -= 1
            if run.budget < 0:
                raise _too_many_steps(column)
            try:
                return check_value(fn(run.env) if needs_env else fn())
            except ExpressionError as exc:
                if exc.column is None:
                    exc.column = column
                raise
            except Exception as exc:
                raise _call_failed(exc, column, name) from exc

        return call0

    if len(args) == 1:
        (first,) = args

        def call1(run: Run) -> Value:
            run.budget -= 1
            if run.budget < 0:
                raise _too_many_steps(column)
            a = first(run)
            try:
                return check_value(fn(run.env, a) if needs_env else fn(a))
            except ExpressionError as exc:
                if exc.column is None:
                    exc.column = column
                raise
            except Exception as exc:
                raise _call_failed(exc, column, name) from exc

        return call1

    if len(args) == 2:
        first, second = args

        def call2(run: Run) -> Value:
            run.budget -= 1
            if run.budget < 0:
                raise _too_many_steps(column)
            a = first(run)
            b = second(run)
            try:
                return check_value(fn(run.env, a, b) if needs_env else fn(a, b))
            except ExpressionError as exc:
                if exc.column is None:
                    exc.column = column
                raise
            except Exception as exc:
                raise _call_failed(exc, column, name) from exc

        return call2

    def call(run: Run) -> Value:
        run.budget -= 1
        if run.budget < 0:
            raise _too_many_steps(column)
        values = [arg(run) for arg in args]
        try:
            return check_value(fn(run.env, *values) if needs_env else fn(*values))
        except ExpressionError as exc:
            if exc.column is None:
                exc.column = column
            raise
        except Exception as exc:
            raise _call_failed(exc, column, name) from exc

    return call
