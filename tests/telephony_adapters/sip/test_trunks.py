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
