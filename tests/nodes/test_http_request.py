"""HTTP request: real requests to a local HTTP server, through whole simulated calls."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from local_http import LocalServer, Reply, serving
from pydantic import ValidationError

from flowengine.errors import ScenarioError
from flowengine.events import HttpRequested, NodeFailed
from flowengine.scenario.loader import load_scenario_data
from flowengine.testing.harness import CallTrace, run_scenario
from flowengine.testing.script import CallerScript
from nodes.http_request import HttpParams, lookup, parse_path, to_variable

CLIENT = {
    "client": {
        "name": "Иван Петров",
        "vip": True,
        "balance": -12.5,
        "managers": [{"ext": 901}, {"ext": 902}],
        "tags": ["gold", "ru"],
    }
}


def crm_reply(request: dict[str, Any]) -> Reply:
    route = request["path"].split("?")[0]
    if route.startswith("/client/"):
        return Reply(200, json.dumps(CLIENT).encode())
    if route.startswith("/status/"):
        return Reply(int(route.rsplit("/", 1)[1]), b'{"error": "nope"}')
    if route == "/slow":
        return Reply(200, b"{}", delay=1.5)
    if route == "/text":
        return Reply(200, b"hello, not json", "text/plain")
    if route == "/big":
        return Reply(200, b"[" + b"0," * (600 * 1024) + b"0]")
    if route == "/long":
        return Reply(200, json.dumps({"note": "x" * 100_001, "ok": "fine"}).encode())
    if route == "/deep":
        return Reply(200, b"[" * 100_000 + b"]" * 100_000)
    if route == "/nan":
        return Reply(200, b'{"a": NaN}')
    if route == "/list":
        return Reply(200, b'[{"name": "first"}, {"name": "last"}]')
    return Reply(404, b"{}")


@pytest.fixture(scope="module")
def crm() -> Iterator[LocalServer]:
    with serving(crm_reply) as server:
        yield server


@pytest.fixture()
def server(crm: LocalServer) -> LocalServer:
    crm.requests.clear()
    return crm


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def scenario(params: dict[str, Any], variables: dict[str, Any] | None = None, **exits: str) -> Any:
    wiring = exits or {"ok": "found", "error": "failed", "timeout": "slow"}
    return load_scenario_data(
        {
            "schema": 1,
            "id": "crm",
            "variables": [{"name": k, "default": v} for k, v in (variables or {}).items()],
            "nodes": [
                {"id": "start", "type": "start", "exits": {"next": "lookup"}},
                {"id": "lookup", "type": "http", "params": params, "exits": wiring},
                {"id": "found", "type": "say", "params": {"text": "found"}},
                {"id": "failed", "type": "say", "params": {"text": "failed"}},
                {"id": "slow", "type": "say", "params": {"text": "slow"}},
            ],
        }
    )


def run(params: dict[str, Any], variables: dict[str, Any] | None = None) -> CallTrace:
    return run_scenario(scenario(params, variables), CallerScript(caller="+79161234567"))


def requested(trace: CallTrace) -> HttpRequested:
    [event] = [e for e in trace.events if isinstance(e, HttpRequested)]
    return event


def failures(trace: CallTrace) -> list[NodeFailed]:
    return [e for e in trace.events if isinstance(e, NodeFailed)]


def test_get_maps_json_fields_to_variables(server: LocalServer) -> None:
    trace = run(
        {
            "url": "{BASE}/client/{callerid()}?name={QUERY}",
            "response": {
                "NAME": "client.name",
                "VIP": "client.vip",
                "BALANCE": "client.balance",
                "LAST_MANAGER": "client.managers[-1].ext",
                "TAGS": "client.tags",
                "NOTHING": "client.managers[5].ext",
            },
            "status_variable": "STATUS",
        },
        {"BASE": server.base, "QUERY": "a&b=c d/é"},
    )
    assert trace.path == ["start", "lookup", "found"]
    assert trace.variables["NAME"] == "Иван Петров"
    assert trace.variables["VIP"] is True
    assert trace.variables["BALANCE"] == -12.5
    assert trace.variables["LAST_MANAGER"] == 902
    assert trace.variables["TAGS"] == '["gold","ru"]'
    assert trace.variables["NOTHING"] is None
    assert trace.variables["STATUS"] == 200
    # Hole values are percent-encoded; the leading base-address hole is not.
    [request] = server.requests
    assert request["method"] == "GET"
    assert request["path"] == "/client/%2B79161234567?name=a%26b%3Dc%20d%2F%C3%A9"
    event = requested(trace)
    assert (event.method, event.status, event.outcome) == ("GET", 200, "ok")
    assert event.url == server.base + request["path"]


def test_post_json_body_keeps_types_and_renders_headers(server: LocalServer) -> None:
    trace = run(
        {
            "method": "POST",
            "url": server.base + "/client/new",
            "headers": {"Authorization": "Bearer {TOKEN}", "X-Line": "{calledid()}"},
            "json": {
                "phone": "{callerid()}",
                "attempt": "{ATTEMPT}",
                "note": "try {ATTEMPT}",
                "list": ["{VIP}", 1, None],
            },
        },
        {"TOKEN": "s3cret", "ATTEMPT": 2, "VIP": True},
    )
    assert trace.path[-1] == "found"
    [request] = server.requests
    assert request["method"] == "POST"
    assert request["headers"]["Authorization"] == "Bearer s3cret"
    assert request["headers"]["X-Line"] == "100"
    assert request["headers"]["Content-Type"] == "application/json"
    assert json.loads(request["body"]) == {
        "phone": "+79161234567",
        "attempt": 2,
        "note": "try 2",
        "list": [True, 1, None],
    }


def test_put_text_body(server: LocalServer) -> None:
    trace = run({"method": "PUT", "url": server.base + "/client/1", "body": "caller={callerid()}"})
    assert trace.path[-1] == "found"
    [request] = server.requests
    assert (request["method"], request["body"]) == ("PUT", b"caller=+79161234567")
    assert request["headers"]["Content-Type"].startswith("text/plain")


def test_list_answer_and_paths_from_the_top() -> None:
    assert parse_path("[0].name") == (0, "name")
    assert parse_path("data.items[-1].id") == ("data", "items", -1, "id")
    assert lookup([{"name": "a"}], parse_path("[0].name")) == "a"
    assert lookup({"a": "text"}, parse_path("a.b")) is None
    assert lookup({"a": [1]}, parse_path("a[1]")) is None
    assert to_variable({"k": [1, 2]}) == '{"k":[1,2]}'
    assert to_variable(10**30) == str(10**30)


def test_non_2xx_takes_error_exit_with_status(server: LocalServer) -> None:
    trace = run(
        {
            "url": server.base + "/status/503",
            "response": {"NAME": "client.name"},
            "status_variable": "STATUS",
        },
        {"NAME": "old"},
    )
    assert trace.path == ["start", "lookup", "failed"]
    assert trace.variables["STATUS"] == 503
    assert trace.variables["NAME"] is None  # mapped variables are cleared on failure
    assert (requested(trace).status, requested(trace).outcome) == (503, "bad_status")
    [failed] = failures(trace)
    assert failed.code == "http_bad_status"
    assert "HTTP 503" in failed.message


def test_redirect_is_not_followed(server: LocalServer) -> None:
    trace = run({"url": server.base + "/status/302"})
    assert trace.path[-1] == "failed"
    assert requested(trace).status == 302


def test_timeout_exit_on_a_slow_server_in_real_time(server: LocalServer) -> None:
    began = time.monotonic()
    trace = run({"url": server.base + "/slow", "timeout": 0.3, "status_variable": "STATUS"})
    took = time.monotonic() - began
    assert trace.path == ["start", "lookup", "slow"]
    assert trace.variables["STATUS"] is None
    event = requested(trace)
    assert event.outcome == "timeout"
    # The virtual clock waited for the real socket: the timeout kept its meaning.
    assert 0.25 <= event.elapsed < 1.0
    assert took < 1.4
    assert failures(trace) == []


def test_connection_refused_takes_error_exit() -> None:
    trace = run({"url": f"http://127.0.0.1:{closed_port()}/x", "status_variable": "STATUS"})
    assert trace.path[-1] == "failed"
    assert trace.variables["STATUS"] is None
    assert requested(trace).outcome == "connection"
    assert failures(trace)[0].code == "http_connection"


def test_bad_json_is_an_error_only_when_a_mapping_needs_it(server: LocalServer) -> None:
    trace = run({"url": server.base + "/text", "response": {"X": "a"}})
    assert trace.path[-1] == "failed"
    assert requested(trace).outcome == "bad_json"
    assert "not JSON" in failures(trace)[0].message
    trace = run({"url": server.base + "/text"})
    assert trace.path[-1] == "found"


@pytest.mark.parametrize(("route", "why"), [("/deep", "nested deeper than"), ("/nan", "a: NaN")])
def test_a_deep_or_nan_answer_is_bad_json_not_a_crash(server: LocalServer, route: str, why: str) -> None:
    trace = run({"url": server.base + route, "response": {"X": "a"}}, {"X": "before"})
    assert trace.path[-1] == "failed"
    assert requested(trace).outcome == "bad_json"
    assert why in failures(trace)[0].message
    assert trace.variables["X"] is None  # mapped variables become null, as documented


def test_answer_over_one_mebibyte_is_refused(server: LocalServer) -> None:
    trace = run({"url": server.base + "/big", "response": {"X": "[0]"}})
    assert trace.path[-1] == "failed"
    assert requested(trace).outcome == "too_large"


def test_a_mapped_text_over_the_expression_limit_fails_the_node(server: LocalServer) -> None:
    trace = run({"url": server.base + "/long", "response": {"OK": "ok", "NOTE": "note"}})
    assert trace.path[-1] == "failed"
    event = requested(trace)
    assert event.outcome == "too_large" and "NOTE" in (event.detail or "") and "100001" in (event.detail or "")
    assert (trace.variables["OK"], trace.variables["NOTE"]) == (None, None)
    assert failures(trace)[0].code == "http_too_large"


def test_answer_list_mapped_from_the_top(server: LocalServer) -> None:
    trace = run(
        {"url": server.base + "/list", "response": {"FIRST": "[0].name", "LAST": "[-1].name"}}
    )
    assert (trace.variables["FIRST"], trace.variables["LAST"]) == ("first", "last")


def test_rendered_url_that_is_not_http_fails_cleanly() -> None:
    trace = run({"url": "{BASE}/x"}, {"BASE": "ftp://files.example"})
    assert trace.path[-1] == "failed"
    assert failures(trace)[0].code == "bad_url"
    assert not [e for e in trace.events if isinstance(e, HttpRequested)]


def test_expression_error_in_url_points_into_the_template(server: LocalServer) -> None:
    url = server.base + "/client/{number('abc')}"
    trace = run({"url": url})
    assert trace.path[-1] == "failed"
    [failed] = failures(trace)
    assert failed.code == "expression"
    assert failed.column is not None and failed.column > url.index("{")
    assert server.requests == []


def test_credentials_are_kept_out_of_the_event(server: LocalServer) -> None:
    trace = run({"url": server.base.replace("http://", "http://user:pw@") + "/client/1"})
    assert trace.path[-1] == "found"
    assert "pw" not in requested(trace).url
    assert server.requests[0]["headers"]["Authorization"].startswith("Basic ")


def test_reads_and_writes_for_the_validator() -> None:
    node = scenario(
        {
            "method": "POST",
            "url": "{BASE}/c/{ID}",
            "headers": {"Authorization": "Bearer {TOKEN}"},
            "json": {"a": ["{PHONE}"], "b": "x"},
            "response": {"NAME": "a.b"},
            "status_variable": "STATUS",
        }
    ).nodes["lookup"]
    assert node.reads() == {"BASE", "ID", "TOKEN", "PHONE"}
    assert node.writes() == {"NAME", "STATUS"}
    assert node.all_exits == ("ok", "timeout")  # "error" is every node's


@pytest.mark.parametrize(
    ("params", "where", "message"),
    [
        ({"url": "crm.example.com/x"}, ("url",), "must start with http:// or https://"),
        ({"url": "http://x", "body": "a"}, (), "GET request has no body"),
        (
            {"url": "http://x", "method": "POST", "body": "a", "json": {}},
            (),
            "either 'body' or 'json'",
        ),
        (
            {"url": "http://x", "method": "HEAD", "response": {"A": "a"}},
            (),
            "HEAD answer has no body",
        ),
        ({"url": "http://x", "response": {"A": "a..b"}}, ("response", "A"), "'a..b' is not a path"),
        ({"url": "http://x", "response": {"1A": "a"}}, ("response", "1A", "[key]"), "pattern"),
        (
            {"url": "http://x", "headers": {"Bad Name": "x"}},
            ("headers", "Bad Name", "[key]"),
            "not a valid header name",
        ),
        ({"url": "http://x", "headers": {"A": "{oops("}}, ("headers", "A"), "template '{oops('"),
        (
            {"url": "http://x", "method": "POST", "json": {"a": ["{1+}"]}},
            ("json",),
            "json.a[0]: template",
        ),
        ({"url": "http://x", "timeout": 0}, ("timeout",), "greater than 0"),
        ({"url": "http://x", "method": "FETCH"}, ("method",), "Input should be"),
        ({"url": "http://x", "retries": 1}, ("retries",), "Extra inputs"),
    ],
)
def test_bad_params_name_the_field(
    params: dict[str, Any], where: tuple[Any, ...], message: str
) -> None:
    with pytest.raises(ValidationError) as info:
        HttpParams.model_validate(params)
    [error] = info.value.errors()
    assert tuple(error["loc"]) == where
    assert message in error["msg"]


def test_syntax_error_in_url_is_reported_at_load_with_node_and_column() -> None:
    with pytest.raises(ScenarioError) as info:
        scenario({"url": "http://x/{1 +}"})
    [problem] = info.value.problems
    assert (problem.node_id, problem.path, problem.code) == (
        "lookup",
        "nodes[1].params.url",
        "expression",
    )
    assert problem.column is not None
