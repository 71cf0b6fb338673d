"""Test-suite wide setup.

With `--import-mode=importlib` pytest does not put test folders on sys.path,
and putting `tests/` there would let `tests/flowengine/` shadow the real
`flowengine` package. So the shared helpers module is loaded by path here
and registered under its own name: test modules say
`from scenario_builders import doc, node, run`.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def _load_helpers(name: str) -> None:
    if name in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)


_load_helpers("scenario_builders")
_load_helpers("local_http")
_load_helpers("postgres_server")


def _hypothesis_profiles() -> None:
    """In CI (CI=true) property tests run a fixed, derandomized set of
    examples, so a submission's result does not depend on luck; on a
    developer's machine they keep exploring new random examples."""
    import os

    from hypothesis import settings

    settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
    if os.environ.get("CI"):
        settings.load_profile("ci")


_hypothesis_profiles()


# ---- a real PostgreSQL server, once per session --------------------------------------------
import pytest  # noqa: E402


@pytest.fixture(scope="session")
def postgres_server():  # type: ignore[no-untyped-def]
    """A throwaway PostgreSQL server (tests/postgres_server.py), started on
    first use and stopped at the end of the session. Missing PostgreSQL
    fails the test with the reason; FLOWENGINE_SKIP_PG=1 skips it instead."""
    import os

    from postgres_server import PostgresServer, PostgresUnavailable

    if os.environ.get("FLOWENGINE_SKIP_PG") == "1":
        pytest.skip("FLOWENGINE_SKIP_PG=1: PostgreSQL tests skipped on request")
    server = PostgresServer()
    try:
        server.start()
    except PostgresUnavailable as exc:
        server.stop()
        pytest.fail(f"PostgreSQL tests cannot run: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server):  # type: ignore[no-untyped-def]
    """The URL of a fresh, empty database on the session's PostgreSQL server."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)
