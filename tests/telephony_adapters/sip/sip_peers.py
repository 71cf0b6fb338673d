"""Real peers for the trunk, serve --sip and Kamailio tests: `flowengine
serve --sip` as a process, Kamailio with a generated config, SIPp runs.
All on 127.0.0.1, on free ports, each bounded by timeouts and stopped at the
end of its `with` block."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[3]
PASSWORD = "sip-serve-test-password"
V1 = "/api/v1"
SIPP = shutil.which("sipp")
KAMAILIO = shutil.which("kamailio")


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    proc: subprocess.Popen[bytes]
    api: httpx.Client
    sip: tuple[str, int]

    def stderr(self) -> str:
        return _drain(self.proc)


def _drain(proc: subprocess.Popen[bytes]) -> str:
    if proc.poll() is None:
        return ""
    return proc.stderr.read().decode(errors="replace") if proc.stderr else ""


@contextmanager
def serve_sip(
    data_dir: Path, *, examples: Path, sip_settings: dict[str, Any] | None = None, env: dict[str, str] | None = None
) -> Iterator[Served]:
    """`flowengine serve --sip 127.0.0.1:PORT` with its own data, logged in as admin."""
    port, sip_port = free_tcp_port(), free_udp_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FLOWENGINE_ADMIN_PASSWORD": PASSWORD, **(env or {})}
    if sip_settings is not None:
        env["FLOWENGINE_SIP_SETTINGS"] = json.dumps(sip_settings)
    proc = subprocess.Popen(
        [sys.executable, "-m", "flowengine.cli", "serve", "--data-dir", str(data_dir), "--port", str(port),
         "--sip", f"127.0.0.1:{sip_port}", "--examples-dir", str(examples), "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    api = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if api.get("/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                proc.wait(timeout=30)
                raise AssertionError(f"serve --sip did not become ready: {_drain(proc)[-3000:]}")
            time.sleep(0.1)
        token = api.post(f"{V1}/auth/login", json={"username": "admin", "password": PASSWORD}).json()["token"]
        api.headers["Authorization"] = f"Bearer {token}"
        yield Served(proc, api, ("127.0.0.1", sip_port))
    finally:
        api.close()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=30)
        if proc.stderr is not None:
            proc.stderr.close()


@contextmanager
def kamailio(folder: Path, config: str, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """Kamailio in the foreground on udp:127.0.0.1:`port` with `config`; its log in folder/kamailio.log."""
    cfg = folder / "kamailio.cfg"
    cfg.write_text(config)
    check = subprocess.run([KAMAILIO or "kamailio", "-c", "-f", str(cfg)], capture_output=True, timeout=30)
    assert check.returncode == 0, check.stderr.decode(errors="replace")[-3000:]
    log = (folder / "kamailio.log").open("wb")
    proc = subprocess.Popen(
        [KAMAILIO or "kamailio", "-f", str(cfg), "-DD", "-E", "-Y", str(folder), "-w", str(folder)],
        stdout=log, stderr=subprocess.STDOUT, cwd=folder,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while not _bound_udp(port):
            assert proc.poll() is None, (folder / "kamailio.log").read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "kamailio did not bind its port"
            time.sleep(0.05)
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        log.close()


def _bound_udp(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def kamcmd(folder: Path, *args: str) -> str:
    out = subprocess.run(
        ["kamcmd", "-s", f"unix:{folder / 'kamailio_ctl'}", *args], capture_output=True, timeout=10
    )
    return out.stdout.decode(errors="replace") + out.stderr.decode(errors="replace")


class SippRun:
    def __init__(self, rc: int, out: str, err: str) -> None:
        self.rc, self.out, self.err = rc, out, err

    def count(self, name: str) -> int:
        match = re.search(rf"{name}\s*\|\s*\d+\s*\|\s*(\d+)", self.out)
        assert match, f"no '{name}' line in SIPp's output:\n{self.out[-2000:]}"
        return int(match.group(1))

    def why(self) -> str:
        return self.out[-2500:] + self.err[-2500:]


#: SIPp could not bind one of its ports (another program took it meanwhile): run it again
BIND_RACE = "Unable to bind"


def sipp(target: tuple[str, int], *args: str, cwd: Path, timeout: float = 90.0) -> SippRun:
    """One SIPp run on fresh ports (again, up to twice more, if a port was taken before SIPp bound it)."""
    for _attempt in range(3):
        run = _sipp_once(target, args, cwd, timeout)
        if BIND_RACE not in run.out + run.err:
            break
    return run


def _sipp_once(target: tuple[str, int], args: tuple[str, ...], cwd: Path, timeout: float) -> SippRun:
    errors = cwd / f"errors-{free_udp_port()}.log"
    cmd = [
        SIPP or "sipp", f"{target[0]}:{target[1]}", *args,
        "-i", "127.0.0.1", "-mi", "127.0.0.1", "-p", str(free_udp_port()), "-mp", str(free_udp_port() & ~1),
        "-timeout", "60", "-timeout_error", "-nostdin", "-nd", "-trace_err", "-error_file", str(errors),
    ]  # fmt: skip
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=timeout, cwd=cwd)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"SIPp ran over {timeout} s: {(exc.stdout or b'')[-2000:]!r}") from None
    err = errors.read_text(errors="replace") if errors.exists() else ""
    return SippRun(done.returncode, done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace") + err)


def write_quick_examples(folder: Path, number: str = "100") -> Path:
    """An examples folder with one scenario bound to `number`: answer, a
    short prompt, hang up (the engine sends the BYE)."""
    folder.mkdir(parents=True, exist_ok=True)
    scenario = {
        "schema": 1,
        "id": "quick",
        "numbers": [number],
        "nodes": [
            {"id": "start", "type": "start", "exits": {"next": "hello"}},
            {"id": "hello", "type": "say", "params": {"text": "Hi"}, "exits": {"next": "bye"}},
            {"id": "bye", "type": "hangup"},
        ],
    }
    (folder / "quick.json").write_text(json.dumps(scenario))
    return folder


def rr_caller(proxy_port: int) -> str:
    """A SIPp caller that honours Record-Route (ACK along the route set) and
    waits for the engine's BYE, checking it came through the proxy (the
    proxy's Via is on top)."""
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="record-route caller">
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "SIPp" <sip:200@[local_ip]:[local_port]>;tag=[pid]rr[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:200@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true" rrs="true"/>
  <send>
    <![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "SIPp" <sip:200@[local_ip]:[local_port]>;tag=[pid]rr[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      [routes]
      Contact: <sip:200@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv request="BYE" timeout="30000">
    <action>
      <ereg regexp="127\\.0\\.0\\.1:{proxy_port}" search_in="hdr" header="Via:" check_it="true" assign_to="via_proxy"/>
    </action>
  </recv>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:200@[local_ip]:[local_port]>
      Content-Length: 0
    ]]>
  </send>
  <timewait milliseconds="300"/>
  <Reference variables="via_proxy"/>
</scenario>
"""
