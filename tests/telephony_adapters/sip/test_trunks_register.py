"""A trunk that registers with its provider: Kamailio as the provider's
registrar (digest auth). The engine registers with the right password and
refreshes before the granted expiry; a wrong password is refused and
reported; the provider's call to our number then reaches the engine on that
trunk's line."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sip_peers import KAMAILIO, SIPP, free_udp_port, kamailio, kamcmd, sipp

from flowengine.events import StreamEvent
from flowengine.runtime.engine import Engine
from flowengine.scenario.loader import load_scenario_data
from telephony_adapters.sip import SipBackend, SipSettings, Trunk
from telephony_adapters.sip.trunks import Registration

pytestmark = pytest.mark.skipif(
    SIPP is None or KAMAILIO is None,
    reason="SIPp and Kamailio (Debian sip-tester, kamailio) are not installed; scripts/test.sh installs them",
)

ACCOUNT, SECRET = "74951230001", "s3cret-pass"

QUICK = load_scenario_data(
    {
        "schema": 1,
        "id": "quick",
        "nodes": [
            {"id": "start", "type": "start", "exits": {"next": "hello"}},
            {"id": "hello", "type": "say", "params": {"text": "Hi"}, "exits": {"next": "bye"}},
            {"id": "bye", "type": "hangup"},
        ],
    }
)


def registrar_config(folder: Path, port: int, *, max_expires: int) -> str:
    return f"""#!KAMAILIO
debug=2
log_stderror=yes
children=2
disable_tcp=yes
auto_aliases=no
listen=udp:127.0.0.1:{port}
alias="provider.test"
dns=no
rev_dns=no
use_dns_cache=off

loadmodule "kex.so"
loadmodule "corex.so"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "ctl.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "auth.so"

modparam("ctl", "binrpc", "unix:{folder / 'kamailio_ctl'}")
modparam("usrloc", "db_mode", 0)
modparam("registrar", "min_expires", 1)
modparam("registrar", "max_expires", {max_expires})
modparam("auth", "nonce_expire", 30)

request_route {{
    if (!mf_process_maxfwd_header("10")) {{ sl_send_reply("483", "Too Many Hops"); exit; }}
    if (is_method("REGISTER")) {{
        if (!pv_www_authenticate("$td", "{SECRET}", "0") || $au != "{ACCOUNT}") {{
            xlog("L_INFO", "challenge REGISTER cseq $cs\\n");
            www_challenge("$td", "0");
            exit;
        }}
        xlog("L_INFO", "REGISTER accepted cseq $cs\\n");
        if (!save("location")) sl_reply_error();
        exit;
    }}
    if (has_totag()) {{
        if (loose_route()) {{ t_relay(); exit; }}
        if (is_method("ACK")) {{ if (t_check_trans()) t_relay(); exit; }}
        sl_send_reply("404", "Not here");
        exit;
    }}
    if (is_method("CANCEL")) {{ if (t_check_trans()) t_relay(); exit; }}
    t_check_trans();
    if (!is_method("INVITE")) {{ sl_send_reply("405", "Method Not Allowed"); exit; }}
    record_route();
    if (!lookup("location")) {{ sl_send_reply("404", "Not registered"); exit; }}
    t_relay();
    exit;
}}
"""


def with_backend(tmp: Path, password: str, test: object, *, max_expires: int = 3) -> None:
    kam_port = free_udp_port()
    trunk = Trunk.of(
        "provider",
        register=Registration(f"127.0.0.1:{kam_port}", ACCOUNT, password, domain="provider.test", expires=60),
    )

    async def main() -> None:
        engine = Engine(keep_events=True)
        engine.publish(QUICK, default=True)
        events: list[StreamEvent] = []
        engine.add_listener(events.append)
        # only the provider is trusted: its registrar's address is the trunk's
        backend = SipBackend(engine, settings=SipSettings(port=0, rtp_ports=(43600, 43800), trunks=(trunk,)))
        await backend.start()
        try:
            await test(backend, events, kam_port)  # type: ignore[operator]
        finally:
            await backend.stop()
            await engine.shutdown()

    with kamailio(tmp, registrar_config(tmp, kam_port, max_expires=max_expires), kam_port):
        asyncio.run(main())


async def _until(check: Callable[[], bool], timeout: float) -> None:
    """Poll `check` (state of the registration) until true or `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        await asyncio.sleep(0.05)


def test_the_trunk_registers_refreshes_and_takes_the_providers_calls(tmp_path: Path) -> None:
    async def test(backend: SipBackend, events: list[StreamEvent], kam_port: int) -> None:
        (reg,) = backend.registrations.items
        await _until(lambda: reg.registered, 15)
        assert reg.registered, reg.last_error
        assert backend.registration_counts()["trunk"] == 1
        contacts = await asyncio.to_thread(kamcmd, tmp_path, "ul.lookup", "location", f"{ACCOUNT}@provider.test")
        assert f"sip:{ACCOUNT}@127.0.0.1:{backend.address[1]}" in contacts, contacts
        # the registrar grants 3 s though we asked 60: we come back before it lapses
        await _until(lambda: reg.refreshes >= 2, 10)
        assert reg.refreshes >= 2 and reg.registered
        # the provider sends a call for our number: it arrives on the trunk's line
        (tmp_path / "pcap").mkdir(exist_ok=True)
        run = await asyncio.to_thread(
            sipp, ("127.0.0.1", kam_port), "-sn", "uac", "-s", ACCOUNT, "-m", "1", "-d", "300", cwd=tmp_path
        )
        assert run.rc == 0 and run.count("Successful call") == 1, run.why()
        started = [e for e in events if type(e).__name__ == "CallStarted"]
        assert [(e.line, e.called) for e in started] == [("provider", ACCOUNT)]  # type: ignore[attr-defined]
        # stopping removes the binding (REGISTER with Expires: 0, authenticated)
        await backend.stop()
        await asyncio.sleep(0.3)
        contacts = await asyncio.to_thread(kamcmd, tmp_path, "ul.lookup", "location", f"{ACCOUNT}@provider.test")
        assert f"127.0.0.1:{backend.address[1]}" not in contacts, contacts

    with_backend(tmp_path, SECRET, test)


def test_a_wrong_password_is_refused_and_reported(tmp_path: Path) -> None:
    async def test(backend: SipBackend, events: list[StreamEvent], kam_port: int) -> None:
        (reg,) = backend.registrations.items
        await _until(lambda: reg.state == "failed", 15)
        assert reg.state == "failed" and reg.last_error.startswith("401"), (reg.state, reg.last_error)
        assert backend.registration_counts()["trunk"] == 0
        contacts = await asyncio.to_thread(kamcmd, tmp_path, "ul.lookup", "location", f"{ACCOUNT}@provider.test")
        assert "127.0.0.1" not in contacts

    with_backend(tmp_path, "wrong", test)
