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
    page.get_by_test_id("validity").filter(has_text="No problems").wait_for()
    page.get_by_role("button", name="Auto-layout").click()
    page.wait_for_function("document.querySelector('[data-testid=editor]').dataset.layoutCount === '1'")
    page.get_by_test_id("node-menu_by_number").locator(".fe-node-head").click()
    page.get_by_test_id("inspector").wait_for()
    screenshot(page, "editor-scenario")
    assert page.problems == []


def test_a_supervisor_sees_the_drawing_read_only(page: Any, served: Served) -> None:
    password = served.user("e2e-sup-canvas", "supervisor")
    set_language(page, "en")
    login(page, "e2e-sup-canvas", password)
    editor = open_editor(page, "per_number_ivr")
    page.get_by_text("Read only: editing needs the admin role").wait_for()
    assert page.get_by_role("complementary", name="Components").count() == 0
    assert page.get_by_role("button", name="Save", exact=True).is_disabled()
    # the example's boxes overlap at the canvas's size: the view lays them out, nothing changes
    page.wait_for_function("document.querySelector('[data-testid=editor]').dataset.renderedAt !== undefined")
    boxes = [page.get_by_test_id(f"node-{n}").bounding_box() for n in ("start", "remember_number", "log_number")]
    assert all(a["x"] + a["width"] <= b["x"] for a, b in zip(boxes, boxes[1:], strict=False))
    assert editor.get_attribute("data-dirty") == "no"
    assert page.problems == []


def _copy_example(served: Served, name: str, new_id: str) -> dict[str, Any]:
    import json

    from tests.editor.conftest import ROOT

    doc = json.loads((ROOT / "examples" / name).read_text(encoding="utf-8"))
    doc["id"] = new_id
    doc.pop("numbers", None)
    r = served.api.post("/api/v1/scenarios", json={"document": doc})
    assert r.status_code == 201, r.text
    return doc


def _retitle(page: Any, node_id: str, title: str) -> None:
    page.get_by_test_id(f"node-{node_id}").locator(".fe-node-head").click()
    page.get_by_test_id("inspector").get_by_label("Title").fill(title)
    page.get_by_test_id(f"node-{node_id}").filter(has_text=title).wait_for()


def test_unsaved_drawing_survives_a_reload_and_undo_redo_delete(page: Any, served: Served) -> None:
    _copy_example(served, "office_hours.json", "local_draft")
    set_language(page, "en")
    login(page)
    editor = open_editor(page, "local_draft")
    count = page.locator(".react-flow__node").count()
    first = page.locator(".react-flow__node").nth(1).get_attribute("data-id")
    _retitle(page, first, "Changed before the reload")
    page.get_by_test_id("save-state").filter(has_text="Unsaved changes").wait_for()
    page.wait_for_timeout(400)  # the local draft is written 0.2 s after the last change
    page.reload()
    page.get_by_test_id("restored").wait_for()
    page.get_by_test_id(f"node-{first}").filter(has_text="Changed before the reload").wait_for()
    assert editor.get_attribute("data-dirty") == "yes"
    # nothing reached the server
    server_doc = served.api.get("/api/v1/scenarios/local_draft").json()["document"]
    assert all(n.get("title") != "Changed before the reload" for n in server_doc["nodes"])

    # delete a node with the Del key, undo and redo it
    page.get_by_test_id(f"node-{first}").locator(".fe-node-head").click()
    page.keyboard.press("Delete")
    page.wait_for_function(f"document.querySelectorAll('.react-flow__node').length === {count - 1}")
    page.keyboard.press("Control+z")
    page.wait_for_function(f"document.querySelectorAll('.react-flow__node').length === {count}")
    page.keyboard.press("Control+y")
    page.wait_for_function(f"document.querySelectorAll('.react-flow__node').length === {count - 1}")
    page.get_by_role("button", name="Undo").click()
    page.wait_for_function(f"document.querySelectorAll('.react-flow__node').length === {count}")

    # discarding the local draft brings back the server's document
    page.get_by_test_id("restored").get_by_role("button", name="Discard it").click()
    page.get_by_test_id("save-state").filter(has_text="All changes saved").wait_for()
    assert page.get_by_test_id(f"node-{first}").filter(has_text="Changed before the reload").count() == 0
    page.reload()
    page.locator(".react-flow__node").first.wait_for()
    assert page.get_by_test_id("restored").count() == 0
    assert page.problems == []


def test_copy_paste_between_scenarios(page: Any, served: Served) -> None:
    _copy_example(served, "office_hours.json", "paste_from")
    target = _copy_example(served, "callback.json", "paste_into")
    set_language(page, "en")
    login(page)
    open_editor(page, "paste_from")
    page.get_by_test_id("node-start").locator(".fe-node-head").click()
    page.keyboard.press("Control+c")
    open_editor(page, "paste_into")
    before = page.locator(".react-flow__node").count()
    assert before == len(target["nodes"])
    page.locator(".react-flow__pane").click(position={"x": 20, "y": 20})
    page.keyboard.press("Control+v")
    page.wait_for_function(f"document.querySelectorAll('.react-flow__node').length === {before + 1}")
    # the id was taken here, so the pasted start got a fresh one
    page.get_by_test_id("node-start_2").wait_for()
    # two main starts: the validator says so on the canvas
    page.locator(".react-flow__node.has-error").first.wait_for()
    page.keyboard.press("Control+s")
    page.get_by_test_id("save-state").filter(has_text="Saved (revision 2)").wait_for()
    saved = served.api.get("/api/v1/scenarios/paste_into").json()
    assert saved["revision"] == 2 and "start_2" in [n["id"] for n in saved["document"]["nodes"]]


