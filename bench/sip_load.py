"""SIP backend benchmark: the highest call rate with zero failed calls, and
RTP packet spacing with many calls streaming prompts at once.

Everything on 127.0.0.1 with SIPp (Debian `sip-tester`); the engine runs in
this process, SIPp and the RTP sink in their own.

1. max_cps — SIPp steps up the call rate (calls of `--seconds` each step) on
   a short IVR: answer, a 1 s prompt (a WAV, sent as G.711), one RFC 2833
   digit from SIPp's pcap, the engine's BYE. The highest rate whose calls all
   succeed (SIPp's exit code 0, no failed call) is `max_cps`. The same steps
   run against a bare asyncio UDP responder of the same shape (answer, the
   same frames on its own 20 ms timer, wait for the digit, BYE) written here
   without the engine or its SIP core: `cps_vs_bare` is the ratio.
2. concurrent / jitter — `--concurrent` calls are held up at once, each
   streaming a long prompt to a separate sink process that stamps packets on
   arrival (kernel timestamps, SO_TIMESTAMPNS) and splits streams by SSRC;
   the metric is |spacing - 20 ms|, p50 and p99 in ms, over the steady
   window (every stream up, none ended: `jitter_p99_ms`) and over all
   packets, ramp included (`jitter_p99_all_ms`). The bare responder (one
   sleeping task per call) is measured the same way in the same run
   (`bare_jitter_p99_ms`). The engine runs as `serve --sip` does: on
   uvloop (`--loop asyncio` for the plain loop), its start-up heap frozen.

Usage: python bench/sip_load.py [--rates 50,100,150,200,250,300,400,500] [--seconds 4]
                                 [--concurrent 500] [--hold 15] [--loop uvloop|asyncio]
Last line: {"max_cps": ..., "concurrent": ..., "jitter_p99_ms": ..., "cps_vs_bare": ..., ...}
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import secrets
import socket
import struct
import sys
import tempfile
import time
import wave
from array import array
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flowengine.api.sip_service import settle_heap  # noqa: E402
from flowengine.runtime.engine import Engine  # noqa: E402
from flowengine.scenario.loader import load_scenario_data  # noqa: E402
from telephony_adapters.sip import SipBackend, SipSettings  # noqa: E402
from telephony_adapters.sip.prompts import wav_frames  # noqa: E402
from telephony_adapters.sip.rtp import RtpPacket, parse_rtp  # noqa: E402

PCAP = "/usr/share/sip-tester/dtmf_2833_1.pcap"

CALLER_XML = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="bench caller">
  <send retrans="500"><![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:100@[local_ip]:[local_port]>;tag=[pid]T[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: sip:100@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 MEDIA_IP
      t=0 0
      m=audio MEDIA_PORT RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
  ]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200"/>
  <send><![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:100@[local_ip]:[local_port]>;tag=[pid]T[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0
  ]]></send>
DIGIT
  <recv request="BYE" timeout="60000"/>
  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
  ]]></send>
</scenario>
"""
DIGIT = f'  <pause milliseconds="300"/>\n  <nop><action><exec play_pcap_audio="{PCAP}"/></action></nop>\n'


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_tone(path: Path, seconds: float) -> None:
    n = int(8000 * seconds)
    pcm = array("h", (int(6000 * math.sin(2 * math.pi * 440 * i / 8000)) for i in range(n)))
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(pcm.tobytes())


async def run_sipp(target: tuple[str, int], xml: Path, *args: str, timeout: float) -> tuple[int, int, int]:
    """(exit code, successful calls, failed calls)."""
    cmd = ["sipp", f"{target[0]}:{target[1]}", "-sf", str(xml), "-s", "100", *args,
           "-i", "127.0.0.1", "-mi", "127.0.0.1", "-p", str(free_port()), "-mp", str(free_port() & ~1),
           "-timeout", str(int(timeout)), "-timeout_error", "-nostdin", "-nd"]
    proc = await asyncio.create_subprocess_exec(*cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, cwd=xml.parent)
    out, _ = await proc.communicate()
    text = out.decode(errors="replace")

    def count(name: str) -> int:
        m = re.search(rf"{name}\s*\|\s*\d+\s*\|\s*(\d+)", text)
        return int(m.group(1)) if m else 0

    return proc.returncode or 0, count("Successful call"), count("Failed call")


