"""Settings of the SIP backend: where it listens, which peers it trusts
(trunks), its RTP port range and codecs.

A trunk is a named set of addresses (IPs or networks). A request from an
address in no trunk gets 403, unless `allow_untrusted` is set; the trunk an
INVITE came from is the call's `line`, so routing by line and per-line
number normalisation work exactly as on the simulator. The default trusts
only the loopback addresses: a safe default that keeps a fresh install from
answering the internet.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flowengine.errors import UsageError
from flowengine.speech.asr import AsrSettings
from flowengine.telephony.dialpolicy import DialPolicy
from telephony_adapters.sip.sdp import SUPPORTED
from telephony_adapters.sip.sessiontimer import RFC_MIN_SE, TimerPolicy
from telephony_adapters.sip.trunks import OutboundRoute, Registration, Trunk, route_outbound

__all__ = ["OutboundRoute", "Registration", "SipSettings", "Trunk"]


@dataclass(frozen=True, slots=True)
class SipSettings:
    host: str = "127.0.0.1"
    port: int = 5060
    #: the address written in SDP and Contact (default: `host`)
    advertise: str | None = None
    trunks: tuple[Trunk, ...] = (Trunk.of("local", ("127.0.0.0/8", "::1")),)
    #: answer requests from addresses in no trunk (their calls have no line)
    allow_untrusted: bool = False
    rtp_ports: tuple[int, int] = (20000, 30000)
    codecs: tuple[str, ...] = SUPPORTED
    max_message_bytes: int = 65507
    #: new INVITEs accepted per second from one address (beyond: 503); None: unlimited
    invite_rate: float | None = None
    invite_burst: float = 20.0
    #: end an answered call whose far end sent no RTP for this many seconds
    #: (a peer that vanished without BYE); None: never (some peers send no RTP while silent)
    media_timeout: float | None = None
    #: said prompts are cached under `<cache_dir>/tts`; None: the user's cache folder
    #: ($FLOWENGINE_CACHE_DIR, else ~/.cache/flowengine); the service gives `<data_dir>/cache`
    cache_dir: str | None = None
    #: where Record writes WAV files; None: `recordings/` in the engine's first media folder
    recordings_dir: str | None = None
    #: music on hold when the scenario names none (a WAV file); None: a soft tone every 4 s
    music: str | None = None
    #: speech recognition: the engine for each language and the vosk model directory
    asr: AsrSettings = field(default_factory=AsrSettings)
    #: digest algorithms the registrar challenges operators' phones with, preferred
    #: first (RFC 8760); phones that know only MD5 (baresip 1.0) need ("MD5",)
    digest_algorithms: tuple[str, ...] = ("SHA-256", "MD5")
    #: RFC 4028 session timers: the interval (seconds) we ask for when a caller
    #: supports them and names none, or names a longer one; None: timers off
    session_expires: int | None = 1800
    #: the shortest interval we accept (shorter: 422). The RFC's floor is 90;
    #: only tests go below it
    min_se: int = RFC_MIN_SE

    def __post_init__(self) -> None:
        unknown = [c for c in self.codecs if c not in SUPPORTED]
        if unknown or not self.codecs:
            raise UsageError(f"sip settings: codecs: {unknown or 'none'} (supported: {', '.join(SUPPORTED)})")
        if not self.digest_algorithms or not set(self.digest_algorithms) <= {"SHA-256", "MD5"}:
            raise UsageError(f"sip settings: digest_algorithms {list(self.digest_algorithms)} (known: SHA-256, MD5)")
        if not 0 <= self.port <= 65535:
            raise UsageError(f"sip settings: port {self.port} is not 0-65535")
        if self.host in ("0.0.0.0", "::") and not self.advertise:
            raise UsageError("sip settings: listening on all addresses needs `advertise` (the address peers reach)")
        if self.media_timeout is not None and self.media_timeout <= 0:
            raise UsageError(f"sip settings: media_timeout {self.media_timeout} must be > 0 seconds")
        if self.min_se < 1 or (self.session_expires is not None and self.session_expires < self.min_se):
            raise UsageError(
                f"sip settings: session_expires {self.session_expires} must be at least min_se {self.min_se} (>= 1)"
            )
        names = [t.name for t in self.trunks]
        if len(set(names)) != len(names):
            raise UsageError(f"sip settings: trunk names repeat: {names}")
        for trunk in self.trunks:
            bad = [c for c in trunk.codecs or () if c not in self.codecs]
            if bad or trunk.codecs == ():
                raise UsageError(
                    f"sip settings: trunks.{trunk.name}.codecs: {bad or 'none'} (the backend's codecs: {', '.join(self.codecs)})"
                )

    @property
    def timer_policy(self) -> TimerPolicy | None:
        """The session-timer policy of the core (None: timers off)."""
        if self.session_expires is None:
            return None
        return TimerPolicy(self.session_expires, self.min_se)

    @property
    def media_address(self) -> str:
        return self.advertise or self.host

    def trunk_for(self, ip: str) -> Trunk | None:
        for trunk in self.trunks:
            if trunk.matches(ip):
                return trunk
        return None

    def codecs_for(self, ip: str) -> tuple[str, ...]:
        """The codecs a call from `ip` may use: its trunk's, else the backend's."""
        trunk = self.trunk_for(ip)
        return trunk.codecs if trunk is not None and trunk.codecs else self.codecs

    def route_outbound(self, number: str, *, policy: DialPolicy | None = None) -> OutboundRoute:
        """(trunk, Request-URI) for a call to `number`; see `trunks.route_outbound`."""
        return route_outbound(self.trunks, number, policy=policy)
