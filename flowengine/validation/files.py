"""Validating scenario files, and rendering findings for people.

Subscenario references are resolved against the scenarios named on the
command line, the *.json scenarios beside them and any library directories;
those that load are also used to see which variables a called scenario sets.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from flowengine.errors import Problem, ScenarioError
from flowengine.scenario.compiled import Scenario
from flowengine.scenario.loader import load_scenario_file
from flowengine.telephony.dialpolicy import DialPolicy
from flowengine.validation.checks import validate


def format_problem(path: str | Path, problem: Problem) -> str:
    """One line: ``file: severity [code] node 'id' (json.path), line L, column C: message``."""
    where: list[str] = []
    if problem.node_id is not None:
        where.append(f"node '{problem.node_id}'" + (f" ({problem.path})" if problem.path else ""))
    elif problem.path:
        where.append(problem.path)
    if problem.line is not None:
        where.append(f"line {problem.line}")
    if problem.column is not None:
        where.append(f"column {problem.column}")
    head = f"{path}: {problem.severity} [{problem.code}]"
    return (
        f"{head} {', '.join(where)}: {problem.message}" if where else f"{head}: {problem.message}"
    )


def _raw_id(path: Path) -> str | None:
    """The `id` of a scenario that does not load, so references to it are not also reported."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if isinstance(data, dict) and isinstance(data.get("id"), str):
        return data["id"]
    return None


def validate_files(
    paths: Iterable[str | Path],
    *,
    library_dirs: Iterable[Path] = (),
    known: Mapping[str, set[str]] | None = None,
    dial_policy: DialPolicy | None = None,
) -> dict[str, list[Problem]]:
    """Findings per file, keyed by the path as given, in the order given.

    A file that fails to load gets its load problems only (every one the
    loader found). Known scenarios are the ids of the given files and of every
    *.json scenario that loads in their directories and in `library_dirs`.
    `known` adds other kinds of names, e.g. the queues and operators of a
    centre file ({"queue": {...}, "operator": {...}}); `dial_policy` its
    dial policy (`Centre.dial_rules`).
    """
    given = [(str(p), Path(p)) for p in paths]
    loaded: dict[Path, Scenario | ScenarioError] = {}

    def load(path: Path) -> Scenario | ScenarioError:
        key = path.resolve()
        if key not in loaded:
            try:
                loaded[key] = load_scenario_file(path)
            except ScenarioError as exc:
                loaded[key] = exc
        return loaded[key]

    library: dict[str, Scenario] = {}
    known_ids: set[str] = set()
    for _, path in given:
        result = load(path)
        if isinstance(result, Scenario):
            library[result.id] = result
            known_ids.add(result.id)
        elif (raw := _raw_id(path)) is not None:
            known_ids.add(raw)
    dirs = dict.fromkeys(
        [*(p.parent.resolve() for _, p in given), *(Path(d).resolve() for d in library_dirs)]
    )
    for directory in dirs:
        if not directory.is_dir():
            continue
        for sibling in sorted(directory.glob("*.json")):
            result = load(sibling)
            if isinstance(result, Scenario):
                library.setdefault(result.id, result)
                known_ids.add(result.id)

    report: dict[str, list[Problem]] = {}
    for name, path in given:
        result = load(path)
        if isinstance(result, ScenarioError):
            report[name] = list(result.problems)
        else:
            report[name] = validate(
                result,
                known={**(known or {}), "scenario": known_ids},
                library=library,
                dial_policy=dial_policy,
            )
    return report
