"""Operators' phones on the SIP backend: their accounts, whether they are
registered, and where a leg to a target goes.

Accounts come from the centre: every operator with a ``sip_secret`` has one,
named by the operator's extension (the id when there is none). When the
backend starts, the registrar opens with those accounts and each of those
operators is *not present* in the ACD (`AcdDriver.remove_operator`) until
their phone registers: an unregistered phone is offered no calls and the
wallboard shows its operator away. A registration brings the operator back
(`add_operator`, with the status the centre gives them); the last binding
expiring or removed takes them away again. Centres without SIP secrets
keep today's behaviour: no registrar (REGISTER gets 405), nobody removed.

Whoever shows phones (the wallboard) listens in `phone_listeners`: each is
told a `PhoneState` for every account when the registrar opens (or the
centre changes), and again whenever an account registers, unregisters or
gains or loses a binding.

The service replaces its ACD when the centre changes (carrying statuses
over): the first time this module meets a new ACD it takes the accounts
from the new centre and tells that ACD again who is reachable.

A leg's target is, in order: an account (every live binding of it, rung in
parallel by one forked leg, see `leg`; an account without one fails at once
with 480), a ``sip:`` URI whose host is a trusted
peer (a trunk's address), or a number `SipBackend.route_number` sends out
through a trunk; anything else fails with 404. Nothing a caller dials
reaches any other address.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flowengine.telephony import HangupCause, Leg
from telephony_adapters.sip import phonetransfer
from telephony_adapters.sip.core import SipEvent
from telephony_adapters.sip.errors import SipParseError
from telephony_adapters.sip.headers import NameAddr, Uri, parse_uri
from telephony_adapters.sip.leg import Destination, SipLeg
from telephony_adapters.sip.outgoing import (
    LegAnswered,
    LegDtmf,
    LegFailed,
    LegHungUp,
    LegProgress,
    LegReinvited,
)
from telephony_adapters.sip.referrals import LegReferred
from telephony_adapters.sip.registrar import (
    Account,
    PhoneBindingsChanged,
    PhoneRegistered,
    PhoneUnregistered,
    Registrar,
)

if TYPE_CHECKING:
    from flowengine.acd.driver import AcdDriver
    from telephony_adapters.sip.backend import SipBackend

log = logging.getLogger("flowengine.sip.phones")


@dataclass(frozen=True, slots=True)
class PhoneState:
    """An operator's phone as the registrar knows it now."""

    operator_id: str
    registered: bool
    #: contacts registered (0 when not registered)
    bindings: int
    #: the User-Agent of the newest binding
    user_agent: str | None = None


