"""An operator on a call bridged outside the ACD (a direct Transfer) is busy for it (ringinuse=no)."""

from __future__ import annotations

import pytest

from flowengine.acd import decisions as d
from flowengine.acd.core import ACD
from flowengine.errors import UsageError


def rung(out: list[d.Decision]) -> list[str]:
    return [x.operator_id for x in out if isinstance(x, d.Ring)]


def test_an_engaged_operator_is_rung_only_once_every_outside_call_has_ended(make_centre):
    acd = ACD(make_centre("ring_all", n=2))
    acd.set_engaged(0, "901", True)
    acd.set_engaged(0, "901", True)  # two outside calls at once (a second line)
    assert rung(acd.call_arrived(1, "c1", "q")) == ["902"]
    assert rung(acd.call_arrived(2, "c2", "q")) == []
    assert rung(acd.set_engaged(3, "901", False)) == []
    assert rung(acd.set_engaged(4, "901", False)) == ["901"]
    assert rung(acd.set_engaged(5, "901", False)) == []  # an end without a start is harmless


def test_a_centre_with_ring_in_use_rings_engaged_operators(make_centre):
    acd = ACD({**make_centre("ring_all", n=1), "ring_in_use": True})
    acd.set_engaged(0, "901", True)
    assert rung(acd.call_arrived(1, "c1", "q")) == ["901"]


def test_an_unknown_operator_is_a_usage_error(make_centre):
    acd = ACD(make_centre("ring_all", n=1))
    with pytest.raises(UsageError, match="unknown operator 'nope'"):
        acd.set_engaged(0, "nope", True)
