"""Live monitoring over WebSocket: the wallboard stream and live call traces
(docs/monitor.md for the messages).

    /api/v1/monitor/wallboard?token=T                 a snapshot, then deltas (resync when behind)
    /api/v1/monitor/calls/{call_id}/trace?token=T&from_seq=N   a live call's events

The token is the same session or API token as for the REST API, given as
`?token=` (browsers cannot set headers on a WebSocket) or as a bearer
header. Supervisors and admins see the whole board; an operator sees only
their own row and no call traces. A refused connection is closed with code
4401 (no or bad token) or 4403 (role too low), before any message.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any

import orjson
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from flowengine.api.auth import Principal, at_least

router = APIRouter(prefix="/api/v1/monitor")


async def _principal(ws: WebSocket) -> Principal | None:
    token = ws.query_params.get("token") or ""
    header = ws.headers.get("authorization") or ""
    if not token and header.lower().startswith("bearer "):
        token = header[7:].strip()
    found = ws.app.state.service.users.authenticate(token) if token else None
    if found is None:
        await ws.close(code=4401, reason="a valid token is needed (?token=...)")
    return found


#: the JSON of the last messages sent: one delta goes to every viewer, encoded once
_ENCODED: OrderedDict[int, tuple[Any, str]] = OrderedDict()


def _encoded(message: dict[str, Any]) -> str:
    key = id(message)
    found = _ENCODED.get(key)
    if found is not None and found[0] is message:
        return found[1]
    text = orjson.dumps(message, option=orjson.OPT_NON_STR_KEYS).decode()
    _ENCODED[key] = (message, text)  # the message is held, so its id is not reused while cached
    while len(_ENCODED) > 64:
        try:
            _ENCODED.popitem(last=False)
        except KeyError:  # another app's loop (a second server in this process) took it
            break
    return text


async def _send_all(ws: WebSocket, source: Any) -> None:
    """Send what `source` yields until the viewer leaves. The viewer's side is
    read all along, so a viewer who disconnects (or a server that stops) ends
    the subscription at once, not at the next message."""

    async def until_gone() -> None:
        try:
            while (await ws.receive())["type"] != "websocket.disconnect":
                pass
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            source.close()

    reader = asyncio.get_running_loop().create_task(until_gone(), name="wallboard-viewer-input")
    try:
        async for message in source:
            await ws.send_text(_encoded(message))
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass  # the viewer left
    finally:
        source.close()
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)


@router.websocket("/wallboard")
async def wallboard(ws: WebSocket) -> None:
    principal = await _principal(ws)
    if principal is None:
        return
    only = None
    if not at_least(principal.role, "supervisor"):
        mine = principal.operator_id

        def only(change: dict[str, Any]) -> bool:  # an operator: their own row only
            return change["kind"] == "operator" and change["id"] == mine

    await ws.accept()
    await _send_all(ws, ws.app.state.service.monitor.subscribe(only=only))


@router.websocket("/calls/{call_id}/trace")
async def call_trace(ws: WebSocket, call_id: str) -> None:
    principal = await _principal(ws)
    if principal is None:
        return
    if not at_least(principal.role, "supervisor"):
        await ws.close(code=4403, reason="call traces need the role 'supervisor' or higher")
        return
    try:
        from_seq = int(ws.query_params.get("from_seq") or 0)
    except ValueError:
        await ws.close(code=4400, reason="from_seq must be a whole number")
        return
    await ws.accept()
    await _send_all(ws, ws.app.state.service.monitor.trace(call_id, from_seq))
