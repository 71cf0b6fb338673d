"""`flowengine serve --sip`: the real service answers SIP calls beside its
API. A SIPp call on the carrier's trunk is normalised by the stored routing
table's line rules, walks the per-number IVR with the digit SIPp presses,
shows in the live calls while it lasts, and its trace, CDR and RTP counts
come back through the REST API and /metrics."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sip_peers import ROOT, SIPP, V1, SippRun, serve_sip, sipp
from sipp_scenarios import dtmf_caller

pytestmark = pytest.mark.skipif(SIPP is None, reason="SIPp (Debian sip-tester) is not installed; scripts/test.sh installs it")

#: the examples' routing table names this line: national numbers become +7...
TRUNK = {"trunks": [{"name": "trunk-1", "addresses": ["127.0.0.0/8"]}], "rtp_ports": [43000, 43400]}


def _metric(text: str, name: str) -> float:
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    assert found, f"{name} not in /metrics"
    return float(found.group(1))


def test_a_sip_call_through_serve_is_routed_by_the_stored_table_and_reported(tmp_path: Path) -> None:
    (tmp_path / "dtmf.xml").write_text(dtmf_caller("1", hold_ms=600))
    # one test call at most: a live SIP call must not take that place
    with serve_sip(tmp_path / "data", examples=ROOT / "examples", sip_settings=TRUNK, env={"FLOWENGINE_MAX_TEST_CALLS": "1"}) as served:
        result: list[SippRun] = []
        caller = threading.Thread(
            target=lambda: result.append(sipp(served.sip, "-sf", "dtmf.xml", "-s", "84951230001", "-m", "1", cwd=tmp_path))
        )
        caller.start()
        live: list[dict[str, object]] = []
        deadline = time.monotonic() + 30
        while not live and caller.is_alive() and time.monotonic() < deadline:
            live = [c for c in served.api.get(f"{V1}/calls").json() if c["line"] == "trunk-1"]
            time.sleep(0.1)
        test_call = served.api.post(f"{V1}/calls", json={"called": "+74951230001"})
        assert test_call.status_code == 201, test_call.text
        caller.join(timeout=120)
        (run,) = result
        assert run.rc == 0 and run.count("Successful call") == 1, run.why()
        assert live and live[0]["live"] is True and live[0]["called"] == "+74951230001"
        call_id = str(live[0]["call_id"])

        cdr = served.api.get(f"{V1}/calls/{call_id}/cdr").json()
        assert (cdr["called"], cdr["line"], cdr["scenario_id"]) == ("+74951230001", "trunk-1", "per_number_ivr")
        events = served.api.get(f"{V1}/calls/{call_id}/events").json()["events"]
        started = next(e for e in events if e["event"] == "call_started")
        assert started["backend"] == "sip"
        left = {e["node_id"]: e.get("exit") for e in events if e["event"] == "node_left"}
        assert left["menu_by_number"] == "moscow" and left["moscow_menu"] == "sales"
        assert next(e for e in events if e["event"] == "call_hung_up")["by"] == "engine"
        assert not [c for c in served.api.get(f"{V1}/calls").json() if c["call_id"] == call_id]

        metrics = served.api.get("/metrics").text
        assert _metric(metrics, 'flowengine_rtp_packets_total{direction="received"}') >= 10  # the DTMF pcap
        assert _metric(metrics, 'flowengine_rtp_packets_total{direction="sent"}') > 0  # the prompt
        assert _metric(metrics, 'flowengine_sip_registrations{kind="trunk"}') == 0
        assert _metric(metrics, "flowengine_sip_calls") == 0


def test_bad_sip_settings_stop_serve_with_a_message_naming_them(tmp_path: Path) -> None:
    import json
    import os

    env = {**os.environ, "PYTHONPATH": str(ROOT), "FLOWENGINE_SIP_SETTINGS": json.dumps({"trunks": [{"name": "x", "addresses": ["10.0.0.1"], "dial": ["+7Q"]}]})}
    done = subprocess.run(
        [sys.executable, "-m", "flowengine.cli", "serve", "--data-dir", str(tmp_path), "--sip", "127.0.0.1:5999", "--no-examples"],
        env=env, capture_output=True, timeout=60,
    )  # fmt: skip
    err = done.stderr.decode()
    assert done.returncode != 0 and "trunks.x.dial[0]" in err and "Traceback" not in err, err
    env["FLOWENGINE_SIP_SETTINGS"] = "{}"
    done = subprocess.run(
        [sys.executable, "-m", "flowengine.cli", "serve", "--data-dir", str(tmp_path), "--sip", "127.0.0.1:99999", "--no-examples"],
        env=env, capture_output=True, timeout=60,
    )  # fmt: skip
    err = done.stderr.decode()
    assert done.returncode != 0 and "--sip" in err and "Traceback" not in err, err


def test_a_sip_port_already_taken_stops_serve_with_one_line(tmp_path: Path) -> None:
    import os
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "flowengine.cli", "serve", "--data-dir", str(tmp_path), "--port", "0",
             "--sip", f"127.0.0.1:{port}", "--no-examples"],
            env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, timeout=60,
        )  # fmt: skip
    err = done.stderr.decode()
    assert done.returncode != 0 and f"--sip 127.0.0.1:{port}: cannot listen there" in err, err
    assert "Traceback" not in err, err
