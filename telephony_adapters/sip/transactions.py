"""SIP transactions (RFC 3261 §17, with RFC 6026's Accepted state), sans-IO.

A transaction never owns a socket or a clock. Every input takes `now`;
what it wants sent goes into the layer's outbox as ``(bytes, address)``,
what the transaction user must hear goes into the layer's events, and
`TransactionLayer.next_timer()` / `handle_timer(now)` are the only way time
moves (the asyncio driver re-arms one `loop.call_at` from them; a test
passes a fake `now`).

Timers (unreliable transport; T1 = 500 ms, T2 = 4 s, T4 = 5 s by default):

======  ================================  ==========================================
timer   where                             what
======  ================================  ==========================================
A       client INVITE, Calling            resend the INVITE; T1, doubling
B       client INVITE, Calling            give up: 64*T1
D       client INVITE, Completed          absorb resent final responses: 32 s
E       client non-INVITE, Trying/Proc.   resend the request; T1 doubling up to T2
F       client non-INVITE                 give up: 64*T1
G       server INVITE, Completed          resend the non-2xx final; T1 doubling to T2
H       server INVITE, Completed          no ACK came: 64*T1
I       server INVITE, Confirmed          absorb resent ACKs: T4
J       server non-INVITE, Completed      absorb resent requests: 64*T1
K       client non-INVITE, Completed      absorb resent responses: T4
L       server INVITE, Accepted           absorb resent INVITEs after a 2xx: 64*T1
M       client INVITE, Accepted           absorb resent 2xx: 64*T1
======  ================================  ==========================================

The server INVITE transaction also resends its 2xx (T1 doubling to T2) until
the transaction user reports the ACK (`ack_received`), which RFC 3261
§13.3.1.4 gives to the UAS core; without an ACK by Timer L it reports
`AckTimeout` and the core ends the dialog with BYE.

State machines are tables; an input the table does not allow in the current
state raises `LocalProtocolError` (a bug in the caller, not the peer's fault:
the peer's duplicates and strays are absorbed, never raised).
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass
from typing import ClassVar

from telephony_adapters.sip.errors import LocalProtocolError
from telephony_adapters.sip.message import Request, Response

Addr = tuple[str, int]

#: RFC 3261 magic cookie: a branch that starts with it is globally unique
MAGIC_COOKIE = "z9hG4bK"


@dataclass(frozen=True, slots=True)
class TimerValues:
    """RFC 3261 §17 timer bases, in seconds."""

    t1: float = 0.5
    t2: float = 4.0
    t4: float = 5.0
    #: Timer D (client INVITE, Completed): at least 32 s over UDP
    d: float = 32.0


# ---- what a transaction tells its user ----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TransactionEvent:
    """Base of what the transaction layer reports to the transaction user."""

    key: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ResponseReceived(TransactionEvent):
    """A client transaction got a response its user must see (not a resend)."""

    response: Response


@dataclass(frozen=True, slots=True)
class TransactionTimeout(TransactionEvent):
    """A client transaction got no final response (Timer B or F)."""

    method: str


@dataclass(frozen=True, slots=True)
class AckTimeout(TransactionEvent):
    """A server INVITE transaction's final response was never ACKed (Timer H,
    or Timer L for a 2xx)."""

    status: int


class Transaction:
    """What every transaction shares: its key, state, timers and outbox."""

    #: state -> the states it may move to
    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {}

    __slots__ = ("key", "state", "peer", "timers", "layer", "request", "_last")

    def __init__(self, layer: TransactionLayer, key: tuple[str, ...], request: Request, peer: Addr, state: str) -> None:
        self.layer = layer
        self.key = key
        self.request = request
        self.peer = peer
        self.state = state
        #: timer name -> deadline (absolute, in the caller's `now` units)
        self.timers: dict[str, float] = {}
        self._last: bytes | None = None  # the last message sent (resent on timers)

    @property
    def terminated(self) -> bool:
        return self.state == "terminated"

    def _move(self, to: str) -> None:
        if to not in self.TRANSITIONS.get(self.state, frozenset()):
            raise LocalProtocolError(f"{type(self).__name__}: cannot go from {self.state} to {to}")
        self.state = to
        if to == "terminated":
            self.timers.clear()
            self.layer._forget(self)

    def _arm(self, name: str, deadline: float) -> None:
        self.timers[name] = deadline
        self.layer._schedule(self, deadline)

    def _send(self, data: bytes) -> None:
        self._last = data
        self.layer.outbox.append((data, self.peer))

    def next_deadline(self) -> float | None:
        return min(self.timers.values()) if self.timers else None

    def handle_timer(self, now: float) -> None:
        for name, deadline in sorted(self.timers.items(), key=lambda item: item[1]):
            if deadline <= now and self.timers.get(name) == deadline and not self.terminated:
                del self.timers[name]
                self._fire(name, now)

    def _fire(self, name: str, now: float) -> None:
        raise NotImplementedError


# ---- server transactions ----------------------------------------------------------------------------
class ServerInviteTransaction(Transaction):
    """RFC 3261 §17.2.1 with RFC 6026: proceeding -> completed -> confirmed,
    or proceeding -> accepted (2xx)."""

    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {
        "proceeding": frozenset({"completed", "accepted", "terminated"}),
        "completed": frozenset({"confirmed", "terminated"}),
        "confirmed": frozenset({"terminated"}),
        "accepted": frozenset({"terminated"}),
    }
    __slots__ = ("status", "_interval", "acked")

    def __init__(self, layer: TransactionLayer, key: tuple[str, ...], request: Request, peer: Addr) -> None:
        super().__init__(layer, key, request, peer, "proceeding")
        self.status = 0
        self._interval = layer.values.t1
        self.acked = False

    def respond(self, response: Response, now: float) -> None:
        """The transaction user sends a response to the INVITE."""
        if self.state != "proceeding":
            raise LocalProtocolError(f"INVITE transaction is {self.state}: cannot send {response.status}")
        self.status = response.status
        self._send(response.to_bytes())
        t = self.layer.values
        if response.status < 200:
            return
        if response.status < 300:
            self._move("accepted")
            self._interval = t.t1
            self._arm("2xx", now + self._interval)
            self._arm("L", now + 64 * t.t1)
        else:
            self._move("completed")
            self._arm("G", now + t.t1)
            self._arm("H", now + 64 * t.t1)

    def request_received(self, request: Request, now: float) -> None:
        """The same INVITE again (a resend) or the ACK of a non-2xx final."""
        if request.method == "ACK":
            if self.state == "completed":
                self._move("confirmed")
                self.timers.pop("G", None)
                self.timers.pop("H", None)
                self._arm("I", now + self.layer.values.t4)
            return  # ACKs in confirmed are absorbed; a 2xx's ACK is the core's business
        if self.state in ("proceeding", "completed") and self._last is not None:
            self.layer.outbox.append((self._last, self.peer))
        # accepted: absorbed (RFC 6026 §8.5); the 2xx is resent on its own timer

    def ack_received(self) -> None:
        """The core matched an ACK to this transaction's 2xx: stop resending it."""
        self.acked = True
        self.timers.pop("2xx", None)

    def _fire(self, name: str, now: float) -> None:
        t = self.layer.values
        if name == "G":
            if self._last is not None:
                self.layer.outbox.append((self._last, self.peer))
            self._interval = min(2 * self._interval, t.t2)
            self._arm("G", now + self._interval)
        elif name == "2xx":
            if self._last is not None:
                self.layer.outbox.append((self._last, self.peer))
            self._interval = min(2 * self._interval, t.t2)
            self._arm("2xx", now + self._interval)
        elif name == "H":
            self.layer.events.append(AckTimeout(self.key, self.status))
            self._move("terminated")
        elif name == "L":
            if not self.acked:
                self.layer.events.append(AckTimeout(self.key, self.status))
            self._move("terminated")
        elif name == "I":
            self._move("terminated")


