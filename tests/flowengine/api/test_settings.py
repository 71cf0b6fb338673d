"""Settings: flags beat FLOWENGINE_* variables, which beat the settings file;
a bad setting is a clear error naming it, not a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flowengine.cli import build_parser, main
from flowengine.cli.serve import settings_from


def test_flags_beat_environment_beat_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "serve.json"
    path.write_text('{"port": 7001, "host": "127.0.0.2", "session_ttl": 60}', encoding="utf-8")
    monkeypatch.setenv("FLOWENGINE_PORT", "7002")
    monkeypatch.setenv("FLOWENGINE_SESSION_TTL", "120")
    args = build_parser().parse_args(["serve", "--config", str(path), "--port", "7003"])
    s = settings_from(args)
    assert (s.port, s.session_ttl, s.host) == (7003, 120.0, "127.0.0.2")


def test_bad_settings_name_the_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    monkeypatch.setenv("FLOWENGINE_PORT", "not-a-port")
    assert main(["serve", "--data-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "port" in err and "Traceback" not in err
    monkeypatch.delenv("FLOWENGINE_PORT")
    bad = tmp_path / "bad.yaml"
    bad.write_text("port: [1, 2\n", encoding="utf-8")
    assert main(["serve", "--config", str(bad)]) == 1
    assert "bad.yaml" in capsys.readouterr().err


def test_a_newer_database_is_refused_with_a_message(tmp_path: Path, capsys: Any) -> None:
    import sqlite3

    from flowengine.storage import open_database

    db = tmp_path / "flowengine.db"
    open_database(f"sqlite:///{db}").close()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'from_the_future'")
    assert main(["serve", "--data-dir", str(tmp_path), "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "newer" in err.lower()
