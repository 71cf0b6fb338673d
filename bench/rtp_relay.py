"""Bridge RTP relay benchmark: what the back-to-back relay adds to a packet's trip.

`--bridges` bridged calls at once, on 127.0.0.1: for each, a "caller"
socket and a "phone" socket exchange 20 ms G.711 packets through two of
the SIP backend's RTP endpoints joined by `MediaRelay` (the caller in µ-law,
the phone in A-law, so every packet is transcoded), both ways, for
`--seconds`. The same traffic then goes straight from socket to socket
(no relay) as the baseline. The metric is the one-way trip of each packet,
send to receive, stamped in this one process: p50 and p99 in ms, and the
packets lost. The senders and the relay share one event loop (and the
machine's cores with whatever else runs), so the figures are an upper bound
for the relay's own cost.

Usage: python bench/rtp_relay.py [--bridges 50] [--seconds 5]
Last line: {"bridges": ..., "packets": ..., "lost": ..., "relay_p50_ms": ..., "relay_p99_ms": ..., "direct_p50_ms": ..., "direct_p99_ms": ...}
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import struct
import time
from array import array

from telephony_adapters.sip.media import RtpEndpoint, RtpPortPool
from telephony_adapters.sip.relay import MediaRelay
from telephony_adapters.sip.rtp import RtpPacket, encode

#: (ssrc, sequence) -> when it was sent; the relay keeps both (and transcodes the payload)
SENT: dict[tuple[int, int], float] = {}


class Sink(asyncio.DatagramProtocol):
    def __init__(self, trips: list[float]) -> None:
        self.trips = trips

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if len(data) >= 12:
            seq, _, ssrc = struct.unpack_from("!HII", data, 2)
            sent = SENT.pop((ssrc, seq), None)
            if sent is not None:
                self.trips.append(time.perf_counter() - sent)


async def endpoint(trips: list[float]) -> tuple[asyncio.DatagramTransport, tuple[str, int]]:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(lambda: Sink(trips), local_addr=("127.0.0.1", 0))
    return transport, transport.get_extra_info("sockname")[:2]


def packet(pt: int, ssrc: int, seq: int, voice: bytes) -> bytes:
    SENT[(ssrc, seq & 0xFFFF)] = time.perf_counter()
    return RtpPacket(pt, seq & 0xFFFF, seq * 160, ssrc, voice).to_bytes()


async def run(bridges: int, seconds: float, relay: bool) -> tuple[list[float], int]:
    pool = RtpPortPool(46000, 50000)
    trips: list[float] = []
    voice_u = encode(array("h", [1000] * 160), "PCMU")
    voice_a = encode(array("h", [1000] * 160), "PCMA")
    pairs = []
    relays = []
    for _ in range(bridges):
        caller, caller_addr = await endpoint(trips)
        phone, phone_addr = await endpoint(trips)
        if relay:
            a = await RtpEndpoint.open("127.0.0.1", pool, lambda d: None)
            b = await RtpEndpoint.open("127.0.0.1", pool, lambda d: None)
            a.configure(caller_addr, "PCMU", 0, 101)
            b.configure(phone_addr, "PCMA", 8, 101)
            r = MediaRelay(a, b)
            r.start()
            relays.append((r, a, b))
            pairs.append((caller, ("127.0.0.1", a.port), phone, ("127.0.0.1", b.port)))
        else:
            # straight to the other far end: the phone's packets are A-law, the caller's µ-law, as relayed
            pairs.append((caller, phone_addr, phone, caller_addr))
    sent = 0
    loop = asyncio.get_running_loop()
    start = loop.time()
    n = 0
    while loop.time() - start < seconds:
        for i, (caller, to_a, phone, to_b) in enumerate(pairs):
            caller.sendto(packet(0, 2 * i + 1, n, voice_u), to_a)
            phone.sendto(packet(8, 2 * i + 2, n, voice_a), to_b)
            sent += 2
        n += 1
        await asyncio.sleep(max(0.0, start + n * 0.02 - loop.time()))
    await asyncio.sleep(0.3)
    SENT.clear()
    for r, a, b in relays:
        r.stop()
        a.close()
        b.close()
    for caller, _, phone, _ in pairs:
        caller.close()
        phone.close()
    return trips, sent - len(trips)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3) if ordered else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bridges", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args()
    relayed, lost = asyncio.run(run(args.bridges, args.seconds, True))
    direct, lost_direct = asyncio.run(run(args.bridges, args.seconds, False))
    print(f"nproc={os.cpu_count()} bridges={args.bridges} seconds={args.seconds}")
    print(f"relay : {len(relayed)} packets, lost {lost}, p50 {pct(relayed, 0.5)} ms, p99 {pct(relayed, 0.99)} ms")
    print(f"direct: {len(direct)} packets, lost {lost_direct}, p50 {pct(direct, 0.5)} ms, p99 {pct(direct, 0.99)} ms")
    print(json.dumps({
        "bridges": args.bridges, "packets": len(relayed), "lost": lost,
        "relay_p50_ms": pct(relayed, 0.5), "relay_p99_ms": pct(relayed, 0.99),
        "direct_p50_ms": pct(direct, 0.5), "direct_p99_ms": pct(direct, 0.99),
    }))


if __name__ == "__main__":
    main()
