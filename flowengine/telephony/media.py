"""Audio files a scenario may play: names confined to the media folders.

A scenario names audio files (Play `file`, a prompt's `play`, Queue `music`)
by a path *relative to the media folders* — an engine setting
(`Engine(media_dirs=...)`, `flowengine run --media DIR`). Scenarios come
from integrators, so a name must never reach anything else on the machine:

* when the scenario loads, `check_media_name` refuses absolute paths, `..`,
  backslashes, control characters and over-long names (a parameter error
  naming the node and field);
* when the call plays it, `MediaFolders.resolve` looks the name up in each
  folder in turn and accepts only a regular file whose real path (symlinks
  followed) is still inside that folder: a symlink leading out, a FIFO (which
  would block the reader), a device or a folder is a `NodeError` naming the
  node (codes ``media_outside``, ``media_not_file``, ``media_not_found``).

Without media folders nothing is read from disk: the name goes to the
backend as it is (the simulator counts such a prompt as one second of audio).

A backend opens the resolved file with `open_media`, which checks again on
the open file itself: whatever was swapped in between (a FIFO that would
block the reader) is refused without blocking.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from flowengine.errors import NodeError

#: longest audio file name a scenario may give
MAX_MEDIA_NAME = 1024


def check_media_name(name: str) -> str:
    """`name` if it is a relative path inside a media folder; else ValueError
    saying why (the params validator turns it into an error naming the field)."""
    if not name:
        raise ValueError("an audio file name is empty")
    if len(name) > MAX_MEDIA_NAME:
        raise ValueError(f"an audio file name is {len(name)} characters; at most {MAX_MEDIA_NAME}")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise ValueError(f"audio file {name!r} contains a control character")
    if "\\" in name:
        raise ValueError(f"audio file {name!r}: use '/' between folders, not '\\'")
    if name.startswith(("/", "~")) or (len(name) > 1 and name[1] == ":"):
        raise ValueError(f"audio file {name!r} must be relative to the media folders, not absolute")
    if ".." in name.split("/"):
        raise ValueError(f"audio file {name!r} must not contain '..'")
    return name


class MediaFolders:
    """Where audio files are looked up, in order (an engine setting)."""

    __slots__ = ("folders",)

    def __init__(self, folders: Iterable[str | os.PathLike[str]] = ()) -> None:
        self.folders = tuple(Path(folder).resolve() for folder in folders)

    def __bool__(self) -> bool:
        return bool(self.folders)

    def resolve(self, name: str) -> str | None:
        """The real path of `name` in the first folder that has it; None when
        no folders are configured. NodeError when the name is not allowed,
        leads outside its folder, is not a regular file, or is nowhere."""
        if not self.folders:
            return None
        try:
            check_media_name(name)
        except ValueError as exc:
            raise NodeError(str(exc), code="media_path") from None
        for folder in self.folders:
            candidate = folder / name
            if not os.path.lexists(candidate):
                continue
            try:
                real = candidate.resolve(strict=True)
            except (OSError, RuntimeError):  # a dangling or looping symlink
                raise NodeError(f"audio file '{name}' is a broken link", code="media_not_file") from None
            if not real.is_relative_to(folder):
                raise NodeError(
                    f"audio file '{name}' leads outside the media folder (a link to elsewhere)",
                    code="media_outside",
                )
            try:
                mode = os.stat(real).st_mode
            except OSError as exc:
                raise NodeError(f"audio file '{name}': {exc.strerror}", code="media_not_file") from None
            if not stat.S_ISREG(mode):
                raise NodeError(f"audio file '{name}' is {_kind(mode)}, not a file", code="media_not_file")
            return str(real)
        raise NodeError(
            f"audio file '{name}' is not in the media folders ({len(self.folders)} configured)",
            code="media_not_found",
        )


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def open_media(path: str) -> BinaryIO:
    """Open a resolved audio file for reading without ever blocking: opened
    non-blocking, and refused (OSError) unless it is a regular file."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path}: not a regular file")
        os.set_blocking(fd, True)  # a regular file: reads never wait on a writer
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
