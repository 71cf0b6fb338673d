"""Reading the documents users hand us, within limits.

Scenarios (JSON or YAML), tests files, centre files, routing tables and event
streams all come in through here, so one hostile file cannot hang a command,
eat the machine's memory or end in a traceback. What is refused, each time
with a `Problem` naming the place (JSON path, or line and column):

- a path that is not a regular file (a FIFO would block the reader forever,
  a device would never end), or a file larger than `Limits.max_bytes`
  (`Limits.max_yaml_bytes` for YAML, whose pure-Python parser is slower);
- nesting deeper than `Limits.max_depth` (deep JSON ends in `RecursionError`
  inside the standard library otherwise);
- YAML aliases beyond `Limits.max_aliases`, or that expand the document
  beyond `Limits.max_yaml_nodes` nodes (a 750-byte "billion laughs" file),
  and recursive aliases; tags other than YAML's standard ones (SafeLoader's);
- duplicate keys (the last one silently winning hides a mistake), NaN and
  infinities (not JSON; events and the editor could not carry them) and
  integers longer than the interpreter converts (`sys.get_int_max_str_digits`).

The size limits can be raised for one run with the environment variable
``FLOWENGINE_MAX_DOCUMENT_BYTES`` (it sets both).

Only `flowengine.errors` is imported, so every package may use this module.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from flowengine.errors import Problem, ProblemsError

ENV_MAX_BYTES = "FLOWENGINE_MAX_DOCUMENT_BYTES"
YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class Limits:
    """How much of a document flowengine agrees to read."""

    max_bytes: int = 4 * 1024 * 1024
    max_yaml_bytes: int = 1024 * 1024
    max_depth: int = 100
    max_aliases: int = 100
    max_yaml_nodes: int = 200_000
    #: nodes in one scenario: far beyond any real one, and validating a
    #: scenario stays within seconds (a million nodes would take minutes)
    max_scenario_nodes: int = 10_000


def default_limits() -> Limits:
    """The built-in limits, with ``FLOWENGINE_MAX_DOCUMENT_BYTES`` applied."""
    raw = os.environ.get(ENV_MAX_BYTES, "").strip()
    if not raw:
        return Limits()
    try:
        size = int(raw)
    except ValueError:
        raise DocumentError(
            [Problem(f"{ENV_MAX_BYTES}={raw!r} is not a whole number of bytes", code="usage")]
        ) from None
    if size <= 0:
        raise DocumentError([Problem(f"{ENV_MAX_BYTES} must be positive", code="usage")])
    return Limits(max_bytes=size, max_yaml_bytes=size)


class DocumentError(ProblemsError):
    """A document could not be read or parsed; each problem names the place.

    Loaders of particular kinds of documents re-raise the problems as their
    own error (`ScenarioError`, `CentreError`, ...) with the file name.
    """


# ---- files -----------------------------------------------------------------------------


def read_text(path: str | Path, limits: Limits | None = None, *, is_yaml: bool | None = None) -> str:
    """The UTF-8 text of a regular file no larger than the limit for its kind.

    The file's type is checked before it is opened, so a FIFO or a device is
    refused instead of blocking the reader; at most one byte over the limit
    is ever read.
    """
    lim = limits or default_limits()
    p = Path(path)
    if is_yaml is None:
        is_yaml = p.suffix.lower() in YAML_SUFFIXES
    cap = lim.max_yaml_bytes if is_yaml else lim.max_bytes
    try:
        info = p.stat()
        if stat.S_ISDIR(info.st_mode):
            raise DocumentError([Problem("is a directory, not a file", code="io")], str(p))
        if not stat.S_ISREG(info.st_mode):
            raise DocumentError(
                [Problem("not a regular file (a FIFO, device or socket is never read)", code="io")],
                str(p),
            )
        with p.open("rb") as fh:
            data = fh.read(cap + 1)
    except OSError as exc:
        raise DocumentError([Problem(f"cannot read file: {exc.strerror or exc}", code="io")], str(p)) from None
    if len(data) > cap:
        raise DocumentError([_too_large(cap)], str(p))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DocumentError(
            [Problem(f"file is not UTF-8 text: {exc.reason} at byte {exc.start}", code="syntax")], str(p)
        ) from None


def _too_large(cap: int) -> Problem:
    return Problem(
        f"document larger than {cap} bytes (the limit; raise it with {ENV_MAX_BYTES})", code="too_large"
    )


def parse_document(text: str, source: str | None = None, limits: Limits | None = None) -> Any:
    """JSON, or YAML when `source` ends in .yaml/.yml; see `parse_json`, `parse_yaml`."""
    if source and source.lower().endswith(YAML_SUFFIXES):
        return parse_yaml(text, limits)
    return parse_json(text, limits)


def load_document(path: str | Path, limits: Limits | None = None, *, yaml_unless_json: bool = False) -> Any:
    """`read_text` then `parse_document`; problems carry the path as source.

    With `yaml_unless_json` every suffix but .json is read as YAML (centre
    files and routing tables, which are YAML first).
    """
    lim = limits or default_limits()
    is_yaml = Path(path).suffix.lower() != ".json" if yaml_unless_json else None
    text = read_text(path, lim, is_yaml=is_yaml)
    try:
        if is_yaml is None:
            return parse_document(text, str(path), lim)
        return parse_yaml(text, lim) if is_yaml else parse_json(text, lim)
    except DocumentError as exc:
        raise DocumentError(exc.problems, str(path)) from None


# ---- JSON ------------------------------------------------------------------------------


class _Bad:
    """Put in place of a value the JSON parser must not return (found later, with its path)."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


