"""Ringing, bridging and holding, with their events in the call's stream.

The Transfer node and the ACD driver ring targets through `dial`, so every
leg of a call is reported the same way, from one place: a leg observer that
writes `leg_dialing`, `leg_ringing`, `leg_answered` and `leg_ended` the moment
the leg reaches each state (synchronously, so no event lands after the
call's `call_ended`). Legs cancelled because another one won end with
outcome `cancelled`, cause `answered_elsewhere`. When the far end (an
operator) puts the caller on hold and takes them off, `leg_held` and
`leg_unheld` (with `held_for`) are written the same way; a leg that ends
while holding gets its `leg_unheld` before its `leg_ended`.

Two answered legs of no caller's call (a callback) talk through `join`:
the backend that rang them joins their media (a SIP back-to-back relay);
the simulator's legs need nothing.

`dial` also picks the backend: the engine's `TargetRouter` says where the
target's phone lives; on the call's own backend the leg is the call's
(`Call.start_leg`), elsewhere it is originated there (`Backend.originate`)
and bridged across.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from flowengine.events.telephony import (
    BridgeEnded,
    BridgeStarted,
    CallHeld,
    CallUnheld,
    LegAnswered,
    LegDialing,
    LegEnded,
    LegHeld,
    LegRinging,
    LegUnheld,
)
from flowengine.events.types import RecordingMade
from flowengine.telephony.backend import LegJoin
from flowengine.telephony.call import BridgeResult, Recording
from flowengine.telephony.causes import TRANSFERRED
from flowengine.telephony.leg import Leg, LegChange, LegState, TransferRequest

if TYPE_CHECKING:
    from flowengine.events.types import CallEvent
    from flowengine.runtime.context import CallContext
    from flowengine.telephony.backend import TargetRouter

log = logging.getLogger("flowengine.telephony.dialing")

#: how events are written: `CallContext.emit` (the context stamps call id and time)
Emit = Callable[..., "CallEvent | None"]
#: what to do with an operator's request to hand the caller on, asked during
#: the conversation: True ends the bridge with the request in its result (the
#: caller of `bridge` carries it out); False means it was refused and the
#: conversation goes on
OnTransfer = Callable[[Leg, TransferRequest], bool]


def dial(
    ctx: CallContext,
    target: str,
    *,
    ring_timeout: float,
    node_id: str | None,
    operator_id: str | None = None,
    caller_id: str | None = None,
) -> Leg:
    """Start ringing `target` for the call of `ctx`; its events go to the call's stream."""
    call = ctx.call
    backend = ctx.engine.router.backend_for(target, prefer=call.backend)
    caller = call.caller if caller_id is None else caller_id
    if call.backend is None or backend is call.backend:
        leg = call.start_leg(
            target, ring_timeout=ring_timeout, caller_id=caller, caller_name=call.caller_name
        )
    else:
        leg = backend.originate(
            target, ring_timeout=ring_timeout, caller_id=caller, caller_name=call.caller_name
        )
    watch(leg, ctx.emit, node_id=node_id, operator_id=operator_id)
    return leg


def originate(
    router: TargetRouter,
    target: str,
    *,
    ring_timeout: float,
    caller_id: str,
    emit: Emit | None = None,
    node_id: str | None = None,
    operator_id: str | None = None,
) -> Leg:
    """Start ringing `target` for no caller's call (a callback) on the backend
    that owns it; with `emit`, its events are written there."""
    leg = router.backend_for(target).originate(target, ring_timeout=ring_timeout, caller_id=caller_id)
    if emit is not None:
        watch(leg, emit, node_id=node_id, operator_id=operator_id)
    return leg


async def join(router: TargetRouter, a: Leg, b: Leg, *, record: bool = False, name: str = "") -> LegJoin:
    """Let two answered legs of no caller's call hear each other (`a` the
    caller's side, `b` the operator's), on the backend whose legs they are;
    `LegJoin.stop` parts them. Legs no backend can join (rung on two
    different backends) are logged and left as they are: their signalling
    goes on, and hanging up still ends both."""
    for backend in router.backends:
        joined = await backend.join(a, b, record=record, name=name)
        if joined is not None:
            return joined
    log.warning("no backend can join the legs to %s and %s: they do not hear each other", a.target, b.target)
    return LegJoin()


def watch(leg: Leg, emit: Emit, *, node_id: str | None = None, operator_id: str | None = None) -> None:
    """Report `leg`'s life through `emit`, from now on (a state it already
    reached is reported at once)."""
    tags: dict[str, Any] = {
        "target": leg.target,
        "leg_id": leg.leg_id,
        "node_id": node_id,
        "operator_id": operator_id,
    }

    def observe(leg: Leg, state: LegChange) -> None:
        if state == "held":
            emit(LegHeld, **tags)
        elif state == "unheld":
            held_at = leg.held_at
            held_for = 0.0 if held_at is None else asyncio.get_running_loop().time() - held_at
            emit(LegUnheld, **tags, held_for=round(held_for, 3))
        elif state == "ringing":
            emit(LegRinging, **tags, early_media=leg.early_media)
        elif state == "answered":
            emit(LegAnswered, **tags, ring_time=round(leg.ring_time, 3))
        elif state == "ended":
            cause = leg.cause
            assert cause is not None
            talk = leg.talk_time
            emit(
                LegEnded,
                **tags,
                outcome=str(leg.outcome().result()),
                by=cause.by,
                cause=cause.cause,
                sip_status=cause.sip_status,
                q850=cause.q850,
                ring_time=round(leg.ring_time, 3),
                talk_time=None if talk is None else round(talk, 3),
            )

    emit(LegDialing, **tags)
    reached: list[LegState] = []
    if leg.ringing_at is not None:
        reached.append("ringing")
    if leg.answered_at is not None:
        reached.append("answered")
    if leg.ended().done():
        reached.append("ended")
    for state in reached:
        observe(leg, state)
    if leg.held and not leg.ended().done():
        observe(leg, "held")
    leg.observers.append(observe)


