"""The document limits: every refusal names its place, and stays quick and small."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from flowengine.acd import load_centre
from flowengine.acd.model import CentreError
from flowengine.documents import DocumentError, Limits, parse_json, parse_yaml, read_text
from flowengine.errors import ScenarioError
from flowengine.scenario.loader import load_scenario_file, parse_text
from flowengine.scenario.routing import RoutingError, load_routing_file

BILLION_LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8)
)


def refused(parse: object, text: str, limits: Limits | None = None) -> DocumentError:
    started = time.perf_counter()
    with pytest.raises(DocumentError) as info:
        parse(text, limits)  # type: ignore[operator]
    assert time.perf_counter() - started < 2
    return info.value


def test_billion_laughs_is_refused_at_once_with_its_line() -> None:
    assert len(BILLION_LAUGHS) < 800
    [problem] = refused(parse_yaml, BILLION_LAUGHS).problems
    assert problem.code == "aliases" and problem.line is not None
    assert "aliases expand the document" in problem.message


def test_too_many_aliases_recursive_aliases_and_a_few_honest_ones() -> None:
    many = "a: &a 1\nb: [" + ", ".join(["*a"] * 101) + "]\n"
    [problem] = refused(parse_yaml, many).problems
    assert (problem.code, problem.line) == ("aliases", 2)
    [problem] = refused(parse_yaml, "a: &a [*a]\n").problems
    assert "recursive alias" in problem.message
    assert parse_yaml("base: &b {x: 1}\none: *b\ntwo: {<<: *b, y: 2}\n") == {
        "base": {"x": 1},
        "one": {"x": 1},
        "two": {"x": 1, "y": 2},
    }


def test_yaml_depth_tags_duplicates_and_numbers() -> None:
    [p] = refused(parse_yaml, "[" * 5000).problems
    assert p.code == "too_deep" and p.line == 1
    assert parse_yaml("[" * 50 + "]" * 50) is not None
    [p] = refused(parse_yaml, "a: !!python/object/apply:os.system [ls]\n").problems
    assert p.code == "syntax" and "constructor for the tag" in p.message
    [p] = refused(parse_yaml, "a: !!set {x}\n").problems
    assert "constructor for the tag" in p.message
    [p] = refused(parse_yaml, "a: 1\nb: 2\na: 3\n").problems
    assert (p.code, p.line, p.column) == ("duplicate_key", 3, 1)
    [p] = refused(parse_yaml, "x: " + "9" * 5000).problems
    assert p.code == "number" and "5000 digits" in p.message
    [p] = refused(parse_yaml, "x: .inf").problems
    assert p.code == "number"
    [p] = refused(parse_yaml, "x: 2026-02-30").problems
    assert p.line == 1 and "day is out of range" in p.message
    [p] = refused(parse_yaml, "a: 1\nb: \x07").problems
    assert (p.line, p.column) == (2, 4)


def test_json_depth_is_a_problem_with_line_and_column_not_a_recursion_error() -> None:
    for depth in (150, 1000, 100_000):
        [p] = refused(parse_json, "[" * depth + "]" * depth).problems
        assert (p.code, p.line, p.column) == ("too_deep", 1, 101)
    assert parse_json("[" * 90 + "]" * 90) is not None


def test_json_duplicates_nan_infinity_and_huge_integers_name_their_paths() -> None:
    text = '{"a": 1, "a": 2, "b": [NaN, Infinity, -Infinity, 1e999, ' + "1" * 5000 + '], "c d": {"x": 1, "x": 1}}'
    problems = refused(parse_json, text).problems
    assert [(p.path, p.code) for p in problems] == [
        ("a", "duplicate_key"),
        ("b[0]", "number"),
        ("b[1]", "number"),
        ("b[2]", "number"),
        ("b[3]", "number"),
        ("b[4]", "number"),
        ('["c d"].x', "duplicate_key"),
    ]
    [p] = refused(parse_json, '{"t": "\\ud800"}').problems
    assert p.path == "t" and "surrogate" in p.message


def test_size_limit_for_text_and_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    [p] = refused(parse_json, "[" + "0," * 100 + "0]", Limits(max_bytes=100)).problems
    assert p.code == "too_large" and "100 bytes" in p.message
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"x": "y" * 5000}))
    monkeypatch.setenv("FLOWENGINE_MAX_DOCUMENT_BYTES", "1000")
    with pytest.raises(ScenarioError) as info:
        load_scenario_file(big)
    assert info.value.problems[0].code == "too_large"
    monkeypatch.setenv("FLOWENGINE_MAX_DOCUMENT_BYTES", "lots")
    with pytest.raises(DocumentError, match="whole number"):
        read_text(big)


def test_a_fifo_or_a_directory_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "scenario.json"
    os.mkfifo(fifo)
    with pytest.raises(ScenarioError) as info:
        load_scenario_file(fifo)
    assert "not a regular file" in str(info.value)
    with pytest.raises(ScenarioError, match="is a directory"):
        load_scenario_file(tmp_path)
    with pytest.raises(ScenarioError, match="cannot read file"):
        load_scenario_file(tmp_path / "missing.json")
    (tmp_path / "latin.json").write_bytes(b'{"x": "\xe9"}')
    with pytest.raises(ScenarioError, match="not UTF-8"):
        load_scenario_file(tmp_path / "latin.json")


def test_every_yaml_loader_uses_the_limits(tmp_path: Path) -> None:
    for name in ("centre.yaml", "routing.yaml", "scenario.yaml"):
        (tmp_path / name).write_text(BILLION_LAUGHS)
    with pytest.raises(CentreError, match="aliases expand"):
        load_centre(tmp_path / "centre.yaml")
    with pytest.raises(RoutingError, match="aliases expand"):
        load_routing_file(tmp_path / "routing.yaml")
    with pytest.raises(ScenarioError, match="aliases expand"):
        load_scenario_file(tmp_path / "scenario.yaml")
    with pytest.raises(ScenarioError, match="duplicate key"):
        parse_text('{"id": "a", "id": "b"}', "x.json")


def test_the_limits_table_in_the_docs_matches_the_defaults() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "scenario-format.md").read_text(encoding="utf-8")
    limits = Limits()
    table = doc[doc.index("## Limits") :]
    assert f"{limits.max_bytes // 2**20} MiB (JSON), {limits.max_yaml_bytes // 2**20} MiB (YAML)" in table
    assert f"| {limits.max_depth} levels |" in table
    assert f"| {limits.max_scenario_nodes:,} |".replace(",", " ") in table
    nodes = f"{limits.max_yaml_nodes:,}".replace(",", " ")
    assert f"{limits.max_aliases} uses, {nodes} values" in table


def test_a_scenario_with_too_many_nodes_is_refused_before_it_is_validated() -> None:
    nodes = [{"id": f"n{i}", "type": "hangup"} for i in range(Limits().max_scenario_nodes + 1)]
    started = time.perf_counter()
    with pytest.raises(ScenarioError) as info:
        parse_text_and_load(json.dumps({"id": "big", "schema": 1, "nodes": nodes}))
    assert time.perf_counter() - started < 2
    [problem] = info.value.problems
    assert (problem.path, problem.code) == ("nodes", "too_large")
    assert "10001 nodes, more than 10000" in problem.message


def parse_text_and_load(text: str) -> object:
    from flowengine.scenario.loader import load_scenario_text

    return load_scenario_text(text, source="big.json")