class _DuplicateKeys(dict[str, Any]):
    """An object in which some keys appeared more than once."""

    duplicates: list[str]


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) == len(pairs):
        return out
    seen: set[str] = set()
    repeated: dict[str, None] = {}
    for key, _ in pairs:
        if key in seen:
            repeated[key] = None
        seen.add(key)
    dup = _DuplicateKeys(out)
    dup.duplicates = list(repeated)
    return dup


def _int(text: str) -> Any:
    digits = len(text.lstrip("-"))
    limit = sys.get_int_max_str_digits()
    if limit and digits > limit:
        return _Bad(f"integer with {digits} digits (more than {limit})")
    return int(text)


def _float(text: str) -> Any:
    value = float(text)
    return value if math.isfinite(value) else _Bad(f"number {text[:40]} is out of range")


def _constant(name: str) -> Any:
    return _Bad(f"{name} is not a JSON number")


_MAX_PROBLEMS = 20
_SURROGATE = re.compile("[\ud800-\udfff]")


def parse_json(text: str, limits: Limits | None = None) -> Any:
    """JSON text to data, refusing what the module docstring lists.

    Syntax errors and too-deep nesting give line and column; values and
    keys that are refused give their JSON path (up to 20 problems at once).
    """
    lim = limits or default_limits()
    if len(text) > lim.max_bytes and len(text.encode("utf-8")) > lim.max_bytes:
        raise DocumentError([_too_large(lim.max_bytes)])
    try:
        data = json.loads(
            text, object_pairs_hook=_pairs, parse_int=_int, parse_float=_float, parse_constant=_constant
        )
    except json.JSONDecodeError as exc:
        raise DocumentError(
            [Problem(f"malformed JSON: {exc.msg}", line=exc.lineno, column=exc.colno, code="syntax")]
        ) from None
    except RecursionError:
        line, column = _deep_place(text, lim.max_depth)
        raise DocumentError([_too_deep(lim.max_depth, line=line, column=column)]) from None
    problems = _check_tree(data, lim.max_depth)
    if any(p.code == "too_deep" for p in problems):
        line, column = _deep_place(text, lim.max_depth)
        problems = [_too_deep(lim.max_depth, line=line, column=column)]
    if problems:
        raise DocumentError(problems)
    return data


def _too_deep(limit: int, path: str = "", line: int | None = None, column: int | None = None) -> Problem:
    return Problem(f"nested deeper than {limit} levels", path=path, line=line, column=column, code="too_deep")


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[{]|[\]}]', re.DOTALL)


def _deep_place(text: str, limit: int) -> tuple[int | None, int | None]:
    """Line and column where nesting first goes deeper than `limit`."""
    depth = 0
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > limit:
                start = match.start()
                line = text.count("\n", 0, start) + 1
                return line, start - (text.rfind("\n", 0, start) + 1) + 1
        elif token in "]}":
            depth -= 1
    return None, None