async def bridge(
    ctx: CallContext,
    leg: Leg,
    *,
    node_id: str | None,
    operator_id: str | None = None,
    record: bool = False,
    on_transfer: OnTransfer | None = None,
) -> BridgeResult:
    """`Call.bridge` with `bridge_started` / `bridge_ended` around it (also
    when a caller's hangup or a shutdown cuts the conversation short); a
    recorded conversation (`record`) adds `recording_made` at the node.

    While the far end holds the conversation the caller hears music on hold.
    When the far end asks to hand the caller on, `on_transfer` decides: a
    refused request (False) keeps the same conversation going (one
    `bridge_started` / `bridge_ended` pair, the talk time summed); an
    accepted one (True) ends the bridge with the request in
    `BridgeResult.transfer` and the leg still up. Without `on_transfer`
    every request is refused (``not_supported``)."""
    tags: dict[str, Any] = {
        "target": leg.target,
        "leg_id": leg.leg_id,
        "node_id": node_id,
        "operator_id": operator_id,
    }
    ctx.emit(BridgeStarted, **tags)
    started = ctx.elapsed()
    call = ctx.call

    def recorded(rec: Recording) -> None:
        if node_id is not None:
            ctx.emit(RecordingMade, node_id=node_id, uri=rec.uri, duration=rec.duration, reason=rec.reason)

    music = _HoldMusic(ctx, leg)
    talk = 0.0
    try:
        while True:
            result = await call.bridge(leg, record=record, on_recording=recorded)
            talk += result.talk_time
            request = result.transfer
            if request is None:
                break
            if on_transfer is not None and on_transfer(leg, request):
                break
            request.refuse("not_supported")  # (on_transfer refused it already: a no-op then)
            leg.transfer_rearm()
        await music.close()
    except BaseException as exc:
        music.abandon()
        if music.playing and call.active and not isinstance(exc, asyncio.CancelledError):
            await call.stop_music()
        cause = call.cause or leg.cause
        ctx.emit(
            BridgeEnded,
            **tags,
            talk_time=round(ctx.elapsed() - started, 3),
            ended_by=cause.by if cause is not None else "engine",
            cause=cause.cause if cause is not None else "cancelled",
        )
        raise
    result = replace(result, talk_time=round(talk, 3))
    if result.transfer is not None:
        ended = TRANSFERRED
    else:
        ended = str(result.cause) if result.cause is not None else "normal"
    ctx.emit(BridgeEnded, **tags, talk_time=result.talk_time, ended_by=result.ended_by, cause=ended)
    return result


class _HoldMusic:
    """Music on hold for the caller while the far end of a bridged leg holds
    the conversation (`Leg.held`): it follows the leg's "held" / "unheld"
    through the leg's observer and plays through the call's music API, in a
    named task of its own that ends with the bridge."""

    __slots__ = ("call", "call_id", "leg", "changed", "playing", "task")

    def __init__(self, ctx: CallContext, leg: Leg) -> None:
        self.call = ctx.call
        self.call_id = ctx.call_id
        self.leg = leg
        self.changed = asyncio.Event()
        self.playing = False
        #: started at the first hold (most conversations have none)
        self.task: asyncio.Task[None] | None = None
        leg.observers.append(self._observe)
        if leg.held:
            self._wake()

    def _observe(self, _leg: Leg, change: LegChange) -> None:
        if change in ("held", "unheld"):
            self._wake()

    def _wake(self) -> None:
        self.changed.set()
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self._follow(), name=f"hold-music:{self.call_id}")

    async def _follow(self) -> None:
        while True:
            await self.changed.wait()
            self.changed.clear()
            wanted = self.leg.held and self.leg.state == "answered" and self.call.active
            if wanted and not self.playing:
                self.playing = True
                await self.call.start_music()
            elif not wanted and self.playing:
                self.playing = False
                await self.call.stop_music()

    def abandon(self) -> None:
        """The bridge was cut short (the caller left, a shutdown): stop following."""
        if self.task is not None:
            self.task.cancel()
        if self._observe in self.leg.observers:
            self.leg.observers.remove(self._observe)

    async def close(self) -> None:
        """The conversation is over (or handed on): the music it started stops."""
        self.abandon()
        if self.playing and self.call.active:
            self.playing = False
            await self.call.stop_music()


async def hold(ctx: CallContext, node_id: str | None) -> None:
    """Put the caller on hold (signalling only; music is `start_music`), with `call_held`."""
    call = ctx.call
    if call.held or not call.active:
        return
    await call.hold()
    ctx.emit(CallHeld, node_id=node_id)


async def unhold(ctx: CallContext, node_id: str | None) -> None:
    call = ctx.call
    if not call.held:
        return
    await call.unhold()
    ctx.emit(CallUnheld, node_id=node_id)
