"""Roles, sessions, API tokens and login limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from flowengine.api import ServeSettings, create_app

V1 = "/api/v1"


def test_every_endpoint_needs_credentials(api: Any) -> None:
    schema = api.client.get("/openapi.json").json()
    open_paths = {"/healthz", "/readyz", "/metrics", f"{V1}/auth/login"}
    checked = 0
    for path, methods in schema["paths"].items():
        if path in open_paths:
            continue
        for method in methods:
            url = path.replace("{", "").replace("}", "")  # any value: auth comes first
            r = api.client.request(method.upper(), url)
            assert r.status_code == 401, (method, path, r.status_code)
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.headers["www-authenticate"] == "Bearer"
            checked += 1
    assert checked > 30


def test_roles_get_403_where_they_do_not_belong(api: Any) -> None:
    assert api.call("GET", f"{V1}/scenarios", role="operator").status_code == 403
    assert api.call("GET", f"{V1}/scenarios", role="supervisor").status_code == 200
    r = api.call("POST", f"{V1}/scenarios/per_number_ivr/publish", role="supervisor", json={})
    assert r.status_code == 403 and "admin" in r.json()["detail"]
    assert api.call("GET", f"{V1}/users", role="supervisor").status_code == 403
    assert api.call("POST", f"{V1}/calls", role="operator", json={"called": "1"}).status_code == 403
    assert api.call("GET", f"{V1}/operators", role="operator").status_code == 200


def test_operator_changes_only_their_own_status(api: Any) -> None:
    r = api.call("PUT", f"{V1}/operators/901/status", role="operator", json={"status": "break", "reason": "lunch"})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["reason"]) == ("break", "lunch")
    r = api.call("PUT", f"{V1}/operators/902/status", role="operator", json={"status": "break"})
    assert r.status_code == 403
    assert api.call("GET", f"{V1}/operators/902", role="operator").json()["status"] == "available"
    r = api.call("PUT", f"{V1}/operators/902/status", role="supervisor", json={"status": "not_available"})
    assert r.status_code == 200 and r.json()["status"] == "not_available"
    r = api.call("PUT", f"{V1}/operators/903/status", role="admin", json={"status": "no_such_status"})
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "body.status"
    history = api.call("GET", f"{V1}/operators/901/history", role="operator").json()
    changes = [(e["status"], e["reason"], e["by"]) for e in history if e["event"] == "operator_status_changed"]
    assert changes[-1] == ("break", "lunch", "operator")
    history = api.call("GET", f"{V1}/operators/902/history", role="supervisor").json()
    assert [e["by"] for e in history if e["event"] == "operator_status_changed"][-1] == "supervisor"
    assert api.call("GET", f"{V1}/operators/902/history", role="operator").status_code == 403


def test_api_tokens_are_shown_once_scoped_and_revocable(api: Any) -> None:
    r = api.call("POST", f"{V1}/tokens", json={"name": "crm sync", "role": "supervisor"})
    assert r.status_code == 201
    created = r.json()
    token = created["token"]
    listed = api.call("GET", f"{V1}/tokens").json()
    assert [t["id"] for t in listed] == [created["id"]] and "token" not in listed[0]
    as_token = {"Authorization": f"Bearer {token}"}
    assert api.client.get(f"{V1}/scenarios", headers=as_token).status_code == 200
    assert api.client.post(f"{V1}/scenarios/hello/publish", headers=as_token, json={}).status_code == 403
    # a supervisor cannot mint an admin token
    r = api.call("POST", f"{V1}/tokens", role="supervisor", json={"name": "x", "role": "admin"})
    assert r.status_code == 403
    assert api.call("DELETE", f"{V1}/tokens/{created['id']}").status_code == 204
    assert api.client.get(f"{V1}/scenarios", headers=as_token).status_code == 401


def test_logins_are_rate_limited(api: Any) -> None:
    for _ in range(5):
        r = api.client.post(f"{V1}/auth/login", json={"username": "sveta", "password": "wrong"})
        assert r.status_code == 401
    r = api.client.post(f"{V1}/auth/login", json={"username": "sveta", "password": "sveta-password"})
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1


def test_first_start_prints_a_one_time_admin_password(tmp_path: Path, capsys: Any) -> None:
    app = create_app(ServeSettings(data_dir=tmp_path / "d", import_examples=False))
    with TestClient(app) as client:
        err = capsys.readouterr().err
        assert "one-time password" in err
        password = err.split("one-time password: ")[1].split()[0]
        assert client.post(f"{V1}/auth/login", json={"username": "admin", "password": "admin"}).status_code == 401
        assert client.post(f"{V1}/auth/login", json={"username": "admin", "password": password}).status_code == 200
    # the second start prints nothing: the admin exists
    with TestClient(create_app(ServeSettings(data_dir=tmp_path / "d", import_examples=False))):
        assert "password" not in capsys.readouterr().err
