"""End-to-end tests of the web editor: a real `flowengine serve` process on
127.0.0.1 and Debian's chromium driven by Playwright (no browser download).

Screenshots go to `test-output/screenshots/` (or $FLOWENGINE_TEST_OUTPUT):
look at them. The fixtures are per package, so the browser and the server
are gone before the rest of the suite runs.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "editor-e2e-password"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
OUTPUT = Path(os.environ.get("FLOWENGINE_TEST_OUTPUT", ROOT / "test-output")) / "screenshots"
# Debian's chromium, quiet: this machine reaches no other host.
CHROMIUM_ARGS = [
    "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    """A running `flowengine serve` and an admin API client for it."""

    url: str
    api: httpx.Client
    data_dir: Path
    extra: dict[str, Any] = field(default_factory=dict)

    def user(self, username: str, role: str, *, operator_id: str | None = None) -> str:
        """Creates a user (once) and returns its password."""
        password = f"{username}-password-1"
        body: dict[str, Any] = {"username": username, "password": password, "role": role}
        if operator_id:
            body["operator_id"] = operator_id
        r = self.api.post("/api/v1/users", json=body)
        assert r.status_code in (201, 409), r.text
        return password


def _wait_ready(proc: subprocess.Popen[bytes], client: httpx.Client, log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if client.get("/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"flowengine serve did not become ready:\n{log.read_text(errors='replace')}")
        time.sleep(0.1)


@pytest.fixture(scope="package")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`flowengine serve` on a free port with the examples imported, as a user starts it."""
    data_dir = tmp_path_factory.mktemp("editor-data")
    port = free_port()
    log = data_dir / "serve.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FLOWENGINE_ADMIN_PASSWORD": PASSWORD,
           "FLOWENGINE_ALERT_INTERVAL": "0.5"}  # alerts checked twice a second
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "flowengine.cli", "serve", "--data-dir", str(data_dir),
             "--port", str(port), "--examples-dir", str(ROOT / "examples"), "--log-level", "warning"],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    client = httpx.Client(base_url=url, timeout=30)
    try:
        _wait_ready(proc, client, log)
        r = client.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
        client.headers["Authorization"] = f"Bearer {r.json()['token']}"
        yield Served(url=url, api=client, data_dir=data_dir)
    finally:
        client.close()
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


class PageProblems(list[str]):
    """Console errors, uncaught exceptions and failed requests seen by a page."""


@pytest.fixture
def page(browser: Any, served: Served) -> Iterator[Any]:
    """A fresh browser context (own localStorage) at 1400x900 on the served editor.

    `page.problems` lists console errors, page errors and failed requests;
    tests that expect a clean page assert it is empty."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, base_url=served.url)
    context.set_default_timeout(15_000)
    pg = context.new_page()
    problems = PageProblems()
    pg.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    pg.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    pg.on("requestfailed", lambda r: problems.append(f"request failed: {r.url} {r.failure}"))
    pg.problems = problems
    try:
        yield pg
    finally:
        context.close()


def login(page: Any, username: str = "admin", password: str = PASSWORD) -> None:
    """Signs in through the login form and waits for the main navigation."""
    page.goto("/")
    page.get_by_label("User name").or_(page.get_by_label("Имя пользователя")).fill(username)
    page.get_by_label("Password").or_(page.get_by_label("Пароль")).fill(password)
    page.locator("form.login button[type=submit]").click()
    page.get_by_role("navigation", name="main").wait_for()


def set_language(page: Any, lang: str) -> None:
    """Sets the UI language before the first page load, unless the page has
    chosen one since (the choice is remembered in localStorage)."""
    page.add_init_script(
        f"if (!localStorage.getItem('flowengine.lang')) localStorage.setItem('flowengine.lang', '{lang}')"
    )


def screenshot(page: Any, name: str) -> Path:
    """Saves a full-window screenshot under the test output for people to look at."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / f"{name}.png"
    page.screenshot(path=str(path))
    return path
