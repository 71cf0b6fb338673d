"""Trunks: which trunk an outgoing number leaves through, what it is
rewritten to, what is refused (toll fraud), and who is trusted."""

from __future__ import annotations

import pytest

from flowengine.errors import NodeError, UsageError
from flowengine.telephony.dialpolicy import DialPolicy
from telephony_adapters.sip import SipSettings, Trunk
from telephony_adapters.sip.trunks import Registration


def _settings() -> SipSettings:
    return SipSettings(
        trunks=(
            Trunk.of("local", ["127.0.0.0/8"]),
            Trunk.of(
                "city",
                ["198.51.100.0/24"],
                proxy="198.51.100.10:5070",
                dial=["+7495XXXXXXX"],
                rewrite=["+7495XXXXXXX -> 8495XXXXXXX"],
            ),
            Trunk.of(
                "mobile",
                register=Registration("203.0.113.5", "74951230001", "s3cret", domain="voip.example.net"),
                dial=["+79XXXXXXXXX", "+7."],
                codecs=["PCMA"],
            ),
        )
    )


def test_a_number_goes_out_through_the_first_trunk_that_carries_it_rewritten_for_it() -> None:
    s = _settings()
    trunk, uri = s.route_outbound("+74951112233")
    assert trunk.name == "city" and uri == "sip:84951112233@198.51.100.10:5070"
    assert trunk.next_hop == ("198.51.100.10", 5070)
    trunk, uri = s.route_outbound("+79161234567")
    assert trunk.name == "mobile" and uri == "sip:+79161234567@voip.example.net"
    assert trunk.next_hop == ("203.0.113.5", 5060)


def test_what_no_trunk_carries_or_the_policy_refuses_never_leaves() -> None:
    s = _settings()
    with pytest.raises(NodeError) as exc:
        s.route_outbound("+441234567890")
    assert exc.value.code == "no_route"
    # a caller typing a URI, a star code or separators gets nowhere
    for bad in ("sip:+79161234567@evil.example", "*72+79161234567", "+7 916 123", "+7916#1@x", ""):
        with pytest.raises(NodeError) as exc:
            s.route_outbound(bad)
        assert exc.value.code == "not_allowed", bad
    # "+7." carries digits only: a feature code cannot ride on it
    with pytest.raises(NodeError):
        s.route_outbound("+7916*")
    # the centre's dial policy is applied before any trunk is chosen
    policy = DialPolicy(allow=["+7495XXXXXXX"], deny=["+7495000XXXX"], name="centre")
    assert s.route_outbound("+74951112233", policy=policy).trunk.name == "city"
    for refused in ("+79161234567", "+74950001122"):
        with pytest.raises(NodeError, match="may not be dialled") as exc:
            s.route_outbound(refused, policy=policy)
        assert exc.value.code == "not_allowed"


def test_a_registered_trunk_trusts_its_registrar_and_limits_codecs() -> None:
    s = _settings()
    assert s.trunk_for("203.0.113.5").name == "mobile"  # type: ignore[union-attr]
    assert s.codecs_for("203.0.113.5") == ("PCMA",)
    assert s.codecs_for("198.51.100.7") == s.codecs
    assert s.trunk_for("203.0.113.6") is None


def test_trunk_settings_name_what_is_wrong() -> None:
    with pytest.raises(UsageError, match=r"trunks.city.dial\[0\]"):
        Trunk.of("city", ["198.51.100.1"], dial=["+7Q"])
    with pytest.raises(UsageError, match=r"trunks.city.rewrite\[0\]"):
        Trunk.of("city", ["198.51.100.1"], dial=["+7."], rewrite=["+7XX"])
    with pytest.raises(UsageError, match=r"trunks.city.proxy"):
        Trunk.of("city", ["198.51.100.1"], proxy="host:99999")
    with pytest.raises(UsageError, match=r"trunks.city: it dials out but has no proxy"):
        Trunk.of("city", ["198.51.100.0/24"], dial=["+7."])
    with pytest.raises(UsageError, match=r"trunks.m.register: a registration needs"):
        Trunk.of("m", register=Registration("203.0.113.5", "u", ""))
    with pytest.raises(UsageError, match=r"trunks.m.codecs: \['G729'\]"):
        SipSettings(trunks=(Trunk.of("m", ["192.0.2.1"], codecs=["G729"]),))


