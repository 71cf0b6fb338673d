"""The SIP backend: answers real SIP calls over UDP and hands each to the engine.

Each INVITE the core accepts becomes a `SipCall` with its numbers taken the
way docs/backends.md says: CalledID from the Request-URI user part (the To
user when the Request-URI has none), CallerID and name from From (from
P-Asserted-Identity when a trusted trunk sent one), the line from the trunk
the INVITE came from, the `X-*` and `Diversion` headers kept. The engine
then routes it by number and line exactly as on the simulator, and the
scenario's Start node answers it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec
from urllib.parse import unquote

from flowengine.errors import NodeError, UsageError
from flowengine.telephony import HangupCause
from flowengine.telephony.backend import Backend, LegJoin
from flowengine.telephony.causes import FAILED, SESSION_EXPIRED, SHUTDOWN
from flowengine.telephony.dialpolicy import DialPolicy
from telephony_adapters.sip.call import SipCall
from telephony_adapters.sip.config import sip_settings
from telephony_adapters.sip.core import (
    SESSION_EXPIRED_Q850,
    CallCancelled,
    CallConfirmed,
    CallFailed,
    CallHungUp,
    CallReinvited,
    DtmfInfo,
    IncomingCall,
    ReferNotify,
    SipCore,
    SipEvent,
)
from telephony_adapters.sip.errors import SipParseError
from telephony_adapters.sip.headers import NameAddr, parse_name_addr, parse_uri
from telephony_adapters.sip.leg import Destination, SipLeg
from telephony_adapters.sip.media import MediaClock, RtpEndpoint, RtpPortPool
from telephony_adapters.sip.message import Request
from telephony_adapters.sip.phones import PhoneLines
from telephony_adapters.sip.recording import ConversationRecorder
from telephony_adapters.sip.registration import Registrations
from telephony_adapters.sip.relay import MediaRelay, RelayedLegs
from telephony_adapters.sip.rtpstats import RtpTotals
from telephony_adapters.sip.settings import OutboundRoute, SipSettings
from telephony_adapters.sip.speech import recording_target, scenario_problems
from telephony_adapters.sip.transport import SipTransport

if TYPE_CHECKING:
    from flowengine.runtime.engine import Engine
    from flowengine.scenario.model import ScenarioDoc
    from flowengine.telephony import Leg

log = logging.getLogger("flowengine.sip")
P = ParamSpec("P")


class SipBackend(Backend):
    name = "sip"

    def __init__(
        self,
        engine: Engine,
        *,
        settings: SipSettings | None = None,
        config: Mapping[str, Any] | None = None,
        listen: str | None = None,
        **options: Any,
    ) -> None:
        """`settings`, or `config` (the user's mapping, see `config.py`) and
        `listen` ("HOST:PORT"), or `SipSettings` fields as keywords."""
        super().__init__(engine)
        if settings is None and (config is not None or listen is not None):
            settings = self.settings_from(config, listen=listen)
        self.settings = settings or SipSettings(**options)
        s = self.settings
        #: more sources to trust beside the trunks (registered phones): each
        #: takes an IP and says whether requests from it are answered
        self.trust_hooks: list[Callable[[str], bool]] = []
        self.core = SipCore(
            (s.media_address, s.port),
            trusted=self.is_trusted_source,
            allow_untrusted=s.allow_untrusted,
            codecs=s.codecs,
            codecs_for=s.codecs_for,
            max_bytes=s.max_message_bytes,
            invite_rate=s.invite_rate,
            invite_burst=s.invite_burst,
            session_timer=s.timer_policy,
        )
        self.rtp_pool = RtpPortPool(*s.rtp_ports)
        #: the one 20 ms clock every call's prompts are sent on
        self.media_clock = MediaClock()
        self.transport: SipTransport | None = None
        self._media_watch: asyncio.TimerHandle | None = None
        #: live calls by the core's key
        self.calls: dict[str, SipCall] = {}
        #: outgoing legs by the key of each of their INVITEs (a forked leg is under each), and the operators' phones they ring (`phones`)
        self.legs: dict[str, SipLeg] = {}
        self.phones = PhoneLines(self)
        self._tasks: set[asyncio.Task[None]] = set()
        #: RTP counts of the streams that ended (`rtp_stats()` adds the live ones)
        self.rtp_totals = RtpTotals()
        #: small tasks of live calls (a REFER waiting for the dialog to be confirmed)
        self.background: set[asyncio.Task[None]] = set()
        #: our trunks' registrations with their providers
        self.registrations = Registrations(self)
        #: registrations in force by kind, read by /metrics (the registrar adds "phone")
        self.registration_counters: dict[str, Callable[[], int]] = {"trunk": lambda: self.registrations.registered}
        # operators' phones: their addresses are trusted while registered, and counted
        self.trust_hooks.append(self.phones.knows_source)
        self.registration_counters["phone"] = self.phones.registered
        #: told of each call the engine starts (the service lists live calls)
        self.call_listeners: list[Callable[[SipCall, asyncio.Task[Any]], None]] = []

    @staticmethod
    def settings_from(config: Mapping[str, Any] | None, *, listen: str | None = None) -> SipSettings:
        """The user's SIP settings mapping read (UsageError naming the path), as `serve` passes it."""
        return sip_settings(config, listen=listen, where="sip_settings")

    def is_trusted_source(self, addr: str | tuple[str, int]) -> bool:
        """Whether requests from `addr` (an IP, or (IP, port)) are answered:
        it is in a trunk's addresses, or a trust hook vouches for it."""
        ip = addr if isinstance(addr, str) else addr[0]
        if self.settings.trunk_for(ip) is not None:
            return True
        return any(hook(ip) for hook in self.trust_hooks)

    def route_outbound(self, number: str, *, policy: DialPolicy | None = None) -> OutboundRoute:
        """The trunk and Request-URI for an outgoing call to `number`
        (NodeError `not_allowed` or `no_route` when it may not or cannot go out)."""
        return self.settings.route_outbound(number, policy=policy)

    # ---- lifecycle -------------------------------------------------------------------------------------
    async def start(self) -> None:
        s = self.settings
        problems = [p for doc in (sc.doc for sc in self.engine.store.latest().values()) for p in self.scenario_problems(doc)]
        if problems:
            raise UsageError("; ".join(problems))
        self.phones.open_registrar()
        self.transport = await SipTransport.open(self.core, self._on_event, s.host, s.port)
        if s.advertise:
            self.core.local = (s.advertise, self.core.local[1])
        if s.media_timeout is not None:
            self._watch_media()
        self.registrations.start()
        log.info("SIP listening on %s:%s", *self.core.local)

    @property
    def address(self) -> tuple[str, int]:
        """Where peers send SIP (the port is the bound one when 0 was asked)."""
        return self.core.local

    async def stop(self) -> None:
        """End live calls (503 before answer, BYE after; cause `shutdown` by
        `system`), give the goodbyes a moment on the wire, close the sockets."""
        if self._media_watch is not None:
            self._media_watch.cancel()
            self._media_watch = None
        self.registrations.stop()
        for call in list(self.calls.values()):
            cause = HangupCause("system", SHUTDOWN, 503, 16)
            call.remote_hangup(cause)
            self.command(self.core.hangup, call.key, q850=16, status=503)
            self._forget(call)
        for leg in list(self.legs.values()):
            leg.hangup(HangupCause("system", SHUTDOWN, 503, 16))
        for task in list(self._tasks):
            task.cancel()
        await asyncio.sleep(0.05)
        if self.transport is not None:
            self.transport.close()
            self.transport = None

    def command(self, fn: Callable[Concatenate[str, float, P], None], key: str, *args: P.args, **kwargs: P.kwargs) -> None:
        """Run a core command for one call (or outgoing leg) now, then send what it produced."""
        loop = asyncio.get_running_loop()
        fn(key, loop.time(), *args, **kwargs)
        if self.transport is not None:
            self.transport.flush()

    def flush(self) -> None:
        """Send what the core queued (after a command made outside `command`)."""
        if self.transport is not None:
            self.transport.flush()

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        """A named task the backend tracks and cancels when it stops."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s failed", task.get_name(), exc_info=task.exception())

    # ---- events from the core --------------------------------------------------------------------------
    def _on_event(self, ev: SipEvent) -> None:
        if isinstance(ev, IncomingCall):
            self._incoming(ev)
            return
        if self.phones.event(ev):
            return
        call = self.calls.get(ev.key)
        if call is None:
            return
        if isinstance(ev, CallHungUp):
            cause = HangupCause.from_q850(ev.q850, by="caller") if ev.q850 else HangupCause("caller", "normal", None, 16)
            self._end(call, cause)
        elif isinstance(ev, CallCancelled):
            self._end(call, HangupCause.from_sip(487, by="caller"))
        elif isinstance(ev, CallFailed) and ev.reason == "session_expired":
            # the far end stopped refreshing the session (RFC 4028): the core sent BYE
            self._end(call, HangupCause("system", SESSION_EXPIRED, None, SESSION_EXPIRED_Q850))
        elif isinstance(ev, CallFailed):
            self._end(call, HangupCause("system", FAILED, None, 41))
        elif isinstance(ev, DtmfInfo):
            call.dtmf_received(ev.digit)
        elif isinstance(ev, CallReinvited):
            call.media_changed(ev.negotiated)
        elif isinstance(ev, ReferNotify):
            call.refer_notified(ev.status)
        elif isinstance(ev, CallConfirmed):
            pass  # media already flows (symmetric RTP latches on the first packet)

    def _incoming(self, ev: IncomingCall) -> None:
        invite = ev.invite
        trunk = self.settings.trunk_for(ev.peer[0])
        assert invite.from_ is not None and invite.to is not None
        identity = invite.from_
        pai = invite.get("P-Asserted-Identity")
        if pai and trunk is not None:
            try:
                identity = parse_name_addr(pai.split(",")[0], "P-Asserted-Identity")
            except SipParseError:
                log.info("ignoring a malformed P-Asserted-Identity from %s", ev.peer[0])
        call = SipCall(
            self,
            ev.key,
            invite.call_id,
            _number(identity),
            called_number(invite),
            line=trunk.name if trunk is not None else None,
            caller_name=identity.display or invite.from_.display,
            headers=_kept_headers(invite),
            negotiated=ev.negotiated,
        )
        self.calls[ev.key] = call
        task = self.engine.start_call(call)
        task.add_done_callback(functools.partial(self._call_task_done, call))
        for listener in self.call_listeners:
            listener(call, task)

    def _end(self, call: SipCall, cause: HangupCause) -> None:
        self._forget(call)
        call.remote_hangup(cause)

    def _call_task_done(self, call: SipCall, _task: object) -> None:
        """The engine is done with the call: whatever the scenario did, the
        dialog ends and its RTP port goes back."""
        if call.key in self.calls:
            try:
                self.command(self.core.hangup, call.key, q850=16)
            except Exception:
                log.exception("ending call %s failed", call.call_id)
        self._forget(call)

    def _forget(self, call: SipCall) -> None:
        self.calls.pop(call.key, None)
        call.release_media()

    def _watch_media(self) -> None:
        """Once a second: end answered calls and legs whose far end has sent
        no RTP for `media_timeout` seconds (cause `failed` by `system`, BYE
        with Q.850 41); one that holds the conversation may rightly be silent."""
        timeout = self.settings.media_timeout
        assert timeout is not None
        loop = asyncio.get_running_loop()
        now = loop.time()
        for call in list(self.calls.values()):
            rtp = call.rtp
            if rtp is None or call.answered_at is None or rtp.held:
                continue  # a far end holding us (a=inactive) may rightly send nothing
            heard = max(rtp.last_received, call.answered_at)
            if now - heard > timeout:
                log.info("call %s: no RTP for %.0f s, ending it", call.call_id, now - heard)
                try:
                    self.command(self.core.hangup, call.key, q850=41)
                except Exception:
                    log.exception("ending call %s failed", call.call_id)
                self._end(call, HangupCause("system", FAILED, None, 41))
        for leg in list(self.legs.values()):  # an operator's phone, a callback's caller: the same rule
            rtp = leg.rtp
            if rtp is None or leg.answered_at is None or leg.state != "answered" or rtp.held or leg.held:
                continue
            heard = max(rtp.last_received, leg.answered_at)
            if now - heard > timeout:
                log.info("leg to %s: no RTP for %.0f s, ending it", leg.target, now - heard)
                leg.hangup(HangupCause("system", FAILED, None, 41))
        self._media_watch = loop.call_later(min(1.0, timeout / 2), self._watch_media)

    def scenario_problems(self, doc: ScenarioDoc) -> list[str]:
        """Recognize nodes in languages no installed recogniser covers."""
        return scenario_problems(doc, self.settings)

    def release_rtp(self, rtp: RtpEndpoint) -> None:
        self.rtp_totals.add(rtp.packets_in, rtp.packets_out, rtp.stats)
        rtp.close()
        self.rtp_pool.give_back(rtp.port)

    def registration_counts(self) -> dict[str, int]:
        return {kind: count() for kind, count in self.registration_counters.items()}

    def rtp_stats(self) -> dict[str, float]:
        """Packets in and out, packets lost, streams, since start; and the
        mean and the highest interarrival jitter (ms) of the live calls."""
        t = self.rtp_totals
        out = {"packets_in": t.packets_in, "packets_out": t.packets_out, "lost": t.lost, "streams": t.streams}
        jitters: list[float] = []
        for call in self.calls.values():
            rtp = call.rtp
            if rtp is not None:
                out["packets_in"] += rtp.packets_in
                out["packets_out"] += rtp.packets_out
                out["lost"] += rtp.stats.lost
                if rtp.stats.received > 1:
                    jitters.append(rtp.stats.jitter_ms)
        result: dict[str, float] = dict(out)
        result["jitter_ms_mean"] = sum(jitters) / len(jitters) if jitters else 0.0
        result["jitter_ms_max"] = max(jitters, default=0.0)
        return result

    # ---- legs ---------------------------------------------------------------------------------------------
    def owns(self, target: str) -> bool:
        """A phone account of this registrar (registered or not: an
        unregistered phone's leg fails here with 480, it is not tried elsewhere)."""
        return self.phones.owns(target)

    def originate(
        self,
        target: str,
        *,
        ring_timeout: float,
        caller_id: str,
        caller_name: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Leg:
        """Ring a registered phone, a ``sip:`` URI of a trusted peer, or a
        number `route_number` sends to a trunk; anything else fails (404)."""
        return self.phones.ring(target, ring_timeout=ring_timeout, caller_id=caller_id, caller_name=caller_name)

    async def join(self, a: Leg, b: Leg, *, record: bool = False, name: str = "") -> LegJoin | None:
        """Relay RTP both ways between two answered legs of this backend (a
        callback), transcoding and passing digits as for a caller's bridge;
        recorded (`a` left, `b` right) when asked and a folder is set."""
        if not (isinstance(a, SipLeg) and isinstance(b, SipLeg) and a.sip is self and b.sip is self):
            return None
        if a.state != "answered" or b.state != "answered":
            return LegJoin()  # one hung up already: nothing left to join
        if a.rtp is None or b.rtp is None:
            raise NodeError(f"the legs to {a.target} and {b.target} have no SIP media to join", code="unsupported")
        relay = MediaRelay(a.rtp, b.rtp)
        relay.start()
        recorder: ConversationRecorder | None = None
        if record:
            try:
                target = recording_target(self.settings, self.engine.media, name or a.leg_id, "callback")
            except NodeError as exc:
                log.warning("callback %s: %s; the conversation is not recorded", name, exc)
            else:
                recorder = ConversationRecorder(relay, *target)
        return RelayedLegs(relay, recorder)

    def route_number(self, number: str) -> Destination | None:
        """Where a number that is no phone of ours goes out: to the next hop
        of the trunk the trunks' `dial` patterns choose (`route_outbound`);
        None when none carries it or it may not be dialled (the leg fails with 404)."""
        try:
            route = self.route_outbound(number)
        except NodeError as exc:
            log.info("leg to %s not placed: %s", number[:40], exc)
            return None
        hop = route.trunk.next_hop
        if hop is None:
            return None
        uri = parse_uri(route.request_uri, "Request-URI")
        return Destination(uri, hop, NameAddr(uri))


def _number(addr: NameAddr) -> str:
    """The user part of an address, bare: no scheme, no parameters, unescaped."""
    user = addr.uri.user or ""
    return unquote(user.split(";")[0])


def called_number(invite: Request) -> str:
    """CalledID: the Request-URI's user part, else the To header's."""
    user = invite.uri.user
    if user:
        return unquote(user.split(";")[0])
    assert invite.to is not None
    return _number(invite.to)


def _kept_headers(invite: Request) -> dict[str, str]:
    kept: dict[str, str] = {}
    for name, value in invite.headers:
        if name.lower().startswith("x-") or name.lower() == "diversion":
            kept.setdefault(name, value)
    return kept
