"""Speech and recordings for SIP calls: what the backend needs from
`flowengine.speech`, in the backend's terms.

* `say_frames`: a Say prompt as G.711 frames, through the shared espeak-ng
  engine and its disk cache (`SipSettings.cache_dir`).
* `scenario_problems`: a scenario's Recognize nodes checked against the
  recognisers installed here, when it is published, so a missing ``speech``
  extra is an error naming the node, never a failure in the middle of a call.
* `recording_target`: where a recording goes and its URI (`flowengine.telephony.audio.write_wav` writes it).
  Recordings live where the simulator's URIs point (``recordings/...``), in
  the engine's first media folder (the service's ``<data_dir>/media``), so a
  Play node can play one back by its URI; `SipSettings.recordings_dir`
  moves them elsewhere (then the URI is a ``file://`` one).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING

from flowengine.errors import NodeError
from flowengine.speech.asr import asr_problem
from flowengine.speech.tts import TtsUnavailable, default_tts
from flowengine.telephony import Prompt
from telephony_adapters.sip.prompts import wav_frames
from telephony_adapters.sip.settings import SipSettings

if TYPE_CHECKING:
    from flowengine.scenario.model import ScenarioDoc
    from flowengine.telephony.media import MediaFolders

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


async def say_frames(settings: SipSettings, prompt: Prompt, codec: str) -> list[bytes]:
    """The prompt's text spoken (by its language's voice) as G.711 frames."""
    tts = default_tts(settings.cache_dir)
    try:
        path = await tts.speak_async(prompt.text, language=prompt.language, voice=prompt.voice)
    except TtsUnavailable as exc:
        raise NodeError(str(exc), code="tts_unavailable") from None
    except ValueError as exc:
        raise NodeError(f"cannot say {prompt.text[:40]!r}: {exc}", code="tts_text") from None
    return wav_frames(path, codec)


def scenario_problems(doc: ScenarioDoc, settings: SipSettings) -> list[str]:
    """One message per Recognize node whose language cannot be recognised here."""
    problems: list[str] = []
    for node in doc.nodes:
        if node.type != "recognize":
            continue
        language = node.params.get("language") or doc.language
        problem = asr_problem(str(language), settings.asr)
        if problem is not None:
            problems.append(f"scenario '{doc.id}', node '{node.id}' (recognize): {problem}")
    return problems


def recording_target(settings: SipSettings, media: MediaFolders, call_id: str, name: int | str) -> tuple[Path, str]:
    """The file a call's recording `name` (Record's n-th, or a bridged
    conversation's) is written to, and its URI."""
    safe = _UNSAFE.sub("_", call_id)[:48].strip("._") or "call"
    tag = hashlib.sha256(call_id.encode()).hexdigest()[:8]  # two Call-IDs made alike by the cleaning stay apart
    rel = f"recordings/{dt.date.today().isoformat()}/{safe}-{tag}-{name}.wav"
    if settings.recordings_dir is not None:
        path = Path(settings.recordings_dir) / rel.removeprefix("recordings/")
        return path, path.resolve().as_uri()
    if not media.folders:
        raise NodeError(
            "recording needs a folder: give the engine a media folder or set the sip backend's recordings_dir",
            code="no_recordings_folder",
        )
    return media.folders[0] / rel, rel
