"""Speech as a phone carries it: espeak-ng through the engine's TTS (8 kHz),
through G.711 and back, at the 16 kHz recognisers take."""

from __future__ import annotations

import wave
from array import array
from pathlib import Path

from flowengine.speech.tts import EspeakTts
from flowengine.telephony.audio import resample
from telephony_adapters.sip.rtp import decode, encode


def read_wav(path: Path) -> array:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 8000)
        samples = array("h")
        samples.frombytes(wav.readframes(wav.getnframes()))
    return samples


def over_the_phone(tts: EspeakTts, text: str, language: str, codec: str = "PCMU") -> array:
    """`text` said in `language`, sent as G.711 `codec`, received and resampled to 16 kHz."""
    pcm8k = read_wav(tts.speak(text, language=language))
    return resample(decode(encode(pcm8k, codec), codec), 8000, 16000)
