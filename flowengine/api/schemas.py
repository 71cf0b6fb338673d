"""Request and response models of the API.

Separate models for what a client sends to create (`...Create`), to change
(`...Update`) and what it gets back (`...Public`); no handler returns a
storage row. Limits (lengths, counts) keep a hostile request small.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from flowengine.api.auth import Role

#: a name in a URL or a body: scenario ids, operator ids, user names
NAME = r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,99}$"
#: the most scenarios one import may carry
MAX_BUNDLE = 200


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- auth ------------------------------------------------------------------------------------
class LoginRequest(_In):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1000)


class SessionPublic(BaseModel):
    token: str = Field(description="send as 'Authorization: Bearer <token>'")
    token_type: Literal["bearer"] = "bearer"
    expires_at: float
    username: str
    role: Role


class UserCreate(_In):
    username: str = Field(pattern=NAME)
    password: str = Field(min_length=8, max_length=1000)
    role: Role
    operator_id: str | None = Field(default=None, pattern=NAME, description="the operator this user is (role operator)")


class PasswordUpdate(_In):
    password: str = Field(min_length=8, max_length=1000)


class UserPublic(BaseModel):
    username: str
    role: Role
    operator_id: str | None
    created_at: float


class MePublic(UserPublic):
    token_role: Role = Field(description="the role of the credential used (an API token may carry less)")
    token_kind: Literal["session", "api"]


class TokenCreate(_In):
    name: str = Field(min_length=1, max_length=100, description="what the token is for")
    role: Role | None = Field(default=None, description="at most your own role; default: your role")


class TokenPublic(BaseModel):
    id: str
    name: str
    username: str
    role: Role
    created_at: float
    revoked_at: float | None


class TokenCreated(TokenPublic):
    token: str = Field(description="shown once: store it now")


# ---- scenarios --------------------------------------------------------------------------------
class ScenarioCreate(_In):
    document: dict[str, Any] = Field(description="the scenario document (docs/scenario-format.md)")


class DraftUpdate(_In):
    revision: int = Field(ge=1, le=2**53, description="the revision you read; a stale one gets 409")
    document: dict[str, Any]


class ScenarioSummary(BaseModel):
    id: str
    name: str | None
    revision: int
    latest_version: int | None
    updated_at: float
    updated_by: str


class ScenarioPublic(ScenarioSummary):
    document: dict[str, Any]


class Finding(BaseModel):
    severity: str
    code: str
    path: str | None
    node_id: str | None
    line: int | None
    column: int | None
    message: str


class ValidationReport(BaseModel):
    valid: bool = Field(description="no errors (warnings allowed)")
    errors: int
    warnings: int
    findings: list[Finding]


class PublishRequest(_In):
    comment: str = Field(default="", max_length=2000)
    revision: int | None = Field(default=None, ge=1, le=2**53, description="publish only if the draft is at this revision")


class RollbackRequest(_In):
    version: int = Field(ge=1, le=2**31)
    comment: str = Field(default="", max_length=2000)


class VersionPublic(BaseModel):
    scenario_id: str
    version: int
    published_at: float
    author: str
    comment: str


class VersionDocument(VersionPublic):
    document: dict[str, Any]


class ExitChange(BaseModel):
    node_id: str
    exit: str
    to: Any = None
    from_: Any = Field(default=None, alias="from")

    model_config = ConfigDict(populate_by_name=True)


class NodeChange(BaseModel):
    node_id: str
    fields: list[str]


class Comparison(BaseModel):
    scenario_id: str
    from_version: int
    to_version: int
    nodes_added: list[str]
    nodes_removed: list[str]
    nodes_changed: list[NodeChange]
    nodes_moved: list[str]
    exits_added: list[ExitChange]
    exits_removed: list[ExitChange]
    exits_changed: list[ExitChange]
    fields_changed: list[str]


class ImportRequest(_In):
    scenarios: list[Any] = Field(min_length=1, max_length=MAX_BUNDLE)
    publish: bool = Field(default=True, description="publish every imported scenario as a new version")
    comment: str = Field(default="", max_length=2000)


class ImportedScenario(BaseModel):
    id: str
    revision: int
    version: int | None


class ImportResult(BaseModel):
    scenarios: list[ImportedScenario]


class Bundle(BaseModel):
    format: Literal["flowengine-bundle"] = "flowengine-bundle"
    scenarios: list[dict[str, Any]]


# ---- routing ----------------------------------------------------------------------------------
class ScenarioRefIn(_In):
    scenario_id: str = Field(pattern=NAME)
    version: int | None = Field(default=None, ge=1, le=2**31, description="pinned version; null: the latest")


class NumberBindingUpdate(ScenarioRefIn):
    replace: bool = Field(default=False, description="take the number from the scenario holding it")


class NumberBindingPublic(BaseModel):
    number: str
    scenario_id: str
    version: int | None


class DefaultUpdate(_In):
    scenario_id: str | None = Field(default=None, pattern=NAME, description="null: refuse calls nothing routes")
    version: int | None = Field(default=None, ge=1, le=2**31)


class LineUpdate(_In):
    number: str | None = Field(default=None, min_length=1, max_length=64)
    called: list[Any] | None = Field(default=None, max_length=100, description="normalisation rules for called numbers")
    caller: list[Any] | None = Field(default=None, max_length=100)
    scenario_id: str | None = Field(default=None, pattern=NAME)
    version: int | None = Field(default=None, ge=1, le=2**31)
    replace: bool = False


class RulesUpdate(_In):
    called: list[Any] = Field(default_factory=list, max_length=100)
    caller: list[Any] = Field(default_factory=list, max_length=100)


class RoutingPublic(BaseModel):
    table: dict[str, Any]


class ResolvePublic(BaseModel):
    called: str
    caller: str
    line: str | None
    called_normalised: str
    caller_normalised: str
    routed: bool
    scenario_id: str | None
    version: int | None = Field(description="the version a call would run now")
    via: str
    reason: str


# ---- centre ------------------------------------------------------------------------------------
class CentrePublic(BaseModel):
    revision: int
    centre: dict[str, Any]


class CentreUpdate(_In):
    revision: int | None = Field(default=None, ge=0, le=2**53, description="the revision you read (409 if stale)")
    centre: dict[str, Any]


class OperatorPublic(BaseModel):
    id: str
    name: str
    extension: str | None
    skills: dict[str, int]
    status: str
    reason: str | None
    state: str


class StatusChange(_In):
    status: str = Field(min_length=1, max_length=64, pattern=NAME)
    reason: str | None = Field(default=None, max_length=200)


class StatusEvent(BaseModel):
    seq: int
    ts: float
    event: str
    status: str | None = None
    previous: str | None = None
    reason: str | None = None
    state: str | None = None
    by: str | None = None


class QueuePublic(BaseModel):
    id: str
    name: str
    strategy: str
    waiting: int
    available: int


# ---- calls ----------------------------------------------------------------------------------------
class TestCallCreate(_In):
    called: str = Field(max_length=64, description="the dialled number ('' for a line that sends none)")
    caller: str = Field(default="+70000000000", min_length=1, max_length=64)
    line: str | None = Field(default=None, pattern=NAME)
    caller_name: str | None = Field(default=None, max_length=100)
    at: dt.datetime | None = Field(
        default=None,
        description="the time of day the scenario sees at the call's start (schedules, hour()); "
        "without an offset it is in the time zone of the scenario the call routes to. Default: now",
    )


class DigitsRequest(_In):
    digits: str = Field(pattern=r"^[0-9*#A-D]{1,32}$")


class SayRequest(_In):
    text: str = Field(min_length=1, max_length=1000)


class CallPublic(BaseModel):
    call_id: str
    live: bool
    caller: str
    called: str
    line: str | None
    scenario_id: str
    scenario_version: int
    route: str
    hangup_cause: str | None


class TestCaseRequest(_In):
    name: str | None = Field(default=None, min_length=1, max_length=200, description="the case's name")


class TestCasePublic(BaseModel):
    """An ended test call as a scenario tests file (docs/testing-scenarios.md)
    with one case; save `content` as `file_name` beside the scenario exported
    as `<scenario_id>.json` and run `flowengine test` on it."""

    scenario_id: str
    scenario_version: int
    file_name: str
    content: str = Field(description="the tests file, YAML")
    case_file: dict[str, Any] = Field(description="the same tests file as JSON")


class TracePublic(BaseModel):
    call_id: str
    events: list[dict[str, Any]]
    next_seq: int = Field(description="ask again with from_seq=next_seq for what follows")
    ended: bool


class RecordingPublic(BaseModel):
    """A call recording or a voicemail; download it from `url` (audio/wav)."""

    id: int
    call_id: str
    kind: str = Field(description="voicemail (left at a Record node) or recording (of the conversation)")
    duration: float = Field(description="seconds")
    size: int = Field(description="bytes of the WAV file; 0 when the audio is not stored here")
    created_at: float
    url: str


class CdrPublic(BaseModel):
    """One call: times are epoch seconds; `result` is answered by an operator
    (connected), completed in the scenario, abandoned, interrupted (the
    engine stopped under it: hangup cause engine_restart), ..."""

    call_id: str
    started_at: float
    answered_at: float | None
    ended_at: float
    duration: float
    caller: str
    called: str
    line: str | None
    scenario_id: str
    scenario_version: int
    result: str
    queue_id: str | None
    operator_id: str | None
    wait: float | None
    talk: float | None
    hangup_cause: str
    hangup_by: str
    events: int
    hold: float | None = Field(None, description="seconds operators held the caller (null: no operator talked with them)")
    recordings: list[RecordingPublic] = Field(default_factory=list, description="its recordings and voicemail")


class Health(BaseModel):
    status: str
    detail: str = ""
