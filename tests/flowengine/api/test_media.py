"""Prompt audio through the API: a WAV is checked and converted, listed,
downloaded with a token, replaced and deleted; garbage is a 422."""

from __future__ import annotations

import io
import math
import struct
import wave
from typing import Any

V1 = "/api/v1"


def tone(seconds: float, rate: int = 22050, channels: int = 2) -> bytes:
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate))) * channels
        for i in range(int(seconds * rate))
    )
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(frames)
    return out.getvalue()


def test_upload_converts_lists_downloads_replaces_and_deletes(api: Any) -> None:
    r = api.client.put(
        f"{V1}/media/ru/welcome", content=tone(1.5), headers={**api.headers("admin"), "content-type": "audio/wav"}
    )
    assert r.status_code == 200, r.text
    assert (r.json()["file"], r.json()["duration"]) == ("ru/welcome.wav", 1.5)
    listed = api.call("GET", f"{V1}/media", role="operator").json()
    assert [(m["language"], m["name"]) for m in listed] == [("ru", "welcome")]
    got = api.call("GET", f"{V1}/media/ru/welcome", role="operator")
    assert got.status_code == 200
    with wave.open(io.BytesIO(got.content), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 8000)
        assert abs(wav.getnframes() - 12000) <= 2
    assert api.client.get(f"{V1}/media/ru/welcome").status_code == 401
    # replace with a shorter one
    r = api.client.put(f"{V1}/media/ru/welcome", content=tone(0.5, rate=8000, channels=1), headers=api.headers("admin"))
    assert r.json()["duration"] == 0.5
    # not audio, and the wrong role
    r = api.client.put(f"{V1}/media/ru/bad", content=b"RIFF nonsense", headers=api.headers("admin"))
    assert r.status_code == 422 and "WAV" in r.json()["detail"]
    assert api.client.put(f"{V1}/media/ru/x", content=tone(0.1), headers=api.headers("supervisor")).status_code == 403
    assert api.call("DELETE", f"{V1}/media/ru/welcome").status_code == 204
    assert api.call("GET", f"{V1}/media/ru/welcome").status_code == 404
