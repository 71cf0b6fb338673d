"""media_file: audio files a scenario names, looked up in the media folders.

`flowengine validate --media DIR` runs the same lookup a call makes when it
plays the file (`flowengine.telephony.media.MediaFolders.resolve`), for
every audio field of every node — Play `file`, a prompt's `play`, Queue
`music` — so a missing file, a FIFO or a link out of the folder is found
before any call, with the node and the field. Audio fields are recognised
by their type (`flowengine.components.fields.MediaName`), so a new
component's audio fields are checked without a change here.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from typing import Annotated, Any, Union

from pydantic import AfterValidator, BaseModel

from flowengine.errors import NodeError, Problem
from flowengine.scenario.compiled import Scenario
from flowengine.telephony.media import MediaFolders, check_media_name

_MEDIA_FIELDS: dict[type[BaseModel], dict[str, bool]] = {}


def _is_media(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        if any(isinstance(m, AfterValidator) and m.func is check_media_name for m in annotation.__metadata__):
            return True
        return _is_media(annotation.__origin__)
    if origin in (Union, types.UnionType, list, tuple, dict):
        return any(_is_media(arg) for arg in typing.get_args(annotation))
    return False


def _media_fields(model: type[BaseModel]) -> dict[str, bool]:
    cached = _MEDIA_FIELDS.get(model)
    if cached is None:
        hints = typing.get_type_hints(model, include_extras=True)
        cached = _MEDIA_FIELDS[model] = {name: _is_media(hints.get(name)) for name in model.model_fields}
    return cached


def iter_media(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(json_path, file name) of every audio file named in `model`."""
    for name, is_media in _media_fields(type(model)).items():
        value = getattr(model, name)
        path = f"{prefix}.{name}" if prefix else name
        if is_media and isinstance(value, str):
            yield path, value
        elif isinstance(value, BaseModel):
            yield from iter_media(value, path)
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                if isinstance(item, BaseModel):
                    yield from iter_media(item, f"{path}[{index}]")


def check_media(scenario: Scenario, folders: MediaFolders) -> list[Problem]:
    """A problem for each audio file a call of `scenario` could not play."""
    problems: list[Problem] = []
    for index, doc in enumerate(scenario.doc.nodes):
        node = scenario.nodes.get(doc.id)
        if node is None:
            continue
        for path, name in iter_media(node.params):
            try:
                folders.resolve(name)
            except NodeError as exc:
                problems.append(
                    Problem(str(exc), path=f"nodes[{index}].params.{path}", node_id=doc.id, code=exc.code)
                )
    return problems
