"""ACD decisions as Asterisk ``queue_log`` lines.

Existing queue report tools (Asterisk's own, QueueMetrics, Wazo's stats, many
home-grown SQL reports) read ``/var/log/asterisk/queue_log``, one event per
line::

    epoch|callid|queuename|agent|event|data1|data2|data3

`QueueLogWriter` turns the decisions the core returns (with the ``now`` of
the input that produced them) into such lines. Mapping:

=========================  ====================================================
decision                   line (data fields)
=========================  ====================================================
`Queued`                   ``ENTERQUEUE|url|callerid`` (url empty), agent NONE
`Connected`                ``CONNECT|holdtime|bridged-id|ringtime``
`Completed`                ``COMPLETECALLER`` / ``COMPLETEAGENT|holdtime|calltime|origposition``
`Abandoned`                ``ABANDON|position|origposition|waittime``
`MaxWaitReached`,          ``EXITWITHTIMEOUT|position|origposition|waittime``
`NoAnswer`
`NoOperators`              ``EXITEMPTY|position|origposition|waittime`` when it
                           removes a waiting caller; ``JOINEMPTY`` at entry
`QueueFull`                ``FULL``
`OfferMissed`              ``RINGNOANSWER|ringtime-ms``
`StopRinging` (abandoned)  ``RINGCANCELED|ringtime-ms``
`Overflow`                 ``EXITWITHTIMEOUT`` in the old queue, then
                           ``ENTERQUEUE`` in the new one
`CallbackRegistered`       ``CALLBACK|position|callerid`` (not an Asterisk event;
                           tools that do not know it skip it)
`OperatorStatusChanged`    ``PAUSEALL|reason`` / ``UNPAUSEALL|reason``, queue NONE
=========================  ====================================================

``JOINEMPTY`` and ``FULL`` are the names Wazo uses for the refusals Asterisk
only reports through the dialplan. Times in data fields are whole seconds
(ring times in milliseconds, as Asterisk writes them). The writer keeps a
little state (callers, ring start times), so feed it every decision in order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flowengine.acd import decisions as d

__all__ = ["QueueLogWriter", "format_line"]

NONE = "NONE"


def _field(v: object) -> str:
    s = "" if v is None else str(v)
    return s.replace("|", "_").replace("\n", " ").replace("\r", " ")


def format_line(
    epoch: float, callid: str, queue: str, agent: str, event: str, *data: object
) -> str:
    """One queue_log line; '|' and newlines inside fields are replaced."""
    parts = [str(int(epoch)), _field(callid), _field(queue), _field(agent), event]
    parts.extend(_field(x) for x in data)
    return "|".join(parts)


def _secs(x: float) -> int:
    return int(round(x))


def _exit_line(
    t: float,
    x: d.Abandoned | d.MaxWaitReached | d.NoAnswer | d.NoOperators | d.Overflow,
    queue: str,
    event: str,
) -> str:
    """A caller leaving `queue`: ``event|position|origposition|waittime``."""
    return format_line(t, x.call_id, queue, NONE, event, x.position, x.orig_position, _secs(x.wait))


class QueueLogWriter:
    """Stateful formatter: ``lines(now, decisions) -> list[str]``.

    `agent` maps an operator id to the agent field (default ``Agent/<id>``);
    `epoch_offset` is added to ``now`` (e.g. to turn a simulated clock that
    starts at 0 into UNIX time).
    """

    def __init__(
        self,
        agent: Callable[[str], str] | None = None,
        epoch_offset: float = 0.0,
    ) -> None:
        self.agent = agent or (lambda op: f"Agent/{op}")
        self.epoch_offset = epoch_offset
        self._caller: dict[str, str] = {}
        self._queue: dict[str, str] = {}
        self._ring_start: dict[tuple[str, str], float] = {}

    def lines(self, now: float, decisions: Iterable[d.Decision]) -> list[str]:
        out: list[str] = []
        for x in decisions:
            out.extend(self._one(now, x))
        return out

    def _one(self, now: float, x: d.Decision) -> list[str]:
        t = now + self.epoch_offset
        ag = self.agent
        if isinstance(x, d.Queued):
            self._caller[x.call_id] = x.caller
            self._queue[x.call_id] = x.queue_id
            return [format_line(t, x.call_id, x.queue_id, NONE, "ENTERQUEUE", "", x.caller)]
        if isinstance(x, d.Ring | d.CallbackDue):
            self._ring_start.setdefault((x.call_id, x.operator_id), now)
            return []
        if isinstance(x, d.OfferMissed):
            start = self._ring_start.pop((x.call_id, x.operator_id), now - x.ring_time)
            ms = int(round((now - start) * 1000))
            return [format_line(t, x.call_id, x.queue_id, ag(x.operator_id), "RINGNOANSWER", ms)]
        if isinstance(x, d.StopRinging):
            begun = self._ring_start.pop((x.call_id, x.operator_id), None)
            if x.reason == "abandoned" and begun is not None:
                q = self._queue.get(x.call_id, NONE)
                ms = int(round((now - begun) * 1000))
                return [format_line(t, x.call_id, q, ag(x.operator_id), "RINGCANCELED", ms)]
            return []
        if isinstance(x, d.Connected):
            self._ring_start.pop((x.call_id, x.operator_id), None)
            return [
                format_line(
                    t,
                    x.call_id,
                    x.queue_id,
                    ag(x.operator_id),
                    "CONNECT",
                    _secs(x.wait),
                    f"{x.call_id}-{x.operator_id}",
                    _secs(x.ring_time),
                )
            ]
        if isinstance(x, d.Completed):
            self._forget(x.call_id)
            event = "COMPLETEAGENT" if x.by == "agent" else "COMPLETECALLER"
            return [
                format_line(
                    t,
                    x.call_id,
                    x.queue_id,
                    ag(x.operator_id),
                    event,
                    _secs(x.wait),
                    _secs(x.talk_time),
                    x.orig_position,
                )
            ]
        if isinstance(x, d.Abandoned):
            self._forget(x.call_id)
            return [_exit_line(t, x, x.queue_id, "ABANDON")]
        if isinstance(x, d.MaxWaitReached | d.NoAnswer):
            self._forget(x.call_id)
            return [_exit_line(t, x, x.queue_id, "EXITWITHTIMEOUT")]
        if isinstance(x, d.NoOperators):
            self._forget(x.call_id)
            if x.position:
                return [_exit_line(t, x, x.queue_id, "EXITEMPTY")]
            return [format_line(t, x.call_id, x.queue_id, NONE, "JOINEMPTY")]
        if isinstance(x, d.QueueFull):
            return [format_line(t, x.call_id, x.queue_id, NONE, "FULL")]
        if isinstance(x, d.Overflow):
            caller = self._caller.get(x.call_id, "")
            self._queue[x.call_id] = x.to_queue
            return [
                _exit_line(t, x, x.from_queue, "EXITWITHTIMEOUT"),
                format_line(t, x.call_id, x.to_queue, NONE, "ENTERQUEUE", "", caller),
            ]
        if isinstance(x, d.CallbackRegistered):
            return [format_line(t, x.call_id, x.queue_id, NONE, "CALLBACK", x.position, x.caller)]
        if isinstance(x, d.OperatorStatusChanged):
            event = "UNPAUSEALL" if x.available else "PAUSEALL"
            reason = x.reason or x.status
            return [format_line(t, NONE, NONE, ag(x.operator_id), event, reason)]
        return []

    def _forget(self, call_id: str) -> None:
        self._caller.pop(call_id, None)
        self._queue.pop(call_id, None)