# ---- the engine side ------------------------------------------------------------------------------------
def ivr(prompt: Path, *, digit: bool) -> dict[str, object]:
    if digit:
        nodes = [
            {"id": "start", "type": "start", "exits": {"next": "menu"}},
            {"id": "menu", "type": "gather",
             "params": {"prompt": {"play": prompt.name}, "options": [{"digits": "1", "exit": "one"}], "first_timeout": 10, "retries": 0},
             "exits": {"one": "bye", "timeout": "bye", "invalid": "bye"}},
            {"id": "bye", "type": "hangup"},
        ]
    else:
        nodes = [
            {"id": "start", "type": "start", "exits": {"next": "talk"}},
            {"id": "talk", "type": "play", "params": {"file": prompt.name}, "exits": {"next": "bye"}},
            {"id": "bye", "type": "hangup"},
        ]
    return {"schema": 1, "id": "bench", "numbers": ["100"], "nodes": nodes}


async def engine_server(scenario: dict[str, object], media: Path) -> tuple[Engine, SipBackend]:
    engine = Engine(media_dirs=[media])
    engine.publish(load_scenario_data(scenario), default=True)
    backend = SipBackend(engine, settings=SipSettings(port=0, rtp_ports=(20000, 30000)))
    await backend.start()
    settle_heap()  # as flowengine serve --sip does after its start
    return engine, backend


