"""docs/routing.md shows what the code does: its routing tables load, its rule
table rewrites as it says, and its Python example runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from flowengine.scenario.routing import NormalisationRule, apply_rules, parse_routing

DOC = Path(__file__).resolve().parents[3] / "docs" / "routing.md"
TEXT = DOC.read_text(encoding="utf-8")


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", TEXT, flags=re.S)


def test_every_yaml_example_is_a_valid_routing_table() -> None:
    found = blocks("yaml")
    assert len(found) >= 2
    for text in found:
        parse_routing(yaml.safe_load(text), "docs/routing.md")


RULE_ROWS = re.findall(r"^\| `([^`]+ -> [^`]+)` \| `([^`]+)` \| `([^`]+)`", TEXT, flags=re.M)


@pytest.mark.parametrize(("rule", "number", "expected"), RULE_ROWS)
def test_the_rule_table_rewrites_as_it_says(rule: str, number: str, expected: str) -> None:
    assert NormalisationRule.model_validate(rule).apply(number) == expected


def test_the_rule_table_is_there() -> None:
    assert len(RULE_ROWS) >= 5


def test_the_regex_example_rewrites() -> None:
    table = parse_routing(yaml.safe_load(blocks("yaml")[1]))
    assert apply_rules(table.called, "84951230001") == "+74951230001"


def test_the_python_example_runs(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    (example,) = [b for b in blocks("python") if b.startswith("from ")]
    monkeypatch.chdir(DOC.parents[1])
    exec(compile(example, str(DOC), "exec"), {})  # noqa: S102 (our own documentation)
    out = capsys.readouterr().out
    assert "1 True scenario 'per_number_ivr' published as version 1" in out
    assert "number +74951230001 bound to 'per_number_ivr' (latest)" in out
