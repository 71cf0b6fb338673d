"""Operators' SIP phones on the wallboard: the registrar's word (registered,
bindings) reaches the snapshot and the live deltas, and an operator whose
phone is not registered shows as unreachable."""

from __future__ import annotations

import asyncio
from typing import Any

from flowengine.monitor import MonitorHub, QueueInfo, Wallboard


def op(board: dict[str, Any], op_id: str) -> dict[str, Any]:
    return next(o for o in board["operators"] if o["id"] == op_id)


def test_phone_state_reaches_the_snapshot_and_deltas_and_unregistered_is_unreachable() -> None:
    async def main() -> None:
        hub = MonitorHub(Wallboard({"sales": QueueInfo(members=("901", "902"))}, operators=["901", "902", "903"]))
        hub.phone_changed("901", registered=False, bindings=0)
        hub.phone_changed("902", registered=False, bindings=0)
        sub = hub.subscribe()
        board = (await sub.get())["board"]
        # an operator without a SIP account is reachable as before and has no phone
        assert op(board, "903")["phone"] is None and op(board, "903")["reachable"] is True
        first = op(board, "901")
        assert first["reachable"] is False
        assert first["phone"]["registered"] is False and first["phone"]["bindings"] == 0
        # 901 registers a desk phone, then a softphone beside it: two deltas of 901's row
        hub.phone_changed("901", registered=True, bindings=1, user_agent="Yealink T46")
        await asyncio.sleep(0)
        delta = await asyncio.wait_for(sub.get(), 1)
        (change,) = [c for c in delta["changes"] if c["kind"] == "operator"]
        assert change["id"] == "901" and change["data"]["reachable"] is True
        assert change["data"]["phone"]["registered"] is True and change["data"]["phone"]["user_agent"] == "Yealink T46"
        since = change["data"]["phone"]["since"]
        hub.phone_changed("901", registered=True, bindings=2, user_agent="baresip")
        await asyncio.sleep(0)
        delta = await asyncio.wait_for(sub.get(), 1)
        row = next(c["data"] for c in delta["changes"] if c["kind"] == "operator")
        # still registered since the first binding; two devices now
        assert row["phone"]["bindings"] == 2 and row["phone"]["since"] == since
        # an operator's own view sees their own phone only
        own = hub.subscribe(only=lambda c: c["kind"] == "operator" and c["id"] == "902")
        rows = (await own.get())["board"]["operators"]
        assert [r["id"] for r in rows] == ["902"] and rows[0]["reachable"] is False
        sub.close()
        own.close()

    asyncio.run(main())
