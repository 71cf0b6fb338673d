"""Every file of the hostile corpus (tests/data/hostile/) through the real CLI.

The corpus: billion laughs (as a scenario and as a tests file), recursive
aliases, a Python tag, nesting far deeper than the limit in JSON and YAML,
duplicate keys, NaN, Infinity, a 5000-digit integer, a lone surrogate, text
that is not UTF-8, a NUL character, event streams with a too-deep line, a
NaN and an ACD event without its fields, centre files with multiplying
aliases and numbers beyond any bound, a routing table with a regex bomb; a FIFO and an oversized document are made at test time. Each must
give exit code 1 and a short error naming the file and the place, never a
traceback, within seconds.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
HOSTILE = ROOT / "tests" / "data" / "hostile"
TIME_BOUND = 15.0  # seconds for a whole command, interpreter start-up included

SCENARIOS = sorted(
    p
    for p in HOSTILE.iterdir()
    if p.suffix in (".json", ".yaml") and not any(kind in p.name for kind in (".tests.", ".centre.", ".routing."))
)
CENTRE_FILES = sorted(HOSTILE.glob("*.centre.yaml"))
ROUTING_FILES = sorted(HOSTILE.glob("*.routing.yaml"))
TESTS_FILES = sorted(HOSTILE.glob("*.tests.yaml"))
EVENT_STREAMS = sorted(HOSTILE.glob("*.jsonl"))
PLACE = re.compile(r"line \d+, column \d+|\[\w+\] [\w\[\]\".]+:|byte \d+|:\d+: ")


def cli(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "flowengine.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=TIME_BOUND * 2,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )
    assert time.monotonic() - started < TIME_BOUND
    assert "Traceback" not in result.stderr + result.stdout
    assert result.returncode == 1, result.stdout + result.stderr
    return result


def test_the_corpus_has_every_kind() -> None:
    assert len(SCENARIOS) >= 10 and len(TESTS_FILES) >= 2 and len(EVENT_STREAMS) >= 3
    assert len(CENTRE_FILES) >= 2 and len(ROUTING_FILES) >= 1


@pytest.mark.parametrize("path", CENTRE_FILES, ids=lambda p: p.name)
def test_validate_names_the_place_in_every_hostile_centre_file(path: Path) -> None:
    err = cli("validate", "--centre", path, ROOT / "examples" / "call_centre.json").stderr
    assert str(path) in err and PLACE.search(err), err


@pytest.mark.parametrize("path", ROUTING_FILES, ids=lambda p: p.name)
def test_run_names_the_place_in_every_hostile_routing_table(path: Path) -> None:
    out = cli("run", ROOT / "examples" / "per_number_ivr.json", "--routing", path)
    err = out.stderr + out.stdout
    assert str(path) in err and "called[0]" in err, err


def test_validate_names_file_and_place_for_every_hostile_scenario() -> None:
    out = cli("validate", *SCENARIOS).stdout.splitlines()
    for path in SCENARIOS:
        lines = [line for line in out if line.startswith(f"{path}: error")]
        assert 1 <= len(lines) <= 3, (path, out)
        assert all(PLACE.search(line) for line in lines), lines


@pytest.mark.parametrize("path", TESTS_FILES, ids=lambda p: p.name)
def test_flowengine_test_names_file_and_place_for_every_hostile_tests_file(path: Path) -> None:
    out = cli("test", path).stdout
    assert f"{path}: " in out  # the file, then the place (checked below)
    assert PLACE.search(out.split("(loading)", 1)[1]), out


@pytest.mark.parametrize("path", EVENT_STREAMS, ids=lambda p: p.name)
def test_export_names_file_and_line_for_every_hostile_event_stream(path: Path) -> None:
    err = cli("export", "queue-log", path).stderr
    assert err.startswith(f"error: {path}:") and len(err.splitlines()) == 1, err


def test_fifos_are_refused_by_every_command(tmp_path: Path) -> None:
    for name in ("main.json", "main.tests.yaml", "events.jsonl", "centre.yaml"):
        os.mkfifo(tmp_path / name)
    assert "not a regular file" in cli("validate", tmp_path / "main.json").stdout
    assert "not a regular file" in cli("test", tmp_path / "main.tests.yaml").stdout
    assert "not a regular file" in cli("export", "queue-log", tmp_path / "events.jsonl").stderr
    centre = cli("validate", "--centre", tmp_path / "centre.yaml", HOSTILE / "nan.json")
    assert "not a regular file" in centre.stderr


def test_an_oversized_document_is_refused_quickly(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    big.write_text('{"id": "big", "nodes": [' + ",".join(['{"id": "n", "type": "hangup"}'] * 200_000) + "]}")
    assert big.stat().st_size > 4 * 1024 * 1024
    out = cli("validate", big).stdout
    assert "[too_large]" in out and "FLOWENGINE_MAX_DOCUMENT_BYTES" in out
    smaller = cli("validate", big, env={"FLOWENGINE_MAX_DOCUMENT_BYTES": "1000"}).stdout
    assert "larger than 1000 bytes" in smaller
