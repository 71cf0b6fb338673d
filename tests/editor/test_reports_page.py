"""The reports page after some calls: its charts and tables show them, the
filters narrow them, and each report downloads as CSV with its header and
the calls' rows."""

from __future__ import annotations

import csv
import io
from typing import Any

from playwright.sync_api import expect

from tests.editor.centre_helpers import (
    CENTRE_NUMBER,
    V1,
    call_sales,
    ended,
    hang_up,
    sales_closed,
    set_status,
    wait_for,
)
from tests.editor.conftest import Served, login, screenshot, set_language

CALLERS = ("+79160000501", "+79160000502")
IVR = "+79160000503"


def waiting_in_sales(served: Served, n: int) -> bool:
    queues = {q["id"]: q["waiting"] for q in served.api.get(f"{V1}/queues").json()}
    return queues.get("sales", 0) >= n


def make_calls(served: Served) -> tuple[str, str]:
    """One call answered by 901, one abandoned in the queue, one hung up in the
    menu; returns the numbers of the answered and of the abandoned caller."""
    r = served.api.post(f"{V1}/calls", json={"called": CENTRE_NUMBER, "caller": IVR})
    ivr = r.json()["call_id"]
    hang_up(served, ivr)
    calls: dict[str, str] = {}
    try:
        with sales_closed(served):
            calls = {caller: call_sales(served, caller) for caller in CALLERS}
            wait_for(lambda: waiting_in_sales(served, 2), "both callers to wait")
            set_status(served, "901", "available")  # the first in line goes to 901
            desk = wait_for(lambda: (lambda d: d if d["state"] == "talking" else None)(
                served.api.get(f"{V1}/operators/901/call").json()), "901 to talk")
            answered = next(c for c, i in calls.items() if i == desk["call"]["call_id"])
            abandoned = next(c for c in calls if c != answered)
            hang_up(served, calls[abandoned])  # gives up waiting
            hang_up(served, calls[answered])
    finally:
        hang_up(served, *calls.values())
    for call_id in (ivr, *calls.values()):
        wait_for(lambda c=call_id: ended(served, c), f"call {call_id} to end")
    return answered, abandoned


def download_csv(page: Any, section: str) -> list[list[str]]:
    with page.expect_download() as info:
        page.get_by_role("button", name=f"CSV: {section}").click()
    path = info.value.path()
    text = open(path, encoding="utf-8").read()
    return list(csv.reader(io.StringIO(text)))


def test_reports_show_the_calls_and_download_as_csv(page: Any, served: Served) -> None:
    _answered, abandoned = make_calls(served)
    set_language(page, "en")
    login(page)
    page.goto("/#/reports")

    expect(page.get_by_test_id("total-offered")).not_to_have_text("…")
    assert int(page.get_by_test_id("total-offered").inner_text()) >= 2  # the two queue calls, at least
    assert int(page.get_by_test_id("total-answered").inner_text()) >= 1
    # the charts are drawn: bars in the load charts, a line in the trend
    expect(page.get_by_test_id("load-by-hour").locator(".recharts-bar-rectangle").first).to_be_visible()
    expect(page.get_by_test_id("load-by-weekday").locator(".recharts-bar-rectangle").first).to_be_visible()
    expect(page.get_by_test_id("sl-trend").locator(".recharts-line-dot").first).to_be_visible()
    expect(page.get_by_test_id("lost-chart").locator(".recharts-bar-rectangle").first).to_be_visible()
    lost = page.get_by_test_id("lost-call").filter(has_text=abandoned)
    expect(lost).to_contain_text("Hung up waiting")
    expect(page.get_by_test_id("lost-call").filter(has_text=IVR)).to_contain_text("Hung up in the IVR")
    expect(page.get_by_test_id("op-row-901")).to_be_visible()
    screenshot(page, "reports")
    page.locator(".page").evaluate("el => el.scrollTo(0, el.scrollHeight)")
    screenshot(page, "reports_tables")
    page.locator(".page").evaluate("el => el.scrollTo(0, 0)")

    rows = download_csv(page, "Operators")
    assert rows[0][:3] == ["operator", "offered", "answered"]
    mine = [r for r in rows[1:] if r and r[0] == "901"]
    assert mine and int(mine[0][2]) >= 1
    rows = download_csv(page, "Lost calls by reason")
    header = rows[0]
    assert "reason" in header and "caller" in header
    by_caller = {r[header.index("caller")]: r for r in rows[1:] if r}
    assert by_caller[abandoned][header.index("reason")] == "abandoned"
    assert by_caller[IVR][header.index("reason")] == "ivr_hangup"

    # a queue filter narrows the queues table to that queue
    page.get_by_label("Queue", exact=True).select_option("sales")
    page.get_by_role("button", name="Show").click()
    table = page.get_by_test_id("queues-table")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).to_contain_text("Sales")
    assert page.problems == []


def test_a_period_the_wrong_way_round_is_a_message(page: Any, served: Served) -> None:
    set_language(page, "ru")
    login(page)
    page.goto("/#/reports?from=2026-11-23&to=2026-11-23")
    page.get_by_label("С", exact=True).fill("2026-11-25")
    page.get_by_role("button", name="Показать").click()
    expect(page.get_by_role("alert")).to_contain_text("Последний день раньше первого")
    # a day with no calls: every section says so, nothing breaks
    page.get_by_label("С", exact=True).fill("2026-11-23")
    page.get_by_role("button", name="Показать").click()
    expect(page.get_by_test_id("total-offered")).to_have_text("0")
    expect(page.get_by_text("За этот период звонков нет")).to_be_visible()
    assert page.problems == []
