"""Pydantic's validation errors as `Problem`s: one per place, in words a user reads.

Every document the engine reads (scenarios and node params, centre files,
routing tables, tests files) reports its field errors through
`problems_from_validation`: a JSON path such as ``nodes[2].params.max_digits``,
and a message that echoes the value given when it is a plain one
(``"abc" is not an integer``, ``-5 should be greater than 0``), so the
user sees what they wrote without opening the file.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from flowengine.errors import Problem

_NO_DATA: Any = object()


def json_path(loc: tuple[int | str, ...], prefix: str = "") -> str:
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def problems_from_validation(
    err: ValidationError, prefix: str = "", node_id: str | None = None, data: Any = _NO_DATA
) -> list[Problem]:
    """One problem per place, echoing the bad value when it is a plain one
    (``max_digits: "abc" is not an integer``, ``ring_timeout: -5 should be
    greater than 0``); with `data` (the validated input), paths name
    places in the document only: the member tags pydantic adds inside unions
    (``equals.str``, ``equals.int``...) are dropped and their messages merged
    into one ("should be a valid string or a valid integer ...")."""
    found: list[Problem] = []
    merged_at: dict[str, int] = {}
    inputs: list[tuple[str, Any]] = []  # (error type, input) per problem found
    for item in err.errors(include_url=False):
        loc = tuple(item["loc"])
        msg = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            msg = "unknown field (not part of the format)"
        elif item["type"] == "missing":
            msg = "required field is missing"
        real = loc if data is _NO_DATA else _document_loc(loc, data, item["type"] == "missing")
        path = json_path(real, prefix)
        if real != loc and path in merged_at:
            index = merged_at[path]
            before = found[index]
            extra = msg.removeprefix("Input should be ")
            found[index] = Problem(f"{before.message} or {extra}", path=path, node_id=node_id, code=before.code)
            inputs[index] = ("union", inputs[index][1])
            continue
        if real != loc:
            merged_at[path] = len(found)
        found.append(Problem(msg, path=path, node_id=node_id, code=item["type"]))
        inputs.append((item["type"], item.get("input")))
    return [
        Problem(_echo(p.message, kind, value), path=p.path, node_id=p.node_id, code=p.code)
        for p, (kind, value) in zip(found, inputs, strict=True)
    ]


#: pydantic error types whose message becomes "<value> is not ..."
_NOT_A = {
    "int_parsing": "an integer",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "float_parsing": "a number",
    "float_type": "a number",
    "string_type": "a string",
    "bool_parsing": "true or false",
    "bool_type": "true or false",
}


def _echo(message: str, kind: str, value: Any) -> str:
    """The message with the value that was given, when that is a plain value
    (text, number, true/false, null) and the message does not show it already."""
    if kind in ("missing", "extra_forbidden") or message.startswith("Extra inputs"):
        return message  # about the key, not its value
    if isinstance(value, dict | list | tuple | set):
        return message
    if not isinstance(value, str | int | float | bool) and value is not None:
        return message
    shown = json.dumps(value, ensure_ascii=False)
    if len(shown) > 60:
        shown = shown[:56] + '…"' if isinstance(value, str) else shown[:57] + "…"
    if kind in _NOT_A:
        return f"{shown} is not {_NOT_A[kind]}"
    if isinstance(value, str) and value and f"'{value}'" in message:  # shown already
        return message
    for head in ("Input should ", "String should ", "Decimal should ", "Value should "):
        if message.startswith(head):
            return f"{shown} should {message.removeprefix(head)}"
    return f"{shown}: {message}"


def _document_loc(loc: tuple[int | str, ...], data: Any, missing: bool) -> tuple[int | str, ...]:
    """`loc` without the parts that are not places in `data` (union member tags)."""
    out: list[int | str] = []
    current = data
    for i, part in enumerate(loc):
        if isinstance(current, dict) and part in current:
            current = current[part]
            out.append(part)
        elif missing and isinstance(current, dict) and i == len(loc) - 1:
            out.append(part)  # the required field that is missing
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            current = current[part]
            out.append(part)
        # else: a tag naming a union member, not a place in the document
    return tuple(out)
