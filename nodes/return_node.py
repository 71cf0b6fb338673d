"""Return / Возврат: end a called subscenario and continue in the calling scenario.

A Return node has no params and no exits. In a scenario run by a
Subscenario node in "call" mode, it ends that scenario's walk and the call
continues from the Subscenario node's "next" exit, with every variable the
called scenario set. An exit left unwired in the called scenario does the
same (the walk ends, control comes back); a Hangup there ends the whole call.

In a scenario that was not called (the main flow of the call, or after a
"jump"), Return ends the walk like an unwired exit: the engine hangs up
(`call_hung_up` with `by: "engine"`, cause "normal"), then the after-hangup
flow runs. In post-processing it ends post-processing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowengine.components.node import NodeType, ParamsModel
from flowengine.components.registry import registry

if TYPE_CHECKING:
    from flowengine.runtime.context import CallContext


class ReturnParams(ParamsModel):
    pass


@registry.register
class ReturnNode(NodeType[ReturnParams]):
    type_name = "return"
    title_en = "Return"
    title_ru = "Возврат"
    description = "End a called subscenario and continue in the calling scenario"
    Params = ReturnParams
    exits = ()
    terminal = True

    async def run(self, ctx: CallContext) -> str:
        return "return"
