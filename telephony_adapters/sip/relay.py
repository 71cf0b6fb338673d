"""Back-to-back media: the caller's RTP endpoint and a leg's, joined both ways.

While a `MediaRelay` is on, every RTP packet one far end sends us is sent
on out of the other endpoint to the other far end, at once (no buffering,
no timer: the relay adds only the time of one datagram handler):

* audio keeps its sequence number, timestamp, SSRC and marker; its payload
  type becomes the one the other side negotiated, and the payload is
  transcoded (µ-law <-> A-law) when the two sides settled different codecs;
* RFC 4733 telephone-events pass through unchanged but for the payload
  type, so a digit pressed on either phone reaches the other (the caller's
  digits are still buffered for the scenario, too);
* anything else (comfort noise, a codec nobody negotiated) is dropped.

Nothing is relayed to or from a far end that holds the conversation (its
endpoint is `held`: the operator's phone offered a=sendonly or a=inactive),
so the phone's own music or silence never reaches the caller as talk; and
nothing is relayed to an endpoint while the engine sends it a prompt or
music (`playing`): the engine's music on hold for a held caller, played
during the bridge, is heard alone, and the conversation resumes when it stops.

A recorder (`recording.ConversationRecorder`) may listen to the audio of
both directions. Stopping the relay gives both endpoints back to their
owners unchanged.

The same relay joins two outgoing legs that belong to no caller's call (a
callback: the caller's phone on channel 0, the operator's on 1), as
`RelayedLegs`, the SIP backend's `Backend.join`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import lru_cache

from flowengine.telephony import BridgeRecorder, Recording
from flowengine.telephony.backend import LegJoin
from telephony_adapters.sip.media import RtpEndpoint
from telephony_adapters.sip.rtp import RtpPacket, decode, encode

log = logging.getLogger("flowengine.sip.relay")

#: hears (channel, payload, codec) for each audio packet relayed: channel 0 the caller, 1 the leg
AudioListener = Callable[[int, bytes, str], None]


class MediaRelay:
    """Joins `caller` (channel 0) and `leg` (channel 1)."""

    __slots__ = ("caller", "leg", "listener", "relayed", "dtmf_relayed", "dropped", "held_back")

    def __init__(self, caller: RtpEndpoint, leg: RtpEndpoint) -> None:
        self.caller = caller
        self.leg = leg
        self.listener: AudioListener | None = None
        #: audio packets sent on, by the channel they came from
        self.relayed = [0, 0]
        self.dtmf_relayed = [0, 0]
        self.dropped = 0
        #: packets not relayed, by the channel they came from, because a side
        #: held the conversation or the engine was playing to the other side
        self.held_back = [0, 0]

    def start(self) -> None:
        self.caller.tap = lambda pkt, _data: self._forward(0, self.caller, self.leg, pkt)
        self.leg.tap = lambda pkt, _data: self._forward(1, self.leg, self.caller, pkt)

    def stop(self) -> None:
        self.caller.tap = None
        self.leg.tap = None
        self.listener = None

    def _forward(self, channel: int, src: RtpEndpoint, dst: RtpEndpoint, pkt: RtpPacket) -> None:
        if src.held or dst.held or dst.playing:
            self.held_back[channel] += 1
            return
        pt = pkt.payload_type
        if src.dtmf_payload_type is not None and pt == src.dtmf_payload_type:
            if dst.dtmf_payload_type is None:
                self.dropped += 1
                return
            out_pt, payload = dst.dtmf_payload_type, pkt.payload
            self.dtmf_relayed[channel] += 1
        elif pt == src.payload_type:
            payload = pkt.payload
            if src.codec != dst.codec:
                payload = payload.translate(_transcoding(src.codec, dst.codec))
            out_pt = dst.payload_type
            self.relayed[channel] += 1
            if self.listener is not None:
                self.listener(channel, pkt.payload, src.codec)
        else:
            self.dropped += 1
            return
        transport, remote = dst.transport, dst.remote
        if transport is None or remote is None or transport.is_closing():
            return
        transport.sendto(RtpPacket(out_pt, pkt.sequence, pkt.timestamp, pkt.ssrc, payload, pkt.marker).to_bytes(), remote)
        dst.packets_out += 1


@lru_cache(maxsize=4)
def _transcoding(src: str, dst: str) -> bytes:
    """One G.711 byte to the other law's byte (a 256-entry `bytes.translate`
    table: µ-law <-> A-law is a byte-for-byte mapping through linear PCM)."""
    return encode(decode(bytes(range(256)), src), dst)


class RelayedLegs(LegJoin):
    """Two answered legs of no caller's call (a callback) joined by a relay,
    with the conversation's recorder when one was asked for."""

    def __init__(self, relay: MediaRelay, recorder: BridgeRecorder | None) -> None:
        self.relay = relay
        self.recorder = recorder

    async def stop(self) -> Recording | None:
        self.relay.stop()
        recorder, self.recorder = self.recorder, None
        return None if recorder is None else await recorder.finish()
