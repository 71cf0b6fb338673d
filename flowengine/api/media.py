"""Prompt audio: uploaded WAV files checked, converted and stored.

An upload must be a PCM WAV (8 or 16 bit, mono or stereo, 8-48 kHz, at most
`MAX_SECONDS`); it is stored as 8 kHz mono 16-bit PCM, what telephony plays,
under ``<data_dir>/media/<language>/<name>.wav``. The media folder is the
backends' media root, so a Play node or a prompt names the file as
``<language>/<name>.wav``. The database keeps the metadata (storage's
``media`` table).

Recordings (voicemail left at a Record node, kind ``voicemail``; call
recordings, kind ``recording``) get their ``media`` row from the event sink,
in the transaction that stores their `recording_made` event; here they are
listed per call, found for download and purged after their retention.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import wave
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from flowengine.errors import FlowEngineError
from flowengine.storage import Database
from flowengine.storage.schema import media
from flowengine.telephony.audio import resample, to_mono16

RATE = 8000
MAX_SECONDS = 600.0


class MediaError(FlowEngineError):
    """An upload that is not usable audio; the message says why."""


@dataclass(frozen=True, slots=True)
class MediaFile:
    name: str
    language: str
    path: str
    size: int
    duration: float
    created_at: float


def convert(data: bytes) -> tuple[bytes, float]:
    """The WAV `data` as an 8 kHz mono 16-bit WAV, and its duration."""
    try:
        with wave.open(io.BytesIO(data), "rb") as wav:
            channels, width, rate, frames = wav.getnchannels(), wav.getsampwidth(), wav.getframerate(), wav.getnframes()
            if wav.getcomptype() != "NONE":
                raise MediaError(f"compressed WAV ({wav.getcompname()}) is not supported: send PCM")
            if channels not in (1, 2) or width not in (1, 2) or not 8000 <= rate <= 48000:
                raise MediaError(
                    f"unsupported WAV: {channels} channel(s), {width * 8} bit, {rate} Hz "
                    "(send PCM, 8 or 16 bit, mono or stereo, 8-48 kHz)"
                )
            if frames / rate > MAX_SECONDS:
                raise MediaError(f"{frames / rate:.0f} s of audio, more than {MAX_SECONDS:.0f} s")
            pcm = wav.readframes(frames)
    except (wave.Error, EOFError) as exc:
        raise MediaError(f"not a WAV file: {exc}") from None
    pcm = resample(to_mono16(pcm, width, channels), rate, RATE).tobytes()
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(pcm)
    return out.getvalue(), round(len(pcm) / 2 / RATE, 3)


class MediaStore:
    def __init__(self, db: Database, root: Path) -> None:
        self.db = db
        self.root = root

    def put(self, language: str, name: str, data: bytes) -> MediaFile:
        """Store (or replace) a prompt; the file is written before the row."""
        audio, duration = convert(data)
        rel = f"{language}/{name}.wav"
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(audio)
        os.replace(tmp, path)
        now = dt.datetime.now(dt.UTC)
        key = (media.c.name == name, media.c.language == language, media.c.kind == "prompt")
        values = {"path": f"media/{rel}", "size": len(audio), "duration": duration, "created_at": now,
                  "content_type": "audio/wav"}
        with self.db.begin() as conn:
            if conn.execute(media.update().where(*key).values(**values)).rowcount == 0:
                conn.execute(media.insert().values(name=name, language=language, kind="prompt", **values))
        return MediaFile(name, language, rel, len(audio), duration, now.timestamp())

    def list(self, language: str | None = None) -> list[MediaFile]:
        query = sa.select(media).where(media.c.kind == "prompt")
        if language is not None:
            query = query.where(media.c.language == language)
        with self.db.connect() as conn:
            rows = conn.execute(query.order_by(media.c.language, media.c.name)).all()
        return [_file(r) for r in rows]

    def get(self, language: str, name: str) -> tuple[MediaFile, Path] | None:
        with self.db.connect() as conn:
            row = conn.execute(
                sa.select(media).where(media.c.name == name, media.c.language == language, media.c.kind == "prompt")
            ).first()
        if row is None:
            return None
        found = _file(row)
        return found, self.root / found.path

    def delete(self, language: str, name: str) -> bool:
        with self.db.begin() as conn:
            gone = conn.execute(
                media.delete().where(media.c.name == name, media.c.language == language, media.c.kind == "prompt")
            ).rowcount
        if gone:
            (self.root / language / f"{name}.wav").unlink(missing_ok=True)
        return bool(gone)


RECORDING_KINDS = ("recording", "voicemail")


@dataclass(frozen=True, slots=True)
class RecordingFile:
    id: int
    call_id: str
    kind: str
    duration: float
    size: int
    created_at: float
    #: where the audio is, relative to the data directory (or a backend's URI)
    path: str


class Recordings:
    """Call recordings and voicemail: metadata in the ``media`` table, files under `data_dir`."""

    def __init__(self, db: Database, data_dir: Path) -> None:
        self.db = db
        self.data_dir = data_dir

    def for_calls(self, call_ids: list[str]) -> dict[str, list[RecordingFile]]:
        """Each call's recordings, oldest first (calls without any are left out)."""
        found: dict[str, list[RecordingFile]] = {}
        if not call_ids:
            return found
        query = (
            sa.select(media)
            .where(media.c.kind.in_(RECORDING_KINDS), media.c.call_id.in_(call_ids))
            .order_by(media.c.created_at, media.c.id)
        )
        with self.db.connect() as conn:
            for row in conn.execute(query):
                found.setdefault(row.call_id, []).append(_recording(row))
        return found

    def get(self, recording_id: int) -> RecordingFile | None:
        with self.db.connect() as conn:
            row = conn.execute(
                sa.select(media).where(media.c.id == recording_id, media.c.kind.in_(RECORDING_KINDS))
            ).first()
        return None if row is None else _recording(row)

    def file(self, recording: RecordingFile) -> Path | None:
        """The audio file of `recording`, when it is one under the data directory."""
        if "://" in recording.path:
            return None
        path = (self.data_dir / recording.path).resolve()
        if not path.is_relative_to(self.data_dir.resolve()) or not path.is_file():
            return None
        return path

    def purge(self, before: float, *, chunk: int = 1000) -> int:
        """Delete recordings made before `before` (epoch seconds): rows and files."""
        cutoff = dt.datetime.fromtimestamp(before, dt.UTC)
        gone = 0
        while True:
            with self.db.begin() as conn:
                rows = conn.execute(
                    sa.select(media).where(media.c.kind.in_(RECORDING_KINDS), media.c.created_at < cutoff).limit(chunk)
                ).all()
                if not rows:
                    return gone
                conn.execute(media.delete().where(media.c.id.in_([r.id for r in rows])))
            for row in rows:  # after the commit: a row never points at a deleted file
                found = self.file(_recording(row))
                if found is not None:
                    found.unlink(missing_ok=True)
                    with contextlib.suppress(OSError):
                        found.parent.rmdir()  # the call's folder, once empty
            gone += len(rows)


def _recording(row: sa.Row) -> RecordingFile:  # type: ignore[type-arg]
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=dt.UTC)
    return RecordingFile(row.id, row.call_id or "", row.kind, row.duration or 0.0, row.size, created.timestamp(), str(row.path))


def _file(row: sa.Row) -> MediaFile:  # type: ignore[type-arg]
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=dt.UTC)
    return MediaFile(row.name, row.language, str(row.path).removeprefix("media/"), row.size, row.duration or 0.0, created.timestamp())
