"""The engine behind Kamailio: a dispatcher spreads calls over two
`flowengine serve --sip` processes; calls succeed, the engine honours
Record-Route (its BYE goes back through Kamailio), and once one engine
process is killed its calls go to the other (dispatcher probing marks it
inactive; a call sent to it meanwhile fails over in failure_route)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sip_peers import (
    KAMAILIO,
    SIPP,
    V1,
    free_udp_port,
    kamailio,
    kamcmd,
    rr_caller,
    serve_sip,
    sipp,
    write_quick_examples,
)

pytestmark = pytest.mark.skipif(
    SIPP is None or KAMAILIO is None,
    reason="SIPp and Kamailio (Debian sip-tester, kamailio) are not installed; scripts/test.sh installs them",
)


def dispatcher_config(folder: Path, port: int, engines: list[tuple[str, int]]) -> str:
    (folder / "dispatcher.list").write_text(
        "".join(f"1 sip:{host}:{p} 0 0 duid=engine{i}\n" for i, (host, p) in enumerate(engines, 1))
    )
    return f"""#!KAMAILIO
debug=2
log_stderror=yes
children=2
disable_tcp=yes
auto_aliases=no
listen=udp:127.0.0.1:{port}
dns=no
rev_dns=no
use_dns_cache=off

loadmodule "kex.so"
loadmodule "corex.so"
loadmodule "tm.so"
loadmodule "tmx.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "ctl.so"
loadmodule "dispatcher.so"

modparam("tm", "fr_timer", 2000)
modparam("tm", "fr_inv_timer", 10000)
modparam("rr", "append_fromtag", 1)
modparam("ctl", "binrpc", "unix:{folder / 'kamailio_ctl'}")
modparam("dispatcher", "list_file", "{folder / 'dispatcher.list'}")
modparam("dispatcher", "flags", 2)
modparam("dispatcher", "ds_ping_method", "OPTIONS")
modparam("dispatcher", "ds_ping_from", "sip:kamailio@127.0.0.1")
modparam("dispatcher", "ds_ping_interval", 1)
modparam("dispatcher", "ds_probing_mode", 1)
modparam("dispatcher", "ds_probing_threshold", 1)
modparam("dispatcher", "ds_inactive_threshold", 1)
modparam("dispatcher", "ds_ping_reply_codes", "class=2")

request_route {{
    if (!mf_process_maxfwd_header("10")) {{ sl_send_reply("483", "Too Many Hops"); exit; }}
    if (has_totag()) {{
        # in-dialog: only what follows our Record-Route is relayed
        if (loose_route()) {{ xlog("L_INFO", "in-dialog $rm from $si:$sp\\n"); t_relay(); exit; }}
        if (is_method("ACK")) {{ if (t_check_trans()) t_relay(); exit; }}
        sl_send_reply("404", "Not here");
        exit;
    }}
    if (is_method("CANCEL")) {{ if (t_check_trans()) t_relay(); exit; }}
    t_check_trans();
    if (!is_method("INVITE")) {{ sl_send_reply("405", "Method Not Allowed"); exit; }}
    record_route();
    if (!ds_select_dst("1", "4")) {{ sl_send_reply("503", "No engine available"); exit; }}
    xlog("L_INFO", "new call $ci -> $du\\n");
    t_on_failure("FAILOVER");
    t_relay();
    exit;
}}

failure_route[FAILOVER] {{
    if (t_is_canceled()) exit;
    if (t_branch_timeout() || t_check_status("408|500|503")) {{
        xlog("L_WARN", "engine $du failed ($T_reply_code), trying the next\\n");
        ds_mark_dst("ip");
        if (ds_next_dst()) {{ t_on_failure("FAILOVER"); t_relay(); exit; }}
    }}
}}
"""


def cdr_count(api: object) -> int:
    rows = api.get(f"{V1}/cdrs", params={"limit": 500}).json()  # type: ignore[attr-defined]
    return len(rows)


def test_calls_spread_over_two_engines_behind_kamailio_and_skip_a_killed_one(tmp_path: Path) -> None:
    examples = write_quick_examples(tmp_path / "examples", number="100")
    kam_port = free_udp_port()
    (tmp_path / "caller.xml").write_text(rr_caller(kam_port))
    with (
        serve_sip(tmp_path / "e1", examples=examples) as one,
        serve_sip(tmp_path / "e2", examples=examples) as two,
        kamailio(tmp_path, dispatcher_config(tmp_path, kam_port, [one.sip, two.sip]), kam_port),
    ):
        run = sipp(("127.0.0.1", kam_port), "-sf", "caller.xml", "-s", "100", "-m", "6", "-r", "4", cwd=tmp_path)
        assert run.rc == 0, run.why()
        assert (run.count("Successful call"), run.count("Failed call")) == (6, 0)
        # round robin: each engine answered calls, and their BYEs came back through Kamailio
        first, second = cdr_count(one.api), cdr_count(two.api)
        assert (first + second, min(first, second)) == (6, 3), (first, second)
        log = (tmp_path / "kamailio.log").read_text(errors="replace")
        assert log.count("in-dialog BYE from 127.0.0.1:" + str(one.sip[1])) >= 1
        assert log.count("in-dialog BYE from 127.0.0.1:" + str(two.sip[1])) >= 1

        two.proc.kill()
        two.proc.wait(timeout=30)
        # probing marks it inactive within a few seconds (1 s pings, 2 s timeout)
        deadline = time.monotonic() + 20
        while "IP" not in kamcmd(tmp_path, "dispatcher.list") and time.monotonic() < deadline:
            time.sleep(0.2)
        run = sipp(("127.0.0.1", kam_port), "-sf", "caller.xml", "-s", "100", "-m", "4", "-r", "4", cwd=tmp_path)
        assert run.rc == 0, run.why()
        assert (run.count("Successful call"), run.count("Failed call")) == (4, 0)
        assert cdr_count(one.api) == first + 4


def test_a_call_to_an_engine_killed_before_probing_noticed_fails_over(tmp_path: Path) -> None:
    examples = write_quick_examples(tmp_path / "examples", number="100")
    kam_port = free_udp_port()
    (tmp_path / "caller.xml").write_text(rr_caller(kam_port))
    with (
        serve_sip(tmp_path / "e1", examples=examples) as one,
        serve_sip(tmp_path / "e2", examples=examples) as two,
    ):
        two.proc.kill()
        two.proc.wait(timeout=30)
        # Kamailio starts with both destinations active: the first call to the dead one times out (2 s) and is re-sent
        with kamailio(tmp_path, dispatcher_config(tmp_path, kam_port, [one.sip, two.sip]), kam_port):
            run = sipp(("127.0.0.1", kam_port), "-sf", "caller.xml", "-s", "100", "-m", "2", "-r", "10", cwd=tmp_path)
            assert run.rc == 0, run.why()
            assert run.count("Successful call") == 2
            assert cdr_count(one.api) == 2
