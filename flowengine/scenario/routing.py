"""Which scenario a call runs: the routing table, apart from the scenarios.

Numbers used to live inside the versioned scenario document, which made
routing depend on whichever version was published last. The routing table is
its own document, changed on its own:

- **number bindings**: a called number → a scenario id, pinned to one version
  or following the latest published one;
- **line bindings**: a line (trunk, analog port) → a scenario, for calls whose
  number is not bound — above all lines that send no dialled number, where only
  the line tells which number was called;
- an explicit **default** scenario for everything else (never implicit);
- **normalisation rules** per line (and table-wide for lines without their
  own), applied to the called and caller numbers before routing and before
  the scenario sees them: ``8XXXXXXXXXX -> +7XXXXXXXXXX``.

Taking a number or a line that another scenario holds is refused unless the
change says ``replace=True``: no silent takeover. The models are pydantic so the
service can store and serve them; `load_routing_file` reads the YAML/JSON form
the CLI takes (``--routing FILE``), reporting every problem with its place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, NamedTuple

import re2
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from flowengine.documents import DocumentError, load_document
from flowengine.errors import Problem, ProblemsError
from flowengine.numbers import Token, parse_pattern
from flowengine.scenario.model import NODE_ID_PATTERN

#: a line name: what a backend reports as `Call.line` (trunk, port, gateway)
LINE_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.:@\-]{0,63}$"
#: the longest number rules are applied to; longer values pass unchanged, which
#: keeps every rewrite bounded (E.164 is at most 15 digits)
MAX_NUMBER_LENGTH = 64
MAX_PATTERN_LENGTH = 64
MAX_REGEX_LENGTH = 256
MAX_RULES = 100



class RoutingError(ProblemsError):
    """A routing table or a change to it was refused; carries every problem found."""

    what = "routing table"


# ---- normalisation rules ----------------------------------------------------------------


class NormalisationRule(BaseModel):
    """One rewrite of a number, tried against the whole number.

    Written ``"8XXXXXXXXXX -> +7XXXXXXXXXX"`` (or ``{match, to}``); `match`
    is in the number pattern language of `flowengine.numbers` (the dial
    policy's too), its final ``.`` taking the rest of the number whatever it
    holds. `to` repeats the wildcards of `match` in the same order, each
    standing for what it matched, around new literal digits; or has no
    wildcard at all (the number is replaced by `to`).

    ``{regex, to}`` is the escape hatch for odd trunks: an RE2 expression
    (linear time, no back-references) that must match the whole number, and
    `to` with ``\\1``-style group references.
    """

    model_config = ConfigDict(extra="forbid")
    match: str | None = Field(default=None, max_length=MAX_PATTERN_LENGTH, description="number pattern")
    regex: str | None = Field(default=None, max_length=MAX_REGEX_LENGTH, description="RE2 expression")
    to: str = Field(min_length=1, max_length=MAX_PATTERN_LENGTH, description="the rewritten number")

    _tokens: list[Token] = PrivateAttr(default_factory=list)
    _out: list[Token] = PrivateAttr(default_factory=list)
    _regex: Any = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: Any) -> Any:
        if isinstance(data, str):
            match, arrow, to = data.partition("->")
            if not arrow:
                raise ValueError(f"a rule is written 'PATTERN -> REPLACEMENT', got '{data}'")
            return {"match": match.strip(), "to": to.strip()}
        return data

    @model_validator(mode="after")
    def _compile(self) -> NormalisationRule:
        if (self.match is None) == (self.regex is None):
            raise ValueError("a rule has exactly one of 'match' (a number pattern) and 'regex'")
        if self.regex is not None:
            self._regex = _compile_regex(self.regex, self.to)
            return self
        assert self.match is not None
        self._tokens = parse_pattern(self.match)
        out = parse_pattern(self.to, what="replacement")
        wild_in = [(t.kind, t.chars) for t in self._tokens if t.wild]
        wild_out = [(t.kind, t.chars) for t in out if t.wild]
        if wild_out and wild_out != wild_in:
            written = "".join(t.text for t in self._tokens if t.wild)
            raise ValueError(
                f"'{self.to}' must repeat the wildcards of '{self.match}' in the same order "
                f"({written or 'none'}), or have none"
            )
        self._out = out
        return self

    def apply(self, number: str) -> str | None:
        """The rewritten number, or None when the rule does not match it."""
        if self._regex is not None:
            found = self._regex.fullmatch(number)
            if found is None:
                return None
            try:
                return str(found.expand(self.to))
            except (re2.error, IndexError, ValueError):  # checked at load; never fail a call
                return None
        captured: list[str] = []
        tokens = self._tokens
        for i, token in enumerate(tokens):
            if token.kind == "rest":
                if i >= len(number):
                    return None
                captured.append(number[i:])
                break
            if i >= len(number):
                return None
            ch = number[i]
            if token.kind == "literal":
                if ch != token.chars:
                    return None
            elif ch not in token.chars:
                return None
            else:
                captured.append(ch)
        else:
            if len(number) != len(tokens):
                return None
        if not any(t.wild for t in self._out):
            return "".join(t.chars for t in self._out)
        it = iter(captured)
        return "".join(next(it) if t.wild else t.chars for t in self._out)

    def __str__(self) -> str:
        return f"{self.match if self.match is not None else f're:{self.regex}'} -> {self.to}"


def _compile_regex(pattern: str, to: str) -> Any:
    options = re2.Options()
    options.log_errors = False
    try:
        compiled = re2.compile(pattern, options)
    except re2.error as exc:
        detail = exc.args[0] if exc.args else exc
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        raise ValueError(f"invalid regular expression '{pattern}': {detail}") from None
    for ref in _group_refs(to):
        if ref > compiled.groups:
            raise ValueError(f"'{to}' refers to group {ref}, but '{pattern}' has {compiled.groups}")
    return compiled


def _group_refs(to: str) -> list[int]:
    refs: list[int] = []
    i = 0
    while i < len(to) - 1:
        if to[i] == "\\" and to[i + 1].isdigit():
            j = i + 1
            while j < len(to) and to[j].isdigit():
                j += 1
            refs.append(int(to[i + 1 : j]))
            i = j
        else:
            i += 1
    return refs


Rules = list[NormalisationRule]


def apply_rules(rules: Rules, number: str) -> str:
    """The first rule that matches the whole number rewrites it; none: unchanged."""
    if not number or len(number) > MAX_NUMBER_LENGTH:
        return number
    for rule in rules:
        out = rule.apply(number)
        if out is not None:
            return out
    return number


# ---- bindings ------------------------------------------------------------------------------


class ScenarioRef(BaseModel):
    """A scenario and either a pinned version or (None) the latest published one."""

    model_config = ConfigDict(extra="forbid")
    scenario_id: str = Field(pattern=NODE_ID_PATTERN)
    version: int | None = Field(default=None, ge=1, description="pinned version; null = latest published")

    def describe(self) -> str:
        return _describe(self.scenario_id, self.version)


class NumberBinding(ScenarioRef):
    number: str = Field(min_length=1, max_length=MAX_NUMBER_LENGTH, description="as normalised")


class LineConfig(BaseModel):
    """What the engine knows of one line: its rules, its number, its scenario.

    `called` / `caller`: normalisation rules for this line (None: the table's).
    `number`: the number this line stands for; a call arriving on it with no
    dialled number gets it as its called number (analog lines). `scenario_id`
    (with `version`): where calls on this line go when their number is not
    bound.
    """

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=LINE_PATTERN)
    number: str | None = Field(default=None, min_length=1, max_length=MAX_NUMBER_LENGTH)
    called: Rules | None = Field(default=None, max_length=MAX_RULES)
    caller: Rules | None = Field(default=None, max_length=MAX_RULES)
    scenario_id: str | None = Field(default=None, pattern=NODE_ID_PATTERN)
    version: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _version_needs_scenario(self) -> LineConfig:
        if self.version is not None and self.scenario_id is None:
            raise ValueError("'version' pins the line's scenario: set 'scenario_id' too")
        return self

    def binding(self) -> ScenarioRef | None:
        if self.scenario_id is None:
            return None
        return ScenarioRef(scenario_id=self.scenario_id, version=self.version)


class Resolution(NamedTuple):
    """Where a call goes (`scenario_id` None: nowhere) and why.

    `via` is number, line, default or none; `called` and `line` are what was
    resolved; `unpublished` is set by the engine when the bound version is
    not in the store. The `reason` text is built when asked for, so a call
    in flight holds no text for it (a tuple: cheap to make on every call).
    """

    scenario_id: str | None
    version: int | None
    via: Literal["number", "line", "default", "none"]
    called: str
    line: str | None = None
    unpublished: bool = False

    @property
    def reason(self) -> str:
        target = _describe(self.scenario_id or "", self.version)
        if self.via == "number":
            text = f"number {self.called} bound to {target}"
        else:
            text = f"number {self.called} not bound" if self.called else "no dialled number"
            if self.via == "line":
                text += f"; line {self.line} bound to {target}"
            elif self.line is not None:
                text += f", line {self.line} not bound"
            if self.via == "default":
                text += f"; default scenario {target}"
            elif self.via == "none":
                text += ", and no default scenario"
        if self.unpublished:
            text += f", but {f'v{self.version}' if self.version else 'any version'} of it is not published"
        return text


def _describe(scenario_id: str, version: int | None) -> str:
    return f"'{scenario_id}' " + (f"v{version}" if version else "(latest)")


# ---- the table -----------------------------------------------------------------------------


class RoutingTable(BaseModel):
    """Number and line bindings, the default scenario and normalisation rules.

    Change it through its methods (they keep the lookup indexes and refuse
    takeovers); the fields are the stored/served form. Numbers are bound in
    their normalised form (what `calledid()` sees).
    """

    model_config = ConfigDict(extra="forbid")
    default: ScenarioRef | None = Field(default=None, description="for calls nothing else routes")
    numbers: list[NumberBinding] = Field(default_factory=list)
    lines: list[LineConfig] = Field(default_factory=list)
    called: Rules = Field(default_factory=list, max_length=MAX_RULES, description="for lines without their own")
    caller: Rules = Field(default_factory=list, max_length=MAX_RULES, description="for lines without their own")

    _by_number: dict[str, NumberBinding] = PrivateAttr(default_factory=dict)
    _by_line: dict[str, LineConfig] = PrivateAttr(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _default_shorthand(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("default"), str):
            return {**data, "default": {"scenario_id": data["default"]}}
        return data

    @field_validator("numbers")
    @classmethod
    def _numbers_once(cls, numbers: list[NumberBinding]) -> list[NumberBinding]:
        first: dict[str, int] = {}
        for i, b in enumerate(numbers):
            if b.number in first:
                raise ValueError(f"number {b.number} is bound twice (numbers[{first[b.number]}] and numbers[{i}])")
            first[b.number] = i
        return numbers

    @field_validator("lines")
    @classmethod
    def _lines_once(cls, lines: list[LineConfig]) -> list[LineConfig]:
        first: dict[str, int] = {}
        for i, line in enumerate(lines):
            if line.name in first:
                raise ValueError(f"line '{line.name}' is configured twice (lines[{first[line.name]}] and lines[{i}])")
            first[line.name] = i
        return lines

    def model_post_init(self, context: Any, /) -> None:
        self._by_number = {b.number: b for b in self.numbers}
        self._by_line = {line.name: line for line in self.lines}

    # ---- changes ---------------------------------------------------------------------------
    def bind_number(
        self, number: str, scenario_id: str, version: int | None = None, *, replace: bool = False
    ) -> NumberBinding:
        """Route `number` to `scenario_id` (pinned to `version`, or the latest).

        A number held by another scenario is refused unless `replace`;
        re-binding a scenario's own number (to pin or unpin it) is allowed.
        """
        binding = _validated(NumberBinding, number=number, scenario_id=scenario_id, version=version)
        held = self._by_number.get(number)
        if held is not None and held.scenario_id != scenario_id and not replace:
            raise RoutingError(
                [
                    Problem(
                        f"number {number} is bound to '{held.scenario_id}'; "
                        f"binding it to '{scenario_id}' needs replace=True",
                        code="binding_conflict",
                    )
                ]
            )
        self.numbers = [b for b in self.numbers if b.number != number] + [binding]
        self._by_number[number] = binding
        return binding

    def unbind_number(self, number: str) -> NumberBinding | None:
        """Remove the number's binding; its calls fall to the line or the default."""
        held = self._by_number.pop(number, None)
        if held is not None:
            self.numbers = [b for b in self.numbers if b.number != number]
        return held

    def configure_line(self, config: LineConfig, *, replace: bool = False) -> LineConfig:
        """Add or change a line (rules, number, binding) as a whole.

        Moving the line to another scenario is refused unless `replace`."""
        held = self._by_line.get(config.name)
        if (
            held is not None
            and held.scenario_id is not None
            and config.scenario_id not in (None, held.scenario_id)
            and not replace
        ):
            raise RoutingError(
                [
                    Problem(
                        f"line '{config.name}' is bound to '{held.scenario_id}'; "
                        f"binding it to '{config.scenario_id}' needs replace=True",
                        code="binding_conflict",
                    )
                ]
            )
        self.lines = [line for line in self.lines if line.name != config.name] + [config]
        self._by_line[config.name] = config
        return config

    def bind_line(
        self, line: str, scenario_id: str, version: int | None = None, *, replace: bool = False
    ) -> LineConfig:
        """Route calls on `line` whose number is not bound to `scenario_id`."""
        ref = _validated(ScenarioRef, scenario_id=scenario_id, version=version)
        held = self._by_line.get(line)
        if held is None:
            config = _validated(LineConfig, name=line, scenario_id=scenario_id, version=version)
        else:
            config = held.model_copy(update={"scenario_id": ref.scenario_id, "version": ref.version})
        return self.configure_line(config, replace=replace)

    def unbind_line(self, line: str) -> LineConfig | None:
        """Drop the line's scenario binding (its rules and number stay)."""
        held = self._by_line.get(line)
        if held is None or held.scenario_id is None:
            return None
        self.configure_line(held.model_copy(update={"scenario_id": None, "version": None}))
        return held

    def set_default(self, scenario_id: str | None, version: int | None = None) -> None:
        """The scenario for calls nothing else routes; None: refuse such calls."""
        self.default = (
            None if scenario_id is None else _validated(ScenarioRef, scenario_id=scenario_id, version=version)
        )

    def follow_document_numbers(self, scenario_id: str, before: list[str], after: list[str]) -> list[str]:
        """Keep the bindings in step with a scenario document's `numbers`.

        The import convenience: a new version of `scenario_id` that lists
        `after` where the previous version listed `before` binds the listed
        numbers that are free (to the latest version) and releases the numbers
        it no longer lists that are still bound to this scenario's latest
        version; a number held by another scenario is left alone. Returns one
        line per number it could not take, for the publisher to report.
        """
        notes: list[str] = []
        for number in before:
            held = self._by_number.get(number)
            if number not in after and held is not None and held.scenario_id == scenario_id and held.version is None:
                self.unbind_number(number)
        for number in after:
            held = self._by_number.get(number)
            if held is None:
                self.bind_number(number, scenario_id)
            elif held.scenario_id != scenario_id:
                notes.append(
                    f"number {number} stays with '{held.scenario_id}': '{scenario_id}' lists it, "
                    "but a number is moved only by binding it with replace=True"
                )
        return notes

    # ---- lookups ------------------------------------------------------------------------------
    def number_binding(self, number: str) -> NumberBinding | None:
        return _private(self, "_by_number").get(number)  # type: ignore[no-any-return]

    def line_config(self, line: str | None) -> LineConfig | None:
        return None if line is None else _private(self, "_by_line").get(line)

    def normalise(self, line: str | None, called: str, caller: str) -> tuple[str, str]:
        """(called, caller) as routing and the scenario see them.

        A call with no dialled number on a line that has a `number` gets that
        number; then the line's rules (or the table's, for a line without its
        own) rewrite each number: the first rule matching the whole number wins.
        """
        config = self.line_config(line)
        if config is None:
            if not self.called and not self.caller:
                return called, caller
            return apply_rules(self.called, called), apply_rules(self.caller, caller)
        if not called and config.number is not None:
            called = config.number
        called_rules = self.called if config.called is None else config.called
        caller_rules = self.caller if config.caller is None else config.caller
        return apply_rules(called_rules, called), apply_rules(caller_rules, caller)

    def resolve(self, called: str, line: str | None = None) -> Resolution:
        """Where a call to `called` (normalised) on `line` goes, and why.

        Order: the number's binding; else the line's; else the default; else
        nowhere (the engine refuses the call with cause ``no_route``).
        """
        held = self.number_binding(called) if called else None
        if held is not None:
            return Resolution(held.scenario_id, held.version, "number", called, line)
        config = self.line_config(line)
        if config is not None and config.scenario_id is not None:
            return Resolution(config.scenario_id, config.version, "line", called, line)
        if self.default is not None:
            return Resolution(self.default.scenario_id, self.default.version, "default", called, line)
        return Resolution(None, None, "none", called, line)

    def scenario_refs(self) -> list[tuple[str, ScenarioRef]]:
        """Every (JSON path, reference) the table holds, for checks against a store."""
        refs: list[tuple[str, ScenarioRef]] = []
        if self.default is not None:
            refs.append(("default", self.default))
        refs.extend((f"numbers[{i}]", b) for i, b in enumerate(self.numbers))
        for i, line in enumerate(self.lines):
            bound = line.binding()
            if bound is not None:
                refs.append((f"lines[{i}]", bound))
        return refs


def _private(table: RoutingTable, name: str) -> Any:
    """A private attribute, read directly: pydantic resolves them through a
    Python-level ``__getattr__`` (about 2 µs), and routing runs on every call."""
    return table.__pydantic_private__[name]  # type: ignore[index]


def _validated(model: type[Any], **fields: Any) -> Any:
    """Build a model from API arguments; a bad value is a RoutingError naming the field."""
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        raise RoutingError(
            [Problem(str(e["msg"]).removeprefix("Value error, "), path=".".join(map(str, e["loc"]))) for e in exc.errors()]
        ) from None


# ---- the file form ---------------------------------------------------------------------------


def parse_routing(data: Any, source: str | None = None) -> RoutingTable:
    """Validate already-parsed data; every problem with its JSON path."""
    from flowengine.scenario.loader import problems_from_validation

    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise RoutingError([Problem("a routing table must be a mapping at the top level")], source)
    try:
        return RoutingTable.model_validate(data)
    except ValidationError as exc:
        raise RoutingError(problems_from_validation(exc, data=data), source) from None


def load_routing_file(path: str | Path) -> RoutingTable:
    """Read a routing table from ``.yaml``/``.yml`` or ``.json``."""
    p = Path(path)
    try:
        data = load_document(p, yaml_unless_json=True)
    except DocumentError as exc:
        raise RoutingError(exc.problems, str(p)) from None
    return parse_routing(data, str(p))
