"""RTP packets, RFC 4733 digits, G.711 and WAV prompts (sans-IO), and one
call's RTP socket on 127.0.0.1: digits in, a prompt out on its 20 ms cadence."""

from __future__ import annotations

import asyncio
import math
import socket
import struct
import wave
from array import array
from pathlib import Path

import pytest

from flowengine.errors import NodeError
from telephony_adapters.sip.media import MediaClock, RtpEndpoint, RtpPortPool
from telephony_adapters.sip.prompts import silence_frames, wav_frames
from telephony_adapters.sip.rtp import (
    DtmfReceiver,
    RtpPacket,
    decode,
    dtmf_payload,
    encode,
    parse_rtp,
)


def test_packets_round_trip_and_junk_is_not_rtp() -> None:
    pkt = RtpPacket(0, 65535, 2**32 - 1, 0xDEADBEEF, b"\xff" * 160, marker=True)
    assert parse_rtp(pkt.to_bytes()) == pkt
    assert parse_rtp(b"") is None
    assert parse_rtp(b"\x00" * 20) is None  # version 0
    # CSRCs, a header extension and padding are skipped to find the payload
    header = struct.pack("!BBHII", 0xB1, 8, 1, 160, 7) + b"\x00\x00\x00\x09"  # padding, 1 CSRC
    ext = b"\xbe\xde\x00\x01" + b"\x00" * 4
    raw = bytes([header[0] | 0x10]) + header[1:] + ext + b"abc" + b"\x00\x02"
    parsed = parse_rtp(raw)
    assert parsed is not None and parsed.payload == b"abc" and parsed.payload_type == 8
    assert parse_rtp(bytes([0x9F]) + b"\x00" * 11) is None  # 15 CSRCs promised, none there


def test_one_digit_per_key_press_however_often_it_is_repeated() -> None:
    rx = DtmfReceiver()
    seen = []
    for ts, digit in ((1000, "1"), (5000, "1"), (9000, "#")):
        for duration, end in ((160, False), (320, False), (480, True), (480, True), (480, True)):
            pkt = RtpPacket(101, 0, ts, 42, dtmf_payload(digit, end=end, duration=duration))
            got = rx.packet(pkt)
            if got:
                seen.append(got)
    assert seen == ["1", "1", "#"]  # the same key twice is two presses (two timestamps)
    assert rx.packet(RtpPacket(101, 0, 1, 42, b"\x01")) is None  # short payload
    assert rx.packet(RtpPacket(101, 0, 2, 42, b"\x63\x80\x00\xa0")) is None  # event 99: not a digit


def test_g711_matches_the_standard_points() -> None:
    pcm = array("h", [0, -1, 1000, -1000, 32767, -32768])
    # ITU-T G.711 µ-law: 0 -> 0xFF, full scale -> 0x80 / 0x00; A-law: 0 -> 0xD5
    assert encode(pcm, "PCMU")[:1] == b"\xff" and encode(pcm, "PCMU")[4:] == b"\x80\x00"
    assert encode(array("h", [0]), "PCMA") == b"\xd5"
    tone = array("h", [int(12000 * math.sin(2 * math.pi * 400 * i / 8000)) for i in range(800)])
    for codec in ("PCMU", "PCMA"):
        back = decode(encode(tone, codec), codec)
        worst = max(abs(a - b) for a, b in zip(tone, back, strict=True))
        assert worst < 12000 * 0.07  # within a companding step of the original


def _write_wav(path: Path, rate: int, channels: int, seconds: float) -> None:
    n = int(rate * seconds)
    samples = array("h")
    for i in range(n):
        v = int(8000 * math.sin(2 * math.pi * 440 * i / rate))
        samples.extend([v] * channels)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples.tobytes())


def test_wav_prompts_of_any_rate_become_20ms_frames(tmp_path: Path) -> None:
    path = tmp_path / "hello.wav"
    _write_wav(path, 22050, 2, 1.0)
    frames = wav_frames(path, "PCMA")
    assert len(frames) == 50 and all(len(f) == 160 for f in frames)
    tone = decode(b"".join(frames), "PCMA")
    assert max(tone) > 6000  # the tone survived mixing and resampling
    assert len(silence_frames(0.5, "PCMU")) == 25


def test_missing_or_broken_prompt_files_fail_the_node_with_a_clear_code(tmp_path: Path) -> None:
    with pytest.raises(NodeError, match="cannot be read") as err:
        wav_frames(tmp_path / "none.wav", "PCMU")
    assert err.value.code == "media_missing"
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF....not a wav")
    with pytest.raises(NodeError, match="not a PCM WAV") as err:
        wav_frames(bad, "PCMU")
    assert err.value.code == "media_invalid"


