"""The dial policy: which destinations the engine may dial (toll-fraud guard).

A caller must never make the engine dial what they like. A Transfer whose
number is a template filled from what the caller typed or said could
otherwise ring international or premium numbers, PBX feature codes (`*72`
call forwarding) or a SIP URI with parameters. Three layers decide:

1. Always, for every number: it must be a dial string — an optional leading
   ``+`` and then only ``0-9 * #``, at most `MAX_NUMBER_LENGTH` characters,
   not empty. URIs (``sip:``, ``tel:``, ``user@host``) and anything else are
   refused. Separators (spaces, dashes, brackets) are refused too: what is
   checked is exactly what is dialled.
2. The centre's policy (`dial_policy` in the centre file): `deny` patterns
   are tried first, then the number must match an `allow` pattern or be an
   operator's extension.
3. The node's own `allow` patterns narrow it further: the number must match
   those as well.

A number written literally in the scenario (no ``{...}`` hole) is a
destination the administrator listed, so only layer 1 applies to it. A
number computed at run time passes every layer that is configured; with no
centre and no node patterns nothing vouches for it and it is refused (fail
closed). `check_destination` is that rule; `DialPolicy.check` one pattern set.

Patterns are in the number pattern language of `flowengine.numbers` (the
normalisation rules' too): ``9XX`` matches 900-999 only, ``+7.`` every
number starting with +7. Here the final ``.`` is one or more further
*digits*: ``.`` and ``X`` never match ``*`` or ``#``, so a star code gets
through only a pattern that spells the star out.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from flowengine.numbers import PatternError, parse_pattern

__all__ = [
    "MAX_NUMBER_LENGTH",
    "DialPattern",
    "DialPolicy",
    "PatternError",
    "Verdict",
    "check_destination",
    "check_number",
    "compile_pattern",
]

MAX_NUMBER_LENGTH = 32
MAX_PATTERN_LENGTH = 64

_DIALABLE = re.compile(r"\+?[0-9*#]+")
_URI = re.compile(r"^(?:sips?|tel|https?):|@", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The answer for one number.

    `reason` is a stable code: ``ok``, ``literal`` (written in the scenario),
    ``empty``, ``too_long``, ``uri``, ``bad_characters``, ``denied``,
    ``not_allowed``, ``no_policy``. `policy` says which layer decided
    (``number``, ``centre``, ``node``, or ``none``) and `rule` the pattern
    that matched, for a denial.
    """

    allowed: bool
    reason: str
    policy: str = "number"
    rule: str | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class DialPattern:
    """A compiled pattern; `matches` is a whole-number match."""

    source: str
    regex: re.Pattern[str]
    #: False for a pattern of wildcards only that ends in "." (".", "X.", "+.",
    #: "[0-9]."): it admits numbers of any length that start anyhow, so it
    #: restricts nothing
    restricts: bool

    def matches(self, number: str) -> bool:
        return self.regex.fullmatch(number) is not None

    def __str__(self) -> str:
        return self.source


def compile_pattern(text: str) -> DialPattern:
    """Compile one pattern; raises `PatternError` naming the offending character."""
    if not isinstance(text, str):
        raise PatternError(f"a dial pattern is text, not {type(text).__name__}")
    return _compile(text)


@functools.lru_cache(maxsize=1024)
def _compile(text: str) -> DialPattern:
    if len(text.removeprefix("_")) > MAX_PATTERN_LENGTH:
        raise PatternError(f"dial pattern longer than {MAX_PATTERN_LENGTH} characters")
    tokens = parse_pattern(text, what="dial pattern")
    out: list[str] = []
    for token in tokens:
        if token.kind == "literal":
            out.append(re.escape(token.chars))
        elif token.kind == "set":
            out.append(f"[{token.chars}]")
        else:  # the rest: digits only, so "." never lets a star code through
            out.append("[0-9]+")
    fixed = any(t.kind == "literal" and t.chars != "+" for t in tokens)
    return DialPattern(text, re.compile("".join(out)), fixed or tokens[-1].kind != "rest")


def check_number(number: str) -> Verdict:
    """Layer 1, for every number: a dial string, not a URI, not empty, not too long."""
    if not number:
        return Verdict(False, "empty", detail="the number is empty")
    if _URI.search(number):
        return Verdict(False, "uri", detail="a URI, not a phone number")
    if len(number) > MAX_NUMBER_LENGTH:
        return Verdict(
            False, "too_long", detail=f"longer than {MAX_NUMBER_LENGTH} characters"
        )
    if not _DIALABLE.fullmatch(number):
        bad = sorted({c for c in number if c not in "+0123456789*#"})
        if not bad:
            return Verdict(False, "bad_characters", detail="'+' may only start the number")
        shown = " ".join(repr(c) for c in bad[:5])
        return Verdict(
            False,
            "bad_characters",
            detail=f"has characters a number cannot have ({shown}): only a leading + and 0-9 * #",
        )
    return Verdict(True, "ok")


class DialPolicy:
    """One pattern set: `deny` first, then `allow` (or one of the `exact` numbers).

    Immutable; compile once (a centre file, a node) and share between calls.
    """

    __slots__ = ("allow", "deny", "exact", "name")

    def __init__(
        self,
        allow: Iterable[str] = (),
        deny: Iterable[str] = (),
        *,
        exact: Iterable[str] = (),
        name: str = "policy",
    ) -> None:
        self.allow = tuple(compile_pattern(p) for p in allow)
        self.deny = tuple(compile_pattern(p) for p in deny)
        self.exact = frozenset(exact)
        self.name = name

    @property
    def allows_anything(self) -> bool:
        """Whether any number computed at run time could pass (else it blocks them all)."""
        return bool(self.allow or self.exact)

    def check(self, number: str) -> Verdict:
        basic = check_number(number)
        if not basic.allowed:
            return basic
        for pattern in self.deny:
            if pattern.matches(number):
                return Verdict(
                    False, "denied", self.name, pattern.source, f"denied by pattern '{pattern}'"
                )
        if number in self.exact or any(p.matches(number) for p in self.allow):
            return Verdict(True, "ok", self.name)
        listed = ", ".join(p.source for p in self.allow)
        return Verdict(
            False,
            "not_allowed",
            self.name,
            detail=f"matches none of the allowed patterns ({listed})" if listed else "no pattern allows it",
        )

    def __repr__(self) -> str:
        return (
            f"DialPolicy({self.name}, allow={[p.source for p in self.allow]}, "
            f"deny={[p.source for p in self.deny]}, exact={len(self.exact)})"
        )


def check_destination(
    number: str,
    *,
    dynamic: bool,
    centre: DialPolicy | None,
    node: DialPolicy | None,
) -> Verdict:
    """Whether the engine may dial `number`, by the rules in the module docstring.

    `dynamic` is true when the number came out of a template with a hole;
    `centre` is the centre's policy (None when the engine runs without a
    centre), `node` the dialling node's own `allow` patterns (None if it has none).
    """
    basic = check_number(number)
    if not basic.allowed:
        return basic
    if not dynamic:
        return Verdict(True, "literal")
    if centre is None and node is None:
        return Verdict(
            False,
            "no_policy",
            "none",
            detail="it is computed at run time and neither the node's 'allow' patterns "
            "nor a centre dial_policy permit it",
        )
    for policy in (centre, node):
        if policy is not None:
            verdict = policy.check(number)
            if not verdict.allowed:
                return verdict
    return Verdict(True, "ok", "node" if node is not None else "centre")
