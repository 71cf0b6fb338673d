"""Audio files are confined to the media folders: checked when the scenario
loads (the name) and when the call plays it (what is on disk)."""

from __future__ import annotations

import json
import os
import wave
from pathlib import Path
from typing import Any

import pytest
from scenario_builders import AT, doc, hangup, load, node, script, start

from flowengine.cli import main
from flowengine.errors import ScenarioError
from flowengine.events import NodeFailed, PromptPlayed
from flowengine.telephony.media import MediaFolders, check_media_name
from flowengine.testing.harness import CallTrace, run_scenario


def write_wav(path: Path, seconds: float) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\0\0" * int(8000 * seconds))


@pytest.fixture()
def media(tmp_path: Path) -> Path:
    """A media folder with a good file, a FIFO, a folder, links in and out."""
    folder = tmp_path / "media"
    (folder / "ru").mkdir(parents=True)
    write_wav(folder / "ru" / "welcome.wav", 2.5)
    os.mkfifo(folder / "pipe.wav")
    (folder / "folder.wav").mkdir()
    secret = tmp_path / "secret.wav"
    write_wav(secret, 1.0)
    (folder / "escape.wav").symlink_to(secret)
    (folder / "inside.wav").symlink_to(folder / "ru" / "welcome.wav")
    (folder / "device.wav").symlink_to("/dev/zero")
    (folder / "dangling.wav").symlink_to(tmp_path / "nowhere.wav")
    return folder


def play(name: str) -> dict[str, Any]:
    return doc([start("p"), node("p", "play", {"file": name}, next="bye"), hangup()])


def run(data: dict[str, Any], media: list[Path]) -> CallTrace:
    return run_scenario(load(data), script(), at=AT, media=media)


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("/etc/passwd", "not absolute"),
        ("~/.ssh/id_rsa", "not absolute"),
        ("C:/Windows/win.ini", "not absolute"),
        ("../secret.wav", "'..'"),
        ("ru/../../secret.wav", "'..'"),
        ("ru\\welcome.wav", "not '\\'"),
        ("a\x00.wav", "control character"),
        ("x" * 1025, "at most 1024"),
    ],
)
def test_a_name_outside_the_media_folders_is_refused_at_load(name: str, why: str) -> None:
    with pytest.raises(ValueError, match=why.replace("\\", "\\\\").replace(".", "\\.")):
        check_media_name(name)
    with pytest.raises(ScenarioError) as error:
        load(play(name))
    assert "node 'p'" in str(error.value) and "params.file" in str(error.value)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"type": "gather", "params": {"prompt": {"play": "../x.wav"}, "options": [{"digits": "1", "exit": "a"}]}}, "prompt.play"),
        ({"type": "queue", "params": {"queue": "sales", "music": "/dev/zero"}}, "music"),
        ({"type": "queue", "params": {"queue": "sales", "greeting": {"play": "/etc/shadow"}}}, "greeting.play"),
        ({"type": "record", "params": {"prompt": {"play": "../../x.wav"}}}, "prompt.play"),
    ],
)
def test_every_audio_field_is_checked(params: dict[str, Any], field: str) -> None:
    data = doc([start("n"), {"id": "n", **params}, hangup()])
    with pytest.raises(ScenarioError) as error:
        load(data)
    assert "node 'n'" in str(error.value) and field in str(error.value)


