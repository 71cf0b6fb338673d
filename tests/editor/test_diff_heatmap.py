"""Two versions of a scenario compared on the canvas, and the heatmap of the
calls that passed it: both drawn from what the served API stores."""

from __future__ import annotations

import time
from typing import Any

from tests.editor.conftest import Served, login, screenshot, set_language

NUMBER = "+74950009999"


def demo(version: int) -> dict[str, Any]:
    """Version 1 sends key 2 to support; version 2 to billing, with a new prompt."""
    second = "support" if version == 1 else "billing"
    prompt = "Press 1 or 2" if version == 1 else "Press 1 for sales, 2 for billing"
    return {
        "schema": 1, "id": "diffdemo", "timezone": "Europe/Moscow", "language": "en", "numbers": [NUMBER],
        "nodes": [
            {"id": "start", "type": "start", "exits": {"next": "ask"}},
            {"id": "ask", "type": "gather",
             "params": {"prompt": prompt, "options": [{"digits": "1", "exit": "sales"}, {"digits": "2", "exit": second}]},
             "exits": {"sales": "sales_say", second: f"{second}_say", "timeout": "bye", "invalid": "bye"}},
            {"id": "sales_say", "type": "say", "params": {"text": "Sales"}, "exits": {"next": "bye"}},
            {"id": f"{second}_say", "type": "say", "params": {"text": second.title()}, "exits": {"next": "bye"}},
            {"id": "bye", "type": "hangup"},
        ],
    }


def publish_two_versions(served: Served) -> None:
    if served.extra.get("diffdemo"):
        return
    for version in (1, 2):
        r = served.api.post("/api/v1/scenarios/import", json={"scenarios": [demo(version)], "comment": f"v{version}"})
        assert r.status_code == 200, r.text
        assert r.json()["scenarios"][0]["version"] == version
    served.extra["diffdemo"] = True


def ids(page: Any, selector: str) -> list[str]:
    return sorted(page.eval_on_selector_all(selector, "els => els.map(e => e.dataset.id)"))


def edge_class(page: Any, edge_id: str) -> str:
    return str(page.locator(f"[data-testid='rf__edge-{edge_id}']").get_attribute("class"))


def test_diff_of_two_versions_colours_what_changed(page: Any, served: Served) -> None:
    publish_two_versions(served)
    set_language(page, "en")
    login(page)
    page.goto("/#/scenarios/diffdemo/diff?from=1&to=2")
    page.locator(".react-flow__node.diff-added").first.wait_for()
    assert ids(page, ".react-flow__node.diff-added") == ["billing_say"]
    assert ids(page, ".react-flow__node.diff-removed") == ["support_say"]
    assert ids(page, ".react-flow__node.diff-changed") == ["ask"]
    assert "diff-added" in edge_class(page, "ask:billing")
    assert "diff-removed" in edge_class(page, "ask:support")
    assert "diff-" not in edge_class(page, "ask:sales")
    changed = page.get_by_test_id("diff-list").locator("li[data-node=ask]")
    text = changed.inner_text()
    assert "params.prompt" in text and "Press 1 or 2" in text and "Press 1 for sales, 2 for billing" in text
    assert "params.options[1].exit" in text
    page.locator(".diff-canvas[data-ready=true]").wait_for()
    screenshot(page, "diff")

    # swapping the versions turns additions into removals
    page.get_by_role("button", name="Swap").click()
    page.locator(".react-flow__node.diff-removed[data-id=billing_say]").wait_for()
    assert ids(page, ".react-flow__node.diff-added") == ["support_say"]
    assert page.problems == []


def call(served: Served) -> str:
    r = served.api.post("/api/v1/calls", json={"called": NUMBER})
    assert r.status_code == 201, r.text
    return str(r.json()["call_id"])


def events(served: Served, call_id: str) -> list[dict[str, Any]]:
    return list(served.api.get(f"/api/v1/calls/{call_id}/events").json()["events"])


def wait_for(served: Served, call_id: str, name: str) -> None:
    deadline = time.monotonic() + 30
    while not any(e["event"] == name for e in events(served, call_id)):
        assert time.monotonic() < deadline, f"no {name} in {call_id}"
        time.sleep(0.1)


def test_heatmap_after_a_few_calls_shows_counts(page: Any, served: Served) -> None:
    publish_two_versions(served)
    # three calls to version 2: key 1, key 2, and one who hangs up at the menu
    calls = {key: call(served) for key in ("1", "2", "hangup")}
    for key, call_id in calls.items():
        wait_for(served, call_id, "prompt_played")
        if key == "hangup":
            served.api.post(f"/api/v1/calls/{call_id}/hangup")
        else:
            served.api.post(f"/api/v1/calls/{call_id}/digits", json={"digits": key})
    for call_id in calls.values():
        wait_for(served, call_id, "call_ended")

    set_language(page, "en")
    login(page)
    page.goto("/#/scenarios/diffdemo/heatmap?version=2")
    ask = page.locator(".react-flow__node[data-id=ask]")
    page.locator(".react-flow__node.heat-5[data-id=ask]").wait_for()
    assert ask.locator(".fe-badge").inner_text() == "3 · ☎ 1"
    assert "3 calls" in str(ask.locator(".fe-node").get_attribute("title"))
    assert "1 hung up here" in str(ask.locator(".fe-node").get_attribute("title"))
    for node in ("sales_say", "billing_say"):
        badge = page.locator(f".react-flow__node[data-id={node}] .fe-badge")
        assert badge.inner_text() == "1"
    assert "heat-edge" in edge_class(page, "ask:sales")
    assert page.locator("[data-testid='rf__edge-ask:sales']").text_content().strip() == "sales · 1"  # type: ignore[union-attr]
    assert page.locator(".react-flow__node[data-id=bye] .fe-badge").inner_text() == "2"
    table = page.get_by_test_id("heat-table")
    assert table.locator("tr[data-node=ask]").inner_text().split() == ["ask", "3", "1"]
    page.locator(".heat-canvas[data-ready=true]").wait_for()
    screenshot(page, "heatmap")

    # version 1 had no calls in the period
    page.get_by_label("Version").select_option("1")
    page.get_by_role("button", name="Show").click()
    page.get_by_text("No call passed this scenario in the period.").wait_for()
    page.locator(".react-flow__node[data-id=support_say]").wait_for()
    assert page.locator(".react-flow__node .fe-badge").count() == 0
    assert page.problems == []
