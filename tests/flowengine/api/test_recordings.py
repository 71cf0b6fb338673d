"""Recordings and voicemail through the running service: a test call leaves a
message at a Record node, the simulator writes it as a WAV file, the event
sink lists it for the call and in the CDR, it downloads as real audio for
those allowed to hear it, and the retention setting deletes it."""

from __future__ import annotations

import io
import time
import wave
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from flowengine.api import ServeSettings, create_app
from flowengine.events import CallEnded, CallStarted, QueueCompleted, QueueConnected, RecordingMade
from flowengine.storage import SqlEventSink
from telephony_adapters.sim.call import write_recording

V1 = "/api/v1"
NUMBER = "+74950000077"
VOICEMAIL = {
    "schema": 1, "id": "voicemail_box", "name": "Voicemail", "version": 1,
    "nodes": [
        {"id": "start", "type": "start", "exits": {"next": "record"}},
        {"id": "record", "type": "record",
         "params": {"beep": True, "max_length": 30, "silence_end": 0, "terminators": "#", "min_length": 0,
                    "variable": "VOICEMAIL"},
         "exits": {"next": "bye", "empty": "bye"}},
        {"id": "bye", "type": "hangup"},
    ],
}  # fmt: skip


def leave_a_message(api: Any, seconds: float) -> str:
    """A test call into the voicemail box: speaks for `seconds`, presses #, and it ends."""
    r = api.call("POST", f"{V1}/scenarios/import", json={"scenarios": [VOICEMAIL], "publish": True})
    assert r.status_code in (200, 201), r.text
    assert api.call("PUT", f"{V1}/routing/numbers/{NUMBER}", json={"scenario_id": "voicemail_box"}).status_code == 200
    r = api.call("POST", f"{V1}/calls", json={"called": NUMBER}, role="supervisor")
    assert r.status_code == 201, r.text
    call_id = r.json()["call_id"]
    time.sleep(seconds)
    assert api.call("POST", f"{V1}/calls/{call_id}/digits", json={"digits": "#"}).status_code == 200
    end = time.monotonic() + 20
    while api.call("GET", f"{V1}/calls/{call_id}/cdr").status_code != 200:
        assert time.monotonic() < end, "the call did not end"
        time.sleep(0.05)
    return str(call_id)


def wav_seconds(data: bytes) -> float:
    with wave.open(io.BytesIO(data), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 8000)
        return wav.getnframes() / wav.getframerate()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_voicemail_is_listed_in_the_cdr_and_downloads_as_the_recorded_audio(
    backend: str, request: pytest.FixtureRequest
) -> None:
    api = request.getfixturevalue("api" if backend == "sqlite" else "api_pg")
    call_id = leave_a_message(api, 0.8)
    r = api.call("GET", f"{V1}/calls/{call_id}/recordings", role="supervisor")
    assert r.status_code == 200, r.text
    [rec] = r.json()
    assert rec["call_id"] == call_id and rec["kind"] == "voicemail"
    assert 0.6 <= rec["duration"] <= 10 and rec["size"] > 8000
    # the CDR, alone and in the list, carries it
    assert api.call("GET", f"{V1}/calls/{call_id}/cdr").json()["recordings"] == [rec]
    listed = {c["call_id"]: c for c in api.call("GET", f"{V1}/cdrs").json()}
    assert listed[call_id]["recordings"] == [rec]
    # the audio: a WAV as long as the recording, the caller's voice (not silence)
    got = api.call("GET", rec["url"], role="admin")
    assert got.status_code == 200 and got.headers["content-type"] == "audio/wav"
    assert abs(wav_seconds(got.content) - rec["duration"]) < 0.01
    assert len(got.content) == rec["size"] and any(got.content[44:])
    # who may hear it: not an operator who was not on the call, nobody without a token
    assert api.call("GET", rec["url"], role="operator").status_code == 403
    assert api.call("GET", f"{V1}/calls/{call_id}/recordings", role="operator").status_code == 403
    assert api.call("GET", rec["url"], role=None).status_code == 401
    assert api.call("GET", f"{V1}/recordings/999999").status_code == 404
    assert api.call("GET", f"{V1}/calls/no-such-call/recordings").status_code == 404


def test_an_operator_hears_the_recordings_of_their_own_calls(api: Any) -> None:
    """A call operator 901 (the test user 'anna') talked to, stored by the
    service's event sink with its recording file."""
    service = api.client.app.state.service
    data_dir: Path = service.settings.data_dir
    path = data_dir / "recordings" / "op-call" / "1.wav"
    write_recording(path, 1.5, 1.0)
    common = {"call_id": "op-call", "t": 0.0}
    queue = {**common, "scenario_id": "s", "scenario_version": 1, "node_id": "q", "queue_id": "sales"}
    now = time.time()
    SqlEventSink(service.db, thread=False, files_root=data_dir).write_sync([
        CallStarted(seq=1, ts=now, wall="", caller="+79160000000", called="100", scenario_id="s",
                    scenario_version=1, **common),
        QueueConnected(seq=2, ts=now + 1, operator_id="901", wait=1.0, ring_time=0.5, **queue),
        RecordingMade(seq=3, ts=now + 2, uri=path.resolve().as_uri(), duration=1.5, reason="hangup",
                      scenario_id="s", scenario_version=1, node_id="q", **common),
        QueueCompleted(seq=4, ts=now + 3, operator_id="901", wait=1.0, talk_time=2.0, orig_position=1, by="caller",
                       **queue),
        CallEnded(seq=5, ts=now + 3, duration=3.0, steps=2, hangup_cause="normal", **common),
    ])  # fmt: skip
    r = api.call("GET", f"{V1}/calls/op-call/recordings", role="operator")
    assert r.status_code == 200, r.text
    [rec] = r.json()
    got = api.call("GET", rec["url"], role="operator")
    assert got.status_code == 200 and wav_seconds(got.content) == 1.5


class Admin:
    """Just enough of the `api` fixture for a service started here (the admin's token)."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        r = client.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
        assert r.status_code == 200, r.text
        self.token = r.json()["token"]

    def call(self, method: str, url: str, role: str = "admin", **kw: Any) -> Any:
        return self.client.request(method, url, headers={"Authorization": f"Bearer {self.token}"}, **kw)


PASSWORD = "admin-password-for-tests"


def service_in(data: Path, **extra: Any) -> TestClient:
    return TestClient(create_app(ServeSettings(data_dir=data, admin_password=PASSWORD, import_examples=False, **extra)))


def test_the_retention_setting_deletes_recordings_and_their_files(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with service_in(data) as client:
        call_id = leave_a_message(Admin(client), 0.3)
    files = list((data / "recordings").rglob("*.wav"))
    assert len(files) == 1
    time.sleep(1.0)
    # restarted with recordings kept 0.5 s (events kept for ever): the start-up purge deletes it
    with service_in(data, recording_retention_days=0.5 / 86400) as client:
        api = Admin(client)
        end = time.monotonic() + 10
        while api.call("GET", f"{V1}/calls/{call_id}/recordings").json():
            assert time.monotonic() < end, "the recording was not purged"
            time.sleep(0.05)
        cdr = api.call("GET", f"{V1}/calls/{call_id}/cdr").json()
        assert cdr["result"] == "ivr" and cdr["recordings"] == []
    assert not files[0].exists()