# ---- the bare responder -----------------------------------------------------------------------------------
class BareCall:
    def __init__(self, server: BareResponder, invite: str, addr: tuple[str, int]) -> None:
        self.server, self.addr = server, addr
        self.headers = {k.lower(): v for k, v in re.findall(r"^([A-Za-z-]+):\s*(.*?)\r?$", invite.split("\r\n\r\n")[0], re.M)}
        self.via = [v for k, v in re.findall(r"^(Via):\s*(.*?)\r?$", invite, re.M)]
        self.tag = secrets.token_hex(6)
        media = re.search(r"c=IN IP4 (\S+).*?m=audio (\d+)", invite, re.S)
        self.media = (media.group(1), int(media.group(2))) if media else None
        self.digit = asyncio.get_running_loop().create_future()

    def response(self, status: str, body: str = "") -> bytes:
        h = self.headers
        lines = [f"SIP/2.0 {status}", *(f"Via: {v}" for v in self.via), f"From: {h['from']}", f"To: {h['to']};tag={self.tag}",
                 f"Call-ID: {h['call-id']}", f"CSeq: {h['cseq']}", f"Contact: <sip:127.0.0.1:{self.server.port}>"]
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        transport = None
        for _ in range(20):  # a port of the range may be another process's: take the next one
            rtp_port = self.server.next_rtp()
            try:
                transport, _ = await loop.create_datagram_endpoint(lambda: _BareRtp(self), local_addr=("127.0.0.1", rtp_port))
                break
            except OSError:
                continue
        if transport is None:
            self.server.send(self.response("503 Service Unavailable"), self.addr)
            return
        sdp = (f"v=0\r\no=bare 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
               f"m=audio {rtp_port} RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n")
        self.server.send(self.response("200 OK", sdp), self.addr)
        start = loop.time()
        seq, ts, ssrc = 0, 0, secrets.randbits(32)
        for n, frame in enumerate(self.server.frames):
            if self.digit.done():
                break
            delay = start + n * 0.02 - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if self.media:
                transport.sendto(RtpPacket(0, seq, ts, ssrc, frame).to_bytes(), self.media)
            seq, ts = seq + 1, ts + 160
        try:
            await asyncio.wait_for(self.digit, 10)
        except TimeoutError:
            pass
        h = self.headers
        uri = re.search(r"<(sip:[^>]+)>", h.get("contact", "")) or re.search(r"(sip:\S+)", h.get("contact", ""))
        bye = (f"BYE {uri.group(1) if uri else 'sip:100@127.0.0.1'} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{self.server.port};branch=z9hG4bK{secrets.token_hex(6)}\r\n"
               f"From: {h['to']};tag={self.tag}\r\nTo: {h['from']}\r\nCall-ID: {h['call-id']}\r\nCSeq: 2 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
        self.server.send(bye.encode(), self.addr)
        transport.close()


class _BareRtp(asyncio.DatagramProtocol):
    def __init__(self, call: BareCall) -> None:
        self.call = call

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        pkt = parse_rtp(data)
        if pkt is not None and pkt.payload_type == 101 and not self.call.digit.done():
            self.call.digit.set_result(None)


class BareResponder(asyncio.DatagramProtocol):
    """Answers INVITE with 200 + SDP, streams the frames, BYE after the digit."""

    def __init__(self, frames: list[bytes]) -> None:
        self.frames = frames
        self.port = 0
        self._rtp = 30000
        self.transport: asyncio.DatagramTransport | None = None
        self.calls: dict[str, asyncio.Task[None]] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.port = transport.get_extra_info("sockname")[1]

    def next_rtp(self) -> int:
        self._rtp = 30000 + (self._rtp - 30000 + 2) % 9000
        return self._rtp

    def send(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.transport is not None:
            self.transport.sendto(data, addr)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        text = data.decode(errors="replace")
        if text.startswith("INVITE"):
            call_id = re.search(r"^Call-ID:\s*(\S+)", text, re.M | re.I)
            if call_id and call_id.group(1) not in self.calls:
                call = BareCall(self, text, addr)
                self.calls[call_id.group(1)] = asyncio.get_running_loop().create_task(call.run())


# ---- steps --------------------------------------------------------------------------------------------------
async def step_up(target: tuple[str, int], xml: Path, rates: list[int], seconds: float) -> tuple[int, list[dict[str, int]]]:
    best = 0
    steps = []
    for rate in rates:
        calls = int(rate * seconds)
        rc, ok, failed = await run_sipp(target, xml, "-m", str(calls), "-r", str(rate), "-l", str(rate * 20), timeout=seconds + 40)
        steps.append({"rate": rate, "ok": ok, "failed": failed, "rc": rc})
        print(f"  {rate:4d} calls/s: {ok} ok, {failed} failed (sipp rc {rc})", flush=True)
        if rc != 0 or failed or ok != calls:
            break
        best = rate
        await asyncio.sleep(1.0)
    return best, steps


async def max_cps(tmp: Path, rates: list[int], seconds: float) -> tuple[int, int]:
    prompt = tmp / "prompt.wav"
    write_tone(prompt, 1.0)
    xml = tmp / "caller.xml"
    xml.write_text(CALLER_XML.replace("DIGIT", DIGIT).replace("MEDIA_IP", "[media_ip]").replace("MEDIA_PORT", "[media_port]"))
    print("engine (answer, 1 s prompt, one digit, BYE):", flush=True)
    engine, backend = await engine_server(ivr(prompt, digit=True), tmp)
    try:
        ours, _ = await step_up(backend.address, xml, rates, seconds)
    finally:
        await backend.stop()
        await engine.shutdown()
    print("bare asyncio responder, same shape:", flush=True)
    loop = asyncio.get_running_loop()
    transport, bare = await loop.create_datagram_endpoint(lambda: BareResponder(wav_frames(prompt, "PCMU")), local_addr=("127.0.0.1", 0))
    try:
        theirs, _ = await step_up(("127.0.0.1", bare.port), xml, rates, seconds)
    finally:
        transport.close()
    return ours, theirs


async def concurrent(tmp: Path, calls: int, hold: float, *, bare: bool) -> dict[str, float]:
    """Hold `calls` calls streaming a `hold`-second prompt to the sink; the
    sink's spacing statistics (all packets, and the steady window when every
    stream is up)."""
    prompt = tmp / "long.wav"
    write_tone(prompt, hold)
    sink_port = free_port()
    xml = tmp / "holder.xml"
    xml.write_text(CALLER_XML.replace("DIGIT", "").replace("MEDIA_IP", "127.0.0.1").replace("MEDIA_PORT", str(sink_port)))
    rate = 100
    sink = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--sink", str(sink_port), str(hold + calls / rate + 20), stdout=asyncio.subprocess.PIPE
    )
    await asyncio.sleep(0.5)
    loop = asyncio.get_running_loop()
    late = 0
    if bare:
        transport, responder = await loop.create_datagram_endpoint(
            lambda: BareResponder(wav_frames(prompt, "PCMU")), local_addr=("127.0.0.1", 0)
        )
        target = ("127.0.0.1", responder.port)
    else:
        engine, backend = await engine_server(ivr(prompt, digit=False), tmp)
        target = backend.address
    try:
        rc, ok, failed = await run_sipp(target, xml, "-m", str(calls), "-r", str(rate), "-l", str(calls), timeout=hold + calls / rate + 60)
        print(f"  {calls} calls held {hold:.0f} s: {ok} ok, {failed} failed (sipp rc {rc})", flush=True)
    finally:
        if bare:
            transport.close()
        else:
            late = backend.media_clock.late_ticks
            await backend.stop()
            await engine.shutdown()
    out, _ = await sink.communicate()
    stats = json.loads(out.decode().strip().splitlines()[-1])
    stats["ok"] = ok
    stats["late_ticks"] = late
    return stats


def sink_main(port: int, seconds: float) -> None:
    """Receive RTP, stamp it in the kernel, and print spacing statistics:
    over every packet, and over the steady window (from when the last stream
    began until the first one ended, less half a second at each end)."""
    so_ts = getattr(socket, "SO_TIMESTAMPNS", 35)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # the kernel stamps each packet as it arrives, so the sink may read late:
    # it yields the CPU to the engine under test and keeps a big buffer instead
    os.nice(10)
    try:
        sock.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_RCVBUFFORCE", 33), 64 * 1024 * 1024)
    except OSError:  # not root: as much as rmem_max allows
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024 * 1024)
    sock.setsockopt(socket.SOL_SOCKET, so_ts, 1)
    sock.bind(("127.0.0.1", port))
    sock.settimeout(1.0)
    first: dict[int, float] = {}
    last: dict[int, float] = {}
    spacing: list[tuple[float, float]] = []
    packets = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            data, anc, _, _ = sock.recvmsg(2048, 64)
        except TimeoutError:
            if packets and time.monotonic() > end - seconds / 2:
                break
            continue
        if len(data) < 12:
            continue
        stamp = None
        for level, kind, raw in anc:
            if level == socket.SOL_SOCKET and kind == so_ts and len(raw) >= 16:
                sec, nsec = struct.unpack("qq", raw[:16])
                stamp = sec + nsec / 1e9
        if stamp is None:
            stamp = time.time()
        ssrc = struct.unpack_from("!I", data, 8)[0]
        packets += 1
        prev = last.get(ssrc)
        if prev is not None:
            spacing.append((stamp, abs(stamp - prev - 0.02) * 1000))
        else:
            first[ssrc] = stamp
        last[ssrc] = stamp
    steady_from = max(first.values(), default=0.0) + 0.5
    steady_to = min(last.values(), default=0.0) - 0.5

    def pct(values: list[float], p: float) -> float:
        return round(values[min(len(values) - 1, int(p * len(values)))], 2) if values else float("nan")

    every = sorted(d for _, d in spacing)
    steady = sorted(d for t, d in spacing if steady_from <= t <= steady_to)
    print(json.dumps({
        "packets": packets, "streams": len(last),
        "p50_ms": pct(every, 0.5), "p99_ms": pct(every, 0.99), "max_ms": pct(every, 1.0),
        "steady_packets": len(steady), "steady_p50_ms": pct(steady, 0.5), "steady_p99_ms": pct(steady, 0.99),
        "steady_max_ms": pct(steady, 1.0),
    }))


