"""cumulative in groups: every interval the next group joins, earlier ones keep ringing."""

from __future__ import annotations

from typing import Any

import pytest

from flowengine.acd import decisions as d
from flowengine.acd.model import CentreError, parse_centre
from flowengine.acd.testing import Behaviour

NEVER = Behaviour(answer_after=None)
STEPS = [[901, 902], [903, 904, 905], [906]]


def test_each_interval_a_whole_group_joins_and_nobody_is_dropped(make_centre, make_run):
    c = make_centre("cumulative", {"interval": 5, "steps": STEPS}, n=6, ring_timeout=10)
    r = make_run(c, {"906": Behaviour(answer_after=2)}, default=NEVER)
    r.arrive(0, "c1", "q")
    r.run(40)
    assert r.rang("c1") == [
        (0, "901"),
        (0, "902"),
        (5, "903"),
        (5, "904"),
        (5, "905"),
        (10, "906"),
    ]
    assert r.connected("c1") == (12, "906")
    stopped = sorted((t, x.operator_id, x.reason) for t, x in r.of(d.StopRinging))
    assert stopped == [(12, o, "answered_elsewhere") for o in ("901", "902", "903", "904", "905")]
    assert not r.of(d.OfferMissed)


def test_all_groups_ring_until_the_total_then_the_round_ends(make_centre, make_run):
    # default total: ring timeout 10 + 2 intervals of 5 = 20
    c = make_centre("cumulative", {"interval": 5, "steps": STEPS}, n=6, ring_timeout=10, retry=5)
    r = make_run(c, default=NEVER)
    r.arrive(0, "c1", "q")
    r.run(24)
    misses = sorted((t, x.operator_id) for t, x in r.of(d.OfferMissed))
    assert misses == [(20, o) for o in ("901", "902", "903", "904", "905", "906")]
    r.run(26)
    assert r.rang("c1")[6:] == [(25, "901"), (25, "902")]  # next round after the retry pause


def test_a_group_with_nobody_free_is_passed_over_at_once(make_centre, make_run):
    c = make_centre("cumulative", {"interval": 5, "steps": STEPS}, n=6)
    r = make_run(c, default=NEVER)
    r.status(0, "903", "break")
    r.status(0, "904", "break")
    r.status(0, "905", "not_available")
    r.arrive(1, "c1", "q")
    r.run(12)
    assert r.rang("c1") == [(1, "901"), (1, "902"), (6, "906")]


def test_the_next_group_joins_at_once_when_every_leg_failed(make_centre, make_run):
    c = make_centre("cumulative", {"interval": 5, "steps": STEPS}, n=6)
    rejects = Behaviour(fail="rejected", fail_after=1)
    r = make_run(c, {"901": rejects, "902": rejects}, default=NEVER)
    r.arrive(0, "c1", "q")
    r.run(4)
    assert [t for t, _ in r.rang("c1")] == [0, 0, 1, 1, 1]


def test_steps_accept_extensions_and_leave_unnamed_members_out(make_centre, make_run):
    ops = [
        {"id": "anna", "extension": "901"},
        {"id": "boris", "extension": "902"},
        {"id": "vera", "extension": "903"},
    ]
    c = make_centre("cumulative", {"interval": 5, "steps": [["902"], ["anna"]]}, operators=ops)
    r = make_run(c, default=NEVER)
    r.arrive(0, "c1", "q")
    r.run(19)
    assert r.rang("c1") == [(0, "boris"), (5, "anna")]


def test_without_steps_cumulative_still_adds_one_member_at_a_time(make_centre, make_run):
    c = make_centre("cumulative", {"interval": 5}, n=3)
    r = make_run(c, default=NEVER)
    r.arrive(0, "c1", "q")
    r.run(11)
    assert r.rang("c1") == [(0, "901"), (5, "902"), (10, "903")]


def test_groups_run_level_by_level(make_centre, make_run):
    members = [{"operator": str(900 + i), "penalty": 0 if i in (2, 3) else 1} for i in range(1, 5)]
    c = make_centre(
        "cumulative", {"interval": 5, "steps": [[901, 902], [903, 904]]}, n=4, members=members
    )
    r = make_run(c, default=NEVER)
    r.arrive(0, "c1", "q")
    r.run(34)
    # level 0 (902, 903): 902 at 0, 903 joins at 5, both end at 15; then level 1
    assert r.rang("c1") == [(0, "902"), (5, "903"), (15, "901"), (20, "904")]


@pytest.mark.parametrize(
    ("params", "where", "message"),
    [
        ({"steps": [[901], [999]]}, "strategy_params.steps[1][0]", "'999' is not a member"),
        ({"steps": [[901], [901]]}, "strategy_params.steps[1][0]", "appears in two steps"),
        ({"steps": [[]]}, "strategy_params.steps[0]", "at least one operator"),
        ({"steps": [[901]], "order": "longest_idle"}, "strategy_params.order", "only without"),
        ({"steps": 5}, "strategy_params.steps", "valid list"),
    ],
)
def test_bad_steps_are_named_in_the_error(make_centre, params: dict[str, Any], where, message):
    with pytest.raises(CentreError) as e:
        parse_centre(make_centre("cumulative", params, n=3), "centre.yaml")
    text = str(e.value)
    assert f"queues[0].{where}" in text and message in text, text
