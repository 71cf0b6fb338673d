"""Without PostgreSQL the PostgreSQL tests fail and say why; they are
skipped only when FLOWENGINE_SKIP_PG=1 asks for it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
TEST = "tests/flowengine/storage/test_database.py::test_reopening_is_idempotent"


def _pytest(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", TEST, "-p", "no:randomly", "-p", "no:cacheprovider", "-rA", "-q"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_missing_postgresql_fails_with_the_reason(tmp_path: Path) -> None:
    env = {"FLOWENGINE_PG_BIN": str(tmp_path / "no-postgres-here")}
    env.pop("FLOWENGINE_SKIP_PG", None)
    done = _pytest(tmp_path, **env, FLOWENGINE_SKIP_PG="0")
    assert done.returncode != 0
    assert "PostgreSQL is not installed" in done.stdout
    assert "PASSED tests/flowengine/storage/test_database.py::test_reopening_is_idempotent[sqlite]" in done.stdout


def test_skip_only_when_asked(tmp_path: Path) -> None:
    done = _pytest(tmp_path, FLOWENGINE_PG_BIN=str(tmp_path / "none"), FLOWENGINE_SKIP_PG="1")
    assert done.returncode == 0, done.stdout
    assert "SKIPPED" in done.stdout and "FLOWENGINE_SKIP_PG=1" in done.stdout
