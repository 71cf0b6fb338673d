"""A prompt's text spoken through the API (the editor's test console): real
espeak-ng speech as an 8 kHz WAV, for logged-in users only; bad input is a 422."""

from __future__ import annotations

import io
import math
import wave
from array import array
from typing import Any

V1 = "/api/v1"


def level(wav_bytes: bytes) -> tuple[float, float]:
    """(seconds, RMS) of an 8 kHz mono 16-bit WAV."""
    with wave.open(io.BytesIO(wav_bytes), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 8000)
        samples = array("h")
        samples.frombytes(wav.readframes(wav.getnframes()))
    return len(samples) / 8000, math.sqrt(sum(s * s for s in samples) / max(1, len(samples)))


def test_speech_returns_real_speech_in_the_prompt_language_for_logged_in_users(api: Any) -> None:
    en = api.call("GET", f"{V1}/media/speech", role="operator", params={"text": "Press one for sales, two for support"})
    assert en.status_code == 200, en.text
    assert en.headers["content-type"] == "audio/wav"
    seconds, rms = level(en.content)
    assert 1.0 < seconds < 6.0 and rms > 500  # speech, not silence
    ru = api.call("GET", f"{V1}/media/speech", role="operator", params={"text": "Нажмите один", "lang": "ru"})
    assert ru.status_code == 200
    assert level(ru.content)[1] > 500 and ru.content != en.content
    again = api.call("GET", f"{V1}/media/speech", role="operator", params={"text": "Press one for sales, two for support"})
    assert again.content == en.content  # the cached file
    assert api.client.get(f"{V1}/media/speech", params={"text": "hello"}).status_code == 401


def test_speech_refuses_empty_text_and_unknown_voices(api: Any) -> None:
    r = api.call("GET", f"{V1}/media/speech", params={"text": "   "})
    assert r.status_code == 422 and "no text" in r.json()["detail"]
    r = api.call("GET", f"{V1}/media/speech", params={"text": "hi", "voice": "nobody"})
    assert r.status_code == 422 and "nobody" in r.json()["detail"]
    assert api.call("GET", f"{V1}/media/speech", params={"text": "hi", "lang": "../x"}).status_code == 422
