"""Speech and recording over real SIP: SIPp (Debian `sip-tester`) calls the
engine's SIP backend on 127.0.0.1.

* Say: the caller's SDP points at an RTP receiver in the test; what arrives
  is exactly the espeak-ng prompt (not silence), answered or in early media.
* Record: SIPp plays Debian's g711a.pcap (speech, PCMA) and presses 1 or
  hangs up, or says a sentence and falls silent; the WAV holds that audio,
  as long as the caller talked.
* Music on hold: a Queue's music file, looped while the caller waits.
* Recognize: SIPp plays a pcap of espeak-ng saying "support" (made by the
  test as G.711 RTP) and the scenario takes the "support" exit.
"""

from __future__ import annotations

import asyncio
import math
import shutil
import socket
import struct
import wave
from array import array
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sipp_scenarios import (
    PCAP_DIR,
    listening_caller,
    talking_caller,
    talking_then_hanging_up_caller,
)

from flowengine.acd import parse_centre
from flowengine.acd.driver import AcdDriver
from flowengine.events import StreamEvent
from flowengine.runtime.engine import Engine
from flowengine.scenario.loader import load_scenario_data
from flowengine.speech.tts import default_tts
from telephony_adapters.sip import SipBackend, SipSettings
from telephony_adapters.sip.prompts import wav_frames
from telephony_adapters.sip.rtp import RtpPacket, decode, encode, parse_rtp

SIPP = shutil.which("sipp")
pytestmark = pytest.mark.skipif(SIPP is None, reason="SIPp (Debian package sip-tester) is not installed; scripts/test.sh installs it")

PROMPT = "Thank you for calling. This prompt is spoken by the engine."


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def sipp(target: tuple[str, int], *args: str, cwd: Path, timeout: float = 60.0) -> tuple[int, str]:
    cmd = [
        SIPP or "sipp", f"{target[0]}:{target[1]}", *args,
        "-i", "127.0.0.1", "-mi", "127.0.0.1", "-p", str(free_udp_port()), "-mp", str(free_udp_port() & ~1),
        "-m", "1", "-timeout", "30", "-timeout_error", "-nostdin", "-nd",
    ]
    proc = await asyncio.create_subprocess_exec(*cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=cwd)
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    return proc.returncode or 0, out.decode(errors="replace")[-3000:]


class RtpReceiver(asyncio.DatagramProtocol):
    """The caller's RTP port: keeps every packet that arrives."""

    def __init__(self) -> None:
        self.packets: list[RtpPacket] = []

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        pkt = parse_rtp(data)
        if pkt is not None:
            self.packets.append(pkt)


def scenario(sid: str, number: str, nodes: list[dict[str, Any]]) -> Any:
    return load_scenario_data({"schema": 1, "id": sid, "numbers": [number], "language": "en", "nodes": nodes})


def with_engine(test: Callable[[SipBackend, list[StreamEvent]], Awaitable[None]], tmp: Path, *scenarios: Any) -> None:
    async def main() -> None:
        engine = Engine(keep_events=True, media_dirs=[tmp / "media"])
        (tmp / "media").mkdir(exist_ok=True)
        for sc in scenarios:
            engine.publish(sc)
        events: list[StreamEvent] = []
        engine.add_listener(events.append)
        backend = SipBackend(engine, settings=SipSettings(port=0, rtp_ports=(42600, 43000), cache_dir=str(tmp / "cache")))
        await backend.start()
        try:
            await test(backend, events)
            await asyncio.wait_for(engine.drain(), 10)
            assert backend.calls == {} and backend.rtp_pool.in_use == 0 and engine.active_calls == 0
        finally:
            await backend.stop()
            await engine.shutdown()

    asyncio.run(main())


def first(events: list[StreamEvent], name: str) -> Any:
    return next(ev for ev in events if type(ev).__name__ == name)


def rms(samples: array) -> float:
    return math.sqrt(sum(s * s for s in samples) / max(1, len(samples)))


