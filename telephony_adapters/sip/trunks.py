"""Trunks: the named peers calls come in from and go out through.

A trunk is one provider, PBX or proxy. It says

* which source addresses belong to it (`addresses`: IPs or networks). A
  request from one of them is trusted, its INVITE's line is the trunk's
  name, and its P-Asserted-Identity is taken as the CallerID;
* where calls to it are sent (`proxy`, ``host[:port]``; default the
  registrar, else the first single address);
* optionally a registration with the provider (`register`): we REGISTER
  with digest credentials and refresh it before it expires, so the provider
  sends our number's calls here (`telephony_adapters.sip.registration`);
* which numbers may leave through it (`dial`: patterns of the number
  pattern language, tried in the settings' trunk order; no patterns: the
  trunk carries no outbound calls), how a number is rewritten for it
  (`rewrite`: normalisation rules, ``"+7XXXXXXXXXX -> 8XXXXXXXXXX"``), and
  which codecs its calls may use (`codecs`, default the backend's).

`route_outbound` is the one way a number leaves the engine: the number must
be a dial string (never a URI; `flowengine.telephony.dialpolicy`), must pass
the dial policy given, and must match a trunk's `dial` patterns; the answer
is the trunk and the Request-URI to send the INVITE to.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import NamedTuple

from flowengine.errors import NodeError, UsageError
from flowengine.numbers import PatternError
from flowengine.scenario.routing import NormalisationRule, apply_rules
from flowengine.telephony.dialpolicy import DialPattern, DialPolicy, check_number, compile_pattern

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_SIP_PORT = 5060


def split_host_port(text: str, where: str, *, any_port: bool = False) -> tuple[str, int]:
    """``host``, ``host:port`` or ``[v6]:port`` -> (host, port); UsageError naming
    `where`. `any_port`: port 0 (any free one) is allowed, for listening."""
    text = text.strip()
    host, port = text, DEFAULT_SIP_PORT
    if text.startswith("["):
        close = text.find("]")
        if close < 0:
            raise UsageError(f"{where}: {text!r} has no closing ']'")
        host, rest = text[1:close], text[close + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise UsageError(f"{where}: {text!r} is not host[:port]")
            port = _port(rest[1:], text, where, any_port)
    elif text.count(":") == 1:
        host, _, number = text.partition(":")
        port = _port(number, text, where, any_port)
    if not host or any(c in host for c in " ;,@<>\"'/"):
        raise UsageError(f"{where}: {text!r} is not host[:port]")
    return host, port


def _port(text: str, whole: str, where: str, any_port: bool = False) -> int:
    if not text.isdigit() or not (0 if any_port else 1) <= int(text) < 65536:
        raise UsageError(f"{where}: the port of {whole!r} is not 1-65535")
    return int(text)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Registration:
    """Our account at a provider: REGISTER `aor` at `registrar` every `expires` s."""

    registrar: str
    username: str
    password: str = field(repr=False)
    #: the domain of our address of record (default: the registrar's host)
    domain: str | None = None
    #: the digest user name when it differs from `username`
    auth_username: str | None = None
    expires: int = 300

    @property
    def registrar_addr(self) -> tuple[str, int]:
        return split_host_port(self.registrar, "registrar")

    @property
    def aor(self) -> str:
        return f"sip:{self.username}@{self.domain or self.registrar_addr[0]}"


@dataclass(frozen=True, slots=True)
class Trunk:
    name: str
    addresses: tuple[str, ...]
    networks: tuple[Network, ...] = field(default=(), compare=False, repr=False)
    #: where outbound INVITEs go: "host[:port]" (default: the registrar, else a single address)
    proxy: str | None = None
    register: Registration | None = None
    #: codecs calls on this trunk may use (None: the backend's)
    codecs: tuple[str, ...] | None = None
    #: numbers this trunk carries out, in the number pattern language
    dial: tuple[DialPattern, ...] = ()
    #: how a number is rewritten before it is sent on this trunk
    rewrite: tuple[NormalisationRule, ...] = field(default=(), compare=False)
    #: the CallerID presented on outbound calls (None: the call's own)
    caller_id: str | None = None

    @classmethod
    def of(
        cls,
        name: str,
        addresses: tuple[str, ...] | list[str] = (),
        *,
        proxy: str | None = None,
        register: Registration | None = None,
        codecs: tuple[str, ...] | list[str] | None = None,
        dial: tuple[str, ...] | list[str] = (),
        rewrite: tuple[str, ...] | list[str] = (),
        caller_id: str | None = None,
    ) -> Trunk:
        where = f"sip settings: trunks.{name}"
        nets: list[Network] = []
        for i, text in enumerate(addresses):
            try:
                nets.append(ipaddress.ip_network(text, strict=False))
            except ValueError:
                raise UsageError(f"{where}.addresses[{i}]: {text!r} is not an IP address or network") from None
        if proxy is not None:
            split_host_port(proxy, f"{where}.proxy")
        if register is not None:
            host, _ = split_host_port(register.registrar, f"{where}.register.registrar")
            if not register.username or not register.password:
                raise UsageError(f"{where}.register: a registration needs username and password")
            if register.expires < 60:
                raise UsageError(f"{where}.register.expires: {register.expires} is under 60 seconds")
            if _is_ip(host):  # the provider's calls come from its registrar
                nets.append(ipaddress.ip_network(host))
        patterns: list[DialPattern] = []
        for i, text in enumerate(dial):
            try:
                patterns.append(compile_pattern(text))
            except PatternError as exc:
                raise UsageError(f"{where}.dial[{i}]: {exc}") from None
        rules: list[NormalisationRule] = []
        for i, text in enumerate(rewrite):
            try:
                rules.append(NormalisationRule.model_validate(text))
            except ValueError as exc:
                raise UsageError(f"{where}.rewrite[{i}]: {_first_error(exc)}") from None
        trunk = cls(
            name,
            tuple(addresses),
            tuple(nets),
            proxy=proxy,
            register=register,
            codecs=tuple(codecs) if codecs is not None else None,
            dial=tuple(patterns),
            rewrite=tuple(rules),
            caller_id=caller_id,
        )
        if trunk.dial and trunk.next_hop is None:
            raise UsageError(f"{where}: it dials out but has no proxy, registrar or single address to send to")
        return trunk

    def matches(self, ip: str) -> bool:
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(address in net for net in self.networks)

    @property
    def next_hop(self) -> tuple[str, int] | None:
        """Where this trunk's outbound requests are sent."""
        if self.proxy is not None:
            return split_host_port(self.proxy, f"trunks.{self.name}.proxy")
        if self.register is not None:
            return self.register.registrar_addr
        if len(self.networks) == 1 and self.networks[0].num_addresses == 1:
            return str(self.networks[0].network_address), DEFAULT_SIP_PORT
        return None

    def carries(self, number: str) -> bool:
        return any(p.matches(number) for p in self.dial)

    def request_uri(self, number: str) -> str:
        """The Request-URI of a call to `number` (rewritten for this trunk)."""
        hop = self.next_hop
        assert hop is not None
        host, port = hop
        if self.register is not None and self.register.domain:
            host = self.register.domain
        shown = f"[{host}]" if ":" in host else host
        dialled = apply_rules(list(self.rewrite), number)
        return f"sip:{dialled}@{shown}" + (f":{port}" if port != DEFAULT_SIP_PORT or self.proxy else "")


class OutboundRoute(NamedTuple):
    trunk: Trunk
    request_uri: str


def route_outbound(trunks: tuple[Trunk, ...], number: str, *, policy: DialPolicy | None = None) -> OutboundRoute:
    """The trunk and Request-URI for a call to `number`.

    Refuses (NodeError, code ``not_allowed``) what is not a dial string or
    what `policy` (the centre's dial policy, when given) refuses, and (code
    ``no_route``) a number no trunk's `dial` patterns carry. Trunks are tried
    in the order the settings list them.
    """
    verdict = check_number(number) if policy is None else policy.check(number)
    if not verdict.allowed:
        raise NodeError(f"number {number[:40]!r} may not be dialled: {verdict.detail or verdict.reason}", code="not_allowed")
    for trunk in trunks:
        if trunk.carries(number):
            return OutboundRoute(trunk, trunk.request_uri(number))
    raise NodeError(f"no trunk carries calls to {number!r} (see the trunks' 'dial' patterns)", code="no_route")


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        found = errors()
        if found:
            return str(found[0].get("msg", exc)).removeprefix("Value error, ")
    return str(exc)
