"""Say / Произнести: speak text (TTS) with {expression} holes, in a voice and language."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from flowengine.components.fields import TemplateText
from flowengine.components.node import NodeType, ParamsModel
from flowengine.components.registry import registry

if TYPE_CHECKING:
    from flowengine.runtime.context import CallContext


class SayParams(ParamsModel):
    text: TemplateText = Field(min_length=1)
    language: str | None = Field(default=None, description="ru, en, ...; default: the scenario's")
    voice: str | None = None


@registry.register
class SayNode(NodeType[SayParams]):
    type_name = "say"
    title_en = "Say"
    title_ru = "Произнести"
    description = "Speak a text to the caller (text-to-speech)"
    category = "media"
    Params = SayParams
    exits = ("next",)
    needs_media = True
    __slots__ = ("_text",)

    def __init__(self, node_id: str, params: SayParams) -> None:
        super().__init__(node_id, params)
        self._text = self.template(params.text)

    async def run(self, ctx: CallContext) -> str:
        params = self.params
        await ctx.say(self.id, self._text.render(ctx), language=params.language, voice=params.voice)
        return "next"