@pytest.mark.parametrize("early", [False, True], ids=["answered", "early-media"])
def test_a_say_prompt_reaches_the_caller_as_the_spoken_text(tmp_path: Path, early: bool) -> None:
    nodes = [
        {"id": "start", "type": "start", "params": {"answer": not early}, "exits": {"next": "greet"}},
        {"id": "greet", "type": "say", "params": {"text": PROMPT}, "exits": {"next": "bye"}},
        {"id": "bye", "type": "hangup", "params": {"cause": "busy" if early else "normal"}},
    ]

    async def test(backend: SipBackend, events: list[StreamEvent]) -> None:
        loop = asyncio.get_running_loop()
        transport, receiver = await loop.create_datagram_endpoint(RtpReceiver, local_addr=("127.0.0.1", 0))
        try:
            (tmp_path / "listen.xml").write_text(listening_caller(transport.get_extra_info("sockname")[1], early=early))
            rc, out = await sipp(backend.address, "-sf", "listen.xml", "-s", "500", cwd=tmp_path)
            assert rc == 0, out
        finally:
            transport.close()
        audio = [p.payload for p in receiver.packets if p.payload_type == 0]
        # exactly the espeak-ng rendering of the text, frame for frame (the engine's cache holds it)
        spoken = wav_frames(default_tts(tmp_path / "cache").speak(PROMPT, language="en"), "PCMU")
        assert audio == spoken
        pcm = decode(b"".join(audio), "PCMU")
        assert len(pcm) / 8000 > 2.0 and rms(pcm) > 500  # seconds of speech, not silence
        hung = first(events, "CallHungUp")
        assert (hung.by, hung.sip_status) == (("engine", 486) if early else ("engine", None))

    with_engine(test, tmp_path, scenario("say", "500", nodes))


def _pcap_payloads(path: str) -> list[bytes]:
    data = Path(path).read_bytes()
    offset, payloads = 24, []
    while offset + 16 <= len(data):
        (length,) = struct.unpack_from("<I", data, offset + 8)
        pkt = parse_rtp(data[offset + 16 + 42 : offset + 16 + length])  # Ethernet + IPv4 + UDP headers
        offset += 16 + length
        if pkt is not None:
            payloads.append(pkt.payload)
    return payloads


def test_record_writes_the_callers_audio_until_the_terminator(tmp_path: Path) -> None:
    nodes = [
        {"id": "start", "type": "start", "exits": {"next": "rec"}},
        {"id": "rec", "type": "record", "params": {"beep": False, "max_length": 30, "silence_end": 0, "terminators": "1",
                                                   "min_length": 0.5, "variable": "MESSAGE"},
         "exits": {"next": "bye", "empty": "bye"}},
        {"id": "bye", "type": "hangup"},
    ]
    (tmp_path / "talk.xml").write_text(talking_caller(talk_ms=3000))

    async def test(backend: SipBackend, events: list[StreamEvent]) -> None:
        rc, out = await sipp(backend.address, "-sf", "talk.xml", "-s", "600", cwd=tmp_path)
        assert rc == 0, out
        made = first(events, "RecordingMade")
        assert made.reason == "terminator" and made.uri.startswith("recordings/")
        assert 2.4 < made.duration < 3.6  # SIPp talked 3 s before pressing 1
        with wave.open(str(tmp_path / "media" / made.uri), "rb") as wav:
            assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 8000)
            assert abs(wav.getnframes() / 8000 - made.duration) < 0.01
            recorded = wav.readframes(wav.getnframes())
        # the pcap's speech is in the file, sample for sample (A-law decoded), where the caller said it
        payloads = _pcap_payloads(f"{PCAP_DIR}/g711a.pcap")
        for n in (40, 60, 80):
            assert decode(payloads[n], "PCMA").tobytes() in recorded, f"pcap packet {n} is not in the recording"
        samples = array("h")
        samples.frombytes(recorded)
        assert rms(samples) > 500

    with_engine(test, tmp_path, scenario("rec", "600", nodes))


