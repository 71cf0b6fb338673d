"""The JSON Schema integrators validate scenario documents against.

Generated from the same pydantic models the loader uses: the envelope
(`ScenarioDoc`) with `nodes` as a union discriminated by `type`, one variant
per registered node type carrying that type's `Params` schema, its titles in
English and Russian, and its exit names (`x-exits`). Adding a node type adds it
to the schema; nothing here is written by hand.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from flowengine.components.registry import NodeRegistry, builtin_registry
from flowengine.scenario.model import NODE_ID_PATTERN, UI, ScenarioDoc

SCHEMA_ID = "https://flowengine.dev/schema/scenario-1.json"


class _NodeBase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=NODE_ID_PATTERN)
    title: str | None = None
    exits: dict[str, str] = Field(default_factory=dict, description="exit name -> next node id")
    ui: UI = Field(default_factory=UI)


def _variant(type_name: str, cls: Any) -> type[BaseModel]:
    params_model = cls.Params
    required = any(f.is_required() for f in params_model.model_fields.values())
    exits = list(dict.fromkeys([*cls.exits, "error"]))
    namespace: dict[str, Any] = {
        "__annotations__": {"type": Literal[type_name], "params": params_model},
        "__doc__": cls.description or None,
        "__module__": __name__,
        "model_config": ConfigDict(
            extra="forbid",
            title=f"{cls.title_en} / {cls.title_ru}",
            json_schema_extra={
                "x-type": type_name,
                "x-title-en": cls.title_en,
                "x-title-ru": cls.title_ru,
                "x-exits": exits,
                "x-exits-from-params": "exit_names" in vars(cls),
                "x-waits-for-caller": cls.waits_for_caller,
            },
        ),
    }
    if not required:
        namespace["params"] = Field(default_factory=dict)
    return type(f"{cls.__name__}Doc", (_NodeBase,), namespace)


def scenario_json_schema(registry: NodeRegistry | None = None) -> dict[str, Any]:
    reg = registry or builtin_registry()
    variants = tuple(_variant(name, cls) for name, cls in reg.items())
    node_union = Annotated[Union[variants], Field(discriminator="type")]  # type: ignore[valid-type]  # noqa: UP007

    class Scenario(ScenarioDoc):
        model_config = ConfigDict(
            title="flowengine scenario",
            extra="forbid",
            populate_by_name=True,
        )
        nodes: list[node_union]  # type: ignore[valid-type]

    schema = TypeAdapter(Scenario).json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    schema["description"] = (
        "A call scenario: a flat list of nodes wired by named exits. "
        "Every node may also wire an 'error' exit."
    )
    return schema
