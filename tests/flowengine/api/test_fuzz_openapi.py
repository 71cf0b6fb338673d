"""schemathesis against the app's own OpenAPI document: every operation,
with generated (valid and invalid) input, as every role and without
credentials, against a real uvicorn on 127.0.0.1: never a 5xx.

Bounded: a few examples per operation and role (about a minute on 2 cores)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings

from flowengine.api import create_app

from .conftest import ADMIN_PASSWORD
from .conftest import settings as serve_settings

EXAMPLES_PER_OPERATION = 6
# prompt uploads are raw WAV bytes: send generated bodies as they are
schemathesis.serializer.alias("audio/wav", "application/octet-stream")
#: these end the fuzzer's own session
SKIP = {"logout"}
#: the only paths that answer without credentials
OPEN = {"/healthz", "/readyz", "/metrics", "/api/v1/auth/login"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    data = Path(tmp_path_factory.mktemp("fuzz")) / "data"
    app = create_app(serve_settings(data, max_test_calls=20))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical", lifespan="on"))
    thread = threading.Thread(target=server.run, name="uvicorn-fuzz", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    tokens: dict[str, str] = {}
    with httpx.Client(base_url=base, timeout=30) as client:

        def login(user: str, password: str) -> str:
            r = client.post("/api/v1/auth/login", json={"username": user, "password": password})
            assert r.status_code == 200, r.text
            return str(r.json()["token"])

        tokens["admin"] = login("admin", ADMIN_PASSWORD)
        for name, role, op in (("fuzz_sup", "supervisor", None), ("fuzz_op", "operator", "901")):
            client.post(
                "/api/v1/users",
                headers={"Authorization": f"Bearer {tokens['admin']}"},
                json={"username": name, "password": "fuzz-password", "role": role, "operator_id": op},
            ).raise_for_status()
            tokens[role] = login(name, "fuzz-password")
    try:
        yield base, tokens
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_no_operation_answers_5xx_for_any_role(live: tuple[str, dict[str, str]]) -> None:
    base, tokens = live
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    failures: list[str] = []
    statuses: dict[tuple[str | None, int], int] = {}
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.definition.raw.get("operationId") in SKIP:
            continue
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            for role in (None, "operator", "supervisor", "admin"):
                headers = {} if role is None else {"Authorization": f"Bearer {tokens[role]}"}
                response = case.call(base_url=base, headers=headers, timeout=30)
                if role is None and response.status_code < 300 and case.path not in OPEN:
                    failures.append(f"{case.method} {case.formatted_path} answered without credentials")
                key = (role, response.status_code // 100)
                statuses[key] = statuses.get(key, 0) + 1
                if response.status_code >= 500:
                    failures.append(f"{case.method} {case.formatted_path} as {role}: {response.status_code} {response.text[:200]}")
                elif response.status_code >= 400:
                    kind = response.headers.get("content-type") or [""]
                    kind = kind[0] if isinstance(kind, list) else kind
                    if not kind.startswith("application/problem+json"):
                        failures.append(f"{case.method} {case.formatted_path} as {role}: {response.status_code} as {kind}")

        check()
    assert operations >= 35
    # the fuzzer got through: admins succeed often, nobody without credentials does
    assert statuses.get(("admin", 2), 0) >= operations, statuses
    assert not failures, "\n".join(failures[:20])
