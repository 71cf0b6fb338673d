"""argparse types for numeric and text options: a clear error naming the
option instead of a traceback or a run that never ends.

argparse names the option in its message (``argument --aht: ...``) when a
`type=` callable raises `ArgumentTypeError`, and exits with status 2.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path

from flowengine.errors import FlowEngineError


def number(
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    what: str = "a number",
) -> Callable[[str], float]:
    """A finite float within [low, high] (low excluded with `low_open`)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{_short(text)}' is not {what}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"'{_short(text)}' is not a finite number")
        if low is not None and (value <= low if low_open else value < low):
            bound = f"greater than {low:g}" if low_open else f"at least {low:g}"
            raise argparse.ArgumentTypeError(f"{value:g} is out of range: must be {bound}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"{value:g} is out of range: must be at most {high:g}")
        return value

    return parse


def whole(low: int, high: int) -> Callable[[str], int]:
    """An int within [low, high]."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{_short(text)}' is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is out of range: must be {low}..{high}")
        return value

    return parse


DTMF = frozenset("0123456789*#ABCD")


def digits(text: str) -> str:
    """DTMF digits (0-9, *, #, A-D), at least one."""
    bad = sorted(set(text) - DTMF)
    if bad or not text:
        shown = ", ".join(repr(c) for c in bad[:5])
        raise argparse.ArgumentTypeError(f"'{_short(text)}' is not DTMF digits (0-9 * # A-D); bad: {shown}")
    if len(text) > 256:
        raise argparse.ArgumentTypeError(f"{len(text)} digits at once; at most 256")
    return text


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def folder(text: str) -> Path:
    """An existing folder (e.g. `--media`)."""
    path = Path(text)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"'{_short(text)}' is not a folder")
    return path


def writable(path: Path, option: str) -> Path:
    """An output file: its missing directories are created; a path that
    cannot be written (a folder, a file in the way of a directory, no
    permission) is an error naming the option now, not a traceback later."""
    blocker = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise FlowEngineError(f"{option}: cannot write '{path}': '{blocker}' is a file, not a folder")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("ab"):
            pass
    except OSError as exc:
        raise FlowEngineError(f"{option}: cannot write '{path}': {exc.strerror or exc}") from None
    return path
