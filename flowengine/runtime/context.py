"""Per-call state: variables, the event stream, counters, and the helpers node
handlers use (evaluate, set a variable, say/play with an event).

`emit` numbers the call's events (`seq` 1, 2, 3…, no gaps), stamps them with
`t` (seconds since the call started, to the microsecond) and `ts` (epoch
seconds: the call's start instant, taken once from the clock, plus `t` — so
`ts - t` is the same on every event of a call), fills the scenario and its
version on node events, and publishes them to the engine. No datetime and
no `round()` per event: this is the interpreter's hot path.
The call keeps its own list of events only when asked (`keep_events`: the
test harness and `flowengine run`); otherwise `events` is None and the
stream lives only in the sinks, so a long call costs no memory per step.

The context is also the expression language's `Env`: `calledid()` and
`callerid()` (normalised by the line's rules), `calledid_raw()` and
`callerid_raw()` (as the line sent them), `line()`, `now()` (in the current
scenario's time zone), `digits()` and a per-call random generator seeded from
the call id, so a replayed call makes the same random choices.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import random
import zlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flowengine.errors import NodeError, UsageError
from flowengine.events import CallEvent, NodeEntered, NodeLeft, PromptPlayed, VariableChanged
from flowengine.expr import ExpressionRuntimeError, NoCentreError, Template, Value
from flowengine.expr.limits import MAX_STRING_LENGTH
from flowengine.telephony import Call, Prompt

if TYPE_CHECKING:
    from flowengine.components.node import NodeType
    from flowengine.runtime.engine import Engine
    from flowengine.scenario.compiled import Scenario
    from flowengine.scenario.routing import Resolution


class CallContext:
    __slots__ = (
        "engine",
        "call",
        "call_id",
        "seq",
        "called_raw",
        "caller_raw",
        "resolution",
        "scenario",
        "library",
        "variables",
        "events",
        "steps",
        "visits",
        "node_id",
        "last_digits",
        "caller_hung_up",
        "after_hangup",
        "in_error_handler",
        "jump",
        "call_depth",
        "work",
        "end_cause",
        "clock_shift",
        "_t0",
        "_ts0",
        "_rng",
        "_loop",
    )

    def __init__(
        self,
        engine: Engine,
        call: Call,
        scenario: Scenario,
        library: Mapping[str, Scenario],
        *,
        call_id: str,
        keep_events: bool = False,
    ) -> None:
        self.engine = engine
        self.call = call
        #: the engine's id of the call (the backend's own is `call.call_id`)
        self.call_id = call_id
        #: seq of the last event emitted
        self.seq = 0
        #: the numbers as the line sent them (`call` holds them normalised)
        self.called_raw = call.called
        self.caller_raw = call.caller
        #: how the engine chose the scenario (None: the caller of `run` chose it)
        self.resolution: Resolution | None = None
        self.scenario = scenario
        #: scenario id -> Scenario as published when the call started (version pinning)
        self.library = library
        self.variables: dict[str, Any] = dict(scenario.defaults)
        #: the call's events, when the engine keeps them (else None)
        self.events: list[CallEvent] | None = [] if keep_events else None
        self.steps = 0
        #: node -> times entered, for the repeat guard (node ids repeat across scenarios)
        self.visits: dict[NodeType, int] = {}
        self.node_id: str | None = None
        self.last_digits = ""
        self.caller_hung_up = False
        self.after_hangup = False
        self.in_error_handler = False
        #: set by a Subscenario "jump": (scenario, entry node id)
        self.jump: tuple[Scenario, str] | None = None
        #: Subscenario "call" levels now running (bounded by the interpreter)
        self.call_depth = 0
        #: costly work (regex matching, in evaluation steps) since the walk last yielded
        self.work = 0
        #: hangup cause when the engine ends the call (a Hangup node may set it)
        self.end_cause = "normal"
        #: added to the engine's clock for this call's `now()` (a test call
        #: made "at 22:00" sees 22:00 in schedules and hour(); events keep real time)
        self.clock_shift: dt.timedelta | None = None
        self._loop = asyncio.get_running_loop()
        self._t0 = self._loop.time()
        self._ts0 = round(engine.clock.epoch_offset() + self._t0, 6)
        self._rng: random.Random | None = None

    # ---- events -------------------------------------------------------------------
    def elapsed(self) -> float:
        return self._loop.time() - self._t0

    def emit(self, cls: type[CallEvent], **fields: Any) -> CallEvent:
        """Append an event of type `cls` to the call's stream and publish it."""
        # microseconds, half up (t >= 0): a third of round(x, 6)'s cost
        t = int((self._loop.time() - self._t0) * 1e6 + 0.5) / 1e6
        self.seq = seq = self.seq + 1
        if cls.in_scenario:
            scenario = self.scenario
            fields["scenario_id"] = scenario.id
            fields["scenario_version"] = scenario.version
        event = cls(call_id=self.call_id, seq=seq, ts=self._ts0 + t, t=t, **fields)
        if self.events is not None:
            self.events.append(event)
        self.engine.deliver(event)
        return event

    # Entering and leaving nodes are most of a call's events: these two build
    # them with no keyword dict in between (same events as `emit` makes).
    def node_entered(self, node_id: str, node_type: str) -> None:
        t = int((self._loop.time() - self._t0) * 1e6 + 0.5) / 1e6
        self.seq = seq = self.seq + 1
        scenario = self.scenario
        event = NodeEntered(
            call_id=self.call_id, seq=seq, ts=self._ts0 + t, t=t, scenario_id=scenario.id,
            scenario_version=scenario.version, node_id=node_id, node_type=node_type,
        )
        if self.events is not None:
            self.events.append(event)
        self.engine.deliver(event)

    def node_left(self, node_id: str, exit: str) -> None:
        t = int((self._loop.time() - self._t0) * 1e6 + 0.5) / 1e6
        self.seq = seq = self.seq + 1
        scenario = self.scenario
        event = NodeLeft(
            call_id=self.call_id, seq=seq, ts=self._ts0 + t, t=t, scenario_id=scenario.id,
            scenario_version=scenario.version, node_id=node_id, exit=exit,
        )
        if self.events is not None:
            self.events.append(event)
        self.engine.deliver(event)

    # ---- Env for the expression language --------------------------------------------
    def get_variable(self, name: str) -> Value:
        return self.variables[name]  # type: ignore[no-any-return]

    def calledid(self) -> str:
        return self.call.called

    def callerid(self) -> str:
        return self.call.caller

    def calledid_raw(self) -> str:
        return self.called_raw

    def callerid_raw(self) -> str:
        return self.caller_raw

    def line(self) -> str:
        return self.call.line or ""

    def now(self) -> dt.datetime:
        now = self.engine.clock.now()
        if self.clock_shift is not None:
            now += self.clock_shift
        return now.astimezone(self.scenario.tz)

    def digits(self) -> str:
        return self.last_digits

    def queue(self, name: str, fact: str) -> Value:
        driver = self.engine.services.get("acd")
        if driver is None:
            raise NoCentreError(
                f"no call centre is configured to ask about queue '{name}' (pass --centre FILE)"
            )
        try:
            facts = driver.core.queue_facts(name, driver.loop.time())
        except UsageError as exc:  # unknown queue
            raise ExpressionRuntimeError(str(exc)) from None
        return facts[fact]  # type: ignore[no-any-return]

    def note_work(self, steps: int) -> None:
        """Costly work done for this call (regex matching); the interpreter
        lets the other calls run once enough has piled up."""
        self.work += steps

    def rng(self) -> random.Random:
        if self._rng is None:
            self._rng = random.Random(zlib.crc32(self.call_id.encode()))
        return self._rng

    # ---- helpers for node handlers -------------------------------------------------------
    def render(self, template: Template) -> str:
        return template.render(self)

    def set_var(self, name: str, value: Any, node_id: str | None = None) -> None:
        """Set a variable and record it. Text from outside (speech, a CRM, a
        trunk's headers) is held to the expression language's limit here, the
        one door every variable passes: a NodeError (code ``too_long``)."""
        if type(value) is str and len(value) > MAX_STRING_LENGTH:
            raise NodeError(
                f"variable {name}: text of {len(value)} characters is too long "
                f"(the limit is {MAX_STRING_LENGTH})",
                code="too_long",
            )
        self.variables[name] = value
        self.emit(VariableChanged, variable=name, value=value, node_id=node_id)

    async def play(
        self,
        node_id: str,
        prompt: Prompt,
        *,
        barge_in: bool = False,
    ) -> bool:
        """Play a prompt and log it; True if the caller's digit interrupted it.

        An audio file is looked up in the engine's media folders first
        (`flowengine.telephony.media`); a name that is not allowed there is a
        NodeError, and nothing is played."""
        if prompt.kind == "play" and prompt.file is None and self.engine.media:
            prompt = dataclasses.replace(prompt, file=self.engine.media.resolve(prompt.text))
        interrupted = True
        try:
            interrupted = await self.call.play(prompt, barge_in=barge_in)
        finally:
            self.emit(
                PromptPlayed,
                node_id=node_id,
                kind=prompt.kind,
                text=prompt.text,
                language=prompt.language,
                voice=prompt.voice,
                interrupted=interrupted,
            )
        return interrupted

    def media_source(self, name: str | None) -> str | None:
        """Music on hold `name` as the backend should get it: found in the
        media folders (a real path), or as it is when there are none; None
        stays None (the backend's default music)."""
        if name is None or not self.engine.media:
            return name
        return self.engine.media.resolve(name)

    async def say(
        self,
        node_id: str,
        text: str,
        *,
        language: str | None = None,
        voice: str | None = None,
        barge_in: bool = False,
    ) -> bool:
        prompt = Prompt("say", text, language or self.scenario.doc.language, voice)
        return await self.play(node_id, prompt, barge_in=barge_in)
