"""The numbers page: bind a number to a scenario (pinned or latest), unbind
it, set the default, edit normalisation rules, and see a test number
normalised and routed — each change checked against the served API."""

from __future__ import annotations

from typing import Any

from tests.editor.conftest import Served, login, screenshot, set_language


def binding(served: Served, number: str) -> dict[str, Any] | None:
    found = [b for b in served.api.get("/api/v1/routing/numbers").json() if b["number"] == number]
    return found[0] if found else None


def test_bind_resolve_and_unbind_a_number(page: Any, served: Served) -> None:
    set_language(page, "en")
    login(page)
    page.goto("/#/numbers")
    page.get_by_role("heading", name="Numbers and lines").wait_for()

    form = page.get_by_role("form", name="Bind")
    form.get_by_label("Number", exact=True).fill("+74950001122")
    form.get_by_label("Scenario", exact=True).select_option("office_hours")
    form.get_by_label("Version", exact=True).select_option("1")
    form.get_by_role("button", name="Bind").click()
    row = page.locator("[data-testid=number-bindings] tr[data-number='+74950001122']")
    row.wait_for()
    assert "office_hours" in row.inner_text() and "v1" in row.inner_text()
    assert binding(served, "+74950001122") == {"number": "+74950001122", "scenario_id": "office_hours", "version": 1}

    # a number another scenario holds is refused, with the reason shown
    form.get_by_label("Number", exact=True).fill("+74951230001")
    form.get_by_label("Scenario", exact=True).select_option("office_hours")
    form.get_by_role("button", name="Bind").click()
    assert "per_number_ivr" in form.locator("xpath=..").get_by_role("alert").inner_text()
    assert binding(served, "+74951230001")["scenario_id"] == "per_number_ivr"  # type: ignore[index]

    # trunk-1 sends national numbers: 8495... becomes +7495... and goes to our binding
    resolver = page.get_by_role("form", name="Try a number")
    resolver.get_by_label("Dialled number").fill("84950001122")
    resolver.get_by_label("Line", exact=True).select_option("trunk-1")
    resolver.get_by_role("button", name="Resolve").click()
    assert page.get_by_test_id("called-normalised").inner_text() == "+74950001122"
    goes = page.get_by_test_id("goes-to")
    assert "office_hours" in goes.inner_text() and "by its number" in goes.inner_text()
    screenshot(page, "numbers")

    page.get_by_role("button", name="Unbind +74950001122").click()
    row.wait_for(state="detached")
    assert binding(served, "+74950001122") is None
    assert page.problems == [] or all("409" in p or "422" in p for p in page.problems)


def test_default_scenario_and_table_rules(page: Any, served: Served) -> None:
    set_language(page, "en")
    login(page)
    page.goto("/#/numbers")
    rules = page.get_by_role("form", name="Normalisation rules")
    rules.get_by_label("Dialled number rules").fill("99. -> .\n7XXXXXXXXXX -> +7XXXXXXXXXX")
    rules.get_by_role("button", name="Save").click()
    rules.get_by_role("status").wait_for()
    table = served.api.get("/api/v1/routing").json()["table"]
    assert table["called"] == [{"match": "99.", "to": "."}, {"match": "7XXXXXXXXXX", "to": "+7XXXXXXXXXX"}]

    # a bad rule is named by its place and nothing changes
    rules.get_by_label("Dialled number rules").fill("99. -> .\nABC -> +7")
    rules.get_by_role("button", name="Save").click()
    assert "called[1]" in rules.get_by_role("alert").inner_text()
    assert served.api.get("/api/v1/routing").json()["table"]["called"] == table["called"]

    # with no line, the table's rules apply: 9974957770000 -> 74957770000 (first rule only)
    resolver = page.get_by_role("form", name="Try a number")
    resolver.get_by_label("Dialled number").fill("9974957770000")
    resolver.get_by_role("button", name="Resolve").click()
    assert page.get_by_test_id("called-normalised").inner_text() == "74957770000"

    default = page.get_by_role("form", name="Default scenario")
    default.get_by_label("Scenario", exact=True).select_option("")
    default.get_by_role("button", name="Save").click()
    default.get_by_role("status").wait_for()
    assert "default" not in served.api.get("/api/v1/routing").json()["table"]
    resolver.get_by_role("button", name="Resolve").click()
    page.locator("[data-testid=goes-to].refused").wait_for()

    default.get_by_label("Scenario", exact=True).select_option("per_number_ivr")
    default.get_by_role("button", name="Save").click()
    page.get_by_test_id("default-now").filter(has_text="per_number_ivr").wait_for()
    served.api.put("/api/v1/routing/rules", json={"called": [], "caller": []})
