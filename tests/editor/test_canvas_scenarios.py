"""The scenarios page in a real browser: import a JSON file (a broken one
changes nothing and names its problems by JSON path), export it back, the
versions list and roll back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.editor.conftest import ROOT, Served, login, screenshot, set_language


def _example(name: str, new_id: str) -> dict[str, Any]:
    doc = json.loads((ROOT / "examples" / name).read_text(encoding="utf-8"))
    doc["id"] = new_id
    doc.pop("numbers", None)  # the original already holds them
    return doc


def _import(page: Any, path: Path) -> None:
    page.get_by_label("Import a JSON file").set_input_files(str(path))


def test_a_broken_file_lists_its_problems_and_changes_nothing(page: Any, served: Served, tmp_path: Path) -> None:
    set_language(page, "en")
    login(page)
    page.goto("/#/scenarios")
    page.get_by_test_id("scenario-per_number_ivr").wait_for()
    before = served.api.get("/api/v1/scenarios").json()
    doc = _example("office_hours.json", "broken_import")
    doc["nodes"][1]["type"] = "no_such_node"
    doc["nodes"].append({"id": "bad", "type": "if", "params": {"condition": "1 +"}})
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    _import(page, path)
    errors = page.get_by_test_id("import-errors")
    errors.wait_for()
    text = errors.inner_text()
    assert "Nothing was imported" in text
    assert "body.scenarios[0].nodes[1].type" in text
    assert f"body.scenarios[0].nodes[{len(doc['nodes']) - 1}].params.condition" in text
    screenshot(page, "scenarios-import-errors")
    assert served.api.get("/api/v1/scenarios").json() == before
    assert page.get_by_test_id("scenario-broken_import").count() == 0

    path.write_text("{not json", encoding="utf-8")
    _import(page, path)
    page.get_by_test_id("import-errors").filter(has_text="not JSON").wait_for()
    assert served.api.get("/api/v1/scenarios").json() == before


def test_import_then_export_gives_the_same_document(page: Any, served: Served, tmp_path: Path) -> None:
    set_language(page, "en")
    login(page)
    page.goto("/#/scenarios")
    doc = _example("office_hours.json", "round_trip")
    path = tmp_path / "round_trip.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    _import(page, path)
    page.get_by_role("status").filter(has_text="Imported: round_trip").wait_for()
    row = page.get_by_test_id("scenario-round_trip")
    row.wait_for()
    with page.expect_download() as got:
        row.get_by_role("button", name="Export").click()
    exported = json.loads(Path(got.value.path()).read_text(encoding="utf-8"))
    assert got.value.suggested_filename == "round_trip.json"
    assert exported == doc


def test_versions_list_and_roll_back(page: Any, served: Served) -> None:
    api = served.api
    doc = _example("office_hours.json", "rolled")
    assert api.post("/api/v1/scenarios/import", json={"scenarios": [doc], "comment": "first"}).status_code == 200
    draft = api.get("/api/v1/scenarios/rolled").json()
    changed = {**doc, "name": "second name"}
    r = api.put("/api/v1/scenarios/rolled", json={"revision": draft["revision"], "document": changed})
    assert r.status_code == 200, r.text
    assert api.post("/api/v1/scenarios/rolled/publish", json={"comment": "second"}).status_code == 201

    set_language(page, "en")
    login(page)
    page.goto("/#/scenarios")
    row = page.get_by_test_id("scenario-rolled")
    row.get_by_role("button", name="Versions").click()
    versions = page.get_by_test_id("versions-rolled")
    versions.get_by_role("cell", name="second", exact=True).wait_for()
    assert versions.get_by_role("cell", name="first", exact=True).is_visible()
    versions.get_by_role("button", name="Roll back to this 1").click()
    versions.get_by_role("status").filter(has_text="Version 1 published again as version 3").wait_for()
    listed = api.get("/api/v1/scenarios/rolled/versions").json()
    assert [v["version"] for v in listed] == [1, 2, 3]
    latest = api.get("/api/v1/scenarios/rolled/versions/3").json()["document"]
    assert latest["name"] == doc["name"]
    screenshot(page, "scenarios-versions")
    assert page.problems == []
