"""Alerts a supervisor must not miss, raised once and cleared when the condition ends.

* **line silent** — no call arrived on a line for `silent_minutes` during the
  line's working hours (half an hour of silence on a busy trunk usually means
  the trunk is broken, not that nobody calls);
* **service level low** — a queue answered fewer calls within its threshold
  than its target, over the last `window_minutes` (with at least `min_calls`
  calls in the window, so one early abandon raises nothing);
* **long wait** — a call in a queue has waited longer than `seconds`.

`AlertWatch.observe(event)` follows the stream (as a hub listener does);
`check(now)` compares the conditions with what is raised and returns the
changes: each alert once when raised, once when cleared.

`AlertMonitor` is what a running service keeps: it checks every few
seconds and sends each change to the wallboard viewers (the hub), to the
webhook (one sender task, so a slow webhook delays neither the checks nor
the calls, and a raise always goes out before its clear), and keeps the
active alerts for `/metrics`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo

from flowengine.events import (
    CallStarted,
    QueueAbandoned,
    QueueConnected,
    QueueNoAnswer,
    QueueTimeout,
    StreamEvent,
)
from flowengine.monitor.settings import AlertSettings, WebhookSettings
from flowengine.monitor.wallboard import Wallboard

__all__ = ["AlertMonitor", "AlertSettings", "AlertWatch", "WebhookNotifier"]

log = logging.getLogger(__name__)

class AlertWatch:
    """Follows the stream and the board; `check(now)` says what was raised or cleared."""

    def __init__(self, settings: AlertSettings, board: Wallboard, *, tz: dt.tzinfo | str = "UTC", started: float) -> None:
        self.settings = settings
        self.board = board
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        #: line -> ts of its latest call (the watch's start counts as one)
        self._last_call = {a.line: started for a in settings.lines}
        #: queue -> (ts, answered within threshold?) of the calls that stopped waiting
        self._finished: dict[str, deque[tuple[float, bool]]] = {}
        #: alert id -> the raised alert
        self.raised: dict[str, dict[str, Any]] = {}

    def observe(self, event: StreamEvent) -> None:
        if isinstance(event, CallStarted):
            if event.line in self._last_call:
                self._last_call[event.line] = event.ts
        elif isinstance(event, QueueConnected):
            threshold = self.board.threshold(event.queue_id)
            self._finished.setdefault(event.queue_id, deque()).append((event.ts, event.wait <= threshold))
        elif isinstance(event, (QueueAbandoned, QueueTimeout, QueueNoAnswer)):
            self._finished.setdefault(event.queue_id, deque()).append((event.ts, False))

    def check(self, now: float) -> list[dict[str, Any]]:
        """Alerts raised or cleared since the last check (each with `state`)."""
        active: dict[str, dict[str, Any]] = {}
        local = dt.datetime.fromtimestamp(now, self.tz)
        for a in self.settings.lines:
            quiet = now - self._last_call[a.line]
            if a.hours.contains(local) and quiet >= a.silent_minutes * 60:
                active[f"line_silent:{a.line}"] = {
                    "kind": "line_silent", "line": a.line, "since": self._last_call[a.line],
                    "message": f"no call on line {a.line} for {quiet / 60:.0f} min",
                }
        sl = self.settings.service_level
        if sl is not None:
            for qid, window in self._finished.items():
                while window and window[0][0] < now - sl.window_minutes * 60:
                    window.popleft()
                if len(window) < sl.min_calls:
                    continue
                level = sum(1 for _, ok in window if ok) / len(window)
                target = self.board.target(qid)
                if level < target:
                    active[f"service_level:{qid}"] = {
                        "kind": "service_level", "queue": qid, "level": round(level, 4), "target": target,
                        "message": f"queue {qid}: {level:.0%} answered in time over the last "
                                   f"{sl.window_minutes:g} min (target {target:.0%})",
                    }
        lw = self.settings.long_wait
        if lw is not None:
            for qid, since in self.board.oldest_waits().items():
                if now - since > lw.seconds:
                    active[f"long_wait:{qid}"] = {
                        "kind": "long_wait", "queue": qid, "since": since,
                        "message": f"queue {qid}: a caller has waited {now - since:.0f} s",
                    }
        changes = []
        for key, alert in active.items():
            if key not in self.raised:
                self.raised[key] = alert = {"id": key, "state": "raised", "at": now, **alert}
                changes.append(alert)
        for key in [k for k in self.raised if k not in active]:
            alert = self.raised.pop(key)
            changes.append({**alert, "state": "cleared", "at": now})
        return changes


async def watch_alerts(
    watch: AlertWatch,
    now: Callable[[], float],
    publish: Callable[[dict[str, Any]], None],
    *,
    interval: float = 10.0,
    notifier: WebhookNotifier | None = None,
) -> None:
    """Check every `interval` seconds until cancelled; each change goes to
    `publish` (the hub's viewers) and, when configured, to the webhook."""
    while True:
        for change in watch.check(now()):
            publish(change)
            if notifier is not None:
                await notifier.send(change)
        await asyncio.sleep(interval)


class WebhookNotifier:
    """POSTs each alert change as JSON to the configured URL; a failure is logged, never raised."""

    def __init__(self, settings: WebhookSettings, post: Callable[..., Awaitable[Any]]) -> None:
        self.settings = settings
        self._post = post
        self.sent = 0
        self.failed = 0

    async def send(self, alert: dict[str, Any]) -> bool:
        try:
            response = await self._post(self.settings.url, json=alert, timeout=self.settings.timeout)
            ok = 200 <= response.status_code < 300
        except Exception as exc:  # noqa: BLE001 (a dead webhook must not break monitoring)
            log.warning("alert webhook %s failed: %s", self.settings.url, exc)
            ok = False
        if ok:
            self.sent += 1
        else:
            self.failed += 1
        return ok


class AlertMonitor:
    """The alerts of a running service (see the module doc).

    `observe` is an engine listener; `start()` begins the checks (every
    `interval` seconds, on the running loop) and `stop()` ends them, letting
    the webhook sender deliver what is queued for a moment. `configure` takes
    a centre's new alert settings without losing what is raised: an alert
    the new settings no longer produce is cleared at the next check.
    """

    #: changes waiting for the webhook at most; more are dropped (and counted)
    QUEUE = 1000

    def __init__(
        self,
        settings: AlertSettings,
        board: Wallboard,
        publish: Callable[[dict[str, Any]], None],
        *,
        tz: dt.tzinfo | str = "UTC",
        now: Callable[[], float],
        interval: float = 10.0,
        post: Callable[..., Awaitable[Any]] | None = None,
    ) -> None:
        self.board = board
        self.tz = tz
        self._now = now
        self._publish = publish
        self.interval = interval
        self._post = post
        self.watch = AlertWatch(settings, board, tz=tz, started=now())
        self.notifier = self._notifier(settings)
        #: webhook changes dropped because the sender was too far behind
        self.dropped = 0
        self._outbox: asyncio.Queue[dict[str, Any]] | None = None
        self._tasks: list[asyncio.Task[None]] = []

    def _notifier(self, settings: AlertSettings) -> WebhookNotifier | None:
        if settings.webhook is None or self._post is None:
            return None
        return WebhookNotifier(settings.webhook, self._post)

    @property
    def active(self) -> list[dict[str, Any]]:
        """The alerts raised and not cleared, oldest first."""
        return list(self.watch.raised.values())

    def observe(self, event: StreamEvent) -> None:
        self.watch.observe(event)

    def configure(self, settings: AlertSettings, *, tz: dt.tzinfo | str | None = None) -> None:
        old = self.watch
        if tz is not None:
            self.tz = tz
        self.watch = AlertWatch(settings, self.board, tz=self.tz, started=self._now())
        self.watch.raised = old.raised
        for line, ts in old._last_call.items():  # noqa: SLF001 (the same class's state, carried over)
            if line in self.watch._last_call:  # noqa: SLF001
                self.watch._last_call[line] = ts  # noqa: SLF001
        for queue, window in old._finished.items():  # noqa: SLF001
            self.watch._finished[queue] = window  # noqa: SLF001
        sent = (self.notifier.sent, self.notifier.failed) if self.notifier is not None else (0, 0)
        self.notifier = self._notifier(settings)
        if self.notifier is not None:
            self.notifier.sent, self.notifier.failed = sent

    def check(self) -> list[dict[str, Any]]:
        """One check now: each change to the viewers and the webhook's queue."""
        changes = self.watch.check(self._now())
        for change in changes:
            log.warning("alert %s %s: %s", change["id"], change["state"], change.get("message", ""))
            self._publish(change)
            if self.notifier is not None and self._outbox is not None:
                if self._outbox.qsize() >= self.QUEUE:
                    self.dropped += 1
                else:
                    self._outbox.put_nowait(change)
        return changes

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._outbox = asyncio.Queue()
        self._tasks = [
            loop.create_task(self._checking(), name="alerts-check"),
            loop.create_task(self._sending(), name="alerts-webhook"),
        ]

    async def stop(self, *, timeout: float = 2.0) -> None:
        if not self._tasks:
            return
        checking, sending = self._tasks
        checking.cancel()
        if self._outbox is not None and not self._outbox.empty():
            await asyncio.wait([asyncio.ensure_future(self._outbox.join())], timeout=timeout)
        sending.cancel()
        await asyncio.wait(self._tasks, timeout=timeout)
        self._tasks = []

    async def _checking(self) -> None:
        while True:
            try:
                self.check()
            except Exception:  # a bug in one check must not end the monitoring
                log.exception("alert check failed")
            await asyncio.sleep(self.interval)

    async def _sending(self) -> None:
        assert self._outbox is not None
        while True:
            change = await self._outbox.get()
            try:
                if self.notifier is not None:
                    await self.notifier.send(change)
            finally:
                self._outbox.task_done()