def test_rtp_socket_reports_digits_and_sends_a_prompt_on_a_steady_cadence() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        digits: list[str] = []
        pool = RtpPortPool(42000, 42100)
        rtp = await RtpEndpoint.open("127.0.0.1", pool, digits.append)
        phone = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        phone.bind(("127.0.0.1", 0))
        phone.setblocking(False)
        try:
            rtp.configure(phone.getsockname(), "PCMU", 0, 101)
            # the phone presses 5 (three packets of one event) and 7
            for ts, digit in ((100, "5"), (100, "5"), (100, "5"), (900, "7")):
                pkt = RtpPacket(101, 1, ts, 9, dtmf_payload(digit, end=False, duration=160))
                phone.sendto(pkt.to_bytes(), ("127.0.0.1", rtp.port))
            await asyncio.sleep(0.2)
            assert digits == ["5", "7"]
            # once latched onto the phone, RTP from anyone else is ignored (no injected digits)
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as stranger:
                pkt = RtpPacket(101, 1, 5555, 10, dtmf_payload("9", end=False, duration=160))
                stranger.sendto(pkt.to_bytes(), ("127.0.0.1", rtp.port))
                await asyncio.sleep(0.2)
            assert digits == ["5", "7"]
            # a 1 s prompt: 50 packets, contiguous sequence and timestamps, ~1 s long
            frames = silence_frames(1.0, "PCMU")
            started = loop.time()
            assert await rtp.send_frames(frames) is False
            took = loop.time() - started
            got: list[RtpPacket] = []
            while True:
                try:
                    data = phone.recv(2048)
                except BlockingIOError:
                    break
                pkt = parse_rtp(data)
                assert pkt is not None
                got.append(pkt)
            assert len(got) == 50
            assert [(p.sequence - got[0].sequence) & 0xFFFF for p in got] == list(range(50))
            assert [(p.timestamp - got[0].timestamp) & 0xFFFFFFFF for p in got] == [160 * i for i in range(50)]
            assert got[0].marker and not any(p.marker for p in got[1:])
            assert 0.95 <= took <= 2.0  # 49 intervals of 20 ms; generous on a loaded machine
            # barge-in: a stop condition ends the prompt early and says so
            assert await rtp.send_frames(frames, stop=lambda: True) is True
        finally:
            phone.close()
            rtp.close()
            pool.give_back(rtp.port)
        assert pool.in_use == 0

    asyncio.run(main())


def test_one_media_clock_serves_many_calls_and_stops_a_cancelled_prompt() -> None:
    async def main() -> None:
        clock = MediaClock()
        pool = RtpPortPool(42400, 42500)
        sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sink.bind(("127.0.0.1", 0))
        sink.setblocking(False)
        endpoints = [await RtpEndpoint.open("127.0.0.1", pool, lambda d: None, clock) for _ in range(3)]
        try:
            for ep in endpoints:
                ep.configure(sink.getsockname(), "PCMA", 8, None)
            lengths = [10, 25, 40]
            played = [asyncio.ensure_future(ep.send_frames(silence_frames(n * 0.02, "PCMA"))) for ep, n in zip(endpoints, lengths, strict=True)]
            await asyncio.sleep(0)
            assert clock.streams == 3
            assert await asyncio.gather(*played) == [False, False, False]
            assert [ep.packets_out for ep in endpoints] == lengths
            assert clock.streams == 0  # idle: no timer left running
            # a prompt whose call hangs up (its task cancelled) stops at once
            long = asyncio.ensure_future(endpoints[0].send_frames(silence_frames(5.0, "PCMA")))
            await asyncio.sleep(0.1)
            long.cancel()
            with pytest.raises(asyncio.CancelledError):
                await long
            sent = endpoints[0].packets_out
            await asyncio.sleep(0.1)
            assert endpoints[0].packets_out == sent and clock.streams == 0
        finally:
            sink.close()
            for ep in endpoints:
                ep.close()

    asyncio.run(main())


def test_a_port_another_program_holds_is_skipped_and_not_counted_as_ours() -> None:
    async def main() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
            other.bind(("127.0.0.1", 0))
            held = other.getsockname()[1] & ~1
            other.close()
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as squatter:
                squatter.bind(("127.0.0.1", held))  # another program on one of our ports
                pool = RtpPortPool(held - 2, held + 4)  # three ports: held-2, held, held+2
                opened = [await RtpEndpoint.open("127.0.0.1", pool, lambda d: None) for _ in range(2)]
                assert sorted(ep.port for ep in opened) == [held - 2, held + 2] and pool.in_use == 2
                with pytest.raises(OSError, match="no free RTP port"):
                    await RtpEndpoint.open("127.0.0.1", pool, lambda d: None)
                for ep in opened:
                    ep.close()
                    pool.give_back(ep.port)
                assert pool.in_use == 0  # the squatter's port was never counted as ours

    asyncio.run(main())
