"""Notify / Уведомление: tell someone about the call — the call log, a webhook, an operator's screen.

    {"channel": "log", "message": "Call to {CALLEDID} from {callerid()}", "level": "info"}

    {"channel": "webhook", "url": "https://hooks.example.com/missed?line={CALLEDID}",
     "message": "Missed call from {callerid()}", "timeout": 3, "on_failure": "continue"}

    {"channel": "screen", "message": "{CLIENT_NAME}, contract {CONTRACT}", "target": "sales"}

Exit: "next" (and "error", see `on_failure`). Every notification is a
`Notified` event in the call's event stream.

- `log`: the message at `level` (info, warning, error); also written to the
  Python logger "flowengine.notify".
- `webhook`: POST to `url` (hole values percent-encoded, as in the HTTP node)
  with `headers`, and the JSON `payload` — by default
  `{call_id, caller, called, scenario, node, message, variables, time}`; a
  custom payload is JSON whose strings are templates ("{ATTEMPT}" alone keeps
  its type). The node waits for the answer up to `timeout` s (default 3); a
  2xx answer is success. The event carries `target` (the URL), `status` and
  `ok`; a failed webhook is logged at least at "warning". Webhooks share the
  engine's outbound HTTP with the HTTP node: when too many requests to the
  same origin are already in flight, one that gets no connection within the
  engine's wait is not sent and counts as failed ("no free connection").
- `screen`: an operator screen-pop with the message, for `target` (operator,
  department or queue; empty: whoever takes the call). The ACD routes it.
- `on_failure`: "continue" (default: a failed webhook does not change the
  caller's path) or "error" (take the "error" exit).
Works after the caller has hung up too (post-processing).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any, Literal

import httpx
from pydantic import Field, field_validator, model_validator

from flowengine.components.fields import TemplateText
from flowengine.components.node import NodeType, ParamsModel
from flowengine.components.registry import registry
from flowengine.errors import NodeError
from flowengine.events import Notified
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
    from flowengine.runtime.context import CallContext

log = logging.getLogger("flowengine.notify")

LEVELS = {"info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


class NotifyParams(ParamsModel):
    channel: Literal["log", "webhook", "screen"] = "log"
    message: TemplateText = Field(default="", description="the message (template)")
    level: Literal["info", "warning", "error"] = "info"
    url: TemplateText | None = Field(default=None, description="webhook URL (template)")
    headers: dict[HeaderName, DictTemplate] = Field(default_factory=dict)
    payload: dict[str, Any] | list[Any] | None = Field(
        default=None, description="webhook JSON body; its strings are templates"
    )
    timeout: float = Field(default=3.0, gt=0, le=30, description="webhook: seconds to wait")
    target: TemplateText | None = Field(
        default=None, description="screen: operator, department or queue the pop is for"
    )
    on_failure: Literal["continue", "error"] = "continue"

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return check_url_template(value) if value is not None else None

    @field_validator("payload")
    @classmethod
    def _payload(cls, value: Any) -> Any:
        if value is not None:
            check_json_templates(value, "payload")
        return value

    @model_validator(mode="after")
    def _per_channel(self) -> NotifyParams:
        webhook_only = [k for k in ("url", "payload") if getattr(self, k) is not None]
        if self.headers:
            webhook_only.append("headers")
        if self.channel == "webhook":
            if self.url is None:
                raise ValueError("a webhook needs 'url'")
        elif webhook_only:
            raise ValueError(f"{', '.join(webhook_only)}: only for channel 'webhook'")
        elif not self.message:
            raise ValueError(f"channel '{self.channel}' needs a 'message'")
        if self.target is not None and self.channel != "screen":
            raise ValueError("'target' is only for channel 'screen'")
        return self


@registry.register
class NotifyNode(NodeType[NotifyParams]):
    type_name = "notify"
    title_en = "Notify"
    title_ru = "Уведомление"
    description = "Write to the call log, call a webhook, or pop up on an operator's screen"
    category = "integration"
    Params = NotifyParams
    exits = ("next",)
    __slots__ = ("_message", "_url", "_headers", "_payload", "_target")

    def __init__(self, node_id: str, params: NotifyParams) -> None:
        super().__init__(node_id, params)
        self._message = self.template(params.message)
        self._url = self.template(params.url) if params.url is not None else None
        self._headers = compile_headers(params.headers)
        self._payload = compile_json(params.payload) if params.payload is not None else None
        self._target = self.template(params.target) if params.target is not None else None

    def reads(self) -> set[str]:
        return super().reads() | dict_template_variables(self._headers, self._payload)

    async def run(self, ctx: CallContext) -> str:
        p = self.params
        message = ctx.render(self._message)
        if p.channel == "webhook":
            await self._webhook(ctx, p, message)
        elif p.channel == "screen":
            target = ctx.render(self._target) if self._target is not None else None
            ctx.emit(
                Notified,
                node_id=self.id,
                channel="screen",
                message=message,
                level=p.level,
                target=target or None,
            )
        else:
            # a lone surrogate from a variable must not break a strict-UTF-8 log stream
            log.log(LEVELS[p.level], "call %s, node %s: %s", ctx.call_id, self.id, _loggable(message))
            ctx.emit(Notified, node_id=self.id, channel="log", message=message, level=p.level)
        return "next"

    def _default_payload(self, ctx: CallContext, message: str) -> dict[str, Any]:
        return {
            "call_id": ctx.call_id,
            "caller": ctx.call.caller,
            "called": ctx.call.called,
            "scenario": ctx.scenario.id,
            "node": self.id,
            "message": message,
            "variables": dict(ctx.variables),
            "time": ctx.now().isoformat(),
        }

    async def _webhook(self, ctx: CallContext, p: NotifyParams, message: str) -> None:
        assert self._url is not None
        rendered = render_url(ctx, self._url)
        payload = (
            render_json(ctx, self._payload)
            if self._payload is not None
            else self._default_payload(ctx, message)
        )
        headers = render_headers(ctx, self._headers)
        headers.setdefault("Content-Type", "application/json")
        try:
            content = json.dumps(payload, ensure_ascii=False, default=str).encode()
        except UnicodeEncodeError:  # lone surrogates: JSON escapes keep the body valid UTF-8
            content = json.dumps(payload, ensure_ascii=True, default=str).encode()
        status: int | None = None
        target = rendered
        try:
            url = check_url(rendered)
            target = public_url(url)
            with external_io():
                async with asyncio.timeout(p.timeout):
                    async with ctx.engine.outbound.stream(
                        "POST", url, headers=headers, content=content, timeout=p.timeout
                    ) as answer:
                        status = answer.status_code
            detail = "" if answer.is_success else f"HTTP {status}"
        except (NodeError, NoConnection) as exc:
            detail = str(exc)
        except (TimeoutError, httpx.TimeoutException):
            detail = timeout_detail(p.timeout)
        except httpx.HTTPError as exc:
            detail = connection_detail(exc)
        ok = not detail
        level = p.level if ok or p.level == "error" else "warning"
        ctx.emit(
            Notified,
            node_id=self.id,
            channel="webhook",
            message=message,
            level=level,
            target=target,
            status=status,
            ok=ok,
            detail=detail or None,
        )
        if not ok:
            log.warning(
                "call %s, node %s: webhook %s failed: %s", ctx.call_id, self.id, target, detail
            )
            if p.on_failure == "error":
                raise NodeError(f"webhook {target}: {detail}", code="webhook_failed")


def _loggable(text: str) -> str:
    """`text` with lone surrogates written as \\udXXX escapes."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text