def test_a_stale_save_offers_to_compare_and_reload(page: Any, served: Served) -> None:
    doc = _copy_example(served, "office_hours.json", "stale_save")
    set_language(page, "en")
    login(page)
    open_editor(page, "stale_save")
    first = page.locator(".react-flow__node").nth(1).get_attribute("data-id")
    _retitle(page, first, "Mine")
    # someone else saves meanwhile
    theirs = {**doc, "name": "Their name"}
    r = served.api.put("/api/v1/scenarios/stale_save", json={"revision": 1, "document": theirs})
    assert r.status_code == 200, r.text
    page.get_by_role("button", name="Save", exact=True).click()
    conflict = page.get_by_test_id("conflict")
    conflict.wait_for()
    assert "revision 2" in conflict.inner_text()
    conflict.get_by_role("button", name="Compare").click()
    comparison = conflict.get_by_test_id("comparison")
    assert first in comparison.inner_text()
    assert served.api.get("/api/v1/scenarios/stale_save").json()["document"]["name"] == "Their name"
    conflict.get_by_role("button", name="Reload theirs (drop mine)").click()
    conflict.wait_for(state="detached")
    page.get_by_text("Their name").first.wait_for()
    assert page.get_by_test_id(f"node-{first}").filter(has_text="Mine").count() == 0


def test_component_names_follow_the_ui_language_and_add_by_keyboard(page: Any, served: Served) -> None:
    _copy_example(served, "callback.json", "in_russian")
    set_language(page, "ru")
    login(page)
    open_editor(page, "in_russian")
    palette = page.get_by_role("complementary", name="Компоненты")
    assert palette.get_by_test_id("palette-menu").inner_text().strip().endswith("Меню")
    assert palette.get_by_test_id("palette-say").inner_text().strip().endswith("Произнести")
    # the node's type title on the canvas is Russian too
    page.get_by_test_id("node-start").filter(has_text="Старт").wait_for()
    search = palette.get_by_label("Поиск компонентов")
    search.fill("очер")
    assert palette.get_by_role("button").count() == 1 and palette.get_by_test_id("palette-queue").is_visible()
    search.fill("")
    # keyboard only: focus a palette item and press Enter
    before = page.locator(".react-flow__node").count()
    palette.get_by_test_id("palette-hangup").focus()
    page.keyboard.press("Enter")
    page.wait_for_function(f"document.querySelectorAll('.react-flow__node').length === {before + 1}")
    page.get_by_test_id("inspector").get_by_role("heading", name="Завершение").wait_for()
    # the generated form's field labels are Russian too (title_ru from the API)
    page.get_by_test_id("inspector").get_by_text("Причина", exact=True).first.wait_for()
    screenshot(page, "editor-ru")
    page.get_by_label("Language").or_(page.get_by_label("Язык")).select_option("en")
    palette = page.get_by_role("complementary", name="Components")
    assert palette.get_by_test_id("palette-menu").inner_text().strip().endswith("Menu")
    page.get_by_test_id("node-start").filter(has_text="Start").wait_for()
    assert page.problems == []


def test_a_missing_scenario_is_a_message_not_a_blank_page(page: Any, served: Served) -> None:
    set_language(page, "en")
    login(page)
    page.goto("/#/scenarios/no_such_scenario")
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "no_such_scenario" in alert.inner_text() and "does not exist" in alert.inner_text()
    page.get_by_role("link", name="Scenarios", exact=True).last.click()
    page.get_by_test_id("scenario-per_number_ivr").wait_for()
    assert page.get_by_role("navigation", name="main").is_visible()


def test_declared_variables_are_offered_in_expression_fields(page: Any, served: Served) -> None:
    _copy_example(served, "per_number_ivr.json", "completion")
    set_language(page, "en")
    login(page)
    open_editor(page, "completion")
    # declare a variable in the scenario's panel (nothing selected)
    variables = page.get_by_test_id("variables")
    variables.get_by_role("button", name="Add variable").click()
    variables.get_by_label("Name of variable 3").fill("REGION")
    page.get_by_test_id("node-menu_by_number").locator(".fe-node-head").click()
    value = page.get_by_test_id("inspector").get_by_label("Value")
    value.fill("")
    value.press_sequentially("RE")
    listbox = page.get_by_role("listbox", name="Suggestions")
    listbox.get_by_role("option", name="REGION").wait_for()
    value.fill("")
    value.press_sequentially("cal")
    options = listbox.get_by_role("option")
    options.first.wait_for()
    assert options.all_inner_texts()[0].endswith("CALLEDID")
    assert any(t.endswith("calledid()") for t in options.all_inner_texts())
    value.press("Enter")
    assert value.input_value() == "CALLEDID"
    value.press_sequentially(" = REGION + ")
    error = page.get_by_test_id("expr-error")
    error.wait_for()
    assert "column" in error.inner_text()
    assert page.locator(".expr-mark mark").count() == 1
    value.press_sequentially("1")
    error.wait_for(state="detached")
    saved = served.api.get("/api/v1/scenarios/completion").json()["document"]
    assert [v["name"] for v in saved["variables"]] == ["CALLEDID", "CHOICE"]  # nothing saved yet
