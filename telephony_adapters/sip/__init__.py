"""The SIP backend: real calls over UDP (RFC 3261).

A sans-IO protocol core — `message` (parser and serializer), `headers`,
`transactions` (timers A-M as data), `dialog`, `sdp` (offer/answer),
`digest` (RFC 2617 / RFC 8760) and `core` (the inbound user agent) — under
a thin asyncio transport. Every layer takes bytes and `now` and returns
events and bytes, so its tests run on a fake clock.
"""
