"""The backend contract, the router that finds the backend owning a target,
and the registry that finds backends by name.

A backend owns the transport (an in-process simulator, a SIP stack, an ARI or
ESL connection): it turns incoming calls into `Call` objects handed to
`Engine.start_call`, rings legs for those calls (`Call.start_leg`), and rings
legs that belong to no caller's call (`originate`: callbacks, later outbound
campaigns). The core never imports a backend: it asks `backend_class("sim")`,
which reads the ``flowengine.backends`` entry points (a third-party backend
installs its own) and falls back to the built-in table below.

Several backends may serve one engine (a SIP trunk and an ARI-driven PBX,
say). The engine's `TargetRouter` says which one a target lives on, so a leg
to operator 901 rings where 901's phone is registered.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, ClassVar

from flowengine.errors import UsageError

if TYPE_CHECKING:
    from flowengine.runtime.engine import Engine
    from flowengine.scenario.model import ScenarioDoc
    from flowengine.telephony.call import Recording
    from flowengine.telephony.leg import Leg

#: built-in backends, used when the package metadata is not installed
BUILTIN_BACKENDS = {
    "sim": "telephony_adapters.sim:SimBackend",
    "sip": "telephony_adapters.sip:SipBackend",
}

ENTRY_POINT_GROUP = "flowengine.backends"


class LegJoin:
    """Two answered legs of no caller's call talking to each other (a
    callback: the operator's phone and the caller's), as `Backend.join`
    made it. This one joins nothing: where the platform's legs need no
    joining (the simulator) or the join could not be made."""

    async def stop(self) -> Recording | None:
        """Part the two legs (their phones stay up: hanging up is the
        caller's business); the conversation's recording when one was made."""
        return None


class Backend(ABC):
    """One telephony backend serving one engine.

    Constructing it registers it with the engine's router (the first backend
    becomes the default). Subclasses implement `originate` and, when they
    can tell, `owns`; `start` / `stop` open and close the transport.
    """

    name: ClassVar[str] = "abstract"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        engine.router.add_backend(self)

    async def start(self) -> None:  # noqa: B027 (optional hook)
        """Open the transport and begin accepting calls."""

    async def stop(self) -> None:  # noqa: B027 (optional hook)
        """Stop accepting calls, end the live ones (cause `shutdown`, by
        `system`) and release the transport."""

    @abstractmethod
    def originate(
        self,
        target: str,
        *,
        ring_timeout: float,
        caller_id: str,
        caller_name: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Leg:
        """Start ringing `target` for a leg of no caller's call and return at
        once (SIP INVITE outside any dialog, ARI `POST /channels`, ESL
        `originate ... &park()`). The leg may later be bridged to a call of
        this backend."""

    async def join(self, a: Leg, b: Leg, *, record: bool = False, name: str = "") -> LegJoin | None:
        """Join the media of two answered legs that belong to no caller's call
        (a callback), both ways, until `LegJoin.stop`: `a` is the caller's side
        (the left channel of a `record`ed conversation), `b` the operator's;
        `name` names the recording (the call the callback is for). None when
        these legs are not this backend's to join."""
        return None

    def scenario_problems(self, doc: ScenarioDoc) -> list[str]:
        """What in `doc` this backend cannot do here (a Recognize node with no
        speech recogniser installed ...), one message per place; the engine
        refuses to publish a scenario with any, so it fails at load time,
        never in the middle of a call."""
        return []

    def owns(self, target: str) -> bool:
        """Does `target`'s phone live here (registered with this backend's
        registrar, in the simulator's directory)? The router asks it."""
        return False


class TargetRouter:
    """Which backend rings a target.

    In order: an exact route (`route`), the longest matching prefix route, the
    first backend that `owns` the target, the backend the caller's call is on
    (`prefer`), then the default backend.
    """

    def __init__(self) -> None:
        self._backends: list[Backend] = []
        self._exact: dict[str, Backend] = {}
        self._prefixes: list[tuple[str, Backend]] = []
        self.default: Backend | None = None

    def add_backend(self, backend: Backend, *, default: bool = False) -> None:
        if backend not in self._backends:
            self._backends.append(backend)
        if default or self.default is None:
            self.default = backend

    @property
    def backends(self) -> tuple[Backend, ...]:
        return tuple(self._backends)

    def route(self, target: str, backend: Backend, *, prefix: bool = False) -> None:
        """Send `target` (or every target starting with it) to `backend`."""
        self.add_backend(backend)
        if prefix:
            self._prefixes = sorted(
                [(p, b) for p, b in self._prefixes if p != target] + [(target, backend)],
                key=lambda item: -len(item[0]),
            )
        else:
            self._exact[target] = backend

    def backend_for(self, target: str, *, prefer: Backend | None = None) -> Backend:
        found = self._exact.get(target)
        if found is not None:
            return found
        for prefix, backend in self._prefixes:
            if target.startswith(prefix):
                return backend
        for backend in self._backends:
            if backend.owns(target):
                return backend
        chosen = prefer or self.default
        if chosen is None:
            raise UsageError(f"no telephony backend can ring '{target}' (none is attached)")
        return chosen


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
