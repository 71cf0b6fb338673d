"""Base class of node types.

A node type is one class in its own module under `nodes/`: a pydantic
`Params` model (whose JSON Schema drives the editor's property form), its exit
names, and an async handler `run(ctx) -> exit_name`. An instance is one node of
one scenario, built once when the scenario is loaded, with its expressions
already compiled; per-call state lives in the `CallContext`, never on the node.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Generic, NamedTuple, TypeVar

from pydantic import BaseModel, ConfigDict

from flowengine.components.fields import iter_expressions
from flowengine.expr import Expression, Template, compile_expression, compile_template

if TYPE_CHECKING:
    from flowengine.runtime.context import CallContext

ERROR_EXIT = "error"


class ParamsModel(BaseModel):
    """Base for node params: unknown keys are errors, so typos are caught."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class NoParams(ParamsModel):
    pass


P = TypeVar("P", bound=ParamsModel)


class Computed(NamedTuple):
    """A variable a node sets from its own expression, and what that expression reads."""

    variable: str
    reads: frozenset[str]
    functions: frozenset[str]


class Dialled(NamedTuple):
    """A number a node dials: where it is written, the template, the node's own `allow` patterns."""

    path: str  # JSON path inside params, e.g. "numbers[0]"
    template: str
    allow: tuple[str, ...]


class NodeType(Generic[P]):
    """One node of a scenario; subclasses are the component catalogue.

    Generic over its params model, so a handler reads `self.params.queue`
    typed as the node's own `Params` (``class QueueNode(NodeType[QueueParams])``).
    """

    type_name: ClassVar[str]
    title_en: ClassVar[str]
    title_ru: ClassVar[str]
    description: ClassVar[str] = ""
    category: ClassVar[str] = "flow"
    Params: ClassVar[type[ParamsModel]] = NoParams
    #: exits every instance has; `exit_names` adds the ones params declare
    exits: ClassVar[tuple[str, ...]] = ("next",)
    #: exits that may stay unwired (the call then ends normally)
    optional_exits: ClassVar[frozenset[str]] = frozenset()
    #: the "default" branch of a menu-like node; unwired is a validator error
    default_exits: ClassVar[tuple[str, ...]] = ()
    #: the node waits for the caller (input or another person), so a cycle
    #: through it is not an endless loop
    waits_for_caller: ClassVar[bool] = False
    #: the node ends the walk (hangup, return); it has no outgoing exits
    terminal: ClassVar[bool] = False
    #: the node needs live media (cannot run after the caller hung up)
    needs_media: ClassVar[bool] = False

    __slots__ = ("id", "params", "all_exits")

    def __init__(self, node_id: str, params: P) -> None:
        self.id = node_id
        self.params: P = params
        #: every exit this node has, as its params declare them
        self.all_exits: tuple[str, ...] = tuple(self.exit_names(params))

    @classmethod
    def exit_names(cls, params: P) -> list[str]:
        return list(cls.exits)

    @classmethod
    def default_exit_names(cls, params: P) -> tuple[str, ...]:
        """The exits that make up the node's default branch (menu-like nodes)."""
        return cls.default_exits

    # ---- static facts for the validator ---------------------------------------
    def reads(self) -> set[str]:
        """Variables this node reads (from its expressions and templates)."""
        names: set[str] = set()
        for _path, kind, text in iter_expressions(self.params):
            compiled = compile_expression(text) if kind == "expression" else compile_template(text)
            names |= compiled.variables
        return names

    def writes(self) -> set[str]:
        """Variables this node assigns; override in nodes that set variables."""
        return set()

    def references(self) -> dict[str, set[str]]:
        """Named external things used, by kind (e.g. {"scenario": {"billing"}})."""
        return {}

    def caller_input(self) -> dict[str, str]:
        """Variables this node fills with what the caller typed or said, each with
        a few words saying what it holds. The dial-policy check follows them."""
        return {}

    def computed(self) -> list[Computed]:
        """Variables set from the node's own expressions, in order, with what each reads.

        Other `writes()` are taken as the node's own data (a CRM answer, who
        answered): what the variable held before is gone."""
        return []

    def dialled(self) -> list[Dialled]:
        """Numbers this node rings directly (not through the ACD)."""
        return []

    # ---- helpers ---------------------------------------------------------------------
    @staticmethod
    def expr(text: str) -> Expression:
        return compile_expression(text)

    @staticmethod
    def template(text: str) -> Template:
        return compile_template(text)

    async def run(self, ctx: CallContext) -> str:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{self.type_name} {self.id}>"