def test_a_caller_who_hangs_up_keeps_the_message_and_the_call_goes_on_after_hangup(tmp_path: Path) -> None:
    nodes = [
        {"id": "start", "type": "start", "exits": {"next": "rec"}},
        {"id": "rec", "type": "record", "params": {"beep": False, "silence_end": 0, "variable": "MESSAGE"},
         "exits": {"next": "bye", "empty": "bye"}},
        {"id": "bye", "type": "hangup"},
        {"id": "after", "type": "start", "params": {"entry": "after_hangup"}, "exits": {"next": "send"}},
        {"id": "send", "type": "assign", "params": {"assignments": [{"variable": "SENT", "value": "MESSAGE"}]}, "exits": {"next": "done"}},
        {"id": "done", "type": "hangup"},
    ]
    (tmp_path / "talk.xml").write_text(talking_then_hanging_up_caller(talk_ms=2000))

    async def test(backend: SipBackend, events: list[StreamEvent]) -> None:
        rc, out = await sipp(backend.address, "-sf", "talk.xml", "-s", "660", cwd=tmp_path)
        assert rc == 0, out
        await asyncio.sleep(0.3)
        made = first(events, "RecordingMade")
        assert made.reason == "hangup" and 1.5 < made.duration < 2.6
        assert (tmp_path / "media" / made.uri).is_file()
        sent = [ev for ev in events if type(ev).__name__ == "VariableChanged" and ev.variable == "SENT"]  # type: ignore[attr-defined]
        assert [ev.value for ev in sent] == [made.uri]  # type: ignore[attr-defined]

    with_engine(test, tmp_path, scenario("rec", "660", nodes))


def _write_pcap(path: Path, payloads: list[bytes], payload_type: int) -> None:
    """An RTP stream as a pcap SIPp can play: Ethernet/IPv4/UDP framing, 20 ms apart."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for i, payload in enumerate(payloads):
        rtp = RtpPacket(payload_type, i, i * 160, 0x1234, payload, marker=i == 0).to_bytes()
        udp = struct.pack("!HHHH", 6000, 6000, 8 + len(rtp), 0) + rtp
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xFFFF, 0, 64, 17, 0,
                         bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1])) + udp
        frame = b"\x00" * 12 + b"\x08\x00" + ip
        usec = i * 20000
        out.append(struct.pack("<IIII", usec // 1_000_000, usec % 1_000_000, len(frame), len(frame)) + frame)
    path.write_bytes(b"".join(out))


def saying_caller(tmp: Path, text: str, *, after: float) -> str:
    """A SIPp caller that says `text` (espeak-ng, as PCMA RTP from a pcap the
    test writes) 0.5 s after the answer, then sends `after` s of silence and
    waits for the engine's BYE."""
    said = default_tts(tmp / "cache").speak(text, language="en")
    with wave.open(str(said), "rb") as wav:
        pcm = array("h")
        pcm.frombytes(wav.readframes(wav.getnframes()))
    pcm = array("h", bytes(2 * 4000)) + pcm + array("h", bytes(2 * int(after * 8000)))
    alaw = encode(pcm, "PCMA")
    _write_pcap(tmp / "said.pcap", [alaw[i : i + 160] for i in range(0, len(alaw) - 159, 160)], 8)
    xml = talking_caller(talk_ms=300).replace(f"{PCAP_DIR}/g711a.pcap", str(tmp / "said.pcap"))
    # no digit: the node ends on its own, then the engine hangs up
    return xml.replace(f'<nop><action><exec play_pcap_audio="{PCAP_DIR}/dtmf_2833_1.pcap"/></action></nop>', "")


def test_record_ends_after_silence_end_seconds_without_voice(tmp_path: Path) -> None:
    nodes = [
        {"id": "start", "type": "start", "exits": {"next": "rec"}},
        {"id": "rec", "type": "record", "params": {"beep": True, "max_length": 20, "silence_end": 1.0, "min_length": 0.3},
         "exits": {"next": "bye", "empty": "bye"}},
        {"id": "bye", "type": "hangup"},
    ]
    (tmp_path / "say.xml").write_text(saying_caller(tmp_path, "please call me back tomorrow", after=4.0))

    async def test(backend: SipBackend, events: list[StreamEvent]) -> None:
        rc, out = await sipp(backend.address, "-sf", "say.xml", "-s", "650", cwd=tmp_path)
        assert rc == 0, out
        made = first(events, "RecordingMade")
        assert made.reason == "silence"
        # the caller spoke ~1.5 s from 0.5 s; after the 0.4 s beep the recording ran to 1 s past the last word
        assert 1.6 < made.duration < 3.6, made.duration
        left = [ev.exit for ev in events if type(ev).__name__ == "NodeLeft" and ev.node_id == "rec"]  # type: ignore[attr-defined]
        assert left == ["next"]  # words were recorded: not "empty"
        with wave.open(str(tmp_path / "media" / made.uri), "rb") as wav:
            samples = array("h")
            samples.frombytes(wav.readframes(wav.getnframes()))
        assert rms(samples) > 300
        assert rms(samples[-6400:]) < 50  # it ends in the silence that ended it

    with_engine(test, tmp_path, scenario("rec", "650", nodes))


