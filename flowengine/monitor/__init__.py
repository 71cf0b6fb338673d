"""Live monitoring: the supervisor's wallboard and live call traces, built
from the event streams alone (docs/monitor.md).

`Wallboard` folds events into operators' and queues' figures; `MonitorHub`
fans its deltas out to viewers with bounded queues (a slow viewer is resynced,
never waited for) and serves per-call traces; `alerts` watches for a silent
line, a low service level and long waits. No web framework here: the API
exposes these over WebSocket.
"""

from flowengine.monitor.hub import MonitorHub, Subscription, TraceSubscription
from flowengine.monitor.wallboard import QueueInfo, Wallboard, queue_infos

__all__ = ["MonitorHub", "QueueInfo", "Subscription", "TraceSubscription", "Wallboard", "queue_infos"]
