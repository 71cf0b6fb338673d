"""The wallboard follows the centre live over its WebSocket, without a reload:
an operator's status set in the operator panel (another browser, signed in as
the operator), test calls waiting and answered, and a dropped connection that
comes back by itself."""

from __future__ import annotations

import json
from typing import Any

from playwright.sync_api import expect

from tests.editor.centre_helpers import (
    another_context,
    call_sales,
    hang_up,
    sales_closed,
    set_status,
)
from tests.editor.conftest import Served, login, screenshot, set_language


def open_wallboard(page: Any, lang: str = "en") -> None:
    set_language(page, lang)
    login(page)
    page.goto("/#/wallboard")
    expect(page.get_by_test_id("wb-link")).to_have_attribute("data-link", "live")
    page.get_by_test_id("operator-901").wait_for()
    page.evaluate("window.__sameDocument = 'yes'")  # gone if the page reloads


def counter(page: Any, queue: str, name: str) -> int:
    return int(page.get_by_test_id(f"queue-{queue}").get_by_test_id(f"counter-{name}").inner_text())


def test_a_status_set_in_the_operator_panel_shows_on_the_wallboard(page: Any, served: Served, browser: Any) -> None:
    open_wallboard(page)
    row = page.get_by_test_id("operator-902")
    password = served.user("e2e-boris", "operator", operator_id="902")
    with another_context(browser, served) as op:
        set_language(op, "en")
        login(op, "e2e-boris", password)
        op.goto("/#/operator")
        op.get_by_label("Break reason").fill("lunch")
        op.get_by_role("button", name="Take a break").click()
        expect(op.get_by_test_id("my-status")).to_have_attribute("data-status", "break")

        expect(row).to_have_attribute("data-status", "break")
        expect(row.get_by_test_id("op-status")).to_have_text("Break")
        expect(row).to_contain_text("lunch")

        op.get_by_role("button", name="Available", exact=True).click()
        expect(row).to_have_attribute("data-status", "available")
        expect(row.get_by_test_id("op-status")).to_have_text("Available")
    assert page.evaluate("window.__sameDocument") == "yes"
    assert page.problems == []


def test_calls_wait_and_are_answered_on_the_wallboard(page: Any, served: Served) -> None:
    open_wallboard(page)
    sales = page.get_by_test_id("queue-sales")
    offered, answered = counter(page, "sales", "offered"), counter(page, "sales", "answered")
    calls: list[str] = []
    try:
        with sales_closed(served):
            calls = [call_sales(served, "+79160000101"), call_sales(served, "+79160000102")]
            expect(sales.get_by_test_id("waiting-count")).to_have_text("2", timeout=30_000)
            waiting = sales.get_by_test_id("waiting-call")
            expect(waiting.first).to_contain_text("+7916000010")
            expect(sales.get_by_test_id("counter-offered")).to_have_text(str(offered + 2))
            # the waits tick in the browser: the longest wait moves on without a message
            first = waiting.first.locator("td").nth(2)
            shown = first.inner_text()
            expect(first).not_to_have_text(shown, timeout=5_000)

            set_status(served, "901", "available")  # the first caller is put through to 901
            expect(sales.get_by_test_id("waiting-count")).to_have_text("1", timeout=20_000)
            expect(page.get_by_test_id("operator-901")).to_have_attribute("data-state", "talking", timeout=20_000)
            expect(sales.get_by_test_id("counter-answered")).to_have_text(str(answered + 1))
            expect(sales.get_by_test_id("sl-gauge")).not_to_have_attribute("data-level", "")
            screenshot(page, "wallboard")
    finally:
        hang_up(served, *calls)
    expect(sales.get_by_test_id("waiting-count")).to_have_text("0", timeout=20_000)
    assert page.evaluate("window.__sameDocument") == "yes"


def test_the_wallboard_reconnects_after_the_connection_drops(page: Any, served: Served) -> None:
    sockets: list[Any] = []

    def through(ws: Any) -> None:  # a pass-through proxy we can cut
        ws.connect_to_server()
        sockets.append(ws)

    page.route_web_socket("**/api/v1/monitor/wallboard*", through)
    open_wallboard(page, "ru")
    assert len(sockets) == 1
    sockets[0].close(code=1011, reason="test: connection lost")
    expect(page.get_by_test_id("wb-link")).to_have_attribute("data-link", "reconnecting")
    expect(page.get_by_test_id("wb-link")).to_have_attribute("data-link", "live", timeout=20_000)
    assert len(sockets) == 2
    # the new connection carries changes again
    row = page.get_by_test_id("operator-906")
    try:
        set_status(served, "906", "break", "training")
        expect(row).to_have_attribute("data-status", "break")
        expect(row.get_by_test_id("op-status")).to_have_text("Перерыв")
        screenshot(page, "wallboard_ru")
    finally:
        set_status(served, "906", "available")
    expect(row).to_have_attribute("data-status", "available")
    assert page.evaluate("window.__sameDocument") == "yes"


def test_an_alert_shows_prominently_until_it_is_cleared(page: Any, served: Served) -> None:
    """A real alert: the centre watches line trunk-1 for 2 s of silence (the
    served fixture checks alerts twice a second); the banner appears on the
    wallboard, and goes when a call arrives on the line."""
    original = served.api.get("/api/v1/centre").json()
    centre = json.loads(json.dumps(original))
    centre["centre"]["alerts"] = {"lines": [{"line": "trunk-1", "silent_minutes": 0.03}]}
    open_wallboard(page)
    alerts = page.get_by_test_id("wb-alerts")
    expect(alerts).to_have_count(0)
    r = served.api.put("/api/v1/centre", json=centre)
    assert r.status_code == 200, r.text
    try:
        expect(alerts).to_be_visible(timeout=20_000)
        expect(alerts).to_contain_text("No calls on line trunk-1 for")
        expect(page.get_by_role("alert")).to_contain_text("trunk-1")
        screenshot(page, "wallboard_alert")
        r = served.api.post("/api/v1/calls", json={"called": "84951230001", "line": "trunk-1"})
        assert r.status_code == 201, r.text
        expect(alerts).to_have_count(0, timeout=20_000)
        hang_up(served, r.json()["call_id"])
    finally:
        restore = served.api.get("/api/v1/centre").json()
        restore["centre"]["alerts"] = original["centre"].get("alerts")
        served.api.put("/api/v1/centre", json=restore)
    assert page.problems == []
