"""Text to speech: espeak-ng through pyttsx3, as 8 kHz mono 16-bit WAV files
cached on disk by text and voice.

`TextToSpeech` is the whole interface a backend or the service needs:
`speak(text, language=, voice=)` returns the path of a WAV file at the
telephone rate. `EspeakTts` renders with pyttsx3's espeak driver (an English
voice for "en", a Russian one for "ru", another espeak voice when a prompt
names it), resamples to 8 kHz and keeps the result under
``<cache_dir>/tts/`` named by a hash of (voice, text): the second time a
prompt is said it is a file read, and an engine restart keeps the cache.

pyttsx3 is not thread-safe and keeps one espeak engine per process, so
every `EspeakTts` shares one engine, one lock and one worker thread
(`speak_async` hands the work there; the event loop never waits on espeak). When espeak-ng is not installed the first render fails with
`TtsUnavailable` saying how to install it.
"""

from __future__ import annotations

import asyncio
import atexit
import hashlib
import os
import threading
import wave
from abc import ABC, abstractmethod
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from flowengine.errors import FlowEngineError
from flowengine.telephony.audio import TELEPHONE_RATE, resample, to_mono16, write_wav

__all__ = [
    "ESPEAK_HINT", "MAX_TEXT", "VOICES", "EspeakTts", "TextToSpeech", "TtsUnavailable", "UnknownVoice", "default_tts", "voice_for",
]

ESPEAK_HINT = "install the Debian package espeak-ng (apt-get install espeak-ng)"
#: longest text one prompt may say (characters)
MAX_TEXT = 5000
#: espeak-ng voices by language; other languages use the voice espeak lists for them
VOICES = {"en": "gmw/en", "ru": "zle/ru"}
#: speaking rate, words per minute (espeak-ng's own default)
RATE_WPM = 175


class TtsUnavailable(FlowEngineError):
    """No speech engine to say a text with (espeak-ng or pyttsx3 missing, unknown voice)."""


class UnknownVoice(TtsUnavailable):
    """espeak-ng has no such voice, or none for that language."""


def voice_for(language: str | None, voice: str | None = None) -> str | None:
    """The espeak voice for a prompt: its own `voice`, else the one for its
    language ("ru" -> Russian, "en" or none -> English); None when the
    language has no voice in `VOICES` (the engine then asks espeak)."""
    if voice:
        return voice
    base = (language or "en").split("-")[0].split("_")[0].lower()
    return VOICES.get(base)


class TextToSpeech(ABC):
    """Says a text as an 8 kHz mono 16-bit WAV file."""

    rate = TELEPHONE_RATE

    @abstractmethod
    def speak(self, text: str, *, language: str | None = None, voice: str | None = None) -> Path:
        """The WAV file of `text` spoken (ValueError for an empty or too long
        text; `TtsUnavailable` when it cannot be said)."""

    async def speak_async(self, text: str, *, language: str | None = None, voice: str | None = None) -> Path:
        """`speak` off the event loop."""
        return await asyncio.to_thread(self.speak, text, language=language, voice=voice)


class _Espeak:
    """The process's one pyttsx3 espeak engine (pyttsx3 keeps one per driver anyway)."""

    engine: Any = None
    voices: dict[str, str] = {}
    lock = threading.RLock()
    worker = ThreadPoolExecutor(1, thread_name_prefix="tts")

    @classmethod
    def release(cls) -> None:
        # dropped while the interpreter is whole: pyttsx3's finaliser fails at shutdown
        cls.engine = None


atexit.register(_Espeak.release)


