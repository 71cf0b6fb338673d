"""docs/components.md is generated from the registry and must match the code."""

from __future__ import annotations

from pathlib import Path

from flowengine.components.catalogue import catalogue_markdown
from flowengine.components.registry import builtin_registry

DOC = Path(__file__).resolve().parents[3] / "docs" / "components.md"


def test_components_doc_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == catalogue_markdown(), (
        "docs/components.md is stale: run `flowengine components --markdown > docs/components.md`"
    )


def test_every_type_has_both_titles_and_a_section() -> None:
    text = catalogue_markdown()
    for name, cls in builtin_registry().items():
        assert cls.title_en and cls.title_ru, name
        assert f"## {name}\n" in text
        assert f"**{cls.title_en} / {cls.title_ru}**" in text
