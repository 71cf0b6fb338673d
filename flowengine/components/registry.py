"""The explicit registry of node types.

Registration is explicit (`@registry.register` in each module of `nodes/`,
imported by `nodes/__init__.py`, which `builtin_registry` loads by name); registering a type name twice is an error,
so two modules cannot silently shadow each other.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import TypeVar

from flowengine.components.node import NodeType
from flowengine.errors import RegistryError

N = TypeVar("N", bound=type[NodeType])


class NodeRegistry:
    def __init__(self) -> None:
        self._types: dict[str, type[NodeType]] = {}

    def register(self, cls: N) -> N:
        name = getattr(cls, "type_name", None)
        if not name:
            raise RegistryError(f"{cls.__name__} has no type_name")
        if name in self._types:
            raise RegistryError(
                f"node type '{name}' is already registered by {self._types[name].__name__}"
            )
        self._types[name] = cls
        return cls

    def unregister(self, name: str) -> None:
        self._types.pop(name, None)

    def get(self, name: str) -> type[NodeType] | None:
        return self._types.get(name)

    def __getitem__(self, name: str) -> type[NodeType]:
        cls = self._types.get(name)
        if cls is None:
            raise RegistryError(f"unknown node type '{name}'")
        return cls

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def names(self) -> list[str]:
        return sorted(self._types)

    def items(self) -> list[tuple[str, type[NodeType]]]:
        return sorted(self._types.items())


registry = NodeRegistry()


#: component packages loaded when no ``flowengine.components`` entry point says otherwise
BUILTIN_COMPONENT_PACKAGES = ("nodes",)

ENTRY_POINT_GROUP = "flowengine.components"


def builtin_registry() -> NodeRegistry:
    """The registry with every installed component package loaded.

    Packages register their types when imported; they are found by name (the
    ``flowengine.components`` entry points, else the built-in `nodes`), so the
    core does not import the catalogue it hosts.
    """
    global _loaded
    if not _loaded:
        names = [ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)]
        for name in names or BUILTIN_COMPONENT_PACKAGES:
            importlib.import_module(name)
        _loaded = True
    return registry


_loaded = False
