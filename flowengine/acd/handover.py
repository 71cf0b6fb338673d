"""An operator hands the caller on (the operator's transfer).

An operator talking with a caller — a Queue node's conversation, or a
Transfer node's to an operator, a department or a number — may ask to hand
the caller to someone else, from their phone (SIP REFER) or their desk
(`Leg.transfer_received`). This module is the one place that answers such a
request, for every node that bridges a caller with an operator:

* `talk` bridges the caller with the leg (`dialing.bridge`) and judges each
  request as it comes (`resolve`): an operator of the centre (by id or
  extension), a queue of the centre, or else a number the centre's dial
  policy allows. A request it cannot take is refused (`unknown_target`,
  `dial_blocked`) and the conversation goes on; an accepted one releases the
  operator's leg (their conversation is over: the ACD starts their wrap-up).
* `hand_on` then takes the caller there, reusing what the nodes use: an
  operator rings through the ACD's private queue, as Transfer ``to:
  operator`` does (the ACD knows they are busy, they get wrap-up); a queue
  takes the caller as a Queue node would (music on hold, the queue's own
  strategy, limits and overflow; no announcements); a number rings as a
  Transfer's number does. Whoever answers talks with the caller through
  `talk` again, so they may hand the caller on in turn (a loop, not a
  recursion: a caller may be handed on any number of times).

What became of the transfer is `operator_transfer_ended` (answered, busy,
no_answer, rejected, failed, hangup) and `TransferRequest.finish` (SIP
NOTIFY). When it fails the caller is back with the node, which leaves by
its usual exit after a conversation ("answered").

The desk finds the leg an operator is talking on through `operator_leg`:
`talk` registers it in the engine while the conversation lasts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from flowengine.acd import decisions as d
from flowengine.acd.model import HandOverSettings
from flowengine.events.telephony import (
    OperatorTransferEnded,
    OperatorTransferRefused,
    OperatorTransferRequested,
)
from flowengine.telephony import DialOutcome, Leg, dialing
from flowengine.telephony.call import BridgeResult
from flowengine.telephony.causes import CANCELLED, TRANSFERRED
from flowengine.telephony.dialpolicy import check_number
from flowengine.telephony.leg import TransferRequest

if TYPE_CHECKING:
    from flowengine.acd.driver import AcdDriver
    from flowengine.runtime.context import CallContext
    from flowengine.runtime.engine import Engine

log = logging.getLogger("flowengine.acd")

#: the longest target shown in an event (a phone may send anything)
SHOWN_TARGET = 64

#: where the engine keeps, per operator id, the leg they are talking on (`operator_leg`)
_LEGS = "operator_legs"

Kind = Literal["operator", "queue", "number"]


@dataclass(frozen=True, slots=True)
class Destination:
    """Where an operator asked the caller to go: `ref` is the operator's id,
    the queue's id or the number."""

    kind: Kind
    ref: str


@dataclass(frozen=True, slots=True)
class Handover:
    """An accepted request: the operator's leg is released; the caller goes on to `destination`."""

    request: TransferRequest
    destination: Destination
    #: the operator who handed the caller on (None for a leg that is nobody's)
    operator_id: str | None


def resolve(driver: AcdDriver | None, target: str) -> Destination | str:
    """Where `target` leads, or why the engine refuses it (``unknown_target``,
    ``dial_blocked``). An operator's id or extension and a queue id need a
    centre; a number must pass the centre's dial policy, as a number an
    operator gives is as much a computed destination as one a caller typed
    (without a centre nothing vouches for it)."""
    target = target.strip()
    if not target:
        return "unknown_target"
    if driver is not None:
        centre = driver.centre
        for op in centre.operators:
            if op.id == target or op.extension == target:
                return Destination("operator", op.id)
        if any(q.id == target for q in centre.queues):
            return Destination("queue", target)
    if not check_number(target).allowed:
        return "unknown_target"
    if driver is None or not driver.centre.dial_rules.check(target).allowed:
        return "dial_blocked"
    return Destination("number", target)


@dataclass(frozen=True, slots=True)
class OperatorLeg:
    """The leg an operator is talking to a caller on, and the caller's call."""

    call_id: str
    leg: Leg


def operator_leg(engine: Engine, operator_id: str) -> OperatorLeg | None:
    """What `operator_id` is talking on now, if anything (the desk's hold and
    transfer act on it): on any backend, in any node that bridges operators."""
    legs: dict[str, OperatorLeg] = engine.services.get(_LEGS) or {}
    found = legs.get(operator_id)
    return found if found is not None and found.leg.state == "answered" else None


def _shown(target: str) -> str:
    return target if len(target) <= SHOWN_TARGET else target[: SHOWN_TARGET - 1] + "…"


def _driver(ctx: CallContext) -> AcdDriver | None:
    from flowengine.acd.driver import attached_driver  # (the driver imports this module)

    return attached_driver(ctx)