def test_a_file_in_a_media_folder_plays_for_its_length(media: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    trace = run(play("ru/welcome.wav"), [other, media])  # found in the second folder
    [played] = [e for e in trace.events if isinstance(e, PromptPlayed)]
    assert played.text == "ru/welcome.wav"
    assert played.t == pytest.approx(2.5)  # the real WAV's length, not the 1 s of unknown audio
    linked = run(play("inside.wav"), [media])  # a link that stays inside is fine
    assert [e.t for e in linked.events if isinstance(e, PromptPlayed)] == [pytest.approx(2.5)]


@pytest.mark.parametrize(
    ("name", "code", "says"),
    [
        ("escape.wav", "media_outside", "outside the media folder"),
        ("device.wav", "media_outside", "outside the media folder"),
        ("pipe.wav", "media_not_file", "is a FIFO"),
        ("folder.wav", "media_not_file", "is a folder"),
        ("dangling.wav", "media_not_file", "broken link"),
        ("missing.wav", "media_not_found", "not in the media folders"),
    ],
)
def test_what_is_not_a_file_in_the_folder_fails_the_node(media: Path, name: str, code: str, says: str) -> None:
    trace = run(play(name), [media])  # a FIFO would block a reader: it is never opened
    [failed] = [e for e in trace.events if isinstance(e, NodeFailed)]
    assert (failed.node_id, failed.code) == ("p", code)
    assert says in failed.message and name in failed.message
    assert not [e for e in trace.events if isinstance(e, PromptPlayed)]
    assert trace.hangup_cause == "error"


def test_without_media_folders_nothing_is_read(media: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(media)
    trace = run(play("pipe.wav"), [])  # relative to the working folder it is a FIFO: not opened
    [played] = [e for e in trace.events if isinstance(e, PromptPlayed)]
    assert played.t == pytest.approx(1.0)  # unknown audio counts one second
    assert MediaFolders([]).resolve("pipe.wav") is None


def test_run_media_option(media: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps(play("pipe.wav")), encoding="utf-8")
    assert main(["run", str(path), "--media", str(media), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["hangup_cause"] == "error"
    with pytest.raises(SystemExit) as stop:
        main(["run", str(path), "--media", str(tmp_path / "nope")])
    assert stop.value.code == 2
    assert "--media" in capsys.readouterr().err


def test_queue_music_is_looked_up_before_the_caller_queues(media: Path) -> None:
    from flowengine.acd import parse_centre
    from flowengine.testing.harness import CentreSetup

    setup = CentreSetup(
        parse_centre({"operators": [{"id": "901", "extension": "901"}], "queues": [{"id": "q", "members": ["901"]}]})
    )
    data = doc(
        [
            start("q"),
            node("q", "queue", {"queue": "q", "music": "pipe.wav"}, answered="bye", timeout="bye", full="bye", no_operators="bye", callback="bye", error="failed"),
            hangup("bye"),
            hangup("failed"),
        ]
    )
    trace = run_scenario(load(data), script(), at=AT, media=[media], centre=setup)
    [failed] = [e for e in trace.events if isinstance(e, NodeFailed)]
    assert (failed.node_id, failed.code) == ("q", "media_not_file")
    assert trace.path[-1] == "failed"
    assert not [e for e in trace.events if e.name == "queue_entered"]


def test_validate_media_finds_every_file_a_call_could_not_play(
    media: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = doc(
        [
            start("menu"),
            node(
                "menu",
                "gather",
                {"prompt": {"play": "ru/welcome.wav"}, "invalid_prompt": {"play": "pipe.wav"}, "options": [{"digits": "1", "exit": "a"}]},
                a="p", timeout="p", invalid="p",
            ),
            node("p", "play", {"file": "missing.wav"}, next="bye"),
            hangup(),
        ]
    )
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert main(["validate", str(path)]) == 0  # without --media nothing is looked up
    capsys.readouterr()
    assert main(["validate", str(path), "--media", str(media), "--json"]) == 1
    found = {(p["node_id"], p["path"], p["code"]) for p in json.loads(capsys.readouterr().out)["problems"]}
    assert found == {
        ("menu", "nodes[1].params.invalid_prompt.play", "media_not_file"),
        ("p", "nodes[2].params.file", "media_not_found"),
    }


def test_a_file_swapped_for_a_fifo_after_the_lookup_never_blocks_the_player(media: Path) -> None:
    from flowengine.telephony import Prompt
    from flowengine.telephony.media import open_media
    from telephony_adapters.sim.call import prompt_seconds

    fifo = str(media / "pipe.wav")  # as if resolve() had seen a file there a moment before
    with pytest.raises(OSError, match="not a regular file"):
        open_media(fifo)
    assert prompt_seconds(Prompt("play", "pipe.wav", file=fifo)) == 1.0  # unknown audio, at once
    with open_media(str(media / "ru" / "welcome.wav")) as fh:
        assert fh.read(4) == b"RIFF"
