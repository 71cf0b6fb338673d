"""Drawing the per-number IVR from an empty canvas in a real browser: drag
components from the palette, connect exits with the mouse, fill properties
(an expression checked live), see a validation error come and go, save,
publish; the unsaved drawing survives a reload."""

from __future__ import annotations

from typing import Any

from tests.editor.conftest import Served, login, screenshot, set_language


def centre(locator: Any) -> tuple[float, float]:
    box = locator.bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def drop(page: Any, node_type: str, x: float, y: float) -> None:
    """Drags a palette item onto the canvas at (x, y) of the canvas pane."""
    page.get_by_test_id(f"palette-{node_type}").drag_to(page.locator(".react-flow__pane"), target_position={"x": x, "y": y})


def wire(page: Any, source: str, exit_name: str, target: str) -> None:
    """Drags from a node's exit handle to another node's input with the mouse."""
    sx, sy = centre(page.get_by_test_id(f"out-{source}-{exit_name}"))
    tx, ty = centre(page.get_by_test_id(f"in-{target}"))
    page.mouse.move(sx, sy)
    page.mouse.down()
    page.mouse.move((sx + tx) / 2, (sy + ty) / 2, steps=8)
    page.mouse.move(tx, ty, steps=8)
    page.mouse.up()
    page.locator(f'.react-flow__edge[data-id="{source}:{exit_name}"]').wait_for()


def select(page: Any, node_id: str) -> Any:
    page.get_by_test_id(f"node-{node_id}").locator(".fe-node-head").click()
    inspector = page.get_by_test_id("inspector")
    inspector.get_by_label("Node id").wait_for()
    page.wait_for_function(f"document.querySelector('[data-testid=inspector] input').value === '{node_id}'")
    return inspector


def test_draw_the_per_number_ivr_save_and_publish(page: Any, served: Served) -> None:
    set_language(page, "en")
    page.set_viewport_size({"width": 1600, "height": 900})
    login(page)
    page.goto("/#/scenarios")
    page.get_by_role("button", name="New scenario").click()
    form = page.get_by_role("form", name="New scenario")
    form.get_by_label("Id").fill("drawn_ivr")
    form.get_by_label("Name").fill("Drawn per-number IVR")
    form.get_by_role("button", name="Create").click()
    page.get_by_test_id("editor").wait_for()
    page.get_by_test_id("node-start").wait_for()
    assert page.locator(".react-flow__node").count() == 1
    # move the start node to the left edge, then drop the others to its right
    pane = page.locator(".react-flow__pane").bounding_box()
    sx, sy = centre(page.get_by_test_id("node-start").locator(".fe-node-head"))
    page.mouse.move(sx, sy)
    page.mouse.down()
    page.mouse.move(pane["x"] + 110, pane["y"] + 220, steps=10)
    page.mouse.up()

    drop(page, "menu", 370, 220)
    drop(page, "say", 620, 100)
    drop(page, "say", 620, 350)
    drop(page, "hangup", 870, 220)
    page.get_by_test_id("node-hangup").wait_for()
    assert page.locator(".react-flow__node").count() == 5

    # the menu: value checked live, cases become exits
    menu = select(page, "menu")
    value = menu.get_by_label("Value")
    value.fill("calledid(")
    error = menu.get_by_test_id("expr-error")
    error.wait_for()
    assert "column 10" in error.inner_text()
    value.fill("calledid()")
    error.wait_for(state="detached")
    for i, (exit_name, number) in enumerate((("moscow", "+74951230001"), ("spb", "+78125550002"))):
        menu.locator("#root_cases__add").click()
        menu.locator(f"#root_cases_{i}_exit").fill(exit_name)
        menu.locator(f"#root_cases_{i}_equals").fill(number)
    page.get_by_test_id("out-menu-spb").wait_for()

    for node_id, text in (("say", "Moscow office, thank you for calling"), ("say_2", "St Petersburg office, thank you")):
        inspector = select(page, node_id)
        inspector.get_by_label("Text").fill(text)
    validity = page.get_by_test_id("validity")
    validity.filter(has_text="Errors:").wait_for()

    wire(page, "start", "next", "menu")
    wire(page, "menu", "moscow", "say")
    wire(page, "menu", "spb", "say_2")
    wire(page, "say", "next", "hangup")
    wire(page, "say_2", "next", "hangup")
    # the menu's default branch is not wired: an error on the menu node
    page.locator(".react-flow__node.has-error[data-id=menu]").wait_for()
    validity.filter(has_text="Errors: 1 ·").wait_for()
    validity.click()
    findings = page.get_by_test_id("findings")
    findings.get_by_test_id("finding").first.wait_for()
    assert "other" in findings.inner_text()
    screenshot(page, "editor-validation")
    findings.get_by_test_id("finding").first.click()
    page.locator(".react-flow__node.selected[data-id=menu]").wait_for()
    findings.get_by_role("button", name="Close").click()
    page.get_by_role("button", name="Zoom to fit").click()
    wire(page, "menu", "other", "hangup")
    page.locator(".react-flow__node.has-error").wait_for(state="detached")
    validity.filter(has_text="No problems").wait_for()

    page.keyboard.press("Control+s")
    page.get_by_test_id("save-state").filter(has_text="Saved (revision 2)").wait_for()
    page.get_by_role("button", name="Publish…").click()
    dialog = page.get_by_role("dialog", name="Publish a new version")
    dialog.get_by_label("Comment").fill("drawn in the browser")
    dialog.get_by_role("button", name="Publish").click()
    page.get_by_test_id("save-state").filter(has_text="Published as version 1").wait_for()
    page.get_by_role("button", name="Auto-layout").click()
    page.wait_for_function("document.querySelector('[data-testid=editor]').dataset.lastLayoutMs !== undefined")
    screenshot(page, "editor-drawn")

    versions = served.api.get("/api/v1/scenarios/drawn_ivr/versions").json()
    assert [(v["version"], v["comment"]) for v in versions] == [(1, "drawn in the browser")]
    doc = served.api.get("/api/v1/scenarios/drawn_ivr/versions/1").json()["document"]
    nodes = {n["id"]: n for n in doc["nodes"]}
    assert nodes["start"]["exits"] == {"next": "menu"}
    assert nodes["menu"]["params"]["value"] == "calledid()"
    assert [(c["exit"], c["equals"]) for c in nodes["menu"]["params"]["cases"]] == [
        ("moscow", "+74951230001"), ("spb", "+78125550002"),
    ]
    assert nodes["menu"]["exits"] == {"moscow": "say", "spb": "say_2", "other": "hangup"}
    assert nodes["say_2"]["params"] == {"text": "St Petersburg office, thank you"}
    assert nodes["hangup"]["type"] == "hangup"
    assert page.problems == []
