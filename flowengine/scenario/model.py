"""The scenario document (schema 1), as integrators write it.

A flat list of nodes `{id, type, params, exits, ui}`; declared variables with
defaults; numbers the scenario serves (an import convenience: routing lives
in `routing.py`, and the store numbers versions, not `version`); settings
(step limit, repeat guard, scenario-level error handler). Entry points are
the Start nodes: one with `entry: "main"`, optionally one with
`entry: "after_hangup"`.

`params` stays a plain dict here: each node type validates its own params
(see `loader.py`), which keeps this envelope independent of the registry and
keeps the dump lossless. `flowengine.scenario.schema` builds the integrators'
JSON Schema with per-type params from the same models.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from flowengine.components.fields import IDENT_PATTERN
from flowengine.expr import limits

CURRENT_SCHEMA = 1
NODE_ID_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}$"

Scalar = str | int | float | bool | None


class UI(BaseModel):
    """Editor layout; extra keys (size, colour, notes) are kept as they are."""

    model_config = ConfigDict(extra="allow")
    x: float = 0
    y: float = 0


class NodeDoc(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=NODE_ID_PATTERN, description="Unique within the scenario")
    type: str = Field(min_length=1, description="Registered node type, e.g. menu")
    title: str | None = Field(default=None, description="Label shown in the editor")
    params: dict[str, Any] = Field(default_factory=dict)
    exits: dict[str, str] = Field(
        default_factory=dict, description="exit name -> id of the next node"
    )
    ui: UI = Field(default_factory=UI)


class VariableDoc(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=IDENT_PATTERN, max_length=64)
    default: Scalar = None
    description: str = ""

    @field_validator("default")
    @classmethod
    def _within_limits(cls, value: Scalar) -> Scalar:
        """A default is a value of the expression language, so its limits apply."""
        if isinstance(value, str) and len(value) > limits.MAX_STRING_LENGTH:
            raise ValueError(f"text of {len(value)} characters is too long (the limit is {limits.MAX_STRING_LENGTH})")
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > limits.MAX_INT:
            raise ValueError(f"number out of range (whole numbers stay within ±{limits.MAX_INT})")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("number out of range (decimals must be finite)")
        return value


class SettingsDoc(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_steps: int = Field(default=1000, ge=1, le=1_000_000)
    max_node_visits: int = Field(
        default=100, ge=1, le=1_000_000, description="repeat guard: visits of one node per call"
    )
    error_handler: str | None = Field(
        default=None, description="node entered when a node fails and has no error exit"
    )
    max_call_duration: float = Field(
        default=14_400,
        gt=0,
        le=7 * 86_400,
        allow_inf_nan=False,
        description="seconds a call may last; the engine then ends it with cause max_duration (default 4 h)",
    )


class ScenarioDoc(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    schema_version: int = Field(alias="schema", ge=1, description="document format version")
    id: str = Field(pattern=NODE_ID_PATTERN, description="scenario id, used by Subscenario")
    name: str = ""
    version: int = Field(
        default=1,
        ge=1,
        description="the version the scenario store gave it; ignored on publish (the store numbers versions)",
    )
    description: str = ""
    timezone: str = "UTC"
    language: str = "en"
    numbers: list[str] = Field(
        default_factory=list,
        description="called numbers it serves (normalised); bound on publish where free, see docs/routing.md",
    )
    variables: list[VariableDoc] = Field(default_factory=list)
    settings: SettingsDoc = Field(default_factory=SettingsDoc)
    nodes: list[NodeDoc]

    def dump(self) -> dict[str, Any]:
        """The document as JSON-ready data, keys as the integrator wrote them."""
        return self.model_dump(by_alias=True, exclude_unset=True, mode="json")
