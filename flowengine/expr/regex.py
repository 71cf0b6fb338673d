"""Regular expressions under the language's limits (``matches()``, Menu cases).

RE2 never backtracks, but its time is still linear in *program size × text
length*, and a single match runs on the event loop that serves every call.
So a pattern is capped in length and in compiled size, a matched text is
capped in length, and each match is charged to the evaluation's step budget
in proportion to its work (`limits.REGEX_WORK_PER_STEP`). Patterns are
compiled once and cached, so a static pattern costs its compilation once per
process.
"""

from __future__ import annotations

import functools
import re

import re2

from flowengine.expr import limits
from flowengine.expr.errors import ExpressionRuntimeError

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # the loader and the call report bad patterns instead
_RE2_OPTIONS.never_capture = True


class RegexError(ValueError):
    """A pattern that cannot be used: invalid, too long or too large."""


_REPEAT = re.compile(r"\{(\d+)(?:,(\d*))?\}")


def compile_regex(pattern: str) -> re2._Regexp:
    """The compiled pattern, or `RegexError` with a message for the author.

    Results and refusals are both cached, so a pattern costs its compilation
    once per process; counted repetitions are summed first, so that a short
    text that would compile into a huge program (``a{1000}a{1000}...``) is
    refused before RE2 spends tens of milliseconds building it."""
    if len(pattern) > limits.MAX_REGEX_LENGTH:
        raise RegexError(
            f"regular expression is {len(pattern)} characters long (the limit is {limits.MAX_REGEX_LENGTH})"
        )
    result = _compile(pattern)
    if isinstance(result, str):
        raise RegexError(result)
    return result


@functools.lru_cache(maxsize=512)
def _compile(pattern: str) -> re2._Regexp | str:
    repeats = sum(int(high or low) for low, high in _REPEAT.findall(pattern))
    if repeats > limits.MAX_REGEX_PROGRAM:
        return (
            f"regular expression {_short(pattern)} is too large once compiled "
            f"(its counted repetitions add up to {repeats}, the limit is {limits.MAX_REGEX_PROGRAM})"
        )
    try:
        regex = re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as exc:
        detail = exc.args[0] if exc.args else exc
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        return f"invalid regular expression {_short(pattern)}: {detail}"
    except UnicodeError:
        return "regular expression is not valid Unicode"
    if regex.programsize > limits.MAX_REGEX_PROGRAM:
        return (
            f"regular expression {_short(pattern)} is too large once compiled "
            f"({regex.programsize} instructions, the limit is {limits.MAX_REGEX_PROGRAM})"
        )
    return regex


def _short(pattern: str) -> str:
    return repr(pattern if len(pattern) <= 60 else pattern[:57] + "...")


def regex_steps(regex: re2._Regexp, text: str) -> int:
    """Evaluation steps one search of `text` costs (at least 1)."""
    return 1 + regex.programsize * len(text) // limits.REGEX_WORK_PER_STEP


def check_text(text: str) -> None:
    """Refuse a text too long to match (`ExpressionRuntimeError`)."""
    if len(text) > limits.MAX_REGEX_TEXT_LENGTH:
        raise ExpressionRuntimeError(
            f"text of {len(text)} characters is too long to match a regular expression "
            f"(the limit is {limits.MAX_REGEX_TEXT_LENGTH})"
        )


def search(regex: re2._Regexp, text: str) -> bool:
    """RE2 search semantics: true if the pattern matches anywhere."""
    try:
        return regex.search(text) is not None
    except UnicodeError:
        raise ExpressionRuntimeError("text is not valid Unicode") from None
