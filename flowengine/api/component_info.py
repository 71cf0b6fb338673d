"""What the web editor needs to know about each node type, read from the types themselves.

The editor draws a node with one handle per exit and builds its property form
from the params' JSON Schema, so a new node type needs no editor code. Most
types have fixed exits; a few take them from their params (a Menu's cases, a
Gather's options, a Subscenario's mode). Rather than repeat each type's
`exit_names` in TypeScript, `exit_rule` describes it, found by asking the
type's own `exit_names` about probe params:

- `list_field` / `item_key`: the exits are the distinct `item_key` values of
  the `list_field` items, followed by `after` (or `when_empty` when the list
  names none);
- `switch_field` / `by_value`: the exits depend on one choice field.
"""

from __future__ import annotations

import typing
from typing import Any, Literal

from pydantic import BaseModel, Field

from flowengine.components.field_titles import add_russian_titles
from flowengine.components.node import ERROR_EXIT, NodeType, ParamsModel
from flowengine.components.registry import NodeRegistry, builtin_registry

PROBE_EXIT = "__probe_exit__"


class ExitRule(BaseModel):
    """How a type's exits follow from its params (see the module docstring)."""

    list_field: str | None = None
    item_key: str | None = None
    after: list[str] = Field(default_factory=list)
    when_empty: list[str] = Field(default_factory=list)
    switch_field: str | None = None
    by_value: dict[str, list[str]] = Field(default_factory=dict)


class ComponentInfo(BaseModel):
    type: str = Field(description="the node type's name, as scenario documents write it")
    title_en: str
    title_ru: str
    description: str
    category: str = Field(description="flow, media, input, data, acd, integration")
    icon: str = Field(description="an icon key for the editor (the type name; the editor falls back to the category)")
    exits: list[str] = Field(description="the exits every node of this type has")
    optional_exits: list[str]
    exits_from_params: bool
    exit_rule: ExitRule | None = None
    terminal: bool
    waits_for_caller: bool
    params_schema: dict[str, Any] = Field(description="JSON Schema of the node's params (pydantic)")


class Catalogue(BaseModel):
    components: list[ComponentInfo]
    functions: list[str] = Field(description="function names of the expression language, for completion")
    error_exit: str = ERROR_EXIT


def _list_of_exit_items(params: type[ParamsModel]) -> tuple[str, type[BaseModel]] | None:
    """The params field that is a list of models with an `exit` field, if any."""
    for name, field in params.model_fields.items():
        annotation = field.annotation
        for candidate in (annotation, *typing.get_args(annotation)):
            if typing.get_origin(candidate) is list:
                (item,) = typing.get_args(candidate) or (None,)
                if isinstance(item, type) and issubclass(item, BaseModel) and "exit" in item.model_fields:
                    return name, item
    return None


def _choice_field(params: type[ParamsModel]) -> tuple[str, tuple[Any, ...]] | None:
    for name, field in params.model_fields.items():
        if typing.get_origin(field.annotation) is Literal:
            return name, typing.get_args(field.annotation)
    return None


def _exit_rule(cls: type[NodeType[Any]]) -> ExitRule | None:
    if "exit_names" not in vars(cls):
        return None
    params = cls.Params
    listed = _list_of_exit_items(params)
    if listed is not None:
        field, item = listed
        no_items: dict[str, Any] = {field: []}
        one_item: dict[str, Any] = {field: [item.model_construct(exit=PROBE_EXIT)]}
        empty = cls.exit_names(params.model_construct(**no_items))
        one = cls.exit_names(params.model_construct(**one_item))
        after = [e for e in one if e != PROBE_EXIT]
        return ExitRule(list_field=field, item_key="exit", after=after, when_empty=list(empty))
    choice = _choice_field(params)
    if choice is not None:
        field, values = choice
        chosen: list[dict[str, Any]] = [{field: v} for v in values]
        by_value = {str(v[field]): list(cls.exit_names(params.model_construct(**v))) for v in chosen}
        return ExitRule(switch_field=field, by_value=by_value)
    return None


def component_info(cls: type[NodeType[Any]]) -> ComponentInfo:
    return ComponentInfo(
        type=cls.type_name,
        title_en=cls.title_en,
        title_ru=cls.title_ru,
        description=cls.description,
        category=cls.category,
        icon=cls.type_name,
        exits=list(cls.exits),
        optional_exits=sorted(cls.optional_exits),
        exits_from_params="exit_names" in vars(cls),
        exit_rule=_exit_rule(cls),
        terminal=cls.terminal,
        waits_for_caller=cls.waits_for_caller,
        params_schema=add_russian_titles(cls.Params.model_json_schema()),
    )


def catalogue(registry: NodeRegistry | None = None) -> list[ComponentInfo]:
    reg = registry or builtin_registry()
    return [component_info(cls) for _name, cls in reg.items()]
