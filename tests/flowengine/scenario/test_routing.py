"""The routing table: normalisation rules, bindings without takeover, resolution
with a reason, and the file form with errors that name the place."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from flowengine.scenario.routing import (
    LineConfig,
    NormalisationRule,
    RoutingError,
    RoutingTable,
    apply_rules,
    load_routing_file,
    parse_routing,
)


def rule(text: object) -> NormalisationRule:
    return NormalisationRule.model_validate(text)


# ---- rules -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number", "expected"),
    [
        ("8XXXXXXXXXX -> +7XXXXXXXXXX", "84951230001", "+74951230001"),
        ("8XXXXXXXXXX -> +7XXXXXXXXXX", "74951230001", None),  # the literal 8 does not match
        ("8XXXXXXXXXX -> +7XXXXXXXXXX", "8495123000", None),  # one digit short
        ("8XXXXXXXXXX -> +7XXXXXXXXXX", "849512300011", None),  # one digit too many
        ("8XXXXXXXXXX -> +7XXXXXXXXXX", "8495123000a", None),  # X is a digit
        ("99. -> .", "99#84951230001", "#84951230001"),  # strip a technical prefix
        ("99. -> .", "99", None),  # '.' is one or more characters
        ("XXXXXXX -> +7495XXXXXXX", "1230001", "+74951230001"),  # local to E.164
        ("8ZXX -> 7ZXX", "8123", "7123"),
        ("8ZXX -> 7ZXX", "8023", None),  # Z is 1-9
        ("NXX -> 1NXX", "123", None),  # N is 2-9
        ("nxx -> 1NXX", "223", "1223"),  # wildcards in either case
        ("0000 -> +74951230001", "0000", "+74951230001"),
        ("XXXX -> 100", "5678", "100"),  # no wildcard on the right: a fixed number
        ("+7. -> 8.", "+74951230001", "84951230001"),
        # the dial policy's language: digit sets, and a leading '_' as in Asterisk
        ("8[3-9]XXXXXXXXX -> +7[3-9]XXXXXXXXX", "89161234567", "+79161234567"),
        ("8[3-9]XXXXXXXXX -> +7[3-9]XXXXXXXXX", "81161234567", None),
        ("_8XXX -> 7XXX", "8123", "7123"),
    ],
)
def test_pattern_rules(text: str, number: str, expected: str | None) -> None:
    assert rule(text).apply(number) == expected


def test_regex_rules_use_re2_and_group_references() -> None:
    r = rule({"regex": r"(?:\+?7|8)(\d{10})", "to": r"+7\1"})
    assert r.apply("84951230001") == "+74951230001"
    assert r.apply("+74951230001") == "+74951230001"
    assert r.apply("x84951230001") is None  # the whole number must match


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("8XX -> +7X", "must repeat the wildcards of '8XX' in the same order (XX)"),
        ("8XX -> +7ZX", "must repeat the wildcards"),
        ("8.X -> 1", "'.' (the rest of the number) may only end a pattern"),
        ("8-XX -> 1", "pattern '8-XX', character 2: '-' is not in the pattern language"),
        ("8X+X -> 1", "character 3: '+' may only start a pattern"),
        ("8X -> 7[1-", "replacement '7[1-', character 2: '[' is not closed"),
        ("8XX", "a rule is written 'PATTERN -> REPLACEMENT'"),
        (" -> 1", "the pattern is empty"),
        ({"regex": "(", "to": "1"}, "invalid regular expression '('"),
        ({"regex": "(1)", "to": r"\2"}, r"refers to group 2, but '(1)' has 1"),
        ({"regex": r"(\d)\1", "to": "1"}, "invalid regular expression"),  # no back-references in RE2
        ({"match": "1", "regex": "1", "to": "1"}, "exactly one of 'match'"),
        ({"match": "X" * 65, "to": "1"}, "at most 64 characters"),
    ],
)
def test_bad_rules_say_what_is_wrong(spec: object, message: str) -> None:
    with pytest.raises(ValidationError, match=_escape(message)):
        rule(spec)


def _escape(text: str) -> str:
    import re

    return re.escape(text)


def test_first_matching_rule_wins_and_nothing_matching_leaves_the_number() -> None:
    rules = [rule("8XXXXXXXXXX -> +7XXXXXXXXXX"), rule("X. -> 0X.")]
    assert apply_rules(rules, "84951230001") == "+74951230001"  # not also rewritten by the second
    assert apply_rules(rules, "123") == "0123"
    assert apply_rules(rules, "") == ""
    assert apply_rules(rules, "+7495") == "+7495"
    assert apply_rules(rules, "8" * 65) == "8" * 65  # too long for any rule: unchanged


# ---- bindings and resolution ----------------------------------------------------------------


def test_resolution_order_and_reasons() -> None:
    table = RoutingTable()
    table.bind_number("+74951230001", "sales")
    table.bind_number("+74951230002", "sales", version=3)
    table.bind_line("analog-2", "moscow")
    r = table.resolve("+74951230001", "analog-2")
    assert (r.scenario_id, r.version, r.via) == ("sales", None, "number")
    assert r.reason == "number +74951230001 bound to 'sales' (latest)"
    assert table.resolve("+74951230002").reason == "number +74951230002 bound to 'sales' v3"
    r = table.resolve("", "analog-2")
    assert (r.scenario_id, r.via) == ("moscow", "line")
    assert r.reason == "no dialled number; line analog-2 bound to 'moscow' (latest)"
    r = table.resolve("+74990000000", "trunk-1")
    assert (r.scenario_id, r.via) == (None, "none")
    assert r.reason == "number +74990000000 not bound, line trunk-1 not bound, and no default scenario"
    table.set_default("main")
    r = table.resolve("+74990000000", "trunk-1")
    assert (r.scenario_id, r.via) == ("main", "default")
    assert r.reason == "number +74990000000 not bound, line trunk-1 not bound; default scenario 'main' (latest)"
    table.set_default(None)
    assert table.resolve("+74990000000").via == "none"


def test_a_number_held_by_another_scenario_is_not_taken_without_replace() -> None:
    table = RoutingTable()
    table.bind_number("100", "sales")
    with pytest.raises(RoutingError, match="number 100 is bound to 'sales'; binding it to 'support' needs replace=True"):
        table.bind_number("100", "support")
    assert table.resolve("100").scenario_id == "sales"
    table.bind_number("100", "sales", version=2)  # pinning one's own number is no takeover
    assert table.resolve("100").version == 2
    table.bind_number("100", "support", replace=True)
    assert table.resolve("100").scenario_id == "support"
    assert [b.number for b in table.numbers] == ["100"]
    assert table.unbind_number("100") is not None and table.unbind_number("100") is None
    assert table.resolve("100").via == "none" and table.numbers == []


def test_a_line_held_by_another_scenario_is_not_taken_without_replace() -> None:
    table = RoutingTable()
    table.configure_line(LineConfig.model_validate({"name": "analog-2", "called": ["XXXXXXX -> +7495XXXXXXX"]}))
    table.bind_line("analog-2", "moscow")
    assert table.line_config("analog-2").called is not None  # type: ignore[union-attr]  # rules kept
    with pytest.raises(RoutingError, match="line 'analog-2' is bound to 'moscow'"):
        table.bind_line("analog-2", "spb")
    table.bind_line("analog-2", "spb", replace=True)
    assert table.resolve("", "analog-2").scenario_id == "spb"
    table.unbind_line("analog-2")
    assert table.resolve("", "analog-2").via == "none"
    assert table.normalise("analog-2", "1230001", "")[0] == "+74951230001"  # rules stay


def test_bad_arguments_name_the_field() -> None:
    table = RoutingTable()
    with pytest.raises(RoutingError, match="scenario_id: String should match pattern"):
        table.bind_number("100", "no spaces allowed")
    with pytest.raises(RoutingError, match="version: Input should be greater than or equal to 1"):
        table.bind_number("100", "sales", version=0)


def test_normalise_by_line_with_table_rules_for_other_lines() -> None:
    table = parse_routing(
        {
            "called": ["8XXXXXXXXXX -> +7XXXXXXXXXX"],
            "lines": [
                {"name": "pbx", "called": ["99. -> ."], "caller": ["XXX -> +74951230XXX"]},
                {"name": "analog-2", "number": "+78125550002"},
                {"name": "raw", "called": []},
            ],
        }
    )
    assert table.normalise(None, "84951230001", "89161234567") == ("+74951230001", "89161234567")
    assert table.normalise("pbx", "99123", "555") == ("123", "+74951230555")
    assert table.normalise("pbx", "84951230001", "555")[0] == "84951230001"  # own rules replace the table's
    assert table.normalise("analog-2", "", "123") == ("+78125550002", "123")  # the line's number
    assert table.normalise("analog-2", "84951230001", "") == ("+74951230001", "")  # a dialled number wins
    assert table.normalise("raw", "84951230001", "")[0] == "84951230001"  # [] means no rules at all
    assert table.normalise("unknown-line", "84951230001", "")[0] == "+74951230001"


def test_document_numbers_follow_the_document_but_never_take_over() -> None:
    table = RoutingTable()
    assert table.follow_document_numbers("sales", [], ["100", "101"]) == []
    table.bind_number("200", "support")
    notes = table.follow_document_numbers("sales", ["100", "101"], ["100", "200"])
    assert notes == [
        "number 200 stays with 'support': 'sales' lists it, but a number is moved only by binding it with replace=True"
    ]
    assert table.resolve("101").via == "none"  # dropped by the document: released
    assert table.resolve("200").scenario_id == "support"
    table.bind_number("100", "sales", version=1)  # an explicit pin is not the document's to release
    table.follow_document_numbers("sales", ["100"], [])
    assert table.resolve("100").version == 1


# ---- the file form -----------------------------------------------------------------------------


def test_routing_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text(
        """\
