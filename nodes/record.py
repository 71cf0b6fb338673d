"""Record / Запись: record the caller, e.g. a voicemail.

    {"prompt": "Please leave a message after the tone. Press # when done.",
     "beep": true, "max_length": 120, "silence_end": 5, "terminators": "#",
     "min_length": 1, "variable": "VOICEMAIL", "duration_variable": "VOICEMAIL_SECONDS"}

Exits: "next" (a message was recorded), "empty" (nothing worth keeping:
less than `min_length` seconds once the silence that ended the recording is
left out — e.g. the caller said nothing, or pressed # at once), and the
universal "error".

The prompt plays first; a key pressed over it skips to the beep (`barge_in`,
default true). Digits typed before the recording starts are discarded, so a
leftover key cannot end it. Recording ends at `max_length` seconds,
after `silence_end` seconds of silence (0: never), on a key in `terminators`
(not part of the recording; "" for none), or when the caller hangs up.

A caller who leaves a message and hangs up keeps it: the node is not
interrupted by the hang-up; it stores the recording, emits `RecordingMade`
and the call continues at the "after hangup" entry (send the voicemail from
there). `variable` gets the recording's URI (null for "empty"),
`duration_variable` its length in seconds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from pydantic import Field

from flowengine.components.fields import VarName
from flowengine.components.node import NodeType, ParamsModel
from flowengine.components.registry import registry
from flowengine.events import RecordingMade
from nodes.prompt import PromptSpec, play_prompt

if TYPE_CHECKING:
    from flowengine.runtime.context import CallContext


class RecordParams(ParamsModel):
    prompt: PromptSpec | None = None
    barge_in: bool = Field(default=True, description="a key pressed over the prompt skips it")
    beep: bool = True
    max_length: float = Field(default=120.0, gt=0, le=3600, description="seconds")
    silence_end: float = Field(
        default=5.0, ge=0, le=60, description="seconds of silence that end it; 0: never"
    )
    terminators: str = Field(default="#", pattern=r"^[0-9*#]{0,4}$", description="keys that end it")
    min_length: float = Field(default=1.0, ge=0, le=60, description="shorter than this is 'empty'")
    variable: VarName | None = Field(default=None, description="gets the recording's URI")
    duration_variable: VarName | None = Field(
        default=None, description="gets its length in seconds"
    )


@registry.register
class RecordNode(NodeType[RecordParams]):
    type_name = "record"
    title_en = "Record"
    title_ru = "Запись"
    description = "Record the caller (voicemail); ends on max length, silence, a key or hang-up"
    category = "media"
    Params = RecordParams
    exits = ("next", "empty")
    waits_for_caller = True
    needs_media = True
    #: the interpreter lets the recording finish when the caller hangs up
    completes_on_hangup: ClassVar[bool] = True
    __slots__ = ()

    def writes(self) -> set[str]:
        p = self.params
        return {name for name in (p.variable, p.duration_variable) if name}

    async def run(self, ctx: CallContext) -> str:
        p = self.params
        call = ctx.call
        await play_prompt(ctx, self.id, p.prompt, barge_in=p.barge_in)
        call.flush_digits()
        recording = await call.record(
            max_length=p.max_length,
            silence_end=p.silence_end,
            terminators=p.terminators,
            beep=p.beep,
        )
        ctx.emit(
            RecordingMade,
            node_id=self.id,
            uri=recording.uri,
            duration=recording.duration,
            reason=recording.reason,
        )
        spoken = recording.duration - (p.silence_end if recording.reason == "silence" else 0.0)
        empty = spoken < p.min_length or (p.min_length == 0 and recording.duration == 0)
        if p.variable:
            ctx.set_var(p.variable, None if empty else recording.uri, self.id)
        if p.duration_variable:
            ctx.set_var(p.duration_variable, recording.duration, self.id)
        return "empty" if empty else "next"