def test_recognize_over_sip_takes_the_exit_of_the_spoken_word(tmp_path: Path) -> None:
    nodes = [
        {"id": "start", "type": "start", "exits": {"next": "ask"}},
        {"id": "ask", "type": "recognize", "params": {
            "choices": [{"exit": "billing", "phrases": ["billing"]}, {"exit": "support", "phrases": ["support"]}],
            "timeout": 5, "retries": 0, "language": "en", "variable": "HEARD"},
         "exits": {"billing": "bye", "support": "bye", "other": "bye", "timeout": "bye"}},
        {"id": "bye", "type": "hangup"},
    ]
    (tmp_path / "speak.xml").write_text(saying_caller(tmp_path, "support", after=1.0))

    async def test(backend: SipBackend, events: list[StreamEvent]) -> None:
        rc, out = await sipp(backend.address, "-sf", "speak.xml", "-s", "700", cwd=tmp_path)
        assert rc == 0, out
        heard = first(events, "SpeechRecognized")
        assert (heard.text, heard.matched) == ("support", "support")
        left = [ev for ev in events if type(ev).__name__ == "NodeLeft" and ev.node_id == "ask"]  # type: ignore[attr-defined]
        assert [ev.exit for ev in left] == ["support"]  # type: ignore[attr-defined]

    with_engine(test, tmp_path, scenario("asr", "700", nodes))


def _tone_wav(path: Path, seconds: float, frequency: float, rate: int = 16000) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(array("h", (int(8000 * math.sin(2 * math.pi * frequency * i / rate)) for i in range(int(seconds * rate)))).tobytes())


def test_music_on_hold_loops_the_queue_file_while_the_caller_waits(tmp_path: Path) -> None:
    """A Queue with nobody logged in: the caller waits `max_wait` seconds and
    hears the queue's music file (16 kHz, resampled) over and over."""
    nodes = [
        {"id": "start", "type": "start", "exits": {"next": "q"}},
        {"id": "q", "type": "queue", "params": {"queue": "q", "music": "moh/tune.wav", "max_wait": 2.5},
         "exits": dict.fromkeys(("answered", "timeout", "full", "no_operators", "callback"), "bye")},
        {"id": "bye", "type": "hangup"},
    ]
    (tmp_path / "media" / "moh").mkdir(parents=True)
    _tone_wav(tmp_path / "media" / "moh" / "tune.wav", 0.5, 600)

    async def test(backend: SipBackend, events: list[StreamEvent]) -> None:
        AcdDriver(parse_centre({"operators": [{"id": "901", "extension": "901"}],
                                "queues": [{"id": "q", "members": ["901"]}]})).attach(backend.engine)
        loop = asyncio.get_running_loop()
        transport, receiver = await loop.create_datagram_endpoint(RtpReceiver, local_addr=("127.0.0.1", 0))
        try:
            (tmp_path / "listen.xml").write_text(listening_caller(transport.get_extra_info("sockname")[1]))
            rc, out = await sipp(backend.address, "-sf", "listen.xml", "-s", "800", cwd=tmp_path)
            assert rc == 0, out
        finally:
            transport.close()
        assert [ev.exit for ev in events if type(ev).__name__ == "NodeLeft" and ev.node_id == "q"] == ["timeout"]  # type: ignore[attr-defined]
        heard = [p.payload for p in receiver.packets if p.payload_type == 0]
        tune = wav_frames(tmp_path / "media" / "moh" / "tune.wav", "PCMU")
        assert len(tune) == 25
        loops = len(heard) // len(tune)
        assert loops >= 3  # 2.5 s of waiting: the half-second file played again and again
        assert heard[: loops * len(tune)] == tune * loops

    with_engine(test, tmp_path, scenario("moh", "800", nodes))
