"""Validating scenario files, and rendering findings for people.

Subscenario references are resolved against the scenarios named on the
command line and the library given explicitly (files, and the *.json
scenarios of folders); those that load are also used to see which variables
a called scenario sets. Nothing else is read: a file that merely lies beside
a scenario (or a FIFO there, which would block the reader) is never opened.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from flowengine.documents import load_document
from flowengine.errors import FlowEngineError, Problem, ScenarioError
from flowengine.scenario.compiled import Scenario
from flowengine.scenario.loader import load_scenario_file
from flowengine.telephony.dialpolicy import DialPolicy
from flowengine.telephony.media import MediaFolders
from flowengine.validation.checks import validate
from flowengine.validation.media import check_media


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
        data = load_document(path)
    except FlowEngineError:
        return None
    if isinstance(data, dict) and isinstance(data.get("id"), str):
        return data["id"]
    return None


def validate_files(
    paths: Iterable[str | Path],
    *,
    library: Iterable[str | Path] = (),
    known: Mapping[str, set[str]] | None = None,
    dial_policy: DialPolicy | None = None,
    media: MediaFolders | None = None,
) -> dict[str, list[Problem]]:
    """Findings per file, keyed by the path as given, in the order given.

    A file that fails to load gets its load problems (every one the loader
    found) followed by the findings about the rest of its graph, the nodes
    that did not load standing in as unknowns. Known scenarios are the ids of the given files and of the
    scenarios in `library`: files, and every *.json regular file of a folder
    (those that do not load are left out).
    `known` adds other kinds of names, e.g. the queues and operators of a
    centre file ({"queue": {...}, "operator": {...}}); `dial_policy` its
    dial policy (`Centre.dial_rules`); `media` the folders audio files are
    looked up in (`flowengine.validation.media`).
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

    scenarios: dict[str, Scenario] = {}
    known_ids: set[str] = set()
    for _, path in given:
        result = load(path)
        if isinstance(result, Scenario):
            scenarios[result.id] = result
            known_ids.add(result.id)
        elif (raw := _raw_id(path)) is not None:
            known_ids.add(raw)
    for path in library_files(library):
        result = load(path)
        if isinstance(result, Scenario):
            scenarios.setdefault(result.id, result)
            known_ids.add(result.id)

    report: dict[str, list[Problem]] = {}
    for name, path in given:
        result = load(path)
        if isinstance(result, ScenarioError):
            # every problem at once: the load problems, then what the rest of
            # the graph shows (a dangling exit beside a node with bad params)
            report[name] = list(result.problems)
            if result.partial is not None:
                report[name] += validate(
                    result.partial,
                    known={**(known or {}), "scenario": known_ids},
                    library=scenarios,
                    dial_policy=dial_policy,
                )
        else:
            report[name] = validate(
                result,
                known={**(known or {}), "scenario": known_ids},
                library=scenarios,
                dial_policy=dial_policy,
            )
            if media:
                report[name] += check_media(result, media)
    return report


def library_files(entries: Iterable[str | Path]) -> list[Path]:
    """The scenario files a library names: files as given, folders' *.json regular files.

    A library entry that does not exist, or is neither a file nor a folder,
    is an error (a `--lib` typo would otherwise leave references unresolved
    with no hint why).
    """
    found: list[Path] = []
    for entry in entries:
        path = Path(entry)
        if path.is_dir():
            found.extend(p for p in sorted(path.glob("*.json")) if p.is_file())
        elif path.is_file():
            found.append(path)
        else:
            raise ScenarioError([Problem("library is not a file or folder", code="io")], str(path))
    return found