def _path(parent: str, key: object) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    if isinstance(key, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
        return f"{parent}.{key}" if parent else key
    quoted = json.dumps(key if isinstance(key, str) else str(key), ensure_ascii=False)[:80]
    return f"{parent}[{quoted.encode('utf-8', 'backslashreplace').decode('utf-8')}]"


def _check_tree(data: Any, max_depth: int) -> list[Problem]:
    """Refused values, duplicate keys and too-deep places, in document order."""
    problems: list[Problem] = []
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack and len(problems) < _MAX_PROBLEMS:
        value, path, depth = stack.pop()
        if isinstance(value, _Bad):
            problems.append(Problem(value.message, path=path, code="number"))
            continue
        if isinstance(value, str) and _SURROGATE.search(value):
            problems.append(Problem("text with a lone UTF-16 surrogate (not a character)", path=path, code="syntax"))
            continue
        if not isinstance(value, (dict, list)):
            continue
        if depth >= max_depth:
            return [_too_deep(max_depth)]
        if isinstance(value, dict):
            for key in value:
                if isinstance(key, str) and _SURROGATE.search(key):
                    problems.append(
                        Problem(
                            "key with a lone UTF-16 surrogate (not a character)",
                            path=_path(path, key),
                            code="syntax",
                        )
                    )
        if isinstance(value, _DuplicateKeys):
            for key in value.duplicates:
                problems.append(Problem(f"duplicate key {key!r}", path=_path(path, key), code="duplicate_key"))
        items = value.items() if isinstance(value, dict) else enumerate(value)
        stack.extend(reversed([(v, _path(path, k), depth + 1) for k, v in items]))
    return problems


# ---- YAML ------------------------------------------------------------------------------


def _refuse(message: str, mark: Any, code: str) -> DocumentError:
    return DocumentError(
        [
            Problem(
                message,
                line=mark.line + 1 if mark is not None else None,
                column=mark.column + 1 if mark is not None else None,
                code=code,
            )
        ]
    )


class _LimitedLoader(yaml.SafeLoader):
    """SafeLoader that counts depth and aliases while it composes the node graph."""

    limits: Limits = Limits()

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:  # type: ignore[override]
        if self.check_event(AliasEvent):
            self._aliases += 1
            if self._aliases > self.limits.max_aliases:
                raise _refuse(
                    f"more than {self.limits.max_aliases} aliases (the limit)",
                    self.peek_event().start_mark,
                    "aliases",
                )
        self._depth += 1
        try:
            if self._depth > self.limits.max_depth:
                raise _refuse(
                    f"nested deeper than {self.limits.max_depth} levels", self.peek_event().start_mark, "too_deep"
                )
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self._depth -= 1

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError, TypeError) as exc:  # e.g. a date that does not exist
            raise _refuse(f"cannot read this value: {exc}", node.start_mark, "syntax") from None

    def construct_yaml_int(self, node: ScalarNode) -> int:
        limit = sys.get_int_max_str_digits()
        digits = sum(ch.isdigit() for ch in str(node.value))
        if limit and digits > limit:
            raise _refuse(f"integer with {digits} digits (more than {limit})", node.start_mark, "number")
        return super().construct_yaml_int(node)  # type: ignore[no-any-return]

    def construct_yaml_float(self, node: ScalarNode) -> float:
        value = super().construct_yaml_float(node)
        if not math.isfinite(value):
            raise _refuse(f"{node.value} is not a JSON number", node.start_mark, "number")
        return value  # type: ignore[no-any-return]


_LimitedLoader.add_constructor("tag:yaml.org,2002:int", _LimitedLoader.construct_yaml_int)
_LimitedLoader.add_constructor("tag:yaml.org,2002:float", _LimitedLoader.construct_yaml_float)
# values JSON has no word for: refused like any unknown tag
for _tag in ("set", "binary", "omap", "pairs"):
    del _LimitedLoader.yaml_constructors[f"tag:yaml.org,2002:{_tag}"]


def parse_yaml(text: str, limits: Limits | None = None) -> Any:
    """One YAML document to data, refusing what the module docstring lists.

    The node graph is composed first (aliases stay shared references there,
    so composing is cheap) and measured: its size with every alias expanded,
    recursive aliases and duplicate keys. Only then is it constructed.
    Errors give line and column.
    """
    lim = limits or default_limits()
    if len(text) > lim.max_yaml_bytes and len(text.encode("utf-8")) > lim.max_yaml_bytes:
        raise DocumentError([_too_large(lim.max_yaml_bytes)])
    loader_cls = type("_Loader", (_LimitedLoader,), {"limits": lim})
    try:
        loader = loader_cls(text)
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow
        pos = exc.position
        line, column = text.count("\n", 0, pos) + 1, pos - (text.rfind("\n", 0, pos) + 1) + 1
        raise DocumentError(
            [Problem(f"malformed YAML: character #x{exc.character:04x} is not allowed", line=line, column=column, code="syntax")]
        ) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _measure(node, lim)
        data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        reason = getattr(exc, "problem", None) or str(exc)
        raise _refuse(f"malformed YAML: {reason}", mark, "syntax") from None
    except RecursionError:  # not expected within max_depth; never a traceback all the same
        raise _refuse(f"nested deeper than {lim.max_depth} levels", None, "too_deep") from None
    finally:
        loader.dispose()
    problems = _check_tree(data, lim.max_depth + 1)  # text that is not Unicode ("\\ud800")
    if problems:
        raise DocumentError(problems)
    return data


def _measure(root: Node, lim: Limits) -> None:
    """Raise for recursive aliases, duplicate keys, or an expanded size over the limit.

    Sizes are memoised per node, so a node reached through many aliases is
    walked once and the whole check is linear in the composed graph.
    """
    size: dict[int, int] = {}
    on_path: set[int] = set()
    # iterative post-order walk: (node, children visited?)
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            total = 1 + sum(size[id(child)] for child in _children(node))
            if total > lim.max_yaml_nodes:
                raise _refuse(
                    f"aliases expand the document beyond {lim.max_yaml_nodes} values (the limit)",
                    node.start_mark,
                    "aliases",
                )
            size[key] = total
            continue
        if key in size:
            continue
        if key in on_path:
            raise _refuse("recursive alias (a value that contains itself)", node.start_mark, "aliases")
        on_path.add(key)
        if isinstance(node, MappingNode):
            _check_duplicate_keys(node)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in size)


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _check_duplicate_keys(node: MappingNode) -> None:
    seen: set[tuple[str, str]] = set()
    for key, _ in node.value:
        if isinstance(key, ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
            ident = (key.tag, key.value)
            if ident in seen:
                raise _refuse(f"duplicate key {key.value!r}", key.start_mark, "duplicate_key")
            seen.add(ident)
