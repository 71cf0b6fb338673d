"""Virtual phones: how a rung number behaves on a scriptable backend.

A test or a simulation says "901 answers after 3 s and talks for a minute,
902 is busy, 903 never picks up"; the simulator backend rings such phones.
The description is backend-independent data, so test cases and the traffic
simulation can carry it without importing a backend.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flowengine.acd.model import Centre


@dataclass
class VirtualPhone:
    """A phone the simulator can ring (a virtual operator's desk phone or mobile).

    `answer_after` None never answers; `busy` answers every ring with busy,
    `reject` declines it. Talk time is `talk_time` seconds from the answer,
    or drawn from an exponential distribution with that mean when
    `exponential_talk` is set (the backend's seeded generator, so runs repeat);
    then the phone hangs up. While on a call the phone is busy for any other
    ring. `cancel_lag` is how long a CANCEL takes to reach the phone: an
    answer within it crosses the CANCEL on the wire, as happens on real SIP.

    Once it answered, the phone may act like an operator in conversation:
    put the caller on hold (`hold_share` of its calls) and hand the caller on
    (`transfer_share`), each once per call at its time into the conversation,
    if the conversation lasts that long. The shares are drawn from the
    backend's seeded generator (only when above 0, so phones without them
    draw exactly what they drew before).
    """

    answer_after: float | None = 2.0
    talk_time: float = 60.0
    busy: bool = False
    reject: bool = False
    exponential_talk: bool = False
    cancel_lag: float = 0.0
    #: a share (0..1) of answered calls put on hold `hold_after` s into the
    #: conversation for `hold_for` s (the centre file's ``sim.hold``)
    hold_share: float = 0.0
    hold_after: float = 10.0
    hold_for: float = 20.0
    #: a share (0..1) of answered calls handed on to `transfer_to`
    #: `transfer_after` s into the conversation (the centre file's ``sim.transfer``)
    transfer_share: float = 0.0
    transfer_after: float = 30.0
    transfer_to: str | None = None


def virtual_operators(
    centre: Centre,
    *,
    answer_after: float | None = 3.0,
    talk_time: float = 60.0,
    exponential: bool = False,
    phones: Mapping[str, VirtualPhone] | None = None,
) -> dict[str, VirtualPhone]:
    """A phone for every target of every operator of `centre` (desk phone and
    mobile alike), all answering after `answer_after` s and talking `talk_time`
    s (drawn from an exponential distribution with that mean when
    `exponential`); `phones` overrides single targets."""
    directory: dict[str, VirtualPhone] = {}
    for op in centre.operators:
        acts: dict[str, Any] = {}
        hold = op.sim.hold if op.sim is not None else None
        transfer = op.sim.transfer if op.sim is not None else None
        if hold is not None:
            acts.update(hold_share=hold.share, hold_after=hold.after, hold_for=hold.seconds)
        if transfer is not None:
            acts.update(transfer_share=transfer.share, transfer_after=transfer.after, transfer_to=transfer.to)
        for target in op.targets:
            directory[target.number] = VirtualPhone(
                answer_after=answer_after, talk_time=talk_time, exponential_talk=exponential, **acts
            )
    directory.update(phones or {})
    return directory
