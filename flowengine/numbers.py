"""Number patterns: the one pattern language of normalisation rules and the dial policy.

As Asterisk dialplan patterns (a leading ``_`` is accepted and ignored): a
digit and ``+ * #`` stand for themselves; ``X`` is any digit, ``Z`` 1-9,
``N`` 2-9; ``[15-7]`` one digit from a set with ranges; a final ``.`` is the
rest of the number (one or more characters). A pattern always matches a
whole number. What "the rest" may hold is the user's choice: the dial
policy allows digits only, so a star code needs a pattern that spells the
star out; a normalisation rule takes whatever the line sent.

`parse_pattern` turns the text into `Token`s or raises `PatternError`
naming the character and its position; the routing rules and the dial
policy each build their matcher from the tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["LANGUAGE", "PatternError", "Token", "parse_pattern"]

DIGITS = "0123456789"
#: the wildcard letters and the digits each stands for
WILDCARDS = {"X": DIGITS, "Z": DIGITS[1:], "N": DIGITS[2:]}
#: what the error messages say the language is
LANGUAGE = "digits, + * #, X = any digit, Z = 1-9, N = 2-9, [1-5] = one of a set, a final . = the rest"


class PatternError(ValueError):
    """A number pattern is not in the pattern language; the message says where."""


@dataclass(frozen=True, slots=True)
class Token:
    """One position of a pattern.

    ``literal``: `chars` is the one character it matches; ``set``: `chars`
    holds the digits it matches (an ``X``, ``Z``, ``N`` or ``[...]``), `text`
    how it was written; ``rest``: the final ``.``."""

    kind: Literal["literal", "set", "rest"]
    chars: str
    text: str

    @property
    def wild(self) -> bool:
        return self.kind != "literal"


def parse_pattern(pattern: str, *, what: str = "pattern") -> list[Token]:
    """The tokens of `pattern`; `PatternError` naming the first bad character."""
    if not isinstance(pattern, str):
        raise PatternError(f"a {what} is text, not {type(pattern).__name__}")
    skip = 1 if pattern.startswith("_") else 0
    body = pattern[skip:]
    if not body:
        raise PatternError(f"the {what} is empty")
    tokens: list[Token] = []
    i = 0
    while i < len(body):
        char = body[i]
        where = f"{what} '{pattern}', character {i + 1 + skip}"
        up = char.upper()
        if char.isascii() and char.isdigit() or char in "*#":
            tokens.append(Token("literal", char, char))
        elif char == "+":
            if i != 0:
                raise PatternError(f"{where}: '+' may only start a {what}")
            tokens.append(Token("literal", char, char))
        elif up in WILDCARDS:
            tokens.append(Token("set", WILDCARDS[up], up))
        elif char == ".":
            if i != len(body) - 1:
                raise PatternError(f"{where}: '.' (the rest of the number) may only end a {what}")
            tokens.append(Token("rest", "", "."))
        elif char == "[":
            end = body.find("]", i)
            if end < 0:
                raise PatternError(f"{where}: '[' is not closed")
            tokens.append(Token("set", _digit_set(body[i + 1 : end], where), body[i : end + 1]))
            i = end
        else:
            raise PatternError(f"{where}: '{char}' is not in the pattern language ({LANGUAGE})")
        i += 1
    return tokens


def _digit_set(inside: str, where: str) -> str:
    if not inside:
        raise PatternError(f"{where}: empty set '[]'")
    digits: set[str] = set()
    i = 0
    while i < len(inside):
        first = inside[i]
        if not (first.isascii() and first.isdigit()):
            raise PatternError(f"{where}: a set holds digits and ranges such as [1-5], not '{first}'")
        if i + 2 < len(inside) and inside[i + 1] == "-":
            last = inside[i + 2]
            if not (last.isascii() and last.isdigit()) or last < first:
                raise PatternError(f"{where}: '{first}-{last}' is not a range of digits")
            digits.update(str(d) for d in range(int(first), int(last) + 1))
            i += 3
        else:
            digits.add(first)
            i += 1
    return "".join(sorted(digits))
