"""The scenario editor in a real browser: open a scenario, see it drawn,
validation findings on the nodes, the local draft across a reload."""

from __future__ import annotations

from typing import Any

from tests.editor.conftest import Served, login, screenshot, set_language


def open_editor(page: Any, scenario: str) -> Any:
    page.goto(f"/#/scenarios/{scenario}")
    editor = page.get_by_test_id("editor")
    editor.wait_for()
    page.locator(".react-flow__node").first.wait_for()
    return editor


def test_a_scenario_opens_drawn_with_every_node_and_exit(page: Any, served: Served) -> None:
    set_language(page, "en")
    login(page)
    open_editor(page, "per_number_ivr")
    doc = served.api.get("/api/v1/scenarios/per_number_ivr").json()["document"]
    assert page.locator(".react-flow__node").count() == len(doc["nodes"])
    wired = sum(len(n.get("exits", {})) for n in doc["nodes"])
    page.wait_for_function(f"document.querySelectorAll('.react-flow__edge').length === {wired}")
    # one handle per exit: the menu's cases became exits
    for exit_name in ("moscow", "spb", "hotline", "other", "error"):
        assert page.get_by_test_id(f"out-menu_by_number-{exit_name}").count() == 1
    assert page.get_by_test_id("validity").inner_text().startswith("✓") or "warning" in page.get_by_test_id("validity").inner_text()
    page.get_by_test_id("node-menu_by_number").click()
    page.get_by_test_id("inspector").wait_for()
    screenshot(page, "editor-scenario")
    assert page.problems == []
