"""Prometheus metrics (prometheus-client), one registry per application.

Counted as they happen: calls started, calls ended by hangup cause, HTTP
request latency per route. Read at scrape time: calls in flight, callers
waiting per queue, operators per status, events written, the writer's queue,
and one gauge per active alert (`flowengine_alert_active{alert, kind, line,
queue}` = 1 while it is raised; gone once it is cleared) with the webhook's
deliveries.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from flowengine.events import CallEnded, CallStarted, StreamEvent

if TYPE_CHECKING:
    from flowengine.api.service import Service
    from flowengine.monitor.alerts import AlertMonitor


class Metrics:
    def __init__(self, service: Service) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.calls_started = Counter(
            "flowengine_calls_started", "Calls the engine started", registry=self.registry
        )
        self.calls_ended = Counter(
            "flowengine_calls_ended", "Calls ended, by hangup cause", ["result"], registry=self.registry
        )
        self.http_latency = Histogram(
            "flowengine_http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.registry.register(_Live(service))
        self.registry.register(_Sip(service))
        service.add_listener(self.on_event)

    def on_event(self, event: StreamEvent) -> None:
        if isinstance(event, CallStarted):
            self.calls_started.inc()
        elif isinstance(event, CallEnded):
            self.calls_ended.labels(event.hangup_cause or "normal").inc()

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.http_latency.labels(method, route, str(status)).observe(seconds)


class _Live(Collector):
    """Gauges read from the running service at scrape time."""

    def __init__(self, service: Service) -> None:
        self.service = service

    def collect(self) -> Iterator[Metric]:
        s = self.service
        engine = getattr(s, "engine", None)
        if engine is None:
            return
        yield GaugeMetricFamily("flowengine_calls_in_flight", "Calls running now", value=engine.active_calls)
        waiting = GaugeMetricFamily("flowengine_queue_waiting", "Callers waiting per queue", labels=["queue"])
        by_status = GaugeMetricFamily("flowengine_operators", "Operators per status", labels=["status"])
        acd = s.acd
        if acd is not None:
            for q in s.centre.queues:
                waiting.add_metric([q.id], acd.core.waiting_count(q.id))
            counts: dict[str, int] = {}
            for op_id in acd.core.operator_ids():
                status = acd.core.operator_status(op_id)[0]
                counts[status] = counts.get(status, 0) + 1
            for status, n in sorted(counts.items()):
                by_status.add_metric([status], n)
        yield waiting
        yield by_status
        written = CounterMetricFamily("flowengine_events_written", "Events stored by the writer")
        written.add_metric([], s.sink.written)
        yield written
        writer = engine.writer
        yield GaugeMetricFamily(
            "flowengine_writer_queue_depth", "Events waiting for the writer", value=writer.pending if writer else 0
        )
        dropped = CounterMetricFamily("flowengine_events_dropped", "Events the writer had to drop")
        dropped.add_metric([], getattr(writer, "dropped", 0) if writer else 0)
        yield dropped
        yield from _alerts(getattr(s, "alerts", None))


def _alerts(alerts: AlertMonitor | None) -> Iterator[Metric]:
    if alerts is None:
        return
    active = GaugeMetricFamily(
        "flowengine_alert_active", "1 per alert raised and not yet cleared", labels=["alert", "kind", "line", "queue"]
    )
    for a in alerts.active:
        active.add_metric([a["id"], a["kind"], a.get("line") or "", a.get("queue") or ""], 1)
    yield active
    webhook = CounterMetricFamily(
        "flowengine_alert_webhook", "Alert changes sent to the webhook, by outcome", labels=["outcome"]
    )
    notifier = alerts.notifier
    webhook.add_metric(["sent"], notifier.sent if notifier else 0)
    webhook.add_metric(["failed"], (notifier.failed if notifier else 0) + alerts.dropped)
    yield webhook


class _Sip(Collector):
    """The SIP backend's registrations and RTP statistics (when `--sip` runs it)."""

    def __init__(self, service: Service) -> None:
        self.service = service

    def collect(self) -> Iterator[Metric]:
        sip = getattr(self.service, "sip", None)
        if sip is None:
            return
        registrations = GaugeMetricFamily(
            "flowengine_sip_registrations", "SIP registrations in force", labels=["kind"]
        )
        for kind, count in sorted(sip.registration_counts().items()):
            registrations.add_metric([kind], count)
        yield registrations
        stats = sip.rtp_stats()
        packets = CounterMetricFamily("flowengine_rtp_packets", "RTP packets", labels=["direction"])
        packets.add_metric(["received"], stats["packets_in"])
        packets.add_metric(["sent"], stats["packets_out"])
        yield packets
        lost = CounterMetricFamily("flowengine_rtp_lost_packets", "RTP packets the far ends sent that never arrived")
        lost.add_metric([], stats["lost"])
        yield lost
        jitter = GaugeMetricFamily(
            "flowengine_rtp_jitter_ms", "Interarrival jitter of live calls (RFC 3550), ms", labels=["stat"]
        )
        jitter.add_metric(["mean"], stats["jitter_ms_mean"])
        jitter.add_metric(["max"], stats["jitter_ms_max"])
        yield jitter
        yield GaugeMetricFamily("flowengine_sip_calls", "SIP calls (dialogs) now", value=sip.core.calls)