async def talk(
    ctx: CallContext, leg: Leg, *, node_id: str, operator_id: str | None, record: bool = False
) -> tuple[BridgeResult, Handover | None]:
    """The conversation of the caller with `leg` until either hangs up, or
    the far end hands the caller on (then the leg is released and the
    accepted request returned: carry it out with `hand_on`)."""
    driver = _driver(ctx)
    accepted: list[Handover] = []

    def on_transfer(leg: Leg, request: TransferRequest) -> bool:
        shown = _shown(request.target)
        ctx.emit(OperatorTransferRequested, operator_id=operator_id, target=shown, leg_id=leg.leg_id, node_id=node_id)
        found = resolve(driver, request.target)
        if isinstance(found, str):
            ctx.emit(OperatorTransferRefused, operator_id=operator_id, target=shown, reason=found, node_id=node_id)
            request.refuse(found)
            return False
        request.accept(found.kind)
        accepted.append(Handover(request, found, operator_id))
        return True

    legs: dict[str, OperatorLeg] = ctx.engine.services.setdefault(_LEGS, {})
    mine = OperatorLeg(ctx.call_id, leg)
    if operator_id is not None:
        legs[operator_id] = mine
    try:
        result = await dialing.bridge(
            ctx, leg, node_id=node_id, operator_id=operator_id, record=record, on_transfer=on_transfer
        )
    finally:
        if operator_id is not None and legs.get(operator_id) is mine:
            del legs[operator_id]
    if not accepted:
        return result, None
    leg.hangup(TRANSFERRED)  # the operator is done with this caller
    return result, accepted[0]


async def hand_on(ctx: CallContext, handover: Handover | None, *, node_id: str, record: bool = False) -> None:
    """Carry out `handover`, and every further one made by whoever takes the
    caller, until a conversation ends without one or a transfer fails."""
    while handover is not None:
        handover = await _carry_out(ctx, handover, node_id=node_id, record=record)


Report = Callable[[str, "str | None"], None]


async def _carry_out(ctx: CallContext, h: Handover, *, node_id: str, record: bool) -> Handover | None:
    reported = False

    def report(outcome: str, to_operator: str | None = None) -> None:
        nonlocal reported
        reported = True
        ctx.emit(
            OperatorTransferEnded,
            operator_id=h.operator_id,
            target=_shown(h.request.target),
            kind=h.destination.kind,
            outcome=outcome,
            node_id=node_id,
            to_operator_id=to_operator,
        )
        h.request.finish(outcome == "answered", outcome)

    try:
        if h.destination.kind == "number":
            return await _ring_number(ctx, h, report, node_id=node_id, record=record)
        return await _through_acd(ctx, h, report, node_id=node_id, record=record)
    finally:
        if not reported:  # the caller hung up (the node is cancelled), or a shutdown
            report("hangup" if not ctx.call.active else "failed")


async def _through_acd(ctx: CallContext, h: Handover, report: Report, *, node_id: str, record: bool) -> Handover | None:
    driver = _driver(ctx)
    if driver is None:  # the centre went away meanwhile
        report("failed", None)
        return None
    options: dict[str, object] = {}
    call = ctx.call
    try:
        if h.destination.kind == "operator":
            queue_id = driver.operator_queue(h.destination.ref)
            timing = driver.centre.hand_over
            options = {
                "ring_timeout": timing.ring_timeout,
                "max_wait": timing.max_wait,
                "max_total_wait": timing.max_wait,
                "max_rounds": 1,
                "no_operators": "busy",
            }
        else:
            queue_id = driver.queue_spec(h.destination.ref).id
    except Exception:  # the centre changed since the request was taken: this transfer fails
        log.warning("call %s: %s '%s' is gone", ctx.call_id, h.destination.kind, h.destination.ref)
        report("failed", None)
        return None
    await call.start_music()
    session = driver.enter(ctx, node_id, queue_id, **options)
    session.record = record
    try:
        while True:
            await session.wait()
            decision = session.mailbox.popleft()
            if isinstance(decision, d.Connected):
                report("answered", decision.operator_id)
                return await driver.talk(session, decision)
            if isinstance(decision, d.Announce):
                continue
            if isinstance(decision, d.NoOperators | d.QueueFull):
                report("busy", None)
            elif isinstance(decision, d.NoAnswer) and session.misses:
                report(session.misses[-1], None)
            else:
                report("no_answer", None)  # MaxWaitReached
            return None
    finally:
        driver.leave(session)
        if call.active:
            await call.stop_music()


async def _ring_number(ctx: CallContext, h: Handover, report: Report, *, node_id: str, record: bool) -> Handover | None:
    number = h.destination.ref
    driver = _driver(ctx)
    operator_id = driver.operator_at(number) if driver is not None else None
    ring_timeout = driver.centre.hand_over.ring_timeout if driver is not None else HandOverSettings().ring_timeout
    call = ctx.call
    await call.start_music()
    try:
        try:
            leg = dialing.dial(ctx, number, ring_timeout=ring_timeout, node_id=node_id, operator_id=operator_id)
        except Exception:  # a broken target fails this transfer, not the call
            log.exception("cannot ring %s for call %s", number, ctx.call_id)
            report("failed", None)
            return None
        try:
            await asyncio.wait((leg.outcome(),))
        except BaseException:
            leg.hangup(CANCELLED)  # the caller left (or a shutdown): stop ringing, or release an answer
            raise
    finally:
        if call.active:
            await call.stop_music()
    outcome = leg.outcome().result()
    if outcome is not DialOutcome.ANSWERED:
        report("failed" if outcome is DialOutcome.CANCELLED else str(outcome), None)
        return None
    report("answered", operator_id)
    with driver.engaged(number, operator_id) if driver is not None else nullcontext():
        _result, handover = await talk(ctx, leg, node_id=node_id, operator_id=operator_id, record=record)
    return handover
