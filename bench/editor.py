"""Editor benchmark: opening a 200-node scenario and auto-laying it out, in a real browser.

A `flowengine serve` process on 127.0.0.1 (a temporary data directory) gets a
generated scenario of 200 nodes with stored positions (start, a chain of
notifications, a root menu with 9 cases, 9 menus of 10 cases each, 90 Say and
90 Assign nodes, one Hangup). Debian's chromium, driven by Playwright, signs
in, opens the scenarios page, then:

1. Render: `performance.now()` in the page, then the hash changes to the
   editor; the editor stamps `data-rendered-at` (its `performance.now()`) once
   the first drawing is on screen (scenario and component catalogue fetched,
   every node and edge in the DOM, zoomed to fit, one frame painted). The
   difference is the time to open. Run 5 times (navigating away between
   runs); the first also loads the editor's code chunk.
2. Auto-layout: the editor's Auto-layout button; the editor stamps
   `data-last-layout-ms`, measured around ELK's layout and the new positions
   (the first run also loads the ELK chunk). Run 5 times.

Targets (issue 11): open < 1000 ms, auto-layout < 500 ms.
Run: ``python bench/editor.py`` (about 20 s; needs the built editor in
flowengine/web/dist). The last line is JSON.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from served import serving  # noqa: E402  (bench/served.py: flowengine serve as a process)

ROOT = Path(__file__).resolve().parents[1]
RUNS = 5




def big_scenario(scenario_id: str = "big") -> dict[str, Any]:
    nodes: list[dict[str, Any]] = []

    def add(node: dict[str, Any], x: int, y: int) -> None:
        node["ui"] = {"x": x, "y": y}
        nodes.append(node)

    chain = [f"note_{i}" for i in range(8)]
    add({"id": "start", "type": "start", "exits": {"next": chain[0]}}, 0, 2000)
    for i, nid in enumerate(chain):
        nxt = chain[i + 1] if i + 1 < len(chain) else "root"
        add({"id": nid, "type": "notify", "params": {"channel": "log", "message": f"step {i} {{callerid()}}"},
             "exits": {"next": nxt}}, 260 * (i + 1), 2000)
    add({"id": "root", "type": "menu", "params": {"value": "calledid()", "cases": [
        {"equals": f"+7495000000{b}", "exit": f"b{b}"} for b in range(9)]},
        "exits": {**{f"b{b}": f"menu_{b}" for b in range(9)}, "other": "bye"}}, 2400, 2000)
    for b in range(9):
        add({"id": f"menu_{b}", "type": "menu", "params": {"value": "CHOICE", "cases": [
            {"equals": str(c), "exit": f"c{c}"} for c in range(10)]},
            "exits": {**{f"c{c}": f"say_{b}_{c}" for c in range(10)}, "other": "bye"}}, 2700, 440 * b)
        for c in range(10):
            y = 440 * b + 44 * c
            add({"id": f"say_{b}_{c}", "type": "say", "params": {"text": f"Branch {b}, option {c}"},
                 "exits": {"next": f"set_{b}_{c}"}}, 3000, y)
            add({"id": f"set_{b}_{c}", "type": "assign",
                 "params": {"assignments": [{"variable": "CHOICE", "value": f"'{b}{c}'"}]},
                 "exits": {"next": "bye"}}, 3300, y)
    add({"id": "bye", "type": "hangup"}, 3600, 2000)
    assert len(nodes) == 200, len(nodes)
    return {"schema": 1, "id": scenario_id, "name": "200 nodes",
            "variables": [{"name": "CHOICE", "default": ""}], "nodes": nodes}


def summary(values: list[float]) -> dict[str, float]:
    return {"first": round(values[0], 1), "median": round(statistics.median(values), 1), "max": round(max(values), 1)}


def main() -> None:
    from playwright.sync_api import sync_playwright

    data_dir = Path(tempfile.mkdtemp(prefix="bench-editor-"))
    try:
        with serving(data_dir, quiet=True) as server:
            url, token = server.base, server.token
            client = httpx.Client(base_url=url, timeout=30, headers={"Authorization": f"Bearer {token}"})
            doc = big_scenario()
            r = client.post("/api/v1/scenarios", json={"document": doc})
            r.raise_for_status()
            edges = sum(len(n.get("exits", {})) for n in doc["nodes"])

            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium", headless=True,
                                            args=["--disable-gpu", "--no-first-run", "--disable-background-networking"])
                page = browser.new_context(viewport={"width": 1600, "height": 1000}, base_url=url).new_page()
                page.add_init_script(f"localStorage.setItem('flowengine.token', {json.dumps(token)});"
                                     "localStorage.setItem('flowengine.lang', 'en');")
                page.goto("/#/scenarios")
                page.get_by_test_id("scenario-big").wait_for()
                render: list[float] = []
                for _ in range(RUNS):
                    page.evaluate("location.hash = '#/scenarios'")
                    page.get_by_test_id("scenario-big").wait_for()
                    started = page.evaluate("performance.now()")
                    page.evaluate("location.hash = '#/scenarios/big'")
                    stamp = page.locator("[data-testid=editor][data-rendered-at]")
                    stamp.wait_for(timeout=30_000)
                    assert page.locator(".react-flow__node").count() == 200
                    render.append(float(stamp.get_attribute("data-rendered-at") or 0) - started)
                layout: list[float] = []
                editor = page.get_by_test_id("editor")
                for i in range(RUNS):
                    page.get_by_role("button", name="Auto-layout").click()
                    page.wait_for_function(
                        "(n) => { const e = document.querySelector('[data-testid=editor]');"
                        " return e.dataset.layoutCount === String(n); }", arg=i + 1, timeout=30_000,
                    )
                    layout.append(float(editor.get_attribute("data-last-layout-ms") or 0))
                version = browser.version
                browser.close()
            print(f"render ms: {[round(v) for v in render]}  layout ms: {[round(v) for v in layout]}", file=sys.stderr)
            print(json.dumps({
                "bench": "editor", "nodes": len(doc["nodes"]), "edges": edges,
                "open_ms": summary(render), "layout_ms": summary(layout),
                "open_target_ms": 1000, "layout_target_ms": 500,
                "chromium": version, "nproc": os.cpu_count(),
            }))
            client.close()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