def _show(name: str, j: dict[str, float]) -> None:
    print(
        f"  {name}: {j['packets']} packets in {j['streams']} streams; |spacing - 20 ms| "
        f"all: p50 {j['p50_ms']} p99 {j['p99_ms']} max {j['max_ms']} ms; "
        f"steady ({j['steady_packets']} packets): p50 {j['steady_p50_ms']} p99 {j['steady_p99_ms']} max {j['steady_max_ms']} ms"
        + (f"; late clock ticks {j['late_ticks']}" if name == "engine" else ""),
        flush=True,
    )


async def main(args: argparse.Namespace) -> None:
    rates = [int(r) for r in args.rates.split(",") if r.strip()]
    print(f"nproc {os.cpu_count()}, loop {args.loop}", flush=True)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        ours, bare = await max_cps(tmp, rates, args.seconds) if rates else (0, 0)
        print("concurrent calls with prompts streaming to a sink, bare responder:", flush=True)
        bare_jitter = await concurrent(tmp, args.concurrent, args.hold, bare=True)
        _show("bare", bare_jitter)
        print("concurrent calls with prompts streaming to a sink, engine:", flush=True)
        jitter = await concurrent(tmp, args.concurrent, args.hold, bare=False)
        _show("engine", jitter)
    print(json.dumps({
        "max_cps": ours,
        "concurrent": jitter["ok"],
        "jitter_p99_ms": jitter["steady_p99_ms"],
        "cps_vs_bare": round(ours / bare, 2) if bare else None,
        "jitter_p99_all_ms": jitter["p99_ms"],
        "bare_jitter_p99_ms": bare_jitter["steady_p99_ms"],
        "bare_jitter_p99_all_ms": bare_jitter["p99_ms"],
        "nproc": os.cpu_count(),
    }))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--sink":
        sink_main(int(sys.argv[2]), float(sys.argv[3]))
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default="50,100,150,200,250,300,400,500", help="comma-separated; empty: skip the step-up")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--concurrent", type=int, default=500)
    parser.add_argument("--hold", type=float, default=15.0)
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop",
                        help="the event loop (flowengine serve runs on uvloop through uvicorn)")
    parsed = parser.parse_args()
    if parsed.loop == "uvloop":
        import uvloop

        uvloop.run(main(parsed))
    else:
        asyncio.run(main(parsed))
