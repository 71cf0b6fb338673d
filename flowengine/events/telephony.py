"""Telephony events: the call's answer, each leg it rang, bridges, blind
transfers and hold.

Like every event at a node, they carry the scenario and its version. Legs
are reported once per state they reach (`leg_dialing`, `leg_ringing`,
`leg_answered`, `leg_ended`), all with the same `leg_id`, so a report can
follow one attempt; a leg that never answered ends with its `outcome`
(busy, no_answer, rejected, failed, or cancelled: e.g. cause
`answered_elsewhere` when another leg won). Legs the ACD rings for a call
are in that call's stream, with `operator_id`. `by`, `cause`, `sip_status`
and `q850` are the leg's `HangupCause` (see docs/backends.md for the codes).
"""

from __future__ import annotations

from dataclasses import dataclass

from flowengine.events.types import NodeEvent, event


@event("call_answered")
@dataclass(frozen=True, slots=True, kw_only=True)
class CallAnswered(NodeEvent):
    """The engine answered the call; `ring_time` is how long it rang first."""

    node_id: str | None = None
    ring_time: float = 0.0


@event("leg_dialing")
@dataclass(frozen=True, slots=True, kw_only=True)
class LegDialing(NodeEvent):
    target: str
    leg_id: str = ""
    node_id: str | None = None
    operator_id: str | None = None


@event("leg_ringing")
@dataclass(frozen=True, slots=True, kw_only=True)
class LegRinging(NodeEvent):
    """The target is ringing (SIP 180; `early_media` for 183 with media)."""

    target: str
    leg_id: str = ""
    node_id: str | None = None
    operator_id: str | None = None
    early_media: bool = False


@event("leg_answered")
@dataclass(frozen=True, slots=True, kw_only=True)
class LegAnswered(NodeEvent):
    target: str
    leg_id: str = ""
    node_id: str | None = None
    operator_id: str | None = None
    ring_time: float = 0.0


@event("leg_ended")
@dataclass(frozen=True, slots=True, kw_only=True)
class LegEnded(NodeEvent):
    """A leg is over. `outcome` is how its ringing ended (answered for one that
    was answered, then ended later); `talk_time` is None if it never answered."""

    target: str
    outcome: str
    by: str
    cause: str
    leg_id: str = ""
    node_id: str | None = None
    operator_id: str | None = None
    sip_status: int | None = None
    q850: int | None = None
    ring_time: float = 0.0
    talk_time: float | None = None


@event("bridge_started")
@dataclass(frozen=True, slots=True, kw_only=True)
class BridgeStarted(NodeEvent):
    """The caller is connected with an answered leg (Transfer, Queue)."""

    target: str
    leg_id: str = ""
    node_id: str | None = None
    operator_id: str | None = None


@event("bridge_ended")
@dataclass(frozen=True, slots=True, kw_only=True)
class BridgeEnded(NodeEvent):
    """The conversation is over: `ended_by` is caller, callee or engine."""

    target: str
    talk_time: float
    ended_by: str
    cause: str
    leg_id: str = ""
    node_id: str | None = None
    operator_id: str | None = None


@event("transfer_accepted")
@dataclass(frozen=True, slots=True, kw_only=True)
class TransferAccepted(NodeEvent):
    """The far end took a blind transfer request (SIP 202); the result follows."""

    target: str
    node_id: str | None = None


@event("transfer_completed")
@dataclass(frozen=True, slots=True, kw_only=True)
class TransferCompleted(NodeEvent):
    """A blind transfer succeeded (NOTIFY 2xx): the call is no longer ours."""

    target: str
    node_id: str | None = None
    sip_status: int | None = None


@event("transfer_failed")
@dataclass(frozen=True, slots=True, kw_only=True)
class TransferFailed(NodeEvent):
    """A blind transfer did not happen: `reason` is refused, failed, timeout or
    hangup; the caller is still on the line (unless the reason is hangup)."""

    target: str
    reason: str
    node_id: str | None = None
    sip_status: int | None = None


@event("call_held")
@dataclass(frozen=True, slots=True, kw_only=True)
class CallHeld(NodeEvent):
    node_id: str | None = None


@event("call_unheld")
@dataclass(frozen=True, slots=True, kw_only=True)
class CallUnheld(NodeEvent):
    node_id: str | None = None


# ---- what the operator does in the conversation (their phone or their desk) ----------------------
@event("leg_held")
@dataclass(frozen=True, slots=True, kw_only=True)
class LegHeld(NodeEvent):
    """The far end of a bridged leg (an operator) put the caller on hold
    (SIP re-INVITE sendonly/inactive, the desk's hold button)."""

    target: str
    leg_id: str = ""
    node_id: str | None = None
    operator_id: str | None = None


@event("leg_unheld")
@dataclass(frozen=True, slots=True, kw_only=True)
class LegUnheld(NodeEvent):
    """The hold is over (taken off, or the leg ended while holding);
    `held_for` is its length in seconds, what the operator report sums."""

    target: str
    held_for: float
    leg_id: str = ""
    node_id: str | None = None
    operator_id: str | None = None


@event("operator_transfer_requested")
@dataclass(frozen=True, slots=True, kw_only=True)
class OperatorTransferRequested(NodeEvent):
    """The operator in conversation asked to hand the caller to `target`
    (an operator's id or extension, a queue id, or a number). Either
    `operator_transfer_refused` or `operator_transfer_ended` follows."""

    operator_id: str | None
    target: str
    leg_id: str = ""
    node_id: str | None = None


@event("operator_transfer_refused")
@dataclass(frozen=True, slots=True, kw_only=True)
class OperatorTransferRefused(NodeEvent):
    """The engine did not take the request, and the conversation went on:
    `reason` is unknown_target, dial_blocked, pending, not_in_call or hangup."""

    operator_id: str | None
    target: str
    reason: str
    node_id: str | None = None


@event("operator_transfer_ended")
@dataclass(frozen=True, slots=True, kw_only=True)
class OperatorTransferEnded(NodeEvent):
    """What became of an accepted operator transfer. `kind` is operator,
    queue or number; `outcome` is answered (someone took the caller),
    busy, no_answer, rejected, failed or hangup (the caller left first);
    `to_operator_id` is the operator who answered, when one did."""

    operator_id: str | None
    target: str
    kind: str
    outcome: str
    node_id: str | None = None
    to_operator_id: str | None = None
