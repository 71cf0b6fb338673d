"""The editor is served by `flowengine serve` at / and its frame works:
sign-in, navigation by role, the language switch, errors as messages."""

from __future__ import annotations

from typing import Any

from tests.editor.conftest import Served, login, screenshot, set_language


def test_sign_in_and_switch_language(page: Any, served: Served) -> None:
    set_language(page, "en")
    login(page)
    nav = page.get_by_role("navigation", name="main")
    assert nav.get_by_role("link", name="Scenarios").is_visible()
    assert nav.get_by_role("link", name="Wallboard").is_visible()
    page.get_by_label("Language").select_option("ru")
    assert nav.get_by_role("link", name="Сценарии").is_visible()
    assert nav.get_by_role("link", name="Табло").is_visible()
    # the choice is remembered across a reload
    page.reload()
    page.get_by_role("navigation", name="main").get_by_role("link", name="Отчёты").wait_for()
    screenshot(page, "shell")
    assert page.problems == []


def test_wrong_password_is_a_message_not_a_blank_page(page: Any) -> None:
    set_language(page, "en")
    page.goto("/")
    page.get_by_label("User name").fill("admin")
    page.get_by_label("Password").fill("not-the-password")
    page.locator("form.login button[type=submit]").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "password" in alert.inner_text().lower()


def test_an_operator_sees_only_the_operator_page(page: Any, served: Served) -> None:
    password = served.user("e2e-op", "operator", operator_id="901")
    set_language(page, "en")
    login(page, "e2e-op", password)
    links = page.get_by_role("navigation", name="main").get_by_role("link").all_inner_texts()
    assert links == ["Operator"]
    page.goto("/#/reports")
    assert "cannot open" in page.get_by_role("alert").inner_text()
