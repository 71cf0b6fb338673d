"""Field types for node params that the engine must understand.

`Expr` marks a string holding an expression, `TemplateText` a string with
`{expression}` holes. The loader finds them (through lists, unions and nested
models) to compile every expression at load time, report syntax errors with
node id and column, and let the validator see which variables a node reads.
The JSON Schema carries `"format": "expression"` / `"template"` so the editor
can offer the right input widget without node-specific code.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterator
from typing import Annotated, Any, Union

from pydantic import AfterValidator, BaseModel, Field

from flowengine.telephony.dialpolicy import PatternError, compile_pattern
from flowengine.telephony.media import check_media_name


class _Marker:
    __slots__ = ("kind",)

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __repr__(self) -> str:
        return f"<{self.kind}>"


EXPR = _Marker("expression")
TEMPLATE = _Marker("template")

IDENT_PATTERN = r"^[^\W\d]\w*$"

Expr = Annotated[str, Field(min_length=1, json_schema_extra={"format": "expression"}), EXPR]
TemplateText = Annotated[str, Field(json_schema_extra={"format": "template"}), TEMPLATE]
_IDENT = re.compile(IDENT_PATTERN)


def _variable_name(value: str) -> str:
    if not _IDENT.match(value):
        raise ValueError(
            f"'{value}' is not a variable name: the pattern is letters (any alphabet), "
            "digits and _, not starting with a digit"
        )
    return value


VarName = Annotated[
    str,
    Field(max_length=64, json_schema_extra={"format": "variable", "pattern": IDENT_PATTERN}),
    AfterValidator(_variable_name),
]


def _dial_pattern(value: str) -> str:
    try:
        compile_pattern(value)
    except PatternError as exc:
        raise ValueError(str(exc)) from None
    return value


#: A pattern of the dial policy's language (flowengine.telephony.dialpolicy): 9XX, +7., [1-5]XX.
DialPatternText = Annotated[
    str, Field(min_length=1, json_schema_extra={"format": "dial-pattern"}), AfterValidator(_dial_pattern)
]


#: An audio file, relative to the engine's media folders (flowengine.telephony.media):
#: no absolute path, no '..', no backslash or control character.
MediaName = Annotated[
    str, Field(min_length=1, json_schema_extra={"format": "media-file"}), AfterValidator(check_media_name)
]


def _marker_of(annotation: Any) -> _Marker | None:
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        for meta in annotation.__metadata__:
            if isinstance(meta, _Marker):
                return meta
        return _marker_of(annotation.__origin__)
    if origin in (Union, types.UnionType, list, tuple, dict):
        for arg in typing.get_args(annotation):
            found = _marker_of(arg)
            if found is not None:
                return found
    return None


_HINTS: dict[type, dict[str, _Marker | None]] = {}


def _field_markers(model: type[BaseModel]) -> dict[str, _Marker | None]:
    cached = _HINTS.get(model)
    if cached is None:
        hints = typing.get_type_hints(model, include_extras=True)
        cached = {name: _marker_of(hints.get(name)) for name in model.model_fields}
        _HINTS[model] = cached
    return cached


def iter_expressions(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, str, str]]:
    """Yield (json_path, kind, text) for every expression/template in `model`."""
    markers = _field_markers(type(model))
    for name, marker in markers.items():
        value = getattr(model, name)
        path = f"{prefix}.{name}" if prefix else name
        yield from _walk(value, marker, path)


def _walk(value: Any, marker: _Marker | None, path: str) -> Iterator[tuple[str, str, str]]:
    if isinstance(value, str):
        if marker is not None:
            yield path, marker.kind, value
    elif isinstance(value, BaseModel):
        yield from iter_expressions(value, path)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _walk(item, marker, f"{path}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, marker, f"{path}.{key}")
