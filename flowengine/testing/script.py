"""Scripted callers: who calls whom, and what they do, step by step.

    {"caller": "+79161234567", "called": "+74951230001", "line": "trunk-1",
     "steps": [{"input": "1"}, {"wait": 3}, {"press": "0"}, {"say": "billing"},
               {"hangup": true}],
     "hangup_after": 120, "think": 1.0}

Steps run in order:
- `input`: when the scenario next listens for digits, press them after `think` s;
- `press`: press now (during a prompt too: that is how barge-in is tested);
- `say`: when the scenario next listens for speech (Recognize, Record), say it;
- `wait` / `silence`: do nothing for N seconds;
- `hangup`: hang up now.
After the last step the caller stays on the line, silent. `hangup_after` hangs
up N seconds after the call starts, whatever the script is doing; `patience`
hangs up N seconds after music on hold starts (waiting in a queue: an
abandon), unless the music stops first (an operator answers).

`caller_name`, `headers` and `line` are what a trunk would send with the
call: the caller's display name, extra SIP headers (X-..., Diversion) and the
line (trunk) it arrived on. The line's normalisation rules and line binding
apply, and `line()` returns it; `called` may be "" for a line that sends no
dialled number.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid")
    input: str | None = Field(default=None, pattern=r"^[0-9*#A-D]+$")
    press: str | None = Field(default=None, pattern=r"^[0-9*#A-D]+$")
    say: str | None = None
    wait: float | None = Field(default=None, ge=0)
    silence: float | None = Field(default=None, ge=0)
    hangup: bool | None = None

    @model_validator(mode="after")
    def _one_action(self) -> Step:
        given = [k for k in ("input", "press", "say", "wait", "silence", "hangup") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "a step has exactly one of input, press, say, wait, silence, hangup"
                + (f" (got {', '.join(given)})" if given else "")
            )
        return self

    @property
    def kind(self) -> str:
        for k in ("input", "press", "say", "wait", "silence", "hangup"):
            if getattr(self, k) is not None:
                return k
        raise AssertionError("unreachable")


class CallerScript(BaseModel):
    model_config = ConfigDict(extra="forbid")
    caller: str = "+70000000000"
    called: str = "100"
    line: str | None = Field(default=None, description="the line (trunk) the call arrives on")
    steps: list[Step] = Field(default_factory=list)
    hangup_after: float | None = Field(default=None, gt=0)
    patience: float | None = Field(
        default=None, gt=0, description="hang up after waiting this long on music on hold (a queue)"
    )
    think: float = Field(default=1.0, ge=0, description="seconds before answering a prompt")
    caller_name: str | None = Field(default=None, description="the caller's display name")
    headers: dict[str, str] = Field(default_factory=dict, description="headers the trunk sent (X-..., Diversion)")

    @classmethod
    def simple(
        cls,
        *,
        caller: str = "+70000000000",
        called: str = "100",
        inputs: list[str] | None = None,
        says: list[str] | None = None,
        **extra: Any,
    ) -> CallerScript:
        """The CLI's form: each --input answers the next digit prompt, --say the next speech prompt."""
        steps = [Step(input=i) for i in inputs or []] + [Step(say=s) for s in says or []]
        return cls(caller=caller, called=called, steps=steps, **extra)
