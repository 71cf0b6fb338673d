"""The SIP backend: real calls over UDP (RFC 3261).

A sans-IO protocol core — `message` (parser and serializer), `headers`,
`transactions` (timers A-M as data), `dialog`, `sdp` (offer/answer),
`digest` (RFC 2617 / RFC 8760), `core` (the inbound user agent),
`outgoing` (its UAC legs) and `registrar` (operators' phones) — under a thin
asyncio transport; `phones`, `leg`, `relay` and `recording` ring, bridge
and record operators' phones. Every layer takes bytes and `now` and returns
events and bytes, so its tests run on a fake clock.
"""

from telephony_adapters.sip.backend import SipBackend
from telephony_adapters.sip.call import SipCall
from telephony_adapters.sip.settings import SipSettings, Trunk

__all__ = ["SipBackend", "SipCall", "SipSettings", "Trunk"]
