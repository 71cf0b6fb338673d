"""Text to speech with the real espeak-ng: English and Russian voices by the
prompt's language, 8 kHz WAV files cached on disk by text and voice."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from telephone import read_wav

from flowengine.speech.tts import EspeakTts, UnknownVoice, voice_for

REPO = Path(__file__).resolve().parents[3]


def rms(samples: object) -> float:
    values = list(samples)  # type: ignore[call-overload]
    return math.sqrt(sum(v * v for v in values) / max(1, len(values)))


def test_english_and_russian_prompts_are_spoken_at_8khz_and_cached(tmp_path: Path) -> None:
    tts = EspeakTts(tmp_path)
    t0 = time.perf_counter()
    en = tts.speak("Thank you for calling. Please hold the line.", language="en")
    first = time.perf_counter() - t0
    ru = tts.speak("Спасибо за звонок. Оставайтесь на линии.", language="ru")
    for path in (en, ru):
        samples = read_wav(path)
        assert 1.5 < len(samples) / 8000 < 6.0
        assert rms(samples) > 500  # speech, not silence
    assert en.is_relative_to(tmp_path / "tts") and en != ru
    # the voice is part of the key: the same text in another voice is another file
    assert tts.cache_path("Спасибо за звонок. Оставайтесь на линии.", "zle/ru") == ru
    stamp = os.stat(en).st_mtime_ns
    t0 = time.perf_counter()
    again = tts.speak("Thank  you for calling.\nPlease hold the line.", language="en-GB")  # same words, spacing aside
    cached = time.perf_counter() - t0
    assert again == en and os.stat(en).st_mtime_ns == stamp
    assert (tts.rendered, tts.cached) == (2, 1)
    # a new engine (a restart) finds the cache on disk
    assert EspeakTts(tmp_path).speak("Thank you for calling. Please hold the line.") == en
    print(f"TTS latency: first {first * 1000:.1f} ms, cached {cached * 1000:.2f} ms")


def test_voices_follow_the_prompt_and_unknown_ones_are_refused(tmp_path: Path) -> None:
    assert (voice_for("ru"), voice_for("en-US"), voice_for(None), voice_for("ru", "gmw/en")) == ("zle/ru", "gmw/en", "gmw/en", "gmw/en")
    tts = EspeakTts(tmp_path)
    assert tts.speak("annyeong", language="ko") == tts.cache_path("annyeong", "ko")  # a language espeak lists
    with pytest.raises(UnknownVoice, match="nobody"):
        tts.speak("hello", voice="nobody")
    with pytest.raises(UnknownVoice, match="'xx'"):
        tts.speak("hello", language="xx")
    with pytest.raises(ValueError, match="no text"):
        tts.speak(" \n ")
    with pytest.raises(ValueError, match="at most"):
        tts.speak("a" * 6000)


def test_without_espeak_ng_the_error_says_how_to_install_it(tmp_path: Path) -> None:
    # the espeak driver's library module made unimportable, as on a machine without libespeak-ng
    code = (
        "import sys; sys.modules['pyttsx3.drivers._espeak'] = None\n"
        "from flowengine.speech.tts import EspeakTts, TtsUnavailable\n"
        "try:\n    EspeakTts(sys.argv[1]).speak('hello')\n"
        "except TtsUnavailable as exc:\n    print(exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)}, check=True,
    ).stdout
    assert "espeak-ng" in out and "apt-get install espeak-ng" in out