def test_sip_settings_as_users_write_them() -> None:
    from telephony_adapters.sip.config import sip_settings

    s = sip_settings(
        {
            "listen": "127.0.0.1:5070",
            "rtp_ports": [30000, 31000],
            "trunks": [
                {"name": "city", "addresses": ["198.51.100.0/24"], "proxy": "198.51.100.10", "dial": ["+7495XXXXXXX"]},
                {"name": "mobile", "register": {"registrar": "203.0.113.5:5080", "username": "u1", "password": "p"},
                 "dial": ["+7."], "codecs": ["PCMA"]},
            ],
        }
    )  # fmt: skip
    assert (s.host, s.port, s.rtp_ports) == ("127.0.0.1", 5070, (30000, 31000))
    assert [t.name for t in s.trunks] == ["city", "mobile"]
    assert s.trunks[1].register is not None and s.trunks[1].register.registrar_addr == ("203.0.113.5", 5080)
    assert s.route_outbound("+79161234567").request_uri == "sip:+79161234567@203.0.113.5:5080"
    # --sip wins over the file's listen; port 0 is any free port
    assert sip_settings({"listen": "127.0.0.1:5070"}, listen="127.0.0.1:0").port == 0
    for bad, where in [
        ({"trunks": [{"name": "x", "adresses": []}]}, r"sip.trunks.0.adresses"),
        ({"trunks": [{"name": "x", "register": {"registrar": "h", "username": "u"}}]}, r"sip.trunks.0.register.password"),
        ({"rtp_ports": [3000, 2000]}, r"sip.rtp_ports"),
        ({"codecs": ["G729"]}, r"sip: codecs"),
        ({"listen": "127.0.0.1:http"}, r"sip.listen"),
    ]:
        with pytest.raises(UsageError, match=where):
            sip_settings(bad)


def test_p_asserted_identity_is_believed_only_from_a_trunk_and_hooks_trust_more_sources() -> None:
    """Real UDP on loopback: 127.0.0.1 is the trunk 'carrier'; 127.0.0.3 is
    trusted only by a hook (as a registered phone would be); 127.0.0.4 by
    nothing. Each sends an INVITE claiming another identity."""
    import asyncio
    import socket

    from sipmsgs import invite

    from flowengine.events import StreamEvent
    from flowengine.runtime.engine import Engine
    from flowengine.scenario.loader import load_scenario_data
    from telephony_adapters.sip import SipBackend
    from telephony_adapters.sip.message import Response, parse_message

    flow = load_scenario_data({"schema": 1, "id": "w", "nodes": [
        {"id": "start", "type": "start", "params": {"answer": False}, "exits": {"next": "bye"}},
        {"id": "bye", "type": "hangup"},
    ]})  # fmt: skip
    pai = 'P-Asserted-Identity: "Bank" <sip:+74950000000@carrier.example>\r\n'

    async def main() -> list[tuple[str, str | None, int]]:
        engine = Engine(keep_events=True)
        engine.publish(flow, default=True)
        events: list[StreamEvent] = []
        engine.add_listener(events.append)
        backend = SipBackend(engine, settings=SipSettings(port=0, rtp_ports=(44800, 44900), trunks=(Trunk.of("carrier", ["127.0.0.1"]),)))
        backend.trust_hooks.append(lambda ip: ip == "127.0.0.3")
        await backend.start()
        loop = asyncio.get_running_loop()
        finals: list[tuple[str, str | None, int]] = []
        try:
            for source in ("127.0.0.1", "127.0.0.3", "127.0.0.4"):
                seen = len(events)
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                    sock.bind((source, 0))
                    sock.setblocking(False)
                    port = sock.getsockname()[1]
                    sock.sendto(invite(call_id=f"c-{source}", port=port, extra=pai), backend.address)
                    while True:
                        msg = parse_message(await asyncio.wait_for(loop.sock_recv(sock, 65535), 5))
                        if isinstance(msg, Response) and msg.status >= 200:
                            break
                    await asyncio.sleep(0.1)
                    started = [e for e in events[seen:] if type(e).__name__ == "CallStarted"]
                    finals.append(
                        (started[0].caller, started[0].line, msg.status) if started else ("", None, msg.status)  # type: ignore[attr-defined]
                    )
            assert backend.is_trusted_source(("127.0.0.3", 5060)) and not backend.is_trusted_source("127.0.0.4")
        finally:
            await backend.stop()
            await engine.shutdown()
        return finals

    finals = asyncio.run(main())
    assert finals[0][:2] == ("+74950000000", "carrier")  # the trunk vouches for the identity
    assert finals[1][:2] == ("100", None)  # a hook-trusted source is answered, its claim is not believed
    assert finals[2] == ("", None, 403)  # nobody trusts it


def test_rtp_receive_statistics_count_loss_across_wrap_and_jitter() -> None:
    from telephony_adapters.sip.rtpstats import RtpStats

    steady = RtpStats()
    for i in range(100):  # perfect 20 ms spacing across the 16-bit sequence wrap
        steady.packet((65500 + i) & 0xFFFF, i * 160, 10.0 + i * 0.02)
    assert (steady.received, steady.expected, steady.lost) == (100, 100, 0)
    assert steady.jitter_ms < 0.01
    lossy = RtpStats()
    for i in range(100):
        if i % 10 != 3:  # every tenth packet never arrives
            late = 0.004 if i % 2 else 0.0  # every other one 4 ms late
            lossy.packet(i, i * 160, 10.0 + i * 0.02 + late)
    assert (lossy.received, lossy.lost) == (90, 10)
    assert 2.0 < lossy.jitter_ms < 4.5  # RFC 3550's running estimate of a 4 ms swing
    lossy.packet(5, 5 * 160, 12.5)  # a late duplicate is not a new packet expected
    assert lossy.expected == 100
