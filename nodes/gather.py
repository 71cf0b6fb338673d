"""Gather / Сбор цифр: a DTMF menu with prompt, retries, timeout and invalid prompts.

    {"prompt": "Press 1 for sales, 2 for support",
     "options": [{"digits": "1", "exit": "sales"}, {"digits": "2", "exit": "support"}],
     "max_digits": 1, "first_timeout": 5, "retries": 2,
     "timeout_prompt": "We did not hear your choice.",
     "invalid_prompt": "There is no such option.",
     "variable": "CHOICE"}

Each attempt plays `prompt` and collects digits until the terminator, until
`max_digits` digits, or until a timeout (`first_timeout` for the first digit,
`inter_timeout` between digits); the terminator itself is not part of the
digits. Digits pressed over the prompt interrupt it (barge-in) and count.
The digits are stored in `variable` ("" when nothing was pressed) and are
available to expressions as digits().

Exits, with options:
- an option's `exit`: the digits equal that option's `digits` (at once, on
  any attempt);
- "timeout": nothing was pressed on the last attempt;
- "invalid": digits that are no option, on the last attempt.

Before each of the `retries` further attempts, `timeout_prompt` (after
silence) or `invalid_prompt` (after a wrong entry) is played, then `prompt`
again; the last attempt's outcome picks the exit. Without options (e.g.
"enter your contract number, then #"): "done" as soon as anything is
entered, "timeout" when nothing was, on every attempt.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field, model_validator

from flowengine.components.fields import VarName
from flowengine.components.node import NodeType, ParamsModel
from flowengine.components.registry import registry
from flowengine.events import DigitsReceived
from nodes.menu import EXIT_PATTERN
from nodes.prompt import PromptSpec, play_prompt

if TYPE_CHECKING:
    from flowengine.runtime.context import CallContext

RESERVED = {"timeout", "invalid", "done", "error"}


class GatherOption(ParamsModel):
    digits: str = Field(pattern=r"^[0-9*#A-D]{1,32}$")
    exit: str = Field(pattern=EXIT_PATTERN)


class GatherParams(ParamsModel):
    prompt: PromptSpec | None = None
    options: list[GatherOption] = Field(default_factory=list)
    max_digits: int = Field(default=1, ge=1, le=64)
    terminator: str = Field(default="#", pattern=r"^[0-9*#]{0,4}$")
    first_timeout: float = Field(default=5.0, gt=0, le=600)
    inter_timeout: float = Field(default=3.0, gt=0, le=600)
    retries: int = Field(default=2, ge=0, le=20, description="extra attempts after a timeout or invalid input")
    timeout_prompt: PromptSpec | None = None
    invalid_prompt: PromptSpec | None = None
    variable: VarName | None = None
    barge_in: bool = True

    @model_validator(mode="after")
    def _check(self) -> GatherParams:
        seen: dict[str, int] = {}
        for i, option in enumerate(self.options):
            if option.exit in RESERVED:
                raise ValueError(f"options[{i}]: exit '{option.exit}' is reserved")
            if option.digits in seen:
                raise ValueError(
                    f"options[{i}]: digits '{option.digits}' appear in two options "
                    f"(also options[{seen[option.digits]}])"
                )
            if len(option.digits) > self.max_digits:
                raise ValueError(
                    f"options[{i}]: option '{option.digits}' is longer than "
                    f"max_digits ({self.max_digits})"
                )
            # the terminator ends input and is not part of the digits, so an
            # option containing it ("# for the main menu") could never be chosen
            clash = sorted(set(option.digits) & set(self.terminator))
            if clash:
                raise ValueError(
                    f"options[{i}]: option '{option.digits}' contains the terminator "
                    f"'{''.join(clash)}' and could never be chosen; "
                    f"set \"terminator\" to \"\" or to another key"
                )
            seen[option.digits] = i
        return self


@registry.register
class GatherNode(NodeType[GatherParams]):
    type_name = "gather"
    title_en = "Gather"
    title_ru = "Сбор цифр"
    description = "Play a prompt and collect DTMF digits; one exit per option"
    category = "input"
    Params = GatherParams
    #: the exit every Gather has; the others come from params (see exit_names).
    #: Not "next": the schema and the editor read this, and a Gather has none.
    exits = ("timeout",)
    default_exits = ("timeout", "invalid")
    params_exits = (
        "with `options`: one per option's `exit` (options may share one), required; "
        "`timeout` and `invalid`, required as the default branch (unwired: `no_default`). "
        "Without `options`: `done` (any input) and `timeout` (nothing entered), both required"
    )
    waits_for_caller = True
    needs_media = True
    __slots__ = ("_options",)

    def __init__(self, node_id: str, params: GatherParams) -> None:
        super().__init__(node_id, params)
        self._options = {o.digits: o.exit for o in params.options}

    @classmethod
    def exit_names(cls, params: GatherParams) -> list[str]:
        if not params.options:
            return ["done", "timeout"]
        return list(dict.fromkeys(o.exit for o in params.options)) + ["timeout", "invalid"]

    @classmethod
    def default_exit_names(cls, params: GatherParams) -> tuple[str, ...]:
        return ("timeout", "invalid") if params.options else ("timeout",)

    def writes(self) -> set[str]:
        params = self.params
        return {params.variable} if params.variable else set()

    def caller_input(self) -> dict[str, str]:
        params = self.params
        return {params.variable: "the digits the caller entered"} if params.variable else {}

    async def run(self, ctx: CallContext) -> str:
        p = self.params
        outcome = "timeout"
        for attempt in range(p.retries + 1):
            await play_prompt(ctx, self.id, p.prompt, barge_in=p.barge_in)
            result = await ctx.call.collect_digits(
                max_digits=p.max_digits,
                first_timeout=p.first_timeout,
                inter_timeout=p.inter_timeout,
                terminator=p.terminator,
            )
            ctx.last_digits = result.digits
            ctx.emit(DigitsReceived, node_id=self.id, digits=result.digits, reason=result.reason)
            if p.variable:
                ctx.set_var(p.variable, result.digits, self.id)
            if not result.digits:
                outcome = "timeout"
            elif not self._options:
                return "done"
            elif result.digits in self._options:
                return self._options[result.digits]
            else:
                outcome = "invalid"
            if attempt < p.retries:
                ctx.call.flush_digits()
                await play_prompt(ctx, self.id, p.timeout_prompt if outcome == "timeout" else p.invalid_prompt)
        return outcome
