"""Operators' SIP phones on the wallboard, end to end: `flowengine serve
--sip` with a centre whose operators 901 and 902 have SIP accounts; SIPp
(Debian `sip-tester`) registers 901's phone with its password and later
removes it. The wallboard, open all along, shows each operator's phone
badge and marks an operator whose phone is not registered unreachable,
live, without a reload."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.editor.conftest import (
    PASSWORD,
    ROOT,
    Served,
    _wait_ready,
    free_port,
    login,
    screenshot,
    set_language,
)

SIPP = shutil.which("sipp")
pytestmark = pytest.mark.skipif(SIPP is None, reason="SIPp (Debian package sip-tester) is not installed; scripts/test.sh installs it")

SECRET = "pw-901-e2e"


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def sip_served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`flowengine serve --sip` with the examples, 901 and 902 given SIP secrets."""
    data_dir = tmp_path_factory.mktemp("wallboard-phones")
    examples = data_dir / "examples"
    shutil.copytree(ROOT / "examples", examples)
    centre = (examples / "centre.yaml").read_text()
    for op, secret in (("901", SECRET), ("902", "pw-902-e2e")):
        centre = centre.replace(f'    extension: "{op}"\n', f'    extension: "{op}"\n    sip_secret: {secret}\n', 1)
    (examples / "centre.yaml").write_text(centre)
    port, sip_port = free_port(), free_udp_port()
    log = data_dir / "serve.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FLOWENGINE_ADMIN_PASSWORD": PASSWORD,
           "FLOWENGINE_SIP_SETTINGS": json.dumps({"digest_algorithms": ["MD5"]})}  # (SIPp answers MD5 challenges)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "flowengine.cli", "serve", "--data-dir", str(data_dir), "--port", str(port),
             "--sip", f"127.0.0.1:{sip_port}", "--examples-dir", str(examples), "--log-level", "warning"],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    try:
        _wait_ready(proc, client, log)
        r = client.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
        client.headers["Authorization"] = f"Bearer {r.json()['token']}"
        yield Served(url=f"http://127.0.0.1:{port}", api=client, data_dir=data_dir, extra={"sip_port": sip_port})
    finally:
        client.close()
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)


def register_xml(expires: int) -> str:
    """A REGISTER answered 401, then again with the digest answer: 200.
    `expires` 0: every binding of 901 removed (``Contact: *``)."""
    contact = "*" if expires == 0 else "<sip:901@[local_ip]:[local_port]>"
    message = """
  <send retrans="500">
    <![CDATA[
      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: <sip:901@[remote_ip]:[remote_port]>;tag=[pid]reg
      To: <sip:901@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: {cseq} REGISTER
      Contact: {contact}
      Expires: {expires}
      User-Agent: SIPp desk phone
      Max-Forwards: 70
      {auth}
      Content-Length: 0
    ]]>
  </send>
"""
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="register 901">
{message.format(cseq=1, expires=expires, contact=contact, auth="")}
  <recv response="401" auth="true"/>
{message.format(cseq=2, expires=expires, contact=contact, auth=f"[authentication username=901 password={SECRET}]")}
  <recv response="200"/>
</scenario>
"""


def sipp_register(served: Served, tmp: Path, expires: int) -> None:
    scenario = tmp / f"register-{expires}.xml"
    scenario.write_text(register_xml(expires))
    cmd = [
        SIPP or "sipp", f"127.0.0.1:{served.extra['sip_port']}", "-sf", str(scenario), "-m", "1",
        "-i", "127.0.0.1", "-p", str(free_udp_port()), "-timeout", "20", "-timeout_error", "-nostdin", "-nd",
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, timeout=40, cwd=tmp)
    assert done.returncode == 0, (done.stdout + done.stderr).decode(errors="replace")[-2500:]


@pytest.fixture
def wall(browser: Any, sip_served: Served) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, base_url=sip_served.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("console", lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None)
    page.problems = problems
    try:
        yield page
    finally:
        context.close()


def test_a_phone_registering_and_leaving_shows_live_on_the_wallboard(wall: Any, sip_served: Served, tmp_path: Path) -> None:
    page = wall
    set_language(page, "en")
    login(page)
    page.goto("/#/wallboard")
    expect(page.get_by_test_id("wb-link")).to_have_attribute("data-link", "live")
    anna, boris, vera = (page.get_by_test_id(f"operator-{op}") for op in ("901", "902", "903"))
    # before any REGISTER: 901 and 902 cannot be rung; 903 has no SIP account
    expect(anna).to_have_attribute("data-reachable", "no")
    expect(anna.get_by_test_id("op-phone")).to_have_attribute("data-phone", "unregistered")
    expect(anna.get_by_test_id("op-status")).to_have_text("Unreachable")
    expect(boris).to_have_attribute("data-reachable", "no")
    expect(vera.get_by_test_id("op-phone")).to_have_attribute("data-phone", "none")
    expect(vera).to_have_attribute("data-reachable", "yes")
    page.evaluate("window.__sameDocument = 'yes'")

    sipp_register(sip_served, tmp_path, expires=120)
    phone = anna.get_by_test_id("op-phone")
    expect(phone).to_have_attribute("data-phone", "registered")
    expect(phone).to_have_text("☎Registered")
    expect(phone).to_have_attribute("title", re.compile(r"SIPp desk phone"))
    expect(anna).to_have_attribute("data-reachable", "yes")
    expect(anna.get_by_test_id("op-status")).to_have_text("Available")  # back in the ACD with the centre's status
    expect(boris.get_by_test_id("op-status")).to_have_text("Unreachable")
    screenshot(page, "wallboard-phones")

    page.get_by_label("Language").select_option("ru")  # the shell's switch, no reload
    expect(boris.get_by_test_id("op-status")).to_have_text("Недоступен")
    expect(phone).to_have_text("☎Зарегистрирован")
    page.get_by_label("Язык").select_option("en")

    sipp_register(sip_served, tmp_path, expires=0)  # the phone signs off
    expect(phone).to_have_attribute("data-phone", "unregistered")
    expect(anna).to_have_attribute("data-reachable", "no")
    assert page.evaluate("window.__sameDocument") == "yes"
    assert page.problems == []