class EspeakTts(TextToSpeech):
    def __init__(self, cache_dir: str | os.PathLike[str]) -> None:
        self.cache_dir = Path(cache_dir) / "tts"
        self._lock = _Espeak.lock
        self._worker = _Espeak.worker
        #: texts rendered (cache misses) and served from the cache, since start
        self.rendered = 0
        self.cached = 0

    def cache_path(self, text: str, voice: str) -> Path:
        digest = hashlib.sha256(f"{voice}\0{text}".encode()).hexdigest()
        return self.cache_dir / digest[:2] / f"{digest}.wav"

    def speak(self, text: str, *, language: str | None = None, voice: str | None = None) -> Path:
        text = " ".join(text.split())
        if not text:
            raise ValueError("there is no text to say")
        if len(text) > MAX_TEXT:
            raise ValueError(f"the text is {len(text)} characters; at most {MAX_TEXT}")
        with self._lock:
            chosen = voice_for(language, voice)
            if chosen is None or voice:
                chosen = self._known_voice(language, voice)
            path = self.cache_path(text, chosen)
            if path.is_file():
                self.cached += 1
                return path
            self._render(text, chosen, path)
            self.rendered += 1
            return path

    async def speak_async(self, text: str, *, language: str | None = None, voice: str | None = None) -> Path:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, lambda: self.speak(text, language=language, voice=voice))

    # ---- espeak ------------------------------------------------------------------------------
    def _init(self) -> Any:
        if _Espeak.engine is None:
            try:
                import pyttsx3  # type: ignore[import-untyped]
            except ImportError:
                raise TtsUnavailable("text to speech needs pyttsx3: pip install pyttsx3") from None
            try:
                engine = pyttsx3.init("espeak")
            except Exception as exc:  # pyttsx3 raises whatever its driver did when libespeak-ng is missing
                raise TtsUnavailable(f"text to speech needs espeak-ng ({exc}): {ESPEAK_HINT}") from None
            _quiet_driver()
            voices: dict[str, str] = {}
            for v in engine.getProperty("voices"):
                voices.setdefault(v.id, v.id)
                for lang in v.languages or ():
                    name = lang.decode(errors="replace") if isinstance(lang, bytes) else str(lang)
                    voices.setdefault(name.lower(), v.id)
            _Espeak.engine, _Espeak.voices = engine, voices
        return _Espeak.engine

    def _known_voice(self, language: str | None, voice: str | None) -> str:
        self._init()
        known = _Espeak.voices
        if voice:
            if voice in known.values():
                return voice
            raise UnknownVoice(f"espeak-ng has no voice {voice!r}")
        lang = (language or "en").lower().replace("_", "-")
        found = known.get(lang) or known.get(lang.split("-")[0])
        if found is None:
            raise UnknownVoice(f"espeak-ng has no voice for language {language!r}")
        return found

    def _render(self, text: str, voice: str, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        pcm, rate, width, channels = self._espeak(text, voice, path)
        if len(pcm) < rate * width // 100:  # under 10 ms (seen once, not reproduced): once more
            pcm, rate, width, channels = self._espeak(text, voice, path)
        if len(pcm) < rate * width // 100:
            raise TtsUnavailable(f"espeak-ng said nothing for {text[:40]!r} (voice {voice!r})")
        samples = resample(_smooth(to_mono16(pcm, width, channels)), rate, self.rate)
        write_wav(path, samples, self.rate)


    def _espeak(self, text: str, voice: str, path: Path) -> tuple[bytes, int, int, int]:
        """espeak's rendering of `text`: PCM bytes, rate, sample width, channels."""
        engine = self._init()
        raw = path.with_name(f"{path.stem}.{os.getpid()}.{threading.get_ident()}.raw.wav")
        try:
            engine.setProperty("voice", voice)
            # a voice may bring its own speed (Russian: 175) and espeak keeps it for the next
            # voice: every text is said at one rate, so a prompt sounds the same whatever came before
            engine.setProperty("rate", RATE_WPM)
            engine.save_to_file(text, str(raw))
            engine.runAndWait()
            with wave.open(str(raw), "rb") as wav:
                return wav.readframes(wav.getnframes()), wav.getframerate(), wav.getsampwidth(), wav.getnchannels()
        except (OSError, EOFError, wave.Error) as exc:
            raise TtsUnavailable(f"espeak-ng said nothing for voice {voice!r} ({exc})") from None
        finally:
            raw.unlink(missing_ok=True)


def _smooth(samples: Any) -> Any:
    """A [1 2 1]/4 low-pass before going down to 8 kHz: espeak's 22 kHz output
    has energy above 4 kHz that would otherwise fold back as hiss."""
    from array import array

    n = len(samples)
    if n < 3:
        return samples
    out = array("h", samples)
    for i in range(1, n - 1):
        out[i] = (samples[i - 1] + 2 * samples[i] + samples[i + 1]) >> 2
    return out


def _quiet_driver() -> None:
    """pyttsx3's espeak driver prints "Audio saved to ..." on stdout after each
    file; a service's stdout is not the place for it."""
    try:
        from pyttsx3.drivers import espeak as driver  # type: ignore[import-untyped]
    except ImportError:
        return
    driver.print = lambda *args, **kwargs: None


_default: dict[Path, EspeakTts] = {}
_default_lock = threading.Lock()


def default_cache_dir() -> Path:
    """``$FLOWENGINE_CACHE_DIR``, else ``$XDG_CACHE_HOME/flowengine``, else ``~/.cache/flowengine``."""
    given = os.environ.get("FLOWENGINE_CACHE_DIR")
    if given:
        return Path(given)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "flowengine"


def default_tts(cache_dir: str | os.PathLike[str] | None = None) -> EspeakTts:
    """One shared engine per cache folder (one espeak, one worker thread)."""
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    with _default_lock:
        tts = _default.get(folder)
        if tts is None:
            tts = _default[folder] = EspeakTts(folder)
        return tts
