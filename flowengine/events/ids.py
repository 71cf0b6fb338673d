"""Engine-assigned call ids: UUIDv7 (RFC 9562), written out as usual text.

A UUIDv7 starts with the Unix time in milliseconds, so ids sort by creation
time as text and as numbers, and stay unique across engine processes without
coordination (74 random bits per millisecond). Within one generator, ids are
strictly increasing even inside one millisecond or if the wall clock steps
back: the random part then works as a counter (RFC 9562 §6.2, method 1
variant), borrowing the next millisecond on the rare overflow.

The backend's own id (SIP Call-ID, channel id) stays on `call_started` as
`platform_id`: it is unique only per backend and says nothing about order.
"""

from __future__ import annotations

import os
import time

_MS_MASK = (1 << 48) - 1
_B_MASK = (1 << 62) - 1


class UUIDv7:
    """A callable that returns a new UUIDv7 each time (any arguments ignored,
    so it serves as the engine's call id factory as it is)."""

    __slots__ = ("_ms", "_counter")

    def __init__(self) -> None:
        self._ms = -1
        self._counter = 0

    def __call__(self, *_ignored: object) -> str:
        ms = time.time_ns() // 1_000_000
        if ms > self._ms:
            self._ms = ms
            self._counter = _fresh()
        else:
            self._counter += 1
            if self._counter >> 74:
                self._ms += 1
                self._counter = _fresh()
        c = self._counter
        value = (
            (self._ms & _MS_MASK) << 80 | 0x7 << 76 | (c >> 62) << 64 | 0b10 << 62 | (c & _B_MASK)
        )
        h = f"{value:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _fresh() -> int:
    """74 random bits with the top one clear: room for 2**73 increments."""
    return int.from_bytes(os.urandom(10), "big") >> 7