class ServerTransaction(Transaction):
    """RFC 3261 §17.2.2: trying -> proceeding -> completed -> terminated."""

    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {
        "trying": frozenset({"proceeding", "completed", "terminated"}),
        "proceeding": frozenset({"completed", "terminated"}),
        "completed": frozenset({"terminated"}),
    }
    __slots__ = ()

    def __init__(self, layer: TransactionLayer, key: tuple[str, ...], request: Request, peer: Addr) -> None:
        super().__init__(layer, key, request, peer, "trying")

    def respond(self, response: Response, now: float) -> None:
        if self.state not in ("trying", "proceeding"):
            raise LocalProtocolError(f"{self.request.method} transaction is {self.state}: cannot send {response.status}")
        self._send(response.to_bytes())
        if response.status < 200:
            if self.state == "trying":
                self._move("proceeding")
            return
        self._move("completed")
        self._arm("J", now + 64 * self.layer.values.t1)

    def request_received(self, request: Request, now: float) -> None:
        if self.state in ("proceeding", "completed") and self._last is not None:
            self.layer.outbox.append((self._last, self.peer))

    def _fire(self, name: str, now: float) -> None:
        if name == "J":
            self._move("terminated")


# ---- client transactions --------------------------------------------------------------------------
class ClientInviteTransaction(Transaction):
    """RFC 3261 §17.1.1 with RFC 6026: calling -> proceeding -> completed
    (non-2xx, ACK sent here) or accepted (2xx, ACKed by the core)."""

    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {
        "calling": frozenset({"proceeding", "completed", "accepted", "terminated"}),
        "proceeding": frozenset({"completed", "accepted", "terminated"}),
        "completed": frozenset({"terminated"}),
        "accepted": frozenset({"terminated"}),
    }
    __slots__ = ("_interval", "_ack")

    def __init__(self, layer: TransactionLayer, key: tuple[str, ...], request: Request, peer: Addr, now: float) -> None:
        super().__init__(layer, key, request, peer, "calling")
        self._ack: bytes | None = None
        t = layer.values
        self._interval = t.t1
        self._send(request.to_bytes())
        self._arm("A", now + t.t1)
        self._arm("B", now + 64 * t.t1)

    def response_received(self, response: Response, now: float) -> None:
        status = response.status
        if self.state in ("calling", "proceeding"):
            self.timers.pop("A", None)
            if status < 200:
                if self.state == "calling":
                    self._move("proceeding")
                self.timers.pop("B", None)  # the transaction user's ring timer takes over
                self.layer.events.append(ResponseReceived(self.key, response))
            elif status < 300:
                self.timers.pop("B", None)
                self._move("accepted")
                self._arm("M", now + 64 * self.layer.values.t1)
                self.layer.events.append(ResponseReceived(self.key, response))
            else:
                self.timers.pop("B", None)
                self._ack = build_ack(self.request, response).to_bytes()
                self.layer.outbox.append((self._ack, self.peer))
                self._move("completed")
                self._arm("D", now + self.layer.values.d)
                self.layer.events.append(ResponseReceived(self.key, response))
        elif self.state == "completed":
            if status >= 300 and self._ack is not None:
                self.layer.outbox.append((self._ack, self.peer))
        elif self.state == "accepted" and 200 <= status < 300:
            self.layer.events.append(ResponseReceived(self.key, response))  # the core re-ACKs

    def _fire(self, name: str, now: float) -> None:
        if name == "A":
            if self._last is not None:
                self.layer.outbox.append((self._last, self.peer))
            self._interval *= 2
            self._arm("A", now + self._interval)
        elif name == "B":
            self.timers.pop("A", None)
            self.layer.events.append(TransactionTimeout(self.key, "INVITE"))
            self._move("terminated")
        elif name in ("D", "M"):
            self._move("terminated")


