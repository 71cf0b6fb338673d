"""The SIP backend inside `flowengine serve` (``--sip HOST:PORT``).

It runs in the service's process beside the simulator, on the service's
engine: a SIP call is routed by the stored routing table exactly like a
test call, its events go to the same database (trace, CDR), the wallboard
and `/metrics`, and it is listed among the live calls while it lasts. The
simulator stays the engine's default backend, so the centre's virtual
operators still answer queue calls.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import TYPE_CHECKING, Any

from flowengine.errors import FlowEngineError, UsageError
from flowengine.telephony.backend import create_backend

if TYPE_CHECKING:
    from flowengine.api.service import Service

log = logging.getLogger("flowengine.api.sip")


async def start_sip(service: Service) -> Any:
    """Start the SIP backend when the settings ask for it (None otherwise)."""
    s = service.settings
    listen = getattr(s, "sip", None)
    if not listen:
        return None
    try:
        config = dict(getattr(s, "sip_settings", None) or {})
        config.setdefault("cache_dir", str(s.data_dir / "cache"))  # said prompts, beside the database
        backend: Any = create_backend("sip", service.engine, config=config, listen=listen)
    except UsageError as exc:
        raise FlowEngineError(str(exc)) from None
    backend.call_listeners.append(lambda call, task: _track(service, call, task))
    # operators' phones on the wallboard (registered or not, how many contacts)
    backend.phones.phone_listeners.append(
        lambda p: service.monitor.phone_changed(
            p.operator_id, registered=p.registered, bindings=p.bindings, user_agent=p.user_agent
        )
    )
    try:
        await backend.start()
    except OSError as exc:
        raise FlowEngineError(f"--sip {listen}: cannot listen there ({exc.strerror or exc})") from None
    host, port = backend.address
    log.info("SIP listening on %s:%s", host, port)
    settle_heap()
    return backend


def settle_heap() -> None:
    """Move everything alive after start-up (modules, the engine, scenarios)
    out of the collector's reach: a full collection then scans only what calls
    create, so it no longer stalls the 20 ms RTP clock for tens of ms
    (measured by bench/sip_load.py)."""
    gc.collect()
    gc.freeze()


def _track(service: Service, call: Any, task: asyncio.Task[Any]) -> None:
    """A SIP call is a live call until its task ends."""
    call_id = task.get_name().removeprefix("call:")
    service.live[call_id] = (call, task)
    task.add_done_callback(lambda _t: service.live.pop(call_id, None))