class PhoneLines:
    def __init__(self, backend: SipBackend) -> None:
        self.sip = backend
        self.registrar: Registrar | None = None
        #: told each account's `PhoneState` as it changes (see the module docstring)
        self.phone_listeners: list[Callable[[PhoneState], None]] = []
        #: the ACD the accounts and reachability were last given to
        self._synced: AcdDriver | None = None

    def _driver(self) -> AcdDriver | None:
        from flowengine.acd.driver import AcdDriver

        driver = self.sip.engine.services.get("acd")
        return driver if isinstance(driver, AcdDriver) else None

    def knows_source(self, ip: str) -> bool:
        """Is `ip` where a registered phone sits? (Its requests are trusted.)"""
        return self.registrar is not None and self.registrar.knows_source(ip)

    def registered(self) -> int:
        """Accounts with a phone registered now (for /metrics)."""
        registrar = self.registrar
        return 0 if registrar is None else sum(1 for user in registrar.accounts if registrar.is_registered(user))

    def open_registrar(self) -> None:
        """Accounts from the centre; their operators away until registered."""
        self._sync()

    def _sync(self) -> AcdDriver | None:
        """The current ACD; a new one (the centre changed) gets the accounts
        of its centre and is told who is reachable."""
        driver = self._driver()
        if driver is None or driver is self._synced:
            return driver
        self._synced = driver
        accounts: dict[str, Account] = {}
        for op in driver.centre.operators:
            if op.sip_secret:
                user = op.extension or op.id
                accounts[user] = Account(user, op.sip_secret, op.id)
        registrar = self.registrar
        if registrar is None:
            if not accounts:
                return driver
            s = self.sip.settings
            registrar = self.registrar = Registrar(accounts, realm=s.media_address, algorithms=s.digest_algorithms)
            self.sip.core.registrar = registrar
        else:
            registrar.set_accounts(accounts)
        for account in accounts.values():
            if registrar.is_registered(account.user):
                _reachable(driver, account.operator_id)
            else:
                driver.remove_operator(account.operator_id, "phone_unregistered")
            self._tell(account.user, account.operator_id)
        return driver

    def _tell(self, user: str, operator_id: str) -> None:
        registrar = self.registrar
        if registrar is None or not self.phone_listeners:
            return
        bindings = registrar.bindings(user)
        newest = max(bindings, key=lambda b: b.expires_at, default=None)
        state = PhoneState(operator_id, bool(bindings), len(bindings), newest.user_agent if newest else None)
        for listener in self.phone_listeners:
            try:
                listener(state)
            except Exception:  # a viewer's failure never touches the registrar
                log.exception("phone listener failed")

    # ---- events -----------------------------------------------------------------------------
    def event(self, ev: SipEvent) -> bool:
        """Handle a registrar or outgoing-leg event; False for any other."""
        if isinstance(ev, PhoneBindingsChanged):
            self._tell(ev.user, ev.operator_id)
            return True
        if isinstance(ev, PhoneRegistered | PhoneUnregistered):
            driver = self._sync()
            if driver is not None and ev.operator_id in driver.core.operator_ids():
                if isinstance(ev, PhoneRegistered):
                    _reachable(driver, ev.operator_id)
                else:
                    driver.remove_operator(ev.operator_id, "phone_unregistered")
            self._tell(ev.user, ev.operator_id)
            return True
        if not isinstance(ev, LegProgress | LegAnswered | LegFailed | LegHungUp | LegDtmf | LegReinvited | LegReferred):
            return False
        leg = self.sip.legs.get(ev.key)
        if leg is None or leg.branch_event(ev):
            return True  # (an INVITE of a leg still ringing, or one that lost the race)
        if isinstance(ev, LegProgress):
            leg.progress(ev.status, ev.early)
        elif isinstance(ev, LegAnswered):
            leg.answered(ev.negotiated, ev.late)
        elif isinstance(ev, LegFailed):
            leg.failed(ev.status, ev.q850)
        elif isinstance(ev, LegHungUp):
            leg.hung_up(ev.q850)
        elif isinstance(ev, LegReinvited):
            leg.progress_media(ev.negotiated)
        elif isinstance(ev, LegReferred):
            phonetransfer.referred(leg, ev.ref, ev.target)
        return True

    # ---- targets ----------------------------------------------------------------------------
    def owns(self, target: str) -> bool:
        self._sync()
        return self.registrar is not None and self.registrar.account_for(target) is not None

    def destination(self, target: str) -> Destination | int:
        """Where a leg to `target` goes (an account's newest binding), or the SIP status it fails with."""
        where = self.destinations(target)
        return where if isinstance(where, int) else where[0]

    def destinations(self, target: str) -> list[Destination] | int:
        """Every place a leg to `target` rings (each live binding of an
        account, newest first; a leg to them is forked), or the SIP status it fails with."""
        host, port = self.sip.core.local
        registrar = self.registrar
        account = registrar.account_for(target) if registrar is not None else None
        if account is not None and registrar is not None:
            bindings = sorted(registrar.bindings(account.user), key=lambda b: -b.expires_at)
            if not bindings:
                return 480
            to = NameAddr(Uri("sip", account.user, host, port))
            return [Destination(b.contact, b.source, to) for b in bindings]
        if target.startswith(("sip:", "sips:")):
            try:
                uri = parse_uri(target, "target")
            except SipParseError:
                return 404
            if uri.scheme != "sip" or self.sip.settings.trunk_for(uri.host) is None:
                log.info("leg to %s refused: not a trusted peer", target)
                return 403
            return [Destination(uri, uri.host_port(), NameAddr(uri))]
        routed = self.sip.route_number(target)
        return [routed] if routed is not None else 404

    def ring(self, target: str, *, ring_timeout: float | None, caller_id: str, caller_name: str | None) -> Leg:
        self._sync()
        where = self.destinations(target)
        if isinstance(where, int):
            return FailedLeg(target, where)
        return SipLeg(self.sip, target, where, ring_timeout=ring_timeout, caller_id=caller_id, caller_name=caller_name)


def _reachable(driver: AcdDriver, operator_id: str) -> None:
    """The operator's phone is registered: present in the ACD, with the
    centre's status if the one they have is the phone's absence (carried
    over from an ACD that had the phone away)."""
    driver.add_operator(operator_id)  # (nothing when present already)
    if driver.core.operator_status(operator_id)[1] == "phone_unregistered":
        driver.set_status(operator_id, driver.core.operator(operator_id).spec.status, by="admin")


class FailedLeg(Leg):
    """A leg that cannot be placed (no registered phone, no route): it fails
    at once with `status`, as a SIP peer would have answered."""

    def __init__(self, target: str, status: int) -> None:
        super().__init__(target, ring_timeout=None)
        asyncio.get_running_loop().call_soon(self.failure_received, HangupCause.from_sip(status, by="system"))

    def abort_ringing(self, cause: HangupCause) -> None:
        pass

    def release(self, cause: HangupCause) -> None:
        pass
