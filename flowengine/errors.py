"""One exception tree for the whole engine.

`FlowEngineError` is the root. Subclasses say who is at fault: a document the
user gave us (`ScenarioError` with a list of `Problem`s, each naming the place),
an expression (`ExpressionError`, with column), a node at run time
(`NodeError`), or the engine being misused by its caller (`UsageError`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from flowengine.scenario.compiled import Scenario


class FlowEngineError(Exception):
    """Root of every error flowengine raises on purpose."""


class UsageError(FlowEngineError):
    """The caller misused an API (wrong argument, unknown name)."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding about a document: where it is and what is wrong.

    `path` is a JSON path such as ``nodes[3].params.cases[0].equals``; `node_id`
    is set whenever the place lies inside a node; `line`/`column` are set for
    malformed JSON and `column` for expression errors (1-based, inside the
    expression text).
    """

    message: str
    path: str = ""
    node_id: str | None = None
    line: int | None = None
    column: int | None = None
    severity: str = "error"
    code: str = "invalid"

    def where(self) -> str:
        parts = []
        if self.path:
            parts.append(self.path)
        if self.node_id is not None and f"'{self.node_id}'" not in self.message:
            parts.append(f"node '{self.node_id}'")
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.column is not None:
            parts.append(f"column {self.column}")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.where()
        return f"{where}: {self.message}" if where else self.message

    def to_dict(self) -> dict[str, object]:
        return {
            "severity": self.severity,
            "code": self.code,
            "node_id": self.node_id,
            "path": self.path or None,
            "line": self.line,
            "column": self.column,
            "message": self.message,
        }


class ProblemsError(FlowEngineError):
    """A document the user gave could not be used; carries every problem
    found, each naming its place. One problem reads as one line; several are
    counted and listed under what kind of document it was (`what`; a caller
    may name it more precisely, e.g. a tests file)."""

    what: ClassVar[str] = "document"

    def __init__(self, problems: list[Problem], source: str | None = None, *, what: str | None = None) -> None:
        self.problems = problems
        self.source = source
        head = f"{source}: " if source else ""
        if len(problems) == 1:  # one line: "file: place: what is wrong"
            super().__init__(f"{head}{problems[0]}")
            return
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{head}{len(problems)} problems in {what or self.what}\n{lines}")


class ScenarioError(ProblemsError):
    """A scenario document could not be loaded.

    `partial`, when the loader got that far, is the scenario's graph with
    stand-ins (`UncheckedNode`) for the nodes that failed: the validator
    checks the rest of it, so one bad node does not hide other problems."""

    what = "scenario"
    partial: Scenario | None = None


class RegistryError(FlowEngineError):
    """A node type or function was registered twice, or looked up but unknown."""


class NodeError(FlowEngineError):
    """A node failed at run time; the call follows the node's "error" exit."""

    def __init__(self, message: str, *, code: str = "node_error") -> None:
        super().__init__(message)
        self.code = code
