"""HTTP request / HTTP-запрос: ask a CRM or any HTTP API, map its JSON answer to variables.

    {"method": "POST",
     "url": "https://crm.example.com/api/clients/{callerid()}/calls?line={CALLEDID}",
     "headers": {"Authorization": "Bearer {CRM_TOKEN}"},
     "json": {"phone": "{callerid()}", "attempt": "{ATTEMPT}", "source": "ivr"},
     "timeout": 5,
     "response": {"CLIENT_NAME": "client.name", "MANAGER_EXT": "client.managers[0].ext"},
     "status_variable": "CRM_STATUS"}

Exits: "ok" (a 2xx answer), "timeout" (no complete answer within `timeout`
seconds, connecting included; or no free connection to the origin within the
engine's wait, outcome "pool_timeout": too many requests already in flight
there — see `flowengine.runtime.outbound`), "error" (any other status — redirects are not
followed —, connection failure, an answer over 1 MiB, or a body that is not
JSON while `response` needs it). Every request leaves an `HttpRequested` event
(`outcome`: ok, timeout, pool_timeout, bad_status, connection, too_large,
bad_json); a
failure also leaves a `NodeFailed` event with the reason (code "http_" +
outcome, or "bad_url" when the rendered URL is not http(s)).

- `url`: the value of each `{expression}` hole is percent-encoded (as a path
  segment or query value: "/", "?", "&", "=", "#", "+", spaces and non-ASCII
  are escaped), except a hole at the very start of the URL, which is the base
  address and is inserted as it is ("{CRM_URL}/clients/{callerid()}").
- `headers`: name → template. `body`: a text template (default Content-Type
  text/plain); or `json`: any JSON whose strings are templates — a string that
  is one `{expression}` and nothing else keeps the value's type ("{ATTEMPT}"
  sends 2, not "2"); other strings are rendered as text. Not both; neither for
  GET and HEAD.
- `response`: variable → path into the JSON answer: keys separated by dots,
  list indexes in brackets, negative from the end ("items[-1].id",
  "[0].name" when the answer is a list). A path that leads nowhere sets the
  variable to null; objects and lists are stored as JSON text. After an error
  or timeout every mapped variable is null.
- `status_variable`: the HTTP status (null when no answer came).
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from typing import TYPE_CHECKING, Annotated, Any, Literal

import httpx
from pydantic import AfterValidator, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from flowengine.components.fields import TemplateText, VarName
from flowengine.components.node import NodeType, ParamsModel
from flowengine.components.registry import registry
from flowengine.documents import DocumentError, Limits, parse_json
from flowengine.errors import NodeError
from flowengine.events import HttpRequested
from flowengine.expr import limits as expr_limits
from flowengine.runtime.clock import external_io
from flowengine.runtime.outbound import NoConnection
from nodes.http_common import (
    DictTemplate,
    HeaderName,
    check_json_templates,
    check_url,
    check_url_template,
    compile_headers,
    compile_json,
    connection_detail,
    dict_template_variables,
    public_url,
    render_headers,
    render_json,
    render_url,
    timeout_detail,
)

if TYPE_CHECKING:
    from flowengine.expr import Value
    from flowengine.runtime.context import CallContext

MAX_RESPONSE_BYTES = 1024 * 1024
_PATH = re.compile(r"^(?:[^.\[\]]+|\[-?\d+\])(?:\.[^.\[\]]+|\[-?\d+\])*$")
_PATH_PART = re.compile(r"\[(-?\d+)\]|([^.\[\]]+)")

PathPart = str | int

#: an answer is read like any document (depth, duplicate keys, NaN, huge integers refused),
#: its size already bounded by MAX_RESPONSE_BYTES while it streams in
_ANSWER_LIMITS = Limits(max_bytes=MAX_RESPONSE_BYTES)


# ---- response paths -------------------------------------------------------------------


def parse_path(text: str) -> tuple[PathPart, ...]:
    """ "client.managers[0].ext" -> ("client", "managers", 0, "ext")."""
    if not _PATH.match(text):
        raise PydanticCustomError(
            "json_path", "'{text}' is not a path like data.items[0].name", {"text": text}
        )
    return tuple(int(i) if i else key for i, key in _PATH_PART.findall(text))


def _check_path(text: str) -> str:
    parse_path(text)
    return text


JsonPath = Annotated[str, AfterValidator(_check_path)]


def lookup(document: Any, path: tuple[PathPart, ...]) -> Any:
    """The value at `path`, or None where the path leads nowhere."""
    current = document
    for part in path:
        if isinstance(part, int):
            if not isinstance(current, list) or not -len(current) <= part < len(current):
                return None
            current = current[part]
        elif isinstance(current, dict):
            current = current.get(part)
        else:
            return None
    return current


class ValueTooLong(Exception):
    """A mapped value would be a text beyond the expression language's limit."""


