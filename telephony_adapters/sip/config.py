"""The SIP backend's settings as users write them (YAML/JSON, or a JSON
environment variable), turned into `SipSettings`.

    listen: 127.0.0.1:5060          # or `--sip` on the command line
    advertise: 192.0.2.10           # the address in SDP and Contact, when it differs
    rtp_ports: [20000, 30000]
    codecs: [PCMU, PCMA]
    allow_untrusted: false
    invite_rate: 100                # new INVITEs per second from one address (503 beyond; null: no limit)
    invite_burst: 200
    media_timeout: 60               # end an answered call silent for this long
    session_expires: 1800           # RFC 4028 session timer asked for (null: off)
    min_se: 90                      # shorter Session-Expires get 422
    trunks:
      - name: city
        addresses: [198.51.100.0/24]
        proxy: 198.51.100.10:5060
        dial: ["+7495XXXXXXX"]
        rewrite: ["+7495XXXXXXX -> 8495XXXXXXX"]
      - name: mobile
        register: {registrar: sip.example.net, username: "74951230001", password: s3cret}
        dial: ["+7."]
        codecs: [PCMA]

Without `trunks` the loopback addresses are the one trusted trunk, `local`.
Every mistake is reported with its path (``sip.trunks[1].dial[0]: ...``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from flowengine.errors import UsageError
from telephony_adapters.sip.settings import SipSettings
from telephony_adapters.sip.trunks import Registration, Trunk, split_host_port


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class RegistrationSpec(_Spec):
    registrar: str = Field(min_length=1, max_length=255)
    username: str = Field(min_length=1, max_length=128)
    password: str = Field(min_length=1, max_length=256)
    domain: str | None = Field(default=None, max_length=255)
    auth_username: str | None = Field(default=None, max_length=128)
    expires: int = Field(default=300, ge=60, le=86400)


class TrunkSpec(_Spec):
    name: str = Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.:@\-]{0,63}$")
    addresses: list[str] = Field(default_factory=list, max_length=256)
    proxy: str | None = None
    registration: RegistrationSpec | None = Field(default=None, alias="register")
    codecs: list[str] | None = None
    dial: list[str] = Field(default_factory=list, max_length=100)
    rewrite: list[str] = Field(default_factory=list, max_length=100)
    caller_id: str | None = Field(default=None, pattern=r"^\+?[0-9]{1,32}$")


def _both_digests() -> list[Literal["SHA-256", "MD5"]]:
    return ["SHA-256", "MD5"]


class SipSpec(_Spec):
    listen: str | None = None
    advertise: str | None = None
    rtp_ports: tuple[int, int] = (20000, 30000)
    codecs: list[str] = Field(default_factory=lambda: ["PCMU", "PCMA"])
    allow_untrusted: bool = False
    #: new INVITEs per second from one address (beyond: 503); null: unlimited
    invite_rate: float | None = Field(default=100.0, gt=0)
    invite_burst: float = Field(default=200.0, gt=0)
    #: end an answered call whose far end sent no RTP for this long (a peer that vanished
    #: without BYE); null: never. Comfort noise keeps a silent caller's call alive.
    media_timeout: float | None = Field(default=300.0, gt=0)
    #: RFC 4028 session timer: the interval asked for; null: timers off
    session_expires: int | None = Field(default=1800, ge=90, le=86400)
    #: the shortest Session-Expires accepted (shorter: 422 with this Min-SE)
    min_se: int = Field(default=90, ge=90, le=86400)
    trunks: list[TrunkSpec] | None = None
    #: said prompts are cached here (the service gives `<data_dir>/cache`)
    cache_dir: str | None = None
    #: where Record and recorded conversations write WAV files
    recordings_dir: str | None = None
    #: music on hold when the scenario names none (a WAV file)
    music: str | None = None
    #: digest algorithms the registrar offers operators' phones, preferred first
    digest_algorithms: list[Literal["SHA-256", "MD5"]] = Field(default_factory=_both_digests, min_length=1)


def sip_settings(config: Mapping[str, Any] | None, *, listen: str | None = None, where: str = "sip") -> SipSettings:
    """`SipSettings` from the user's mapping; `listen` (``host:port``) wins
    over the mapping's. UsageError naming the path of the first mistake."""
    try:
        spec = SipSpec.model_validate(dict(config or {}))
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(p) for p in first["loc"])
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise UsageError(f"{where}.{path}: {first['msg']}{more}") from None
    address = listen or spec.listen or "127.0.0.1:5060"
    host, port = split_host_port(address, f"{where}.listen" if listen is None else "--sip", any_port=True)
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "advertise": spec.advertise,
        "allow_untrusted": spec.allow_untrusted,
        "rtp_ports": spec.rtp_ports,
        "codecs": tuple(spec.codecs),
        "invite_rate": spec.invite_rate,
        "invite_burst": spec.invite_burst,
        "media_timeout": spec.media_timeout,
        "cache_dir": spec.cache_dir,
        "recordings_dir": spec.recordings_dir,
        "music": spec.music,
        "digest_algorithms": tuple(spec.digest_algorithms),
        "session_expires": spec.session_expires,
        "min_se": spec.min_se,
    }
    if spec.trunks is not None:
        options["trunks"] = tuple(_trunk(t) for t in spec.trunks)
    low, high = spec.rtp_ports
    if low < 1024 or high > 65534 or low >= high:
        raise UsageError(f"{where}.rtp_ports: {low}-{high} is not a range within 1024-65534")
    try:
        return SipSettings(**options)
    except UsageError as exc:
        raise UsageError(str(exc).replace("sip settings:", f"{where}:", 1)) from None


def _trunk(spec: TrunkSpec) -> Trunk:
    register = None
    if spec.registration is not None:
        r = spec.registration
        register = Registration(r.registrar, r.username, r.password, r.domain, r.auth_username, r.expires)
    return Trunk.of(
        spec.name,
        spec.addresses,
        proxy=spec.proxy,
        register=register,
        codecs=spec.codecs,
        dial=spec.dial,
        rewrite=spec.rewrite,
        caller_id=spec.caller_id,
    )
