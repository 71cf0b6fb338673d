"""What evaluation needs from a call.

The interpreter's CallContext implements `Env`. `MappingEnv` is a small
stand-alone implementation over a dict, for tests, the CLI and the editor's
"try this expression" box.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Protocol

from flowengine.expr.errors import ExpressionRuntimeError, NoCentreError
from flowengine.expr.values import Value

#: what the queue functions tell (``queue_<fact>("sales")``)
QUEUE_FACTS = (
    "waiting",
    "estimated_wait",
    "available",
    "logged_in",
    "busy",
    "longest_wait",
    "service_level",
)


class Env(Protocol):
    def get_variable(self, name: str) -> Value:
        """The variable's value; raises KeyError when it is not set."""
        ...

    def calledid(self) -> str:
        """The dialled number, normalised by the line's rules."""
        ...

    def callerid(self) -> str:
        """The caller's number, normalised by the line's rules."""
        ...

    def calledid_raw(self) -> str:
        """The dialled number as the line sent it."""
        ...

    def callerid_raw(self) -> str:
        """The caller's number as the line sent it."""
        ...

    def line(self) -> str:
        """The name of the line the call arrived on ("" if unknown)."""
        ...

    def now(self) -> datetime.datetime:
        """Timezone-aware, already in the scenario's time zone."""
        ...

    def digits(self) -> str:
        """Digits of the last Gather ("" if none)."""
        ...

    def rng(self) -> random.Random: ...

    def queue(self, name: str, fact: str) -> Value:
        """A fact about queue `name` of the call centre, one of `QUEUE_FACTS`.

        Raises `ExpressionRuntimeError` naming an unknown queue, and
        `NoCentreError` when the call is handled without a call centre.
        """
        ...


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


@dataclass
class MappingEnv:
    """An `Env` over a dict of variables and fixed call facts."""

    variables: MutableMapping[str, Value] = field(default_factory=dict)
    called: str = ""
    caller: str = ""
    #: the raw numbers; None: the same as `called` / `caller`
    called_raw: str | None = None
    caller_raw: str | None = None
    line_name: str = ""
    clock: datetime.datetime | None = None
    last_digits: str = ""
    generator: random.Random = field(default_factory=random.Random)
    #: queue id -> fact -> value, for the queue functions; None: no call centre
    queues: Mapping[str, Mapping[str, Value]] | None = None

    def get_variable(self, name: str) -> Value:
        return self.variables[name]

    def calledid(self) -> str:
        return self.called

    def callerid(self) -> str:
        return self.caller

    def calledid_raw(self) -> str:
        return self.called if self.called_raw is None else self.called_raw

    def callerid_raw(self) -> str:
        return self.caller if self.caller_raw is None else self.caller_raw

    def line(self) -> str:
        return self.line_name

    def now(self) -> datetime.datetime:
        return self.clock if self.clock is not None else _utc_now()

    def digits(self) -> str:
        return self.last_digits

    def rng(self) -> random.Random:
        return self.generator

    def queue(self, name: str, fact: str) -> Value:
        if self.queues is None:
            raise NoCentreError(f"no call centre to ask about queue '{name}'")
        try:
            return self.queues[name].get(fact)
        except KeyError:
            raise ExpressionRuntimeError(f"unknown queue '{name}'") from None
