"""The test console: a simulated call to a bound number, keys pressed on the
keypad, the path highlighted live on the canvas, the trace listed, and the
call saved as a scenario test case."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.editor.conftest import Served, login, screenshot, set_language

IVR_PATH = ["start", "remember_number", "log_number", "menu_by_number", "moscow_menu", "moscow_sales", "goodbye"]


def node_ids(page: Any, selector: str) -> list[str]:
    return sorted(page.eval_on_selector_all(selector, "els => els.map(e => e.dataset.id)"))


def test_call_press_keys_and_see_the_path(page: Any, served: Served) -> None:
    set_language(page, "en")
    login(page)
    page.goto("/#/console/per_number_ivr")
    setup = page.get_by_role("form", name="Test console")
    called = setup.get_by_label("Called number")
    expect(called).to_have_value("+74951230001")  # the number bound to the scenario
    page.locator(".react-flow__node[data-id=moscow_menu]").wait_for()  # the scenario is drawn before the call
    setup.get_by_role("button", name="Call").click()

    # the call reaches the Moscow menu and waits there: the node is lit, the path so far too
    page.locator(".react-flow__node.trace-active[data-id=moscow_menu]").wait_for()
    assert node_ids(page, ".react-flow__node.trace-visited") == sorted(IVR_PATH[:5])
    page.get_by_test_id("prompts").filter(has_text="Московский офис").wait_for()
    page.locator(".react-flow__edge.trace-taken").first.wait_for()
    page.locator(".console-canvas[data-ready=true]").wait_for()
    screenshot(page, "console-mid-call")

    page.get_by_role("group", name="Keypad").get_by_role("button", name="Key 1").click()
    page.get_by_test_id("call-status").filter(has_text="Ended").wait_for(timeout=30_000)
    assert node_ids(page, ".react-flow__node.trace-visited") == sorted(IVR_PATH)
    taken = page.eval_on_selector_all(".react-flow__edge.trace-taken", "els => els.map(e => e.dataset.id ?? e.getAttribute('data-testid'))")
    assert len(taken) == len(IVR_PATH) - 1
    assert page.locator(".react-flow__node.trace-active").count() == 0
    trace = page.get_by_test_id("trace")
    assert trace.locator("tr[data-event=digits_received]").inner_text().count("1") >= 1
    assert "CALLEDID" in page.get_by_test_id("variables").inner_text()

    # the same call as it is stored, for the record
    call_id = page.get_by_test_id("call-status").get_attribute("data-call-id")
    stored = served.api.get(f"/api/v1/calls/{call_id}/events").json()["events"]
    assert [e["node_id"] for e in stored if e["event"] == "node_entered"] == IVR_PATH

    save = page.get_by_role("region", name="Save as test case")
    save.get_by_label("Case name").fill("Moscow sales")
    save.get_by_role("button", name="Save as test case").click()
    case = page.get_by_test_id("test-case")
    case.wait_for()
    text = case.inner_text()
    assert "name: Moscow sales" in text and "press: '1'" in text and "scenario: per_number_ivr.json" in text
    with page.expect_download() as download:
        save.get_by_role("button", name="Download per_number_ivr.tests.yaml").click()
    assert download.value.suggested_filename == "per_number_ivr.tests.yaml"
    assert page.problems == []


def test_a_number_nothing_routes_is_shown_as_refused(page: Any, served: Served) -> None:
    served.api.put("/api/v1/routing/default", json={"scenario_id": None})
    try:
        set_language(page, "en")
        login(page)
        page.goto("/#/console")
        setup = page.get_by_role("form", name="Test console")
        setup.get_by_label("Called number").fill("+10000000001")
        setup.get_by_role("button", name="Call").click()
        status = page.get_by_test_id("call-status")
        status.filter(has_text="refused").wait_for()
        assert "+10000000001" in status.inner_text()
    finally:
        served.api.put("/api/v1/routing/default", json={"scenario_id": "per_number_ivr"})


def test_a_call_at_night_finds_the_office_closed(page: Any, served: Served) -> None:
    set_language(page, "en")
    login(page)
    page.goto("/#/console/office_hours")
    setup = page.get_by_role("form", name="Test console")
    expect(setup.get_by_label("Called number")).to_have_value("+74957770000")
    setup.get_by_label("Time of day").fill("2026-11-23T22:00")  # a Monday night, Moscow time
    setup.get_by_role("button", name="Call").click()
    page.locator(".react-flow__node.trace-visited[data-id=closed_message]").wait_for()
    assert page.locator(".react-flow__node.trace-visited[data-id=self_service]").count() == 0
    page.get_by_role("button", name="Hang up").click()
    page.get_by_test_id("call-status").filter(has_text="Ended").wait_for(timeout=30_000)
    assert page.problems == []
