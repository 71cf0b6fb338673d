"""Play / Проиграть: play an audio file (WAV), optionally several times."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from flowengine.components.fields import MediaName
from flowengine.components.node import NodeType, ParamsModel
from flowengine.components.registry import registry
from flowengine.telephony import Prompt

if TYPE_CHECKING:
    from flowengine.runtime.context import CallContext


class PlayParams(ParamsModel):
    file: MediaName = Field(description="audio file, relative to the media folders")
    repeat: int = Field(default=1, ge=1, le=100)


@registry.register
class PlayNode(NodeType[PlayParams]):
    type_name = "play"
    title_en = "Play"
    title_ru = "Проиграть"
    description = "Play an audio file to the caller"
    category = "media"
    Params = PlayParams
    exits = ("next",)
    needs_media = True
    __slots__ = ("_prompt",)

    def __init__(self, node_id: str, params: PlayParams) -> None:
        super().__init__(node_id, params)
        self._prompt = Prompt("play", params.file)

    async def run(self, ctx: CallContext) -> str:
        params = self.params
        for _ in range(params.repeat):
            await ctx.play(self.id, self._prompt)
        return "next"