class ClientTransaction(Transaction):
    """RFC 3261 §17.1.2: trying -> proceeding -> completed -> terminated."""

    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {
        "trying": frozenset({"proceeding", "completed", "terminated"}),
        "proceeding": frozenset({"completed", "terminated"}),
        "completed": frozenset({"terminated"}),
    }
    __slots__ = ("_interval",)

    def __init__(self, layer: TransactionLayer, key: tuple[str, ...], request: Request, peer: Addr, now: float) -> None:
        super().__init__(layer, key, request, peer, "trying")
        t = layer.values
        self._interval = t.t1
        self._send(request.to_bytes())
        self._arm("E", now + t.t1)
        self._arm("F", now + 64 * t.t1)

    def response_received(self, response: Response, now: float) -> None:
        if self.state not in ("trying", "proceeding"):
            return  # completed: a resent response, absorbed
        if response.status < 200:
            if self.state == "trying":
                self._move("proceeding")
            self.layer.events.append(ResponseReceived(self.key, response))
            return
        self.timers.pop("E", None)
        self.timers.pop("F", None)
        self._move("completed")
        self._arm("K", now + self.layer.values.t4)
        self.layer.events.append(ResponseReceived(self.key, response))

    def _fire(self, name: str, now: float) -> None:
        t = self.layer.values
        if name == "E":
            if self._last is not None:
                self.layer.outbox.append((self._last, self.peer))
            self._interval = t.t2 if self.state == "proceeding" else min(2 * self._interval, t.t2)
            self._arm("E", now + self._interval)
        elif name == "F":
            self.timers.pop("E", None)
            self.layer.events.append(TransactionTimeout(self.key, self.request.method))
            self._move("terminated")
        elif name == "K":
            self._move("terminated")


def build_ack(invite: Request, response: Response) -> Request:
    """The ACK a client INVITE transaction sends for a non-2xx final response
    (RFC 3261 §17.1.1.3): same Request-URI, Call-ID, From, top Via and Route
    as the INVITE; To from the response (with its tag)."""
    headers: list[tuple[str, str]] = [("Via", str(invite.top_via))]
    for name in ("From", "Call-ID"):
        value = invite.get(name)
        if value is not None:
            headers.append((name, value))
    headers.append(("To", response.get("To") or ""))
    headers.append(("CSeq", f"{invite.cseq[0]} ACK"))
    headers.append(("Max-Forwards", "70"))
    headers.extend(("Route", value) for value in invite.get_all("Route"))
    ack = Request(headers=headers, method="ACK", uri=invite.uri)
    ack.vias = [invite.top_via]
    ack.from_, ack.to, ack.call_id, ack.cseq = invite.from_, response.to, invite.call_id, (invite.cseq[0], "ACK")
    return ack


