"""Speech for real telephony: text to speech (espeak-ng through pyttsx3,
cached on disk) and speech recognition (vosk, pocketsphinx) behind small
interfaces, so the SIP backend and the service use the same engines.

Text to speech needs only the Debian package ``espeak-ng``; recognition
needs the ``speech`` extra (``pip install 'flowengine[speech]'``).
"""

from flowengine.speech.asr import (
    INSTALL_HINT,
    AsrSettings,
    AsrUnavailable,
    Heard,
    Recognizer,
    asr_problem,
    recognizer_for,
)
from flowengine.speech.tts import EspeakTts, TextToSpeech, TtsUnavailable, default_tts, voice_for

__all__ = [
    "INSTALL_HINT",
    "AsrSettings",
    "AsrUnavailable",
    "EspeakTts",
    "Heard",
    "Recognizer",
    "TextToSpeech",
    "TtsUnavailable",
    "asr_problem",
    "default_tts",
    "recognizer_for",
    "voice_for",
]
