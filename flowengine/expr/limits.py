"""Safety limits of the expression language.

Every expression is written by a scenario author or arrives in imported JSON,
and is evaluated on every call, so the language bounds what one expression can
cost. The limits are plain module constants (documented in
docs/expressions.md); the compiler and the evaluator read them at the time of
use, so a test or an embedding application can lower them.
"""

from __future__ import annotations

MAX_SOURCE_LENGTH = 4000
"""Longest expression text, in characters (a syntax error beyond it)."""

MAX_TEMPLATE_LENGTH = 20_000
"""Longest template text, in characters; each ``{...}`` inside it is also an
expression and obeys `MAX_SOURCE_LENGTH`."""

MAX_DEPTH = 64
"""Deepest nesting of the expression tree (a syntax error beyond it).

Chains of one operator level (``a + b - c``, ``a & b & c``, ``a or b``) and
redundant parentheses do not add depth; unary operators, ``not``, function
arguments and parenthesised sub-expressions under another operator do."""

MAX_EVAL_STEPS = 10_000
"""Most node evaluations in one `Expression.evaluate` or `Template.render`."""

MAX_STRING_LENGTH = 100_000
"""Longest text an expression may produce, in characters."""

MAX_INT = 10**18
"""Integers must stay within ``-MAX_INT .. MAX_INT``; floats must be finite."""

MAX_NUMBER_TEXT_LENGTH = 100
"""Longest text that is still read as a number (by number(), comparisons)."""

MAX_REGEX_LENGTH = 1000
"""Longest regular expression (``matches()``, Menu ``regex`` cases), in characters."""

MAX_REGEX_PROGRAM = 5000
"""Largest compiled RE2 program (its ``programsize``): ``a{1000}`` is short
text but a large program, and matching time grows with the program."""

MAX_REGEX_TEXT_LENGTH = 10_000
"""Longest text a regular expression is matched against, in characters; a
longer text is a runtime error, not a silent truncation."""

REGEX_WORK_PER_STEP = 50
"""RE2 is linear in program size × text length (its worst case is about
5–15 ns per unit), so one match costs ``programsize × len(text) /
REGEX_WORK_PER_STEP`` evaluation steps of `MAX_EVAL_STEPS`: the regular
expressions of one evaluation (or one Menu) take a few milliseconds at most."""