# ---- the layer ------------------------------------------------------------------------------------------
def server_key(request: Request, method: str | None = None) -> tuple[str, ...]:
    """RFC 3261 §17.2.3: branch + sent-by + method (an ACK matches its INVITE;
    `method="INVITE"` finds the INVITE a CANCEL cancels); for a pre-RFC 3261
    branch, the §17.2.3 fallback fields."""
    via = request.top_via
    method = method or ("INVITE" if request.method == "ACK" else request.method)
    branch = via.branch or ""
    sent_by = f"{via.host}:{via.port or 5060}"
    if branch.startswith(MAGIC_COOKIE):
        return ("s", branch, sent_by, method)
    from_tag = request.from_.tag if request.from_ else None
    to_tag = request.to.tag if request.to else None
    # an ACK to a non-2xx carries the To-tag its INVITE lacked; match without it
    return ("s2", request.call_id, from_tag or "", str(request.cseq[0]), method, sent_by, branch,
            "" if method == "INVITE" else (to_tag or ""))


def client_key(branch: str, method: str) -> tuple[str, ...]:
    return ("c", branch, "INVITE" if method == "ACK" else method)


class TransactionLayer:
    """All live transactions, their timers, the outbox and the events."""

    def __init__(self, values: TimerValues | None = None) -> None:
        self.values = values or TimerValues()
        self.server: dict[tuple[str, ...], ServerInviteTransaction | ServerTransaction] = {}
        self.client: dict[tuple[str, ...], ClientInviteTransaction | ClientTransaction] = {}
        #: (bytes, address) waiting to be sent
        self.outbox: list[tuple[bytes, Addr]] = []
        self.events: list[TransactionEvent] = []
        self._heap: list[tuple[float, int, Transaction]] = []
        self._seq = itertools.count()

    # ---- server side ----------------------------------------------------------------------------
    def match_server(self, request: Request) -> ServerInviteTransaction | ServerTransaction | None:
        return self.server.get(server_key(request))

    def new_server(self, request: Request, peer: Addr) -> ServerInviteTransaction | ServerTransaction:
        key = server_key(request)
        if key in self.server:
            raise LocalProtocolError(f"a server transaction {key} already exists")
        tx: ServerInviteTransaction | ServerTransaction
        if request.method == "INVITE":
            tx = ServerInviteTransaction(self, key, request, peer)
        else:
            tx = ServerTransaction(self, key, request, peer)
        self.server[key] = tx
        return tx

    # ---- client side ------------------------------------------------------------------------------
    def new_client(self, request: Request, peer: Addr, now: float) -> ClientInviteTransaction | ClientTransaction:
        branch = request.top_via.branch or ""
        key = client_key(branch, request.method)
        if key in self.client:
            raise LocalProtocolError(f"a client transaction {key} already exists")
        tx: ClientInviteTransaction | ClientTransaction
        if request.method == "INVITE":
            tx = ClientInviteTransaction(self, key, request, peer, now)
        else:
            tx = ClientTransaction(self, key, request, peer, now)
        self.client[key] = tx
        return tx

    def response_received(self, response: Response, now: float) -> bool:
        """Hand a response to its client transaction; False if none matches."""
        tx = self.client.get(client_key(response.top_via.branch or "", response.cseq[1]))
        if tx is None:
            return False
        tx.response_received(response, now)
        return True

    # ---- timers ----------------------------------------------------------------------------------------
    def next_timer(self) -> float | None:
        """When `handle_timer` must next be called; None when nothing waits."""
        heap = self._heap
        while heap:
            deadline, _, tx = heap[0]
            if tx.terminated or deadline not in tx.timers.values():
                heapq.heappop(heap)
                continue
            return deadline
        return None

    def handle_timer(self, now: float) -> None:
        heap = self._heap
        while heap and heap[0][0] <= now:
            _, _, tx = heapq.heappop(heap)
            if not tx.terminated:
                tx.handle_timer(now)

    def _schedule(self, tx: Transaction, deadline: float) -> None:
        heapq.heappush(self._heap, (deadline, next(self._seq), tx))

    def _forget(self, tx: Transaction) -> None:
        if isinstance(tx, (ServerInviteTransaction, ServerTransaction)):
            if self.server.get(tx.key) is tx:
                del self.server[tx.key]
        elif self.client.get(tx.key) is tx:
            del self.client[tx.key]

    def __len__(self) -> int:
        return len(self.server) + len(self.client)
