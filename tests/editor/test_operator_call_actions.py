"""The operator panel's call buttons: the operator talking with a caller
puts them on hold and takes them off, is told plainly when a transfer
target is nothing the centre knows, and hands the caller to a colleague,
after which their own panel shows after-call work."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.editor.centre_helpers import V1, call_sales, hang_up, sales_closed, set_status, wait_for
from tests.editor.conftest import Served, login, screenshot, set_language

CALLER = "+79160000444"


def events(served: Served, call_id: str, name: str) -> list[dict[str, Any]]:
    got = served.api.get(f"{V1}/calls/{call_id}/events").json()["events"]
    return [e for e in got if e["event"] == name]


def test_hold_then_hand_the_caller_to_a_colleague(page: Any, served: Served) -> None:
    password = served.user("e2e-olga", "operator", operator_id="906")
    set_language(page, "en")
    login(page, "e2e-olga", password)
    page.goto("/#/operator")
    panel = page.get_by_test_id("current-call")
    calls: list[str] = []
    try:
        with sales_closed(served):
            calls.append(call_sales(served, CALLER))
            page.get_by_role("button", name="Available", exact=True).click()
            expect(panel).to_have_attribute("data-state", "talking", timeout=30_000)
            call_id = calls[0]

            page.get_by_role("button", name="Hold", exact=True).click()
            expect(panel.get_by_test_id("on-hold")).to_have_text("The caller is on hold and hears music")
            expect(page.get_by_role("button", name="Resume")).to_have_attribute("aria-pressed", "true")
            wait_for(lambda: events(served, call_id, "leg_held"), "leg_held in the call's stream")
            page.reload()  # the hold is the call's, not the page's
            expect(panel.get_by_test_id("on-hold")).to_be_visible()

            target = page.get_by_label("Transfer to")
            target.fill("nobody")
            page.get_by_role("button", name="Transfer", exact=True).click()
            expect(panel.get_by_test_id("action-refused")).to_have_text(
                "“nobody” is no operator, queue or number of the centre")
            screenshot(page, "operator_call_actions")

            page.get_by_role("button", name="Resume").click()
            expect(panel.get_by_test_id("on-hold")).to_have_count(0)
            wait_for(lambda: events(served, call_id, "leg_unheld"), "leg_unheld in the call's stream")

            set_status(served, "907", "available")
            target.fill("907")
            page.get_by_role("button", name="Transfer", exact=True).click()
            expect(panel.get_by_test_id("action-note")).to_have_text("The caller is handed on to 907")
            # her conversation is over: after-call work (sales wrap-up), while 907 talks
            expect(panel).to_have_attribute("data-state", "wrap_up", timeout=20_000)
            ended = wait_for(lambda: events(served, call_id, "operator_transfer_ended"), "the transfer's end")
            assert [(e["operator_id"], e["outcome"], e["to_operator_id"]) for e in ended] == [("906", "answered", "907")]
    finally:
        hang_up(served, *calls)
    # the only thing the browser reports is the refusal it was shown (a 422 answer)
    assert [p for p in page.problems if "status of 422" not in p] == []


def test_the_buttons_speak_russian(page: Any, served: Served) -> None:
    password = served.user("e2e-pavel", "operator", operator_id="905")
    set_language(page, "ru")
    login(page, "e2e-pavel", password)
    page.goto("/#/operator")
    panel = page.get_by_test_id("current-call")
    calls: list[str] = []
    try:
        with sales_closed(served):
            calls.append(call_sales(served, CALLER))
            page.get_by_role("button", name="Доступен", exact=True).click()
            expect(panel).to_have_attribute("data-state", "talking", timeout=30_000)
            page.get_by_role("button", name="Удержание", exact=True).click()
            expect(panel.get_by_test_id("on-hold")).to_have_text("Клиент на удержании и слышит музыку")
            page.get_by_label("Перевести на").fill("+78091234567")  # a premium number the centre denies
            page.get_by_role("button", name="Перевести", exact=True).click()
            expect(panel.get_by_test_id("action-refused")).to_have_text("Центру запрещено звонить на +78091234567")
            screenshot(page, "operator_call_actions_ru")
            expect(panel).to_have_attribute("data-state", "talking")  # the conversation goes on
    finally:
        hang_up(served, *calls)
    # the only thing the browser reports is the refusal it was shown (a 422 answer)
    assert [p for p in page.problems if "status of 422" not in p] == []
