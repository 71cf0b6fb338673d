"""The operator panel: an operator signs in, becomes available, and the call
put through to them pops up with the caller's data (the scenario's variables
and the caller's earlier calls); after it ends it is in the calls of the day.
An operator cannot act for another operator."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.editor.centre_helpers import (
    CENTRE_NUMBER,
    V1,
    call_sales,
    ended,
    hang_up,
    sales_closed,
    wait_for,
)
from tests.editor.conftest import Served, login, screenshot, set_language

CALLER = "+79160000333"


def test_the_call_pops_up_with_the_callers_data_and_lands_in_the_calls_of_the_day(page: Any, served: Served) -> None:
    password = served.user("e2e-vera", "operator", operator_id="903")
    # an earlier call of the same number: it hung up in the menu
    r = served.api.post(f"{V1}/calls", json={"called": CENTRE_NUMBER, "caller": CALLER})
    earlier = r.json()["call_id"]
    hang_up(served, earlier)
    wait_for(lambda: ended(served, earlier), "the earlier call's CDR")

    set_language(page, "en")
    login(page, "e2e-vera", password)
    page.goto("/#/operator")
    panel = page.get_by_test_id("current-call")
    expect(panel).to_have_attribute("data-state", "idle")
    calls: list[str] = []
    try:
        with sales_closed(served):
            calls.append(call_sales(served, CALLER))
            page.wait_for_timeout(200)
            page.get_by_role("button", name="Available", exact=True).click()
            expect(page.get_by_test_id("my-status")).to_have_attribute("data-status", "available")
            # offered to 903 (the only one available): it rings, then she talks
            expect(panel).to_have_attribute("data-state", "talking", timeout=30_000)
            expect(panel.get_by_test_id("caller")).to_have_text(CALLER)
            expect(panel.get_by_test_id("var-CALLER")).to_contain_text(CALLER)
            expect(panel.get_by_test_id("var-CHOICE")).to_contain_text("1")
            expect(panel).to_contain_text("Sales")
            history = panel.get_by_test_id("history-call")
            expect(history).to_have_count(1)
            expect(history.first).to_contain_text("ended in the IVR")
            screenshot(page, "operator_panel")

            hang_up(served, *calls)
            expect(panel).not_to_have_attribute("data-state", "talking", timeout=20_000)
            expect(page.get_by_test_id("calls-today-count")).to_have_text("1", timeout=20_000)
            expect(page.get_by_test_id("today-call").first).to_contain_text(CALLER)
    finally:
        hang_up(served, *calls)
    assert page.problems == []


def test_an_operator_changes_only_their_own_status(page: Any, served: Served) -> None:
    password = served.user("e2e-grigory", "operator", operator_id="904")
    set_language(page, "en")
    login(page, "e2e-grigory", password)
    page.goto("/#/operator")
    page.get_by_role("button", name="Take a break").click()  # no reason given
    expect(page.get_by_role("alert")).to_contain_text("Give the reason")
    # the API refuses another operator's status, whatever the page does
    token = page.evaluate("localStorage.getItem('flowengine.token')")
    r = served.api.put(f"{V1}/operators/905/status", json={"status": "break", "reason": "x"},
                       headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403
    # Russian UI
    page.get_by_label("Language").select_option("ru")
    expect(page.get_by_role("button", name="Уйти на перерыв")).to_be_visible()
    expect(page.get_by_test_id("current-call")).to_contain_text("Свободен")
    screenshot(page, "operator_panel_ru")


def test_a_supervisor_opens_the_panel_of_an_operator_they_choose(page: Any, served: Served) -> None:
    set_language(page, "en")
    login(page)  # admin: no operator of their own
    page.goto("/#/operator")
    chooser = page.get_by_label("Operator", exact=True)
    chooser.select_option("905")
    expect(page.get_by_role("article", name="My status")).to_contain_text("Дарья Кузнецова")
    expect(page.get_by_test_id("my-status")).to_have_attribute("data-status", "available")
    assert page.problems == []