def to_variable(value: Any) -> Value:
    """A JSON value as a variable: scalars as they are, objects and lists as JSON text.

    A text longer than `MAX_STRING_LENGTH` raises `ValueTooLong`: no variable
    may hold what no expression could handle."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if abs(value) <= expr_limits.MAX_INT else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if len(text) > expr_limits.MAX_STRING_LENGTH:
        raise ValueTooLong(f"{len(text)} characters; the limit is {expr_limits.MAX_STRING_LENGTH}")
    return text


# ---- the node -----------------------------------------------------------------------------


class ResponseTooLarge(Exception):
    pass


async def read_limited(response: httpx.Response, limit: int = MAX_RESPONSE_BYTES) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ResponseTooLarge()
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise ResponseTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


class HttpParams(ParamsModel):
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] = "GET"
    url: Annotated[TemplateText, AfterValidator(check_url_template)] = Field(
        min_length=1, description="URL template; hole values are URL-encoded"
    )
    headers: dict[HeaderName, DictTemplate] = Field(default_factory=dict)
    body: TemplateText | None = Field(default=None, description="request body text (template)")
    json_body: dict[str, Any] | list[Any] | None = Field(
        default=None, alias="json", description="JSON body; its strings are templates"
    )
    timeout: float = Field(default=5.0, gt=0, le=120, description="seconds for the whole request")
    response: dict[VarName, JsonPath] = Field(
        default_factory=dict,
        description="variable -> path in the JSON answer, e.g. data.items[0].id",
    )
    status_variable: VarName | None = None

    @field_validator("json_body")
    @classmethod
    def _json_templates(cls, value: Any) -> Any:
        if value is not None:
            check_json_templates(value, "json")
        return value

    @model_validator(mode="after")
    def _one_body(self) -> HttpParams:
        if self.body is not None and self.json_body is not None:
            raise ValueError("give either 'body' or 'json', not both")
        if self.method in ("GET", "HEAD") and (self.body is not None or self.json_body is not None):
            raise ValueError(f"a {self.method} request has no body; use POST or PUT")
        if self.method == "HEAD" and self.response:
            raise ValueError("a HEAD answer has no body to map; use GET")
        return self


@registry.register
class HttpRequestNode(NodeType[HttpParams]):
    type_name = "http"
    title_en = "HTTP request"
    title_ru = "HTTP-запрос"
    description = "Call an HTTP API (e.g. a CRM lookup) and map its JSON answer to variables"
    category = "integration"
    Params = HttpParams
    exits = ("ok", "timeout")  # and the universal "error"
    __slots__ = ("_url", "_headers", "_body", "_json", "_paths")

    def __init__(self, node_id: str, params: HttpParams) -> None:
        super().__init__(node_id, params)
        self._url = self.template(params.url)
        self._headers = compile_headers(params.headers)
        self._body = self.template(params.body) if params.body is not None else None
        self._json = compile_json(params.json_body) if params.json_body is not None else None
        self._paths = [(name, parse_path(path)) for name, path in params.response.items()]

    def reads(self) -> set[str]:
        return super().reads() | dict_template_variables(self._headers, self._json)

    def writes(self) -> set[str]:
        params = self.params
        names = set(params.response)
        if params.status_variable:
            names.add(params.status_variable)
        return names

    async def run(self, ctx: CallContext) -> str:
        p = self.params
        url = check_url(render_url(ctx, self._url))
        headers = render_headers(ctx, self._headers)
        content: bytes | None = None
        if self._json is not None:
            content = json.dumps(render_json(ctx, self._json), ensure_ascii=False).encode()
            headers.setdefault("Content-Type", "application/json")
        elif self._body is not None:
            content = ctx.render(self._body).encode()
            headers.setdefault("Content-Type", "text/plain; charset=utf-8")

        loop = asyncio.get_running_loop()
        started = loop.time()
        status: int | None = None
        data = b""
        outcome = "ok"
        detail = ""
        try:
            with external_io():
                async with asyncio.timeout(p.timeout):
                    async with ctx.engine.outbound.stream(
                        p.method, url, headers=headers, content=content, timeout=p.timeout
                    ) as answer:
                        status = answer.status_code
                        if answer.is_success and self._paths:
                            data = await read_limited(answer)
        except NoConnection as exc:
            outcome, detail = "pool_timeout", str(exc)
        except (TimeoutError, httpx.TimeoutException):
            outcome, detail = "timeout", timeout_detail(p.timeout)
        except ResponseTooLarge:
            outcome, detail = "too_large", f"answer larger than {MAX_RESPONSE_BYTES} bytes"
        except httpx.HTTPError as exc:
            outcome, detail = "connection", connection_detail(exc)

        document: Any = None
        if outcome == "ok" and status is not None and not 200 <= status < 300:
            outcome, detail = "bad_status", f"HTTP {status}"
        if outcome == "ok" and self._paths:
            try:
                document = parse_json(data.decode(json.detect_encoding(data)), _ANSWER_LIMITS)
            except (ValueError, DocumentError) as exc:  # ValueError: not text in its encoding
                outcome, detail = "bad_json", f"the answer is not JSON: {exc}"

        values: dict[str, Value] = {}
        if outcome == "ok":
            for name, path in self._paths:
                try:
                    values[name] = to_variable(lookup(document, path))
                except ValueTooLong as exc:
                    outcome, detail = "too_large", f"the value for {name} is too long ({exc})"
                    values = {}
                    break

        ctx.emit(
            HttpRequested,
            node_id=self.id,
            method=p.method,
            url=public_url(url),
            status=status,
            elapsed=round(loop.time() - started, 3),
            outcome=outcome,
            detail=detail or None,
        )
        if p.status_variable:
            ctx.set_var(p.status_variable, status, self.id)
        for name, _path in self._paths:
            ctx.set_var(name, values.get(name), self.id)
        if outcome in ("timeout", "pool_timeout"):
            return "timeout"
        if outcome != "ok":
            raise NodeError(f"{p.method} {public_url(url)}: {detail}", code=f"http_{outcome}")
        return "ok"
