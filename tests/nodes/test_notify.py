"""Notify: call log, operator screen-pop, and webhooks to a real local HTTP server."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from local_http import LocalServer, Reply, serving
from pydantic import ValidationError

from flowengine.events import NodeFailed, Notified
from flowengine.scenario.loader import load_scenario_data
from flowengine.testing.harness import CallTrace, run_scenario
from flowengine.testing.script import CallerScript
from nodes.notify import NotifyParams


def hook_reply(request: dict[str, Any]) -> Reply:
    route = request["path"].split("?")[0]
    status = int(route.rsplit("/", 1)[1]) if route.startswith("/status/") else 204
    return Reply(status, delay=1.5 if route == "/slow" else 0.0)


@pytest.fixture(scope="module")
def hooks_server() -> Iterator[LocalServer]:
    with serving(hook_reply) as server:
        yield server


@pytest.fixture()
def hooks(hooks_server: LocalServer) -> LocalServer:
    hooks_server.requests.clear()
    return hooks_server


AT = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)


def run(
    params: dict[str, Any], *, error_exit: bool = True, variables: dict[str, Any] | None = None
) -> CallTrace:
    exits = {"next": "after", **({"error": "failed"} if error_exit else {})}
    scenario = load_scenario_data(
        {
            "schema": 1,
            "id": "hooks",
            "timezone": "Europe/Moscow",
            "variables": [
                {"name": k, "default": v} for k, v in (variables or {"CLIENT": "Anna"}).items()
            ],
            "nodes": [
                {"id": "start", "type": "start", "exits": {"next": "tell"}},
                {"id": "tell", "type": "notify", "params": params, "exits": exits},
                {"id": "after", "type": "say", "params": {"text": "next"}},
                {"id": "failed", "type": "say", "params": {"text": "failed"}},
            ],
        }
    )
    return run_scenario(scenario, CallerScript(caller="+79161234567", called="+74951230001"), at=AT)


def notified(trace: CallTrace) -> Notified:
    [event] = [e for e in trace.events if isinstance(e, Notified)]
    return event


def test_log_channel_writes_the_event_stream_and_the_logger(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="flowengine.notify"):
        trace = run({"message": "VIP {CLIENT} calls {calledid()}", "level": "warning"})
    assert trace.path == ["start", "tell", "after"]
    event = notified(trace)
    assert (event.channel, event.message, event.level, event.ok) == (
        "log",
        "VIP Anna calls +74951230001",
        "warning",
        True,
    )
    assert any(
        r.levelno == logging.WARNING and "VIP Anna" in r.getMessage() for r in caplog.records
    )


def test_screen_pop_names_its_target() -> None:
    trace = run({"channel": "screen", "message": "{CLIENT}, {callerid()}", "target": "sales"})
    event = notified(trace)
    assert (event.channel, event.message, event.target) == ("screen", "Anna, +79161234567", "sales")


def test_webhook_posts_the_default_payload(hooks: LocalServer) -> None:
    trace = run(
        {"channel": "webhook", "url": hooks.base + "/calls", "message": "missed {callerid()}"}
    )
    assert trace.path[-1] == "after"
    [hook] = hooks.requests
    assert hook["path"] == "/calls"
    assert hook["headers"]["Content-Type"] == "application/json"
    payload = hook["json"]
    assert payload == {
        "call_id": trace.call_id,
        "caller": "+79161234567",
        "called": "+74951230001",
        "scenario": "hooks",
        "node": "tell",
        "message": "missed +79161234567",
        "variables": {"CLIENT": "Anna"},
        "time": "2026-11-23T13:00:00+03:00",
    }
    event = notified(trace)
    assert (event.channel, event.target, event.status, event.ok) == (
        "webhook",
        hooks.base + "/calls",
        204,
        True,
    )


def test_webhook_custom_payload_headers_and_encoded_url(hooks: LocalServer) -> None:
    trace = run(
        {
            "channel": "webhook",
            "url": hooks.base + "/calls?client={CLIENT}",
            "headers": {"X-Token": "t-{N}"},
            "payload": {"who": "{CLIENT}", "n": "{N}", "fixed": [1, "x"]},
        },
        variables={"CLIENT": "Анна & Co", "N": 7},
    )
    assert trace.path[-1] == "after"
    [hook] = hooks.requests
    assert hook["path"] == "/calls?client=%D0%90%D0%BD%D0%BD%D0%B0%20%26%20Co"
    assert hook["headers"]["X-Token"] == "t-7"
    assert hook["json"] == {"who": "Анна & Co", "n": 7, "fixed": [1, "x"]}


def test_failed_webhook_does_not_change_the_callers_path(hooks: LocalServer) -> None:
    trace = run({"channel": "webhook", "url": hooks.base + "/status/500", "message": "m"})
    assert trace.path == ["start", "tell", "after"]
    event = notified(trace)
    assert (event.ok, event.status, event.level) == (False, 500, "warning")
    assert not [e for e in trace.events if isinstance(e, NodeFailed)]


def test_webhook_timeout_continue_and_error(hooks: LocalServer) -> None:
    began = time.monotonic()
    trace = run({"channel": "webhook", "url": hooks.base + "/slow", "timeout": 0.3})
    assert time.monotonic() - began < 1.4
    assert trace.path[-1] == "after"
    assert (notified(trace).ok, notified(trace).status) == (False, None)

    trace = run(
        {"channel": "webhook", "url": hooks.base + "/slow", "timeout": 0.3, "on_failure": "error"}
    )
    assert trace.path == ["start", "tell", "failed"]
    [failed] = [e for e in trace.events if isinstance(e, NodeFailed)]
    assert failed.code == "webhook_failed"
    assert "no answer within 0.3 s" in failed.message


def test_on_failure_error_without_error_exit_ends_the_call() -> None:
    trace = run(
        {"channel": "webhook", "url": "{BAD}/x", "on_failure": "error"},
        error_exit=False,
        variables={"BAD": "ftp://nowhere"},
    )
    assert trace.path == ["start", "tell"]
    assert trace.hangup_cause == "error"
    assert notified(trace).ok is False


def test_webhook_runs_after_the_caller_hung_up(hooks: LocalServer) -> None:
    scenario = load_scenario_data(
        {
            "schema": 1,
            "id": "post",
            "nodes": [
                {"id": "start", "type": "start", "exits": {"next": "menu"}},
                {
                    "id": "menu",
                    "type": "gather",
                    "params": {"prompt": "Press 1", "retries": 0},
                    "exits": {"done": "bye", "timeout": "bye"},
                },
                {"id": "bye", "type": "say", "params": {"text": "bye"}},
                {
                    "id": "after",
                    "type": "start",
                    "params": {"entry": "after_hangup"},
                    "exits": {"next": "hook"},
                },
                {
                    "id": "hook",
                    "type": "notify",
                    "params": {
                        "channel": "webhook",
                        "url": hooks.base + "/abandoned",
                        "message": "hung up in {LAST}",
                    },
                },
            ],
            "variables": [{"name": "LAST", "default": "menu"}],
        }
    )
    trace = run_scenario(scenario, CallerScript(steps=[{"wait": 0.2}, {"hangup": True}]))
    assert trace.path == ["start", "menu", "after", "hook"]
    [hook] = hooks.requests
    assert hook["json"]["message"] == "hung up in menu"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"channel": "webhook"}, "a webhook needs 'url'"),
        ({"channel": "log", "message": "m", "url": "http://x"}, "url: only for channel 'webhook'"),
        ({"channel": "log"}, "channel 'log' needs a 'message'"),
        (
            {"channel": "log", "message": "m", "target": "sales"},
            "'target' is only for channel 'screen'",
        ),
        ({"channel": "sms", "message": "m"}, "Input should be 'log', 'webhook' or 'screen'"),
        ({"channel": "webhook", "url": "hooks.example"}, "must start with http:// or https://"),
        ({"channel": "webhook", "url": "http://x", "payload": {"a": "{"}}, "payload.a: template"),
        ({"message": "m", "level": "debug"}, "Input should be 'info', 'warning' or 'error'"),
    ],
)
def test_bad_params_are_refused(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as info:
        NotifyParams.model_validate(params)
    assert message in str(info.value)


def test_lone_surrogates_reach_the_log_and_the_webhook_as_escapes(
    hooks: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    odd = {"CLIENT": "An\ud800na"}
    with caplog.at_level(logging.INFO, logger="flowengine.notify"):
        trace = run({"message": "VIP {CLIENT}", "level": "warning"}, variables=odd)
    assert trace.path[-1] == "after"
    assert notified(trace).message == "VIP An\ud800na"  # the event keeps the value as it is
    (record,) = [r for r in caplog.records if "VIP" in r.getMessage()]
    record.getMessage().encode("utf-8")  # the logged text is encodable
    assert "An\\ud800na" in record.getMessage()

    trace = run({"channel": "webhook", "url": hooks.base + "/calls", "message": "{CLIENT}"}, variables=odd)
    assert trace.path[-1] == "after" and notified(trace).ok
    [hook] = hooks.requests
    assert hook["json"]["message"] == "An\ud800na"
