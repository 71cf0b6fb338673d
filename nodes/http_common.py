"""What the HTTP request node and the Notify node's webhook share.

Both send a request built from templates: a URL whose hole values are
percent-encoded (except a leading base-address hole), headers whose values are
templates, and a JSON body whose strings are templates ("{ATTEMPT}" alone keeps
its value's type). The param types here check those templates when the
scenario loads, naming the field; the node compiles them once in `__init__`
and renders them per call with the functions below.

Not a node type: nothing here is registered.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

import httpx
from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from flowengine.errors import NodeError
from flowengine.expr import Expression, ExpressionError, Template, compile_template, to_text

if TYPE_CHECKING:
    from flowengine.expr import Env, Value

_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$")

#: compiled header templates, in the order given: [(name, template)]
HeaderTemplates = list[tuple[str, Template]]


# ---- param types: checked when the scenario loads ----------------------------------


def _check_header_name(name: str) -> str:
    if not _HEADER_NAME.match(name):
        raise PydanticCustomError(
            "header_name", "'{name}' is not a valid header name", {"name": name}
        )
    return name


HeaderName = Annotated[str, AfterValidator(_check_header_name)]


def _check_template(text: str) -> str:
    """Compile a template the loader cannot see (inside dicts); errors name the field."""
    try:
        compile_template(text)
    except ExpressionError as exc:
        raise PydanticCustomError(
            "expression", "template '{text}': {error}", {"text": text, "error": str(exc)}
        ) from None
    return text


#: a template inside a dict (header value, JSON body string), compiled by the node itself
DictTemplate = Annotated[
    str, Field(json_schema_extra={"format": "template"}), AfterValidator(_check_template)
]


def check_url_template(text: str) -> str:
    lowered = text.lower()
    if lowered.startswith(("http://", "https://")) or (
        text.startswith("{") and not text.startswith("{{")
    ):
        return text
    raise PydanticCustomError(
        "url",
        "'{text}' must start with http:// or https://, or with a base-address hole",
        {"text": text},
    )


def check_json_templates(value: Any, path: str) -> None:
    """Raise ValueError naming the place of the first bad template in a JSON body."""
    if isinstance(value, str):
        try:
            compile_template(value)
        except ExpressionError as exc:
            raise ValueError(f"{path}: template {value!r}: {exc}") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            check_json_templates(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_json_templates(item, f"{path}[{index}]")


# ---- compiling (once per node) -------------------------------------------------------


def compile_headers(headers: dict[str, str]) -> HeaderTemplates:
    return [(name, compile_template(value)) for name, value in headers.items()]


def compile_json(value: Any) -> Any:
    """A JSON body template: the same structure with every string compiled."""
    if isinstance(value, str):
        return compile_template(value)
    if isinstance(value, dict):
        return {key: compile_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [compile_json(item) for item in value]
    return value


def json_variables(value: Any) -> set[str]:
    if isinstance(value, Template):
        return set(value.variables)
    if isinstance(value, dict):
        return set().union(*(json_variables(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(json_variables(v) for v in value))
    return set()


def dict_template_variables(headers: HeaderTemplates, body: Any) -> set[str]:
    """Variables read by header and JSON body templates, which `NodeType.reads`
    cannot see (they are not `TemplateText` fields)."""
    names = json_variables(body)
    for _name, template in headers:
        names |= template.variables
    return names


# ---- rendering (per call) ------------------------------------------------------------


def _evaluate_hole(env: Env, template: Template, offset: int, expression: Expression) -> Value:
    try:
        return expression.evaluate(env)
    except ExpressionError as exc:
        if exc.column is None:
            exc.column = 1
        raise exc.moved(offset, template.source) from exc


def render_url(env: Env, template: Template) -> str:
    """Render a URL template: hole values percent-encoded, except a leading base-address hole."""
    out: list[str] = []
    for index, part in enumerate(template.parts):
        if isinstance(part, str):
            out.append(part)
            continue
        text = to_text(_evaluate_hole(env, template, *part))
        out.append(text if index == 0 else quote(text, safe=""))
    return "".join(out)


def render_json(env: Env, value: Any) -> Any:
    """Render a compiled JSON body; a string that is exactly one hole keeps its value's type."""
    if isinstance(value, Template):
        parts = value.parts
        if len(parts) == 1 and not isinstance(parts[0], str):
            return _evaluate_hole(env, value, *parts[0])
        return value.render(env)
    if isinstance(value, dict):
        return {key: render_json(env, item) for key, item in value.items()}
    if isinstance(value, list):
        return [render_json(env, item) for item in value]
    return value


def check_header_values(headers: dict[str, str]) -> dict[str, str]:
    for name, value in headers.items():
        if "\r" in value or "\n" in value:
            raise NodeError(f"header {name} contains a line break", code="bad_header")
    return headers


def render_headers(env: Env, headers: HeaderTemplates) -> httpx.Headers:
    """The rendered headers; NodeError(code="bad_header") when a value has a line break."""
    return httpx.Headers(check_header_values({n: t.render(env) for n, t in headers}))


def check_url(url: str) -> httpx.URL:
    """The rendered URL as httpx.URL, or NodeError(code="bad_url")."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise NodeError(f"bad URL {url!r}: {exc}", code="bad_url") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise NodeError(f"bad URL {url!r}: need http:// or https:// and a host", code="bad_url")
    return parsed


def public_url(url: httpx.URL) -> str:
    """The URL for events and logs, without user:password."""
    return str(url.copy_with(username=None, password=None)) if url.userinfo else str(url)


# ---- failures --------------------------------------------------------------------------


def timeout_detail(timeout: float) -> str:
    return f"no answer within {timeout:g} s"


def connection_detail(exc: httpx.HTTPError) -> str:
    """An httpx failure for events and logs: its type, and its message if it has one."""
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
