"""Events as JSON text that never fails to encode.

An event may carry anything a scenario put in a variable or a handler put in
a field: text with lone surrogates (from a broken SIP header or a bad HTTP
body), datetimes, bytes, sets, numbers as dict keys. Storage must not lose the
event, or crash the writer, because of one odd value: unknown types become
their text, and text that UTF-8 cannot carry is written with JSON escapes
(``ensure_ascii``), which any JSON reader turns back into the same string.

The common case (plain text, numbers, lists, dicts with text keys) goes
through orjson, which is several times faster than the standard encoder on
the writer's hot path; anything it refuses (lone surrogates, cycles, odd
keys) falls back to the careful path below, so the output is the same JSON
either way except that orjson writes a NaN or an infinity as null.
"""

from __future__ import annotations

import json
import math
from typing import Any

import orjson

from flowengine.events.base import _ROWS, StreamEvent


def _default(value: Any) -> Any:
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if isinstance(value, bytes | bytearray):
        return value.decode("utf-8", errors="replace")
    try:
        return str(value)
    except Exception:  # a __str__ that raises must not lose the event
        return f"<{type(value).__name__}>"


def _plain(value: Any, depth: int = 0) -> Any:
    """A copy that `json.dumps` accepts whatever it held: str keys, no
    cycles (cut at depth 50), finite numbers."""
    if depth > 50:
        return "<too deep>"
    if isinstance(value, dict):
        return {str(k): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v, depth + 1) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return _default(value)


_encode = json.JSONEncoder(ensure_ascii=False, default=_default, allow_nan=False).encode


_FAST_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


def _line(data: dict[str, Any]) -> bytes:
    try:
        return orjson.dumps(data, default=_default, option=_FAST_OPTIONS)
    except (TypeError, orjson.JSONEncodeError):
        pass
    try:
        text = _encode(data)
    except (TypeError, ValueError, RecursionError):
        text = json.dumps(_plain(data), ensure_ascii=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: escape them
        return json.dumps(json.loads(text), ensure_ascii=True).encode("ascii")


def dumps_event(data: dict[str, Any]) -> str:
    """One event dict as one line of JSON text (no newline), encodable as UTF-8."""
    return _line(data).decode("utf-8")


def event_line(event: StreamEvent) -> bytes:
    """The JSON-lines record of `event`: UTF-8, newline-terminated.

    Fast path: the event's generated dict straight into orjson; anything it
    refuses (lone surrogates, exotic values) takes the careful path."""
    data = _ROWS[type(event)](event)
    try:
        return orjson.dumps(data, default=_default, option=_FAST_OPTIONS | orjson.OPT_APPEND_NEWLINE)
    except (TypeError, orjson.JSONEncodeError):
        return _line(data) + b"\n"
