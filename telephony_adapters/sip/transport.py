"""The thin asyncio side of the SIP core: one UDP socket, one timer.

Datagrams go into `SipCore.receive` with the loop's time; whatever the core
wants sent is sent, its events are handed to `on_event` one by one (each in
its own try/except: one call's failure never touches the socket or another
call), and a single `loop.call_at` is re-armed from `core.next_timer()`.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from typing import cast

from telephony_adapters.sip.core import SipCore, SipEvent

log = logging.getLogger("flowengine.sip.transport")

#: receive buffer asked for the SIP socket (the kernel caps it at net.core.rmem_max):
#: a burst of INVITEs while the loop is busy waits in the kernel instead of being lost
RECEIVE_BUFFER = 4 * 1024 * 1024


class SipTransport(asyncio.DatagramProtocol):
    def __init__(self, core: SipCore, on_event: Callable[[SipEvent], None]) -> None:
        self.core = core
        self.on_event = on_event
        self.transport: asyncio.DatagramTransport | None = None
        self._loop = asyncio.get_running_loop()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None

    @classmethod
    async def open(cls, core: SipCore, on_event: Callable[[SipEvent], None], host: str, port: int) -> SipTransport:
        """Bind `host:port` (port 0: any free port; the core learns which)."""
        loop = asyncio.get_running_loop()
        _, proto = await loop.create_datagram_endpoint(lambda: cls(core, on_event), local_addr=(host, port))
        return proto

    @property
    def now(self) -> float:
        return self._loop.time()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # (asyncio's selector transport is not an instance of the public DatagramTransport ABC)
        self.transport = cast(asyncio.DatagramTransport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
            except OSError:
                log.info("could not enlarge the SIP socket's receive buffer")
        host, port = transport.get_extra_info("sockname")[:2]
        self.core.local = (host, port)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            self.core.receive(data, (addr[0], addr[1]), self._loop.time())
        except Exception:  # a bug must cost one datagram, not the server
            log.exception("SIP core failed on a datagram from %s:%s", addr[0], addr[1])
        self.flush()

    def error_received(self, exc: Exception) -> None:
        log.debug("SIP socket error: %s", exc)  # ICMP unreachable from a vanished peer

    def flush(self) -> None:
        """Send what the core has queued, hand out its events, re-arm the timer."""
        for _ in range(1000):  # events may issue commands that queue more
            sent = self._send_queued()
            event = self.core.next_event()
            if event is None:
                if not sent:
                    break
                continue
            try:
                self.on_event(event)
            except Exception:
                log.exception("handling %s failed", type(event).__name__)
        self._rearm()

    def _send_queued(self) -> bool:
        out = self.core.datagrams_to_send()
        transport = self.transport
        if transport is None or transport.is_closing():
            return False
        for data, addr in out:
            transport.sendto(data, addr)
        return bool(out)

    def _rearm(self) -> None:
        when = self.core.next_timer()
        if when == self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._timer_at = None, when
        if when is not None:
            self._timer = self._loop.call_at(when, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = self._timer_at = None
        try:
            self.core.handle_timer(self._loop.time())
        except Exception:
            log.exception("SIP timer handling failed")
        self.flush()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = self._timer_at = None
        if self.transport is not None:
            self.transport.close()
