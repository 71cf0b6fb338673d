"""Loading scenario documents with errors that name the place.

Order of checks, each collecting every problem it finds before giving up:
1. text → data: malformed JSON gives line and column;
2. `schema` version and migrations;
3. the envelope (ScenarioDoc): JSON paths such as ``nodes[2].exits``;
4. per node: unknown type (with node id), params against the type's model,
   exit names the type does not declare, duplicate ids, entry points;
5. every expression and template compiled: node id, JSON path and column.
Only a document with no problems becomes a `Scenario`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from flowengine.components.fields import iter_expressions
from flowengine.components.node import ERROR_EXIT, NodeType, UncheckedNode
from flowengine.components.registry import NodeRegistry, builtin_registry
from flowengine.documents import DocumentError, default_limits, parse_document, read_text
from flowengine.errors import Problem, ScenarioError
from flowengine.expr import ExpressionError, compile_expression, compile_template
from flowengine.field_errors import json_path as json_path  # re-exported: it lived here
from flowengine.field_errors import problems_from_validation
from flowengine.scenario.compiled import Scenario
from flowengine.scenario.migrations import migrate
from flowengine.scenario.model import NODE_ID_PATTERN, NodeDoc, ScenarioDoc


def parse_text(text: str, source: str | None = None) -> Any:
    """JSON (or YAML, for .yaml/.yml sources) to data, within the document
    limits (`flowengine.documents`); errors name the line/column or JSON path."""
    try:
        return parse_document(text, source)
    except DocumentError as exc:
        raise ScenarioError(exc.problems, source) from None


def read_document(path: Path) -> Any:
    """A file's data (`parse_text`); a file that cannot be read is a `ScenarioError` too."""
    try:
        text = read_text(path)
    except DocumentError as exc:
        raise ScenarioError(exc.problems, str(path)) from None
    return parse_text(text, str(path))


def load_scenario_file(path: str | Path, registry: NodeRegistry | None = None) -> Scenario:
    p = Path(path)
    scenario = load_scenario_data(read_document(p), registry, source=str(p))
    scenario.source = p
    return scenario


def load_scenario_text(text: str, registry: NodeRegistry | None = None, source: str | None = None) -> Scenario:
    return load_scenario_data(parse_text(text, source), registry, source=source)


def load_scenario_data(
    data: Any, registry: NodeRegistry | None = None, source: str | None = None
) -> Scenario:
    reg = registry or builtin_registry()
    if not isinstance(data, dict):
        raise ScenarioError([Problem("a scenario must be a JSON object", code="type")], source)
    nodes = data.get("nodes")
    limit = default_limits().max_scenario_nodes
    if isinstance(nodes, list) and len(nodes) > limit:
        raise ScenarioError(
            [Problem(f"{len(nodes)} nodes, more than {limit} (the limit)", path="nodes", code="too_large")], source
        )
    data, problems = migrate(data)
    if problems:
        raise ScenarioError(problems, source)
    try:
        doc = ScenarioDoc.model_validate(data)
    except ValidationError as exc:
        problems = _envelope_problems(exc, data)
        error = ScenarioError(problems, source)
        error.partial = _partial_despite(problems, data, reg)
        raise error from None
    return build_scenario(doc, reg, source)


def _partial_despite(problems: list[Problem], data: dict[str, Any], reg: NodeRegistry) -> Scenario | None:
    """The graph of a document whose envelope problems all lie inside nodes,
    with those nodes as stand-ins (their id and the exits that are text), so
    the validator can still check the rest; None when that cannot be had."""
    bad: set[int] = set()
    for p in problems:
        if not p.path.startswith("nodes["):
            return None
        bad.add(int(p.path[6 : p.path.index("]")]))
    nodes = data["nodes"]
    fixed: list[Any] = []
    anonymous: set[str] = set()
    for index, raw in enumerate(nodes):
        if index not in bad:
            fixed.append(raw)
            continue
        node_id = raw.get("id") if isinstance(raw, dict) else None
        if not isinstance(node_id, str) or not re.fullmatch(NODE_ID_PATTERN, node_id):
            node_id = f"_invalid.{index}"  # keeps the others' positions; never shown
            anonymous.add(node_id)
        exits = raw.get("exits") if isinstance(raw, dict) else None
        wired = {k: v for k, v in exits.items() if isinstance(v, str)} if isinstance(exits, dict) else {}
        fixed.append({"id": node_id, "type": _NO_TYPE, "exits": wired})
    try:
        build_scenario(ScenarioDoc.model_validate({**data, "nodes": fixed}), reg)
    except ValidationError:
        return None
    except ScenarioError as exc:
        partial = exc.partial
        if partial is None:
            return None
        for node in partial.nodes.values():
            if isinstance(node, UncheckedNode) and node.written_type == _NO_TYPE:
                node.exits_known = False
                node.anonymous = node.id in anonymous
        return partial
    return None  # unreachable: a stand-in never loads


#: the type given to stand-ins for nodes whose envelope was wrong (never registered)
_NO_TYPE = "(invalid node)"


