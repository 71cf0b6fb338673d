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
    #: exits that may stay unwired even in the main flow: taking one ends the
    #: call normally (the engine hangs up). See `possible_exits` for exits
    #: the node's params rule out, which are never required either.
    optional_exits: ClassVar[frozenset[str]] = frozenset()
    #: the "default" branch of a menu-like node; unwired is a validator error
    default_exits: ClassVar[tuple[str, ...]] = ()
    #: for the docs: exit -> when the node can take it ("only with `callback_digit`");
    #: `possible_exits` is what the validator uses
    exit_conditions: ClassVar[dict[str, str]] = {}
    #: for the docs: the exits of a type whose exits come from its params
    params_exits: ClassVar[str] = ""
    #: the node waits for the caller (input or another person), so a cycle
    #: through it is not an endless loop
    waits_for_caller: ClassVar[bool] = False
    #: the node ends the walk (hangup, return); it has no outgoing exits
    terminal: ClassVar[bool] = False
    #: the node needs live media (cannot run after the caller hung up)
    needs_media: ClassVar[bool] = False
    #: a stand-in for a node that did not load (the validator's partial graph)
    unchecked: ClassVar[bool] = False
    #: a terminal node that ends the call (Hangup), rather than the walk of a
    #: called subscenario (Return): nothing comes back from it to a caller
    ends_call: ClassVar[bool] = False

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

    def possible_exits(self) -> tuple[str, ...]:
        """The exits this node can take with its params (besides "error").

        Every declared exit may be wired, but one the params rule out (a
        Queue's "callback" with no `callback_digit`) is never required."""
        return self.all_exits

    def required_exits(self) -> tuple[str, ...]:
        """The exits that must be wired where the caller is still on the line."""
        optional = self.optional_exits
        return tuple(e for e in self.possible_exits() if e not in optional)

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

    def writes_on(self, exit_name: str) -> set[str]:
        """Variables certainly assigned when the node leaves by `exit_name`
        (never called for "error": a failed node may have set nothing).
        Default: all of `writes()`; a node that sets a variable only on some
        exits (who answered, on "answered") says so here, or the validator
        would take a read after its other exits for safe."""
        return self.writes()

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


class UncheckedNode(NodeType[NoParams]):
    """Stands in for a node that did not load (unknown type, bad params, a bad
    expression), so the validator can still check the rest of the graph and
    report every problem at once. It takes the exits it is wired with and
    requires none; it may wait for the caller, end the call, or set any
    variable, so nothing is concluded from it that the real node might refute.
    Never registered, never run.
    """

    type_name = "(not loaded)"
    title_en = "Node"
    title_ru = "Узел"
    waits_for_caller = True
    unchecked: ClassVar[bool] = True
    __slots__ = ("written_type", "exits_known", "anonymous")

    def __init__(self, node_id: str, written_type: str, wired: list[str]) -> None:
        super().__init__(node_id, NoParams())
        #: the type the document names (maybe unknown)
        self.written_type = written_type
        #: False when some of its exits could not be read (so what it reaches is unknown)
        self.exits_known = True
        #: True for a node the document gave no usable id: findings about it are not shown
        self.anonymous = False
        self.all_exits = tuple(e for e in wired if e != ERROR_EXIT)

    def possible_exits(self) -> tuple[str, ...]:
        return ()

    def reads(self) -> set[str]:
        return set()
