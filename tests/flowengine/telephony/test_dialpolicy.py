"""The dial policy: the pattern language, the always-on number rules, and how the layers combine."""

from __future__ import annotations

import re

import pytest

from flowengine.acd import CentreError, parse_centre
from flowengine.telephony.dialpolicy import (
    MAX_NUMBER_LENGTH,
    DialPolicy,
    PatternError,
    check_destination,
    check_number,
    compile_pattern,
)


@pytest.mark.parametrize(
    ("pattern", "matching", "not_matching"),
    [
        ("9XX", ["900", "999"], ["90", "9000", "800", "9*1", "9#1"]),
        ("_9XX", ["905"], ["_905"]),  # the Asterisk underscore is accepted and ignored
        ("Z", [str(d) for d in range(1, 10)], ["0", "10"]),
        ("NXX", ["200", "999"], ["100", "099"]),
        ("[1-35]X", ["10", "29", "30", "55"], ["40", "60", "5"]),
        ("+7.", ["+74951112233", "+70"], ["+7", "74951112233", "+7495*1", "+8123"]),
        ("00.", ["0012345"], ["00", "00*1"]),
        ("*72", ["*72"], ["*721", "72"]),
        ("xxx", ["123"], ["12"]),  # lower case as in Asterisk
    ],
)
def test_patterns_match_whole_numbers(pattern: str, matching: list[str], not_matching: list[str]) -> None:
    compiled = compile_pattern(pattern)
    assert [n for n in matching if not compiled.matches(n)] == []
    assert [n for n in not_matching if compiled.matches(n)] == []


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("", "the dial pattern is empty"),
        ("9.X", "character 2: '.' (the rest of the number) may only end a dial pattern"),
        ("9+", "character 2: '+' may only start a dial pattern"),
        ("9[1-", "character 2: '[' is not closed"),
        ("[]", "empty set '[]'"),
        ("[5-1]", "'5-1' is not a range of digits"),
        ("[a]", "a set holds digits"),
        ("9XX;user=phone", "';' is not in the pattern language"),
    ],
)
def test_bad_patterns_say_what_and_where(pattern: str, message: str) -> None:
    with pytest.raises(PatternError, match=re.escape(message)):
        compile_pattern(pattern)


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("sip:attacker@evil.example;transport=tcp", "uri"),
        ("SIPS:100@pbx", "uri"),
        ("tel:+74951112233", "uri"),
        ("100@pbx", "uri"),
        ("", "empty"),
        ("1" * (MAX_NUMBER_LENGTH + 1), "too_long"),
        ("+7 495 111-22-33", "bad_characters"),
        ("900;param", "bad_characters"),
        ("9\n00", "bad_characters"),
        ("٩٠٠", "bad_characters"),  # Arabic-Indic digits are digits to Python, not to a PBX
        ("12+3", "bad_characters"),
    ],
)
def test_what_is_never_a_number(number: str, reason: str) -> None:
    verdict = check_number(number)
    assert (verdict.allowed, verdict.reason) == (False, reason)
    # no pattern set can let it through, and writing it literally does not either
    anything = DialPolicy(["."], name="centre")
    assert check_destination(number, dynamic=True, centre=anything, node=None).reason == reason
    assert check_destination(number, dynamic=False, centre=None, node=None).reason == reason


def test_numbers_of_the_dial_string_alphabet_pass_the_basic_rules() -> None:
    for number in ("900", "+74951112233", "*72", "#31#", "1" * MAX_NUMBER_LENGTH):
        assert check_number(number).allowed, number


def test_deny_is_tried_before_allow_and_names_its_pattern() -> None:
    policy = DialPolicy(["+7.", "9XX"], ["+7809.", "*."], exact=["1234"], name="centre")
    assert policy.check("+74951112233").allowed
    denied = policy.check("+78091234567")
    assert (denied.allowed, denied.reason, denied.policy, denied.rule) == (False, "denied", "centre", "+7809.")
    assert policy.check("1234").allowed  # an exact number (an operator's extension)
    refused = policy.check("0012025550100")
    assert (refused.reason, refused.rule) == ("not_allowed", None)
    assert "+7., 9XX" in refused.detail


def test_literal_numbers_are_trusted_but_computed_ones_need_a_policy() -> None:
    centre = DialPolicy(["+7."], name="centre")
    node = DialPolicy(["9XX"], name="node")
    # written in the scenario: only the dial-string rules
    assert check_destination("0012025550100", dynamic=False, centre=centre, node=node).allowed
    # computed, nothing vouches for it: fail closed
    none = check_destination("900", dynamic=True, centre=None, node=None)
    assert (none.allowed, none.reason, none.policy) == (False, "no_policy", "none")
    # the node alone (no centre): its patterns decide
    assert check_destination("900", dynamic=True, centre=None, node=node).allowed
    assert check_destination("901", dynamic=True, centre=None, node=node).policy == "node"
    # both: each narrows the other
    both = check_destination("900", dynamic=True, centre=centre, node=node)
    assert (both.allowed, both.policy) == (False, "centre")
    wide = check_destination("+74951112233", dynamic=True, centre=centre, node=node)
    assert (wide.allowed, wide.policy) == (False, "node")
    assert check_destination("+74951112233", dynamic=True, centre=centre, node=None).allowed


def test_patterns_that_restrict_nothing_are_recognised() -> None:
    assert [p for p in (".", "X.", "+.", "[0-9].", "Z.", "N.") if compile_pattern(p).restricts] == []
    assert all(compile_pattern(p).restricts for p in ("9XX", "+7.", "XXX", "8[1-3]X."))


# ---- in the centre file ------------------------------------------------------------------


def test_centre_dial_policy_allows_the_operators_extensions_by_default() -> None:
    centre = parse_centre({"operators": [{"id": "anna", "extension": 901}]})
    rules = centre.dial_rules
    assert rules.check("901").allowed
    assert not rules.check("902").allowed
    assert rules.allows_anything


def test_centre_dial_policy_patterns_are_checked_with_their_place() -> None:
    centre = parse_centre({"dial_policy": {"allow": ["+7.", 812], "deny": ["+7809."]}})
    assert centre.dial_rules.check("812").allowed  # YAML reads 812 as a number: taken as text
    assert not centre.dial_rules.check("+78091234567").allowed
    with pytest.raises(CentreError) as err:
        parse_centre({"dial_policy": {"allow": ["9XX", "9.X"], "deny": ["sip:*"], "extra": 1}})
    paths = [p.path for p in err.value.problems]
    assert paths == ["dial_policy.allow[1]", "dial_policy.deny[0]", "dial_policy.extra"]
