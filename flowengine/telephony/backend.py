"""The backend contract, and the registry that finds backends by name.

A backend owns the transport (an in-process simulator, a SIP stack, an ARI or
ESL connection): it turns incoming calls into `Call` objects handed to
`Engine.start_call`, and rings outgoing legs. The core never imports a
backend: it asks `backend_class("sim")`, which reads the
``flowengine.backends`` entry points (a third-party backend installs its own)
and falls back to the built-in table below.
"""

from __future__ import annotations

import importlib
from abc import ABC
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, ClassVar

from flowengine.errors import UsageError

if TYPE_CHECKING:
    from flowengine.runtime.engine import Engine

#: built-in backends, used when the package metadata is not installed
BUILTIN_BACKENDS = {"sim": "telephony_adapters.sim:SimBackend"}

ENTRY_POINT_GROUP = "flowengine.backends"


class Backend(ABC):  # noqa: B024 (start and stop are optional hooks)
    """One telephony backend serving one engine."""

    name: ClassVar[str] = "abstract"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def start(self) -> None:  # noqa: B027
        """Open the transport and begin accepting calls."""

    async def stop(self) -> None:  # noqa: B027
        """Stop accepting calls and release the transport."""


def _builtin_target(name: str) -> str | None:
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == name:
            return str(ep.value)
    return BUILTIN_BACKENDS.get(name)


def backend_class(name: str) -> type[Backend]:
    """The backend class registered under `name` ("sim", "sip", ...)."""
    target = _builtin_target(name)
    if target is None:
        known = sorted({*BUILTIN_BACKENDS, *(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))})
        raise UsageError(f"unknown telephony backend '{name}' (known: {', '.join(known)})")
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(
            f"telephony backend '{name}' cannot be imported ({exc}); "
            f"install it, e.g. pip install 'flowengine[{name}]'"
        ) from exc
    cls = getattr(module, attr, None)
    if not (isinstance(cls, type) and issubclass(cls, Backend)):
        raise UsageError(f"telephony backend '{name}' ({target}) is not a Backend class")
    return cls


def create_backend(name: str, engine: Engine, **options: Any) -> Backend:
    """An instance of the backend `name` for `engine`."""
    return backend_class(name)(engine, **options)
