"""The prompt spec shared by every node that speaks to the caller.

A prompt is TTS text with `{expression}` holes or an audio file:
    "Добро пожаловать, {NAME}!"                     (shorthand for say)
    {"say": "Hello {NAME}", "language": "en", "voice": "en-us"}
    {"play": "media/welcome.wav"}
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from pydantic import Field, GetJsonSchemaHandler, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from flowengine.components.fields import MediaName, TemplateText
from flowengine.components.node import ParamsModel
from flowengine.expr import Template, compile_template
from flowengine.telephony import Prompt

if TYPE_CHECKING:
    from flowengine.runtime.context import CallContext


class PromptSpec(ParamsModel):
    say: TemplateText | None = Field(default=None, description="text to speak (TTS), with {expression} holes")
    play: MediaName | None = Field(default=None, description="audio file to play (WAV), relative to the media folders")
    language: str | None = Field(default=None, description="e.g. ru, en; default: the scenario's")
    voice: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"say": data} if isinstance(data, str) else data

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        # The text shorthand is part of the format, so the published JSON
        # Schema must admit it too, or integrators' validators reject
        # documents the loader accepts (examples/per_number_ivr.json).
        schema = handler.resolve_ref_schema(handler(core_schema))
        title = schema.pop("title", "PromptSpec")
        return {
            "title": title,
            "anyOf": [
                {"type": "string", "format": "template", "description": "shorthand for {\"say\": text}"},
                schema,
            ],
        }

    @model_validator(mode="after")
    def _one_source(self) -> PromptSpec:
        if (self.say is None) == (self.play is None):
            raise ValueError("a prompt has exactly one of 'say' (text) or 'play' (audio file)")
        return self

    @functools.cached_property
    def compiled(self) -> Template | Prompt:
        """The `say` template, or the audio `Prompt`: built on first use and kept
        (params do not change after load), so playing compiles nothing per call."""
        if self.say is not None:
            return compile_template(self.say)
        return Prompt("play", self.play or "", self.language, self.voice)


async def play_prompt(
    ctx: CallContext, node_id: str, spec: PromptSpec | None, *, barge_in: bool = False
) -> bool:
    """Render and play `spec`; True if a digit interrupted it (barge-in)."""
    if spec is None:
        return False
    compiled = spec.compiled
    if isinstance(compiled, Template):
        # what `ctx.say` does, one coroutine fewer: prompts are on every call's path
        prompt = Prompt("say", compiled.render(ctx), spec.language or ctx.scenario.doc.language, spec.voice)
        return await ctx.play(node_id, prompt, barge_in=barge_in)
    return await ctx.play(node_id, compiled, barge_in=barge_in)
