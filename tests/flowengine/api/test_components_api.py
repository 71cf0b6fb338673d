"""The editor's component catalogue and live expression checks."""

from __future__ import annotations

from typing import Any

V1 = "/api/v1"


def _by_type(api: Any, role: str = "operator") -> dict[str, Any]:
    r = api.call("GET", f"{V1}/components", role=role)
    assert r.status_code == 200, r.text
    return {c["type"]: c for c in r.json()["components"]}


def test_every_node_type_is_listed_with_titles_exits_and_params_schema(api: Any) -> None:
    types = _by_type(api)
    assert {"start", "menu", "gather", "say", "hangup", "queue", "transfer", "subscenario"} <= set(types)
    menu = types["menu"]
    assert (menu["title_en"], menu["title_ru"]) == ("Menu", "Меню")
    assert menu["params_schema"]["properties"]["value"]["format"] == "expression"
    assert "cases" in menu["params_schema"]["properties"]
    assert types["if"]["exits"] == ["true", "false"]
    assert types["hangup"]["terminal"] and types["hangup"]["exits"] == []
    assert "timeout" in types["queue"]["exits"] and types["queue"]["category"] == "acd"


def test_params_carry_russian_titles_for_the_forms(api: Any) -> None:
    types = _by_type(api)
    say = types["say"]["params_schema"]["properties"]
    assert (say["text"]["title"], say["text"]["title_ru"]) == ("Text", "Текст")
    hangup = types["hangup"]["params_schema"]["properties"]
    assert hangup["cause"]["title_ru"] == "Причина"
    # nested models too: a Menu case's exit
    case = types["menu"]["params_schema"]["$defs"]
    assert any(d.get("properties", {}).get("exit", {}).get("title_ru") == "Выход" for d in case.values())


def test_exits_taken_from_params_are_described_by_a_rule(api: Any) -> None:
    types = _by_type(api)
    menu = types["menu"]["exit_rule"]
    assert (menu["list_field"], menu["item_key"], menu["after"]) == ("cases", "exit", ["other"])
    gather = types["gather"]["exit_rule"]
    assert gather["list_field"] == "options"
    assert gather["after"] == ["timeout", "invalid"] and gather["when_empty"] == ["done", "timeout"]
    sub = types["subscenario"]["exit_rule"]
    assert sub["switch_field"] == "mode" and sub["by_value"] == {"call": ["next"], "jump": []}
    assert types["say"]["exit_rule"] is None and not types["say"]["exits_from_params"]


def test_functions_are_offered_for_completion(api: Any) -> None:
    body = api.call("GET", f"{V1}/components", role="supervisor").json()
    assert "calledid" in body["functions"] and "callerid" in body["functions"]


def test_components_need_credentials(api: Any) -> None:
    r = api.call("GET", f"{V1}/components", role=None)
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")


def test_a_bad_expression_names_its_column(api: Any) -> None:
    r = api.call("POST", f"{V1}/expressions/check", json={"expression": "CHOICE = = 1"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ok"] is False and body["column"] == 10 and body["error"]
    r = api.call("POST", f"{V1}/expressions/check", json={"expression": "nosuch(1)"})
    assert r.json()["ok"] is False and "nosuch" in r.json()["error"] and r.json()["column"] == 1


def test_a_good_expression_lists_what_it_reads_and_the_undeclared(api: Any) -> None:
    r = api.call(
        "POST", f"{V1}/expressions/check", role="supervisor",
        json={"expression": "CHOICE = 1 and len(CALLEDID) > 3", "variables": ["CHOICE"]},
    )
    body = r.json()
    assert body["ok"] is True and body["column"] is None
    assert body["variables"] == ["CALLEDID", "CHOICE"] and body["unknown_variables"] == ["CALLEDID"]
    assert body["functions"] == ["len"]


def test_templates_are_checked_with_columns_in_the_whole_text(api: Any) -> None:
    ok = api.call("POST", f"{V1}/expressions/check", json={"expression": "Hello {CALLER}", "kind": "template"}).json()
    assert ok["ok"] and ok["variables"] == ["CALLER"]
    bad = api.call("POST", f"{V1}/expressions/check", json={"expression": "Hi {1 +}", "kind": "template"}).json()
    assert bad["ok"] is False and bad["column"] is not None and bad["column"] > 4


def test_expression_checks_are_for_those_who_read_scenarios(api: Any) -> None:
    r = api.call("POST", f"{V1}/expressions/check", role="operator", json={"expression": "1"})
    assert r.status_code == 403
    r = api.call("POST", f"{V1}/expressions/check", json={"expression": "1", "unknown": True})
    assert r.status_code == 422 and r.json()["errors"][0]["path"].startswith("body")


def test_an_unsaved_document_is_validated_without_storing_it(api: Any) -> None:
    doc = api.call("GET", f"{V1}/scenarios/per_number_ivr").json()
    document = doc["document"]
    menu = next(i for i, n in enumerate(document["nodes"]) if n["id"] == "menu_by_number")
    del document["nodes"][menu]["exits"]["other"]
    r = api.call("POST", f"{V1}/scenarios/validate", role="supervisor", json={"document": document})
    assert r.status_code == 200, r.text
    report = r.json()
    assert not report["valid"] and report["errors"] >= 1
    finding = next(f for f in report["findings"] if f["code"] == "no_default")
    assert finding["node_id"] == "menu_by_number" and finding["path"] == f"nodes[{menu}].exits"
    again = api.call("GET", f"{V1}/scenarios/per_number_ivr").json()
    assert again["revision"] == doc["revision"] and "other" in again["document"]["nodes"][menu]["exits"]
    assert api.call("POST", f"{V1}/scenarios/validate", role="operator", json={"document": document}).status_code == 403