default: main
numbers:
  - {number: "+74951230001", scenario_id: sales}
  - {number: "+78125550002", scenario_id: sales, version: 3}
lines:
  - name: analog-2
    number: "+78125550002"
  - name: trunk-1
    scenario_id: main
    called: ["8XXXXXXXXXX -> +7XXXXXXXXXX", {regex: '\\+?7(\\d{10})', to: '+7\\1'}]
""",
        encoding="utf-8",
    )
    table = load_routing_file(path)
    assert table.default is not None and table.default.scenario_id == "main"
    assert table.resolve("+78125550002").version == 3
    again = RoutingTable.model_validate(table.model_dump())
    assert again.resolve("+74951230001").scenario_id == "sales"
    assert again.normalise("trunk-1", "74951230001", "") == ("+74951230001", "")


def test_routing_file_problems_name_their_place(tmp_path: Path) -> None:
    path = tmp_path / "routing.json"
    path.write_text(
        """{"numbers": [{"number": "1", "scenario_id": "a"}, {"number": "1", "scenario_id": "b"}],
            "lines": [{"name": "l1", "called": ["8X -> 7XX"]}, {"name": "l2", "version": 2}],
            "defualt": "main"}""",
        encoding="utf-8",
    )
    with pytest.raises(RoutingError) as info:
        load_routing_file(path)
    found = {p.path: p.message for p in info.value.problems}
    assert found["numbers"] == "number 1 is bound twice (numbers[0] and numbers[1])"
    assert "must repeat the wildcards" in found["lines[0].called[0]"]
    assert "set 'scenario_id' too" in found["lines[1]"]
    assert found["defualt"] == "unknown field (not part of the format)"
    assert str(path) in str(info.value)


def test_malformed_routing_files(tmp_path: Path) -> None:
    bad_yaml = tmp_path / "r.yaml"
    bad_yaml.write_text("numbers: [\n", encoding="utf-8")
    with pytest.raises(RoutingError, match="malformed YAML") as info:
        load_routing_file(bad_yaml)
    assert info.value.problems[0].line is not None
    with pytest.raises(RoutingError, match="cannot read file"):
        load_routing_file(tmp_path / "missing.yaml")
    with pytest.raises(RoutingError, match="must be a mapping"):
        parse_routing(["+7495"])
    assert parse_routing(None).resolve("1").via == "none"  # an empty file is an empty table
