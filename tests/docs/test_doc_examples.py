"""Every JSON and YAML example in README.md and docs/*.md is valid — and does
what it claims: a whole scenario loads and passes the validator with no
error, a node or component params example is accepted by that component, an
event is a known event, a centre file (or its alerts section), tests file or
routing table loads.

Examples are fenced ```json / ```yaml blocks, read with the project's own
document reader (duplicate keys, NaN and the like refused). A block that is
deliberately a fragment is preceded by the line `<!-- fragment -->`; there
should be very few of those.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from flowengine.acd import parse_centre
from flowengine.components.registry import builtin_registry
from flowengine.documents import parse_json, parse_yaml
from flowengine.events.base import event_from_dict
from flowengine.monitor.alerts import AlertSettings
from flowengine.scenario.loader import load_scenario_data
from flowengine.scenario.routing import parse_routing
from flowengine.testing.cases import CaseFile
from flowengine.validation import validate

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(json|yaml|yml)[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)
FRAGMENT = "<!-- fragment -->"
#: fragments allowed in all the docs together: keep them rare
MAX_FRAGMENTS = 3


@dataclass(frozen=True)
class Example:
    doc: Path
    line: int
    lang: str
    text: str
    section: str
    fragment: bool

    def __str__(self) -> str:
        return f"{self.doc.name}:{self.line}"


def examples() -> list[Example]:
    found = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            before = text[: match.start()]
            previous = [line for line in before.splitlines() if line.strip()]
            headings = [line for line in previous if line.startswith("## ")]
            found.append(
                Example(
                    doc,
                    before.count("\n") + 1,
                    match.group(1),
                    match.group(2),
                    headings[-1][3:].strip() if headings else "",
                    bool(previous) and previous[-1].strip() == FRAGMENT,
                )
            )
    return found


EXAMPLES = examples()
REGISTRY = builtin_registry()


def check_component_params(type_name: str, params: Any) -> None:
    REGISTRY.get(type_name).Params.model_validate(params)


def check_json(example: Example, data: Any) -> None:
    if isinstance(data, dict) and "schema" in data and "nodes" in data:
        scenario = load_scenario_data(data)
        errors = [p for p in validate(scenario) if p.severity == "error"]
        assert not errors, [str(p) for p in errors]
    elif isinstance(data, dict) and "event" in data:
        event_from_dict(data)
    elif isinstance(data, dict) and {"id", "type"} <= set(data):
        check_component_params(data["type"], data.get("params", {}))
    elif example.doc.name == "components.md":
        check_component_params(example.section.strip("`"), data)


def check_yaml(data: Any) -> None:
    if isinstance(data, dict) and "cases" in data:
        CaseFile.model_validate(data)
    elif isinstance(data, dict) and ({"operators", "queues", "departments", "dial_policy"} & set(data)):
        parse_centre(data)
    elif isinstance(data, dict) and ({"service_level", "long_wait", "webhook"} & set(data)):
        AlertSettings.model_validate(data)  # a centre file's `alerts` section
    elif isinstance(data, dict) and ({"numbers", "lines", "default", "called"} & set(data)):
        parse_routing(data)
    elif isinstance(data, dict) and "sip_settings" in data:  # flowengine serve's SIP settings
        from telephony_adapters.sip.config import sip_settings

        sip_settings(data["sip_settings"], listen=data.get("sip"))


def test_there_are_examples_and_few_fragments() -> None:
    assert len(EXAMPLES) > 50
    assert sum(e.fragment for e in EXAMPLES) <= MAX_FRAGMENTS


@pytest.mark.parametrize("example", [e for e in EXAMPLES if not e.fragment], ids=str)
def test_example_is_valid(example: Example) -> None:
    if example.lang == "json":
        check_json(example, parse_json(example.text))
    else:
        check_yaml(parse_yaml(example.text))


def test_the_check_catches_a_bad_example(tmp_path: Path) -> None:
    """The known-bad Menu regex of old: an invalid JSON escape."""
    bad = Example(tmp_path / "components.md", 1, "json", '{"regex": "^\\+7$"}', "`menu`", False)
    with pytest.raises(Exception, match="escape"):
        check_json(bad, parse_json(bad.text))
