"""docs/api.md shows what the code does: its JSON parses, its settings file
is accepted, its resolve answer is the service's answer for the examples."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from flowengine.api import ServeSettings

DOC = Path(__file__).resolve().parents[3] / "docs" / "api.md"


def blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def test_json_examples_parse_and_the_settings_file_loads(tmp_path: Path) -> None:
    found = [json.loads(text) for text in blocks("json")]
    assert len(found) == 3  # resolve, settings, a report
    (settings_yaml,) = blocks("yaml")
    path = tmp_path / "serve.yaml"
    path.write_text(settings_yaml, encoding="utf-8")
    s = ServeSettings(config=path)
    assert (s.port, str(s.data_dir), s.session_ttl) == (8080, "/var/lib/flowengine", 3600)


def test_resolve_example_is_what_the_service_answers(api: Any) -> None:
    shown = json.loads(blocks("json")[0])
    got = api.call("GET", "/api/v1/routing/resolve", role="supervisor", params={"called": shown["called"], "line": shown["line"]})
    assert got.json() == shown


def test_settings_table_lists_every_setting() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [name for name in ServeSettings.model_fields if name != "config" and f"`{name}`" not in text]
    assert missing == []
