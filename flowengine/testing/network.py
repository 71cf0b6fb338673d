"""The network a test case declares: answers for HTTP requests and webhooks.

A tests file (or one case) lists answers under `http:`:

    http:
      - url: "https://crm.example.com/api/clients/+79161234567"
        json: {client: {name: "Anna", vip: true}}
      - url: "https://crm.example.com/api/*"       # any URL starting so
        method: POST
        status: 503
      - url: "https://hooks.example.com/missed*"
        error: connection                          # connection refused
      - url: "https://slow.example.com/*"
        delay: 10                                  # answers after 10 s

The HTTP request node and Notify's webhooks then talk to these answers and
to nothing else: `DeclaredNetwork.client()` is an httpx client whose
transport looks each request up here. The first answer whose `url` and
`method` match is given (a `url` ending in `*` matches every URL that starts
with the rest; otherwise the whole URL, query included, must be equal).
A request no answer matches never leaves the process: the node sees a
connection failure, and the case fails naming the method and URL. Delays run
on the case's simulated clock, so a 10 s delay costs no real time.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, model_validator


class HttpAnswer(BaseModel):
    """One declared answer. Give `json` or `body` (or neither: an empty body)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    url: str = Field(min_length=1, description="the URL; a final * matches any URL that starts with the rest")
    method: str | None = Field(default=None, description="GET, POST, ...; any method when not given")
    status: int = Field(default=200, ge=100, le=599)
    json_body: Any = Field(default=None, alias="json", description="the answer's body as JSON")
    body: str | None = Field(default=None, description="the answer's body as text")
    headers: dict[str, str] = Field(default_factory=dict)
    delay: float = Field(default=0.0, ge=0, le=86_400, description="seconds before the answer comes")
    error: Literal["connection"] | None = Field(
        default=None, description="connection: the connection is refused (after `delay`)"
    )

    @model_validator(mode="after")
    def _one_body(self) -> HttpAnswer:
        if self.json_body is not None and self.body is not None:
            raise ValueError("give either 'json' or 'body', not both")
        if self.method is not None:
            self.method = self.method.upper()
        return self

    def matches(self, method: str, url: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        if self.url.endswith("*"):
            return url.startswith(self.url[:-1])
        return url == self.url

    def response(self) -> httpx.Response:
        if self.json_body is not None:
            content = json.dumps(self.json_body, ensure_ascii=False).encode()
            headers = {"Content-Type": "application/json", **self.headers}
        else:
            content = (self.body or "").encode()
            headers = {"Content-Type": "text/plain; charset=utf-8", **self.headers} if self.body else self.headers
        return httpx.Response(self.status, content=content, headers=headers)


class DeclaredNetwork:
    """The answers of one case; records every request, and those nobody declared."""

    def __init__(self, answers: list[HttpAnswer]) -> None:
        self.answers = answers
        #: (method, url) of every request made, in order
        self.requests: list[tuple[str, str]] = []
        #: (method, url) of requests no answer matched
        self.undeclared: list[tuple[str, str]] = []

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self._handle), follow_redirects=False)

    async def _handle(self, request: httpx.Request) -> httpx.Response:
        method, url = request.method, str(request.url)
        self.requests.append((method, url))
        answer = next((a for a in self.answers if a.matches(method, url)), None)
        if answer is None:
            self.undeclared.append((method, url))
            raise httpx.ConnectError(f"{method} {url}: not declared in the test case", request=request)
        if answer.delay:
            await _simulated_sleep(answer.delay)
        if answer.error == "connection":
            raise httpx.ConnectError(f"{method} {url}: connection refused (declared)", request=request)
        return answer.response()

    def failures(self) -> list[str]:
        """One line per request no answer matched."""
        return [
            f"undeclared HTTP request: {method} {url} (a test never reaches the network: "
            f"give its answer under 'http:')"
            for method, url in dict.fromkeys(self.undeclared)
        ]


async def _simulated_sleep(delay: float) -> None:
    """Wait `delay` s on the loop's clock. The node marks its request as real
    I/O (the virtual loop then follows real time); a declared answer is not,
    so the mark is lifted while it waits, and the delay costs no real time."""
    loop = asyncio.get_running_loop()
    end, begin = getattr(loop, "end_external", None), getattr(loop, "begin_external", None)
    external = getattr(loop, "external", 0) > 0
    if end is None or begin is None or not external:
        await asyncio.sleep(delay)
        return
    end()
    try:
        await asyncio.sleep(delay)
    finally:
        begin()
