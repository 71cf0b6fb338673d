"""Helpers the wallboard, operator and reports e2e tests share: test calls
into the example call centre, operators' statuses, a second browser context."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from tests.editor.conftest import Served

V1 = "/api/v1"
#: the example call centre's number (examples/call_centre.json): greeting, menu, queues
CENTRE_NUMBER = "+74957654321"
SALES = ("901", "902", "903", "904", "905", "906", "907")


def set_status(served: Served, operator_id: str, status: str, reason: str | None = None) -> None:
    r = served.api.put(f"{V1}/operators/{operator_id}/status", json={"status": status, "reason": reason})
    assert r.status_code == 200, r.text


def call_sales(served: Served, caller: str) -> str:
    """A test call that presses 1 in the main menu: it waits in the sales queue a few seconds later."""
    r = served.api.post(f"{V1}/calls", json={"called": CENTRE_NUMBER, "caller": caller})
    assert r.status_code == 201, r.text
    call_id = str(r.json()["call_id"])
    assert served.api.post(f"{V1}/calls/{call_id}/digits", json={"digits": "1"}).status_code == 200
    return call_id


def hang_up(served: Served, *call_ids: str) -> None:
    for call_id in call_ids:
        served.api.post(f"{V1}/calls/{call_id}/hangup")  # 409 once it has ended: fine


def wait_for(check: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def ended(served: Served, call_id: str) -> bool:
    return served.api.get(f"{V1}/calls/{call_id}/cdr").status_code == 200


@contextmanager
def sales_closed(served: Served) -> Iterator[None]:
    """Every sales operator not available (calls wait); restored afterwards."""
    before = {op["id"]: (op["status"], op["reason"]) for op in served.api.get(f"{V1}/operators").json()}
    for op in SALES:
        set_status(served, op, "not_available")
    try:
        yield
    finally:
        for op in SALES:
            status, reason = before[op]
            set_status(served, op, status, reason)


@contextmanager
def another_context(browser: Any, served: Served) -> Iterator[Any]:
    """A second browser (own storage: another signed-in user), like the `page` fixture's."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, base_url=served.url)
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()
