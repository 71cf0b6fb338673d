"""baresip (Debian `baresip`) as a real phone in the tests: a headless
instance in its own folder, on 127.0.0.1 only, quitting by itself (-t).

Its audio source is a WAV tone (long enough: baresip 1.0 hangs up when the
file ends), its `sndfile` module records what it received, and its events
and commands go over ctrl_tcp (netstring-framed JSON): that is the only
place baresip reports DTMF it received.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import shutil
import socket
import struct
import wave
from pathlib import Path
from typing import Any

BARESIP = shutil.which("baresip")
MODULES = Path("/usr/lib/baresip/modules")


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


#: ports handed out in this process (a phone not started yet has not bound them)
_TAKEN: set[int] = set()


def _bindable(port: int, kind: int) -> bool:
    with socket.socket(socket.AF_INET, kind) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_tcp_port() -> int:
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in _TAKEN:
            _TAKEN.add(port)
            return port
    raise AssertionError("no free TCP port")


def free_sip_port() -> int:
    """A port baresip can listen on: it binds UDP and TCP there, and TLS on the next one."""
    for _ in range(200):
        port = free_udp_port()
        if port >= 65535 or port in _TAKEN or port + 1 in _TAKEN:
            continue
        if _bindable(port, socket.SOCK_STREAM) and _bindable(port + 1, socket.SOCK_STREAM):
            _TAKEN.update((port, port + 1))
            return port
    raise AssertionError("no free SIP port for baresip")


def write_tone(path: Path, freq: float, seconds: float = 40.0, rate: int = 8000) -> None:
    n = int(seconds * rate)
    frames = b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * freq * i / rate))) for i in range(n))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)


def read_channels(path: Path) -> list[list[int]]:
    """A 16-bit WAV's samples, one list per channel."""
    with wave.open(str(path), "rb") as w:
        channels, width = w.getnchannels(), w.getsampwidth()
        data = w.readframes(w.getnframes())
    assert width == 2, f"{path.name}: {8 * width}-bit samples"
    samples = struct.unpack(f"<{len(data) // 2}h", data)
    return [list(samples[c::channels]) for c in range(channels)]


def tone_power(samples: list[int], freq: float, rate: int = 8000) -> float:
    """Goertzel: the energy of `samples` at `freq` (normalised by length)."""
    if not samples:
        return 0.0
    coeff = 2 * math.cos(2 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coeff * s1 - s2, s1
    return (s1 * s1 + s2 * s2 - coeff * s1 * s2) / len(samples)


class Baresip:
    """One baresip phone. `account` is its accounts line (without the AOR's <>)."""

    def __init__(self, folder: Path, aor: str, params: str, *, tone: float) -> None:
        self.folder = folder
        self.sip_port = free_sip_port()
        self.ctrl_port = free_tcp_port()
        folder.mkdir(parents=True)
        (folder / "rec").mkdir()
        write_tone(folder / "tone.wav", tone)
        (folder / "config").write_text(
            "\n".join(
                [
                    "poll_method epoll",
                    "net_interface 127.0.0.1",
                    f"sip_listen 127.0.0.1:{self.sip_port}",
                    "audio_player alsa,null",
                    "audio_alert alsa,null",
                    f"audio_source aufile,{folder / 'tone.wav'}",
                    f"module_path {MODULES}",
                    "module stdio.so",
                    "module g711.so",
                    "module aufile.so",
                    "module alsa.so",
                    "module sndfile.so",
                    f"snd_path {folder / 'rec'}",
                    "module_tmp uuid.so",
                    "module_tmp account.so",
                    "module_app menu.so",
                    "module_app ctrl_tcp.so",
                    f"ctrl_tcp_listen 127.0.0.1:{self.ctrl_port}",
                    "",
                ]
            )
        )
        (folder / "accounts").write_text(f"<{aor}>;{params}\n")
        self.events: list[dict[str, Any]] = []
        self._changed = asyncio.Event()
        self._proc: asyncio.subprocess.Process | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None

    async def start(self, quit_after: float = 30.0) -> None:
        assert BARESIP is not None
        log = open(self.folder / "baresip.log", "wb")  # noqa: SIM115, ASYNC230 (a local file, handed to the child)
        self._proc = await asyncio.create_subprocess_exec(
            BARESIP, "-f", str(self.folder), "-t", str(int(quit_after)),
            stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log, cwd=self.folder,
        )
        log.close()
        for _ in range(100):
            try:
                reader, self._writer = await asyncio.open_connection("127.0.0.1", self.ctrl_port)
                break
            except OSError:
                await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"baresip's ctrl_tcp never listened:\n{self.log()[-2000:]}")
        self._reader_task = asyncio.create_task(self._read(reader), name="baresip-ctrl")

    def log(self) -> str:
        return (self.folder / "baresip.log").read_text(errors="replace")

    async def _read(self, reader: asyncio.StreamReader) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                length = int((await reader.readuntil(b":"))[:-1])
                body = await reader.readexactly(length + 1)
                msg = json.loads(body[:-1])
                if msg.get("event"):
                    self.events.append(msg)
                    self._changed.set()

    async def command(self, command: str, params: str = "") -> None:
        assert self._writer is not None
        body = json.dumps({"command": command, "params": params, "token": "t"}).encode()
        self._writer.write(str(len(body)).encode() + b":" + body + b",")
        await self._writer.drain()

    def types(self) -> list[str]:
        return [str(e.get("type")) for e in self.events]

    async def wait_for(self, kind: str, timeout: float = 10.0, *, param: str | None = None) -> dict[str, Any]:
        async def found() -> dict[str, Any]:
            while True:
                for e in self.events:
                    if e.get("type") == kind and (param is None or e.get("param") == param):
                        return e
                self._changed.clear()
                await self._changed.wait()

        try:
            return await asyncio.wait_for(found(), timeout)
        except TimeoutError:
            raise AssertionError(f"baresip never reported {kind}; it said {self.types()}\n{self.log()[-1500:]}") from None

    def received_audio(self) -> list[int]:
        """What it decoded from the far end (sndfile's *-dec.wav), mono."""
        files = sorted((self.folder / "rec").glob("*dec*.wav"))
        assert files, f"baresip recorded nothing: {list((self.folder / 'rec').iterdir())}"
        return read_channels(files[-1])[0]

    async def stop(self) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._reader_task is not None:
            self._reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader_task
        proc = self._proc
        if proc is not None and proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 5)
            except TimeoutError:
                proc.kill()
                await proc.wait()
