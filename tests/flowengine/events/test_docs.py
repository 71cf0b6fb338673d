"""docs/events.md is the contract: its frozen list is exactly the registry
(renaming a class cannot change a stored name, and no event goes
undocumented), every event has a section, and every JSON example there is a
valid event of the section it is in."""

from __future__ import annotations

import json
import re
from pathlib import Path

from flowengine.events import event_from_dict, event_types

DOC = Path(__file__).resolve().parents[3] / "docs" / "events.md"


def sections() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    parts = re.split(r"^### `([a-z_]+)`$", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_the_frozen_list_is_the_registry() -> None:
    text = DOC.read_text(encoding="utf-8")
    block = text.split("## Event names (frozen)", 1)[1].split("```text\n", 1)[1].split("```", 1)[0]
    frozen = block.split()
    assert len(frozen) == len(set(frozen))
    assert sorted(frozen) == sorted(event_types())


def test_every_event_has_a_section_with_fields_example_and_readers() -> None:
    found = sections()
    assert sorted(found) == sorted(event_types())
    for name, body in found.items():
        assert "Used by: " in body, name
        cls = event_types()[name]
        common = {"v", "seq", "ts", "t", cls.key, "scenario_id", "scenario_version", "node_id", "queue_id"}
        for field in cls.field_names:
            if field not in common:
                assert f"| `{field}` |" in body, f"{name}: field {field} undocumented"


def test_every_json_example_parses_as_the_event_of_its_section() -> None:
    found = sections()
    for name, body in found.items():
        examples = re.findall(r"```json\n(.*?)\n```", body, flags=re.S)
        assert len(examples) == 1, name
        data = json.loads(examples[0])
        event = event_from_dict(data)
        assert event.name == name
        assert event.to_dict() == data  # every field written, nothing extra
