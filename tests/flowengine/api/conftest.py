"""A service on a real SQLite file in a temporary data directory, with the
examples imported, and a token for each role."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from flowengine.api import ServeSettings, create_app

ADMIN_PASSWORD = "admin-password-for-tests"
EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


class Api:
    """A TestClient with one bearer token per role."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.tokens: dict[str, str] = {}

    def headers(self, role: str | None) -> dict[str, str]:
        return {} if role is None else {"Authorization": f"Bearer {self.tokens[role]}"}

    def call(self, method: str, url: str, role: str | None = "admin", **kw: Any) -> Any:
        return self.client.request(method, url, headers=self.headers(role), **kw)


def login(client: TestClient, username: str, password: str) -> str:
    r = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


def make_api(client: TestClient) -> Api:
    api = Api(client)
    api.tokens["admin"] = login(client, "admin", ADMIN_PASSWORD)
    for name, role, operator in (("sveta", "supervisor", None), ("anna", "operator", "901")):
        r = api.call("POST", "/api/v1/users", json={"username": name, "password": f"{name}-password", "role": role, "operator_id": operator})
        assert r.status_code == 201, r.text
        api.tokens[role] = login(client, name, f"{name}-password")
    return api


def settings(data_dir: Path, **extra: Any) -> ServeSettings:
    return ServeSettings(
        data_dir=data_dir, admin_password=ADMIN_PASSWORD, examples_dir=EXAMPLES,
        operator_answer_after=0.2, operator_talk_time=0.5, **extra,
    )


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    with TestClient(create_app(settings(tmp_path / "data"))) as client:
        yield make_api(client)


@pytest.fixture
def api_pg(tmp_path: Path, postgres_url: str) -> Iterator[Api]:
    """The same service on a real PostgreSQL server (a fresh database)."""
    with TestClient(create_app(settings(tmp_path / "data", database_url=postgres_url))) as client:
        yield make_api(client)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Any]:
    """`serve(**settings)`: a service with these extra settings (started on
    first use, stopped after the test), as an `Api` with a token per role."""
    import contextlib

    with contextlib.ExitStack() as stack:

        def start(**extra: Any) -> Api:
            client = stack.enter_context(TestClient(create_app(settings(tmp_path / "data", **extra))))
            return make_api(client)

        yield start