def _envelope_problems(exc: ValidationError, data: dict[str, Any]) -> list[Problem]:
    raw_nodes = data.get("nodes")
    nodes: list[Any] = raw_nodes if isinstance(raw_nodes, list) else []
    found = []
    for p in problems_from_validation(exc, data=data):
        node_id = None
        if p.path.startswith("nodes["):
            index = int(p.path[6 : p.path.index("]")])
            raw = nodes[index] if index < len(nodes) else None
            if isinstance(raw, dict) and isinstance(raw.get("id"), str):
                node_id = raw["id"]
        found.append(Problem(p.message, path=p.path, node_id=node_id, code=p.code))
    return found


def build_scenario(doc: ScenarioDoc, reg: NodeRegistry, source: str | None = None) -> Scenario:
    problems: list[Problem] = []
    nodes: dict[str, NodeType] = {}
    wiring: dict[str, dict[str, str]] = {}
    entries: dict[str, str] = {}

    try:
        tz = ZoneInfo(doc.timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file
        shown = doc.timezone if len(doc.timezone) <= 60 else doc.timezone[:57] + "..."
        problems.append(Problem(f"unknown time zone '{shown}'", path="timezone"))
        tz = ZoneInfo("UTC")

    for index, node in enumerate(doc.nodes):
        base = f"nodes[{index}]"
        if node.id in nodes or node.id in wiring:
            problems.append(Problem(f"duplicate node id '{node.id}'", path=f"{base}.id", node_id=node.id, code="duplicate_id"))
            continue
        cls = reg.get(node.type)
        if cls is None:
            problems.append(
                Problem(
                    f"unknown node type '{node.type}' (known: {', '.join(reg.names())})",
                    path=f"{base}.type",
                    node_id=node.id,
                    code="unknown_type",
                )
            )
            _stand_in(node, nodes, wiring)
            continue
        try:
            params = cls.Params.model_validate(node.params)
        except ValidationError as exc:
            problems.extend(problems_from_validation(exc, f"{base}.params", node.id, node.params))
            _stand_in(node, nodes, wiring)
            continue
        expr_problems = _compile_expressions(params, base, node.id)
        if expr_problems:
            problems.extend(expr_problems)
            _stand_in(node, nodes, wiring)
            continue
        try:
            instance = cls(node.id, params)
        except ValueError as exc:
            problems.append(Problem(str(exc), path=f"{base}.params", node_id=node.id))
            _stand_in(node, nodes, wiring)
            continue
        declared = set(instance.all_exits) | {ERROR_EXIT}
        for exit_name in node.exits:
            if exit_name not in declared:
                problems.append(
                    Problem(
                        f"'{node.type}' has no exit '{exit_name}' (its exits: {', '.join(sorted(declared))})",
                        path=f"{base}.exits.{exit_name}",
                        node_id=node.id,
                        code="unknown_exit",
                    )
                )
        entry = getattr(params, "entry", None) if node.type == "start" else None
        if entry is not None:
            if entry in entries:
                problems.append(
                    Problem(
                        f"a second '{entry}' start node (the first is '{entries[entry]}')",
                        path=f"{base}.params.entry",
                        node_id=node.id,
                        code="duplicate_entry",
                    )
                )
            else:
                entries[entry] = node.id
        nodes[node.id] = instance
        wiring[node.id] = dict(node.exits)

    if "main" not in entries and not any(p.code == "unknown_type" for p in problems):
        problems.append(Problem("no start node with entry 'main'", path="nodes", code="no_entry"))
    handler = doc.settings.error_handler
    if handler is not None and handler not in wiring:
        problems.append(
            Problem(f"error handler '{handler}' is not a node of this scenario", path="settings.error_handler")
        )
    scenario = None
    if "main" in entries:
        scenario = Scenario(
            doc=doc,
            nodes=nodes,
            wiring=wiring,
            main_entry=entries["main"],
            after_hangup_entry=entries.get("after_hangup"),
            tz=tz,
            defaults={v.name: v.default for v in doc.variables},
        )
    if problems:
        error = ScenarioError(problems, source)
        # the graph with stand-ins for the nodes that failed, so the validator
        # can still report the rest (a dangling exit elsewhere, ...)
        error.partial = scenario
        raise error
    assert scenario is not None  # "main" missing is a problem
    return scenario


def _stand_in(node: NodeDoc, nodes: dict[str, NodeType], wiring: dict[str, dict[str, str]]) -> None:
    """Keep a node that did not load in the graph, as an `UncheckedNode`."""
    nodes[node.id] = UncheckedNode(node.id, node.type, list(node.exits))
    wiring[node.id] = dict(node.exits)


def _compile_expressions(params: Any, base: str, node_id: str) -> list[Problem]:
    found = []
    for path, kind, text in iter_expressions(params):
        try:
            if kind == "expression":
                compile_expression(text)
            else:
                compile_template(text)
        except ExpressionError as exc:
            found.append(
                Problem(
                    f"{kind} {text!r}: {exc.message}",
                    path=f"{base}.params.{path}",
                    node_id=node_id,
                    column=exc.column,
                    code="expression",
                )
            )
    return found
