"""Recording a bridged conversation: both parties in one stereo WAV.

The relay hands each audio packet to `ConversationRecorder.feed` with the
channel it came from (0 left: the caller, 1 right: the phone). Each channel
is laid on the conversation's own clock: a packet lands at the sample its
arrival time says, so a side that stays silent (sends nothing) leaves
silence there and the two voices stay in step. At the end (`finish`) both
channels are padded to one length and written as 8 kHz 16-bit stereo,
off the event loop, whole or not at all (a ``.part`` file renamed).

Where it goes follows the SIP backend's Record: ``recordings/<date>/...``
in the engine's first media folder (so the service keeps it with its media
and a Play node can play it back by the URI), or the backend's
`recordings_dir` setting when it has one.
"""

from __future__ import annotations

import asyncio
import logging
import re
from array import array
from pathlib import Path

from flowengine.telephony import BridgeRecorder, Recording
from flowengine.telephony.audio import write_wav
from telephony_adapters.sip.relay import MediaRelay
from telephony_adapters.sip.rtp import decode

log = logging.getLogger("flowengine.sip.recording")

RATE = 8000
#: a gap in one channel longer than this (in samples) is filled with silence
MAX_JITTER = 3 * 160
#: longest conversation recorded (then the rest is not kept)
MAX_SECONDS = 4 * 3600
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class ConversationRecorder(BridgeRecorder):
    def __init__(self, relay: MediaRelay, path: Path, uri: str) -> None:
        self.relay = relay
        self.path = path
        self.uri = uri
        self._loop = asyncio.get_running_loop()
        self._start = self._loop.time()
        self._channels = (array("h"), array("h"))
        self._limit = MAX_SECONDS * RATE
        relay.listener = self.feed

    def feed(self, channel: int, payload: bytes, codec: str) -> None:
        samples = self._channels[channel]
        at = int((self._loop.time() - self._start) * RATE)
        if at - len(samples) > MAX_JITTER:
            samples.extend(array("h", bytes(2 * (at - len(samples)))))
        if len(samples) < self._limit:
            samples.extend(decode(payload, codec))

    async def finish(self) -> Recording | None:
        if self.relay.listener == self.feed:
            self.relay.listener = None
        duration = round(self._loop.time() - self._start, 3)
        left, right = self._channels
        n = max(len(left), len(right))
        if n == 0:
            return None
        try:
            await asyncio.to_thread(_write_stereo, self.path, left, right, n)
        except OSError as exc:
            log.warning("cannot write the recording %s: %s", self.path.name, exc)
            return None
        return Recording(self.uri, duration, "conversation")


def _write_stereo(path: Path, left: array, right: array, n: int) -> None:
    for ch in (left, right):
        if len(ch) < n:
            ch.extend(array("h", bytes(2 * (n - len(ch)))))
    both = array("h", bytes(4 * n))
    both[0::2] = left
    both[1::2] = right
    write_wav(path, both, RATE, channels=2)
