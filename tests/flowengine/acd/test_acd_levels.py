"""Member penalties (levels) with every strategy, and mod_callcenter's tier rules.

Lower levels are tried first with whatever strategy the queue has; a higher
level is used at once when nobody below is free (app_queue penalties). Tier
rules hold a waiting caller back from higher levels for a while (wait,
multiplied by the level, skipped for a level nobody staffs).
"""

from __future__ import annotations

from typing import Any

import pytest

from flowengine.acd import decisions as d
from flowengine.acd.core import ACD
from flowengine.acd.model import CentreError, parse_centre
from flowengine.acd.testing import Behaviour, VirtualCentre

NEVER = Behaviour(answer_after=None)
LONG_TALK = Behaviour(answer_after=1, talk=1000)


def centre(
    strategy: str,
    members: list[Any],
    *,
    params: dict[str, Any] | None = None,
    n: int = 4,
    **queue: Any,
) -> dict[str, Any]:
    ops = [{"id": str(900 + i), "extension": str(900 + i)} for i in range(1, n + 1)]
    q: dict[str, Any] = {
        "id": "q",
        "strategy": strategy,
        "strategy_params": params or {},
        "members": members,
        "ring_timeout": 10,
        "retry": 5,
    }
    q.update(queue)
    return {"operators": ops, "queues": [q]}


def run(
    c: dict[str, Any], behaviours: dict[str, Behaviour] | None = None, **kw: Any
) -> VirtualCentre:
    return VirtualCentre(ACD(c, seed=kw.pop("seed", 1)), behaviours, kw.pop("default", None))


LEVELED = [
    {"operator": "901", "penalty": 2},
    {"operator": "902", "penalty": 0},
    {"operator": "903", "level": 1},
]


# ------------------------------------------------------------------ lower levels first
@pytest.mark.parametrize(
    "strategy", ["linear", "longest_idle", "round_robin", "rrordered", "random"]
)
def test_a_hunt_tries_the_lowest_level_first_then_the_next(strategy):
    r = run(centre(strategy, LEVELED, n=3), default=NEVER)
    r.arrive(0, "c1", "q")
    r.run(29)
    assert r.rang("c1") == [(0, "902"), (10, "903"), (20, "901")]


def test_ring_all_rings_a_whole_level_then_the_next():
    members = [
        {"operator": "901", "penalty": 0},
        {"operator": "902", "penalty": 0},
        {"operator": "903", "penalty": 1},
        {"operator": "904", "penalty": 1},
    ]
    r = run(centre("ring_all", members), default=NEVER)
    r.arrive(0, "c1", "q")
    r.run(21)
    # level 0 together for the ring timeout, then level 1, then the retry pause
    assert r.rang("c1") == [(0, "901"), (0, "902"), (10, "903"), (10, "904")]
    r.run(26)
    assert r.rang("c1")[4:] == [(25, "901"), (25, "902")]


def test_sequential_steps_run_within_each_level():
    members = [
        {"operator": o, "penalty": 0 if o in ("902", "904") else 1}
        for o in ("901", "902", "903", "904")
    ]
    c = centre("sequential", members, params={"steps": [["901", "902"], ["903", "904"]]})
    r = run(c, default=NEVER)
    r.arrive(0, "c1", "q")
    r.run(39)
    # level 0: step 1 has 902, step 2 has 904; level 1: 901, then 903
    assert r.rang("c1") == [(0, "902"), (10, "904"), (20, "901"), (30, "903")]


def test_a_higher_level_is_used_at_once_when_nobody_below_is_free():
    r = run(centre("linear", LEVELED, n=3))
    r.status(0, "902", "break", "lunch")
    r.arrive(1, "c1", "q")
    r.run(5)
    assert r.rang("c1") == [(1, "903")]


def test_position_orders_members_within_a_level():
    members = [
        {"operator": "901", "position": 3},
        {"operator": "902", "position": 2},
        {"operator": "903", "position": 2},
    ]
    r = run(centre("linear", members, n=3), default=NEVER)
    r.arrive(0, "c1", "q")
    r.run(29)
    assert r.rang("c1") == [(0, "902"), (10, "903"), (20, "901")]


def test_without_penalties_the_order_is_as_listed():
    r = run(centre("linear", ["903", "901", "902"], n=3), default=NEVER)
    r.arrive(0, "c1", "q")
    r.run(29)
    assert r.rang("c1") == [(0, "903"), (10, "901"), (20, "902")]


def test_an_operator_added_at_run_time_joins_level_zero():
    acd = ACD(
        centre(
            "linear", [{"operator": "901", "penalty": 1}, {"operator": "902", "penalty": 2}], n=2
        )
    )
    acd.add_operator(0, {"id": "905", "extension": "905"}, queues=["q"])
    out = acd.call_arrived(1, "c1", "q")
    assert [x.operator_id for x in out if isinstance(x, d.Ring)] == ["905"]


# ------------------------------------------------------------------ tier rules
TWO_LEVELS = [{"operator": "901", "penalty": 0}, {"operator": "902", "penalty": 1}]


def busy_901_then_caller(
    tiers: dict[str, Any] | None, *, members: list[Any] = TWO_LEVELS, **kw: Any
) -> VirtualCentre:
    """901 (level 0) takes c0 and talks on; c1 arrives at 3 with only higher levels free."""
    extra = {"tier_rules": tiers} if tiers is not None else {}
    r = run(centre("linear", members, n=kw.pop("n", 2), **extra), {"901": LONG_TALK}, **kw)
    r.arrive(0, "c0", "q")
    r.arrive(3, "c1", "q")
    return r


def test_without_tier_rules_a_free_higher_level_is_rung_at_once():
    r = busy_901_then_caller(None)
    r.run(60)
    assert r.rang("c1") == [(3, "902")]


def test_tier_wait_holds_the_caller_back_from_the_next_level():
    r = busy_901_then_caller({"wait": 30})
    r.run(60)
    assert r.connected("c0") == (1, "901")
    assert r.rang("c1") == [(33, "902")]
    assert r.connected("c1") == (35, "902")


def test_an_operator_freed_on_a_closed_level_does_not_take_the_call_early():
    members = [{"operator": "901", "penalty": 0}, {"operator": "902", "penalty": 1}]
    r = run(centre("linear", members, n=2, tier_rules={"wait": 30}), {"901": LONG_TALK})
    r.status(0, "902", "break", "coffee")
    r.arrive(0, "c0", "q")
    r.arrive(3, "c1", "q")
    r.status(10, "902", "available")
    r.run(60)
    assert r.rang("c1") == [(33, "902")]


def test_each_further_level_waits_again():
    members = [
        {"operator": "901", "penalty": 0},
        {"operator": "902", "penalty": 5},
        {"operator": "903", "penalty": 7},
    ]
    # 902 busy too: c2 (arriving at 6) must wait 2 x 20 s for level 7
    r = run(
        centre("linear", members, n=3, tier_rules={"wait": 20}),
        {"901": LONG_TALK, "902": LONG_TALK},
    )
    r.arrive(0, "c0", "q")
    r.arrive(3, "c1", "q")
    r.arrive(6, "c2", "q")
    r.run(80)
    assert r.connected("c1") == (24, "902")  # level 5 opens at 3 + 20
    assert r.rang("c2") == [(46, "903")]


def test_multiply_by_level_waits_wait_times_the_level_number():
    members = [{"operator": "901", "penalty": 0}, {"operator": "902", "penalty": 3}]
    plain = busy_901_then_caller({"wait": 10}, members=members)
    plain.run(60)
    times = busy_901_then_caller({"wait": 10, "multiply_by_level": True}, members=members)
    times.run(60)
    assert plain.rang("c1") == [(13, "902")]
    assert times.rang("c1") == [(33, "902")]


def test_no_agent_no_wait_skips_a_level_nobody_staffs():
    members = [{"operator": "901", "penalty": 0}, {"operator": "902", "penalty": 1}]
    for tiers, first in (({"wait": 30}, 31), ({"wait": 30, "no_agent_no_wait": True}, 1)):
        r = run(centre("linear", members, n=2, tier_rules=tiers))
        r.status(0, "901", "break", "lunch")
        r.arrive(1, "c1", "q")
        r.run(60)
        assert r.rang("c1") == [(first, "902")], tiers


def test_no_agent_no_wait_counts_a_busy_operator_as_there():
    r = busy_901_then_caller({"wait": 30, "no_agent_no_wait": True})
    r.run(60)
    assert r.rang("c1") == [(33, "902")]


def test_a_level_emptied_while_the_caller_waits_opens_the_next_at_once():
    r = busy_901_then_caller({"wait": 30, "no_agent_no_wait": True})
    r.status(10, "901", "break", "after this call")
    r.run(60)
    assert r.rang("c1") == [(10, "902")]


def test_tier_rules_apply_to_every_strategy():
    members = [
        {"operator": "901", "penalty": 0},
        {"operator": "902", "penalty": 1},
        {"operator": "903", "penalty": 1},
    ]
    r = run(centre("ring_all", members, n=3, tier_rules={"wait": 30}), {"901": LONG_TALK})
    r.arrive(0, "c0", "q")
    r.arrive(3, "c1", "q")
    r.run(40)
    assert r.rang("c1") == [(33, "902"), (33, "903")]


# ------------------------------------------------------------------ validation
def problems(data: dict[str, Any]) -> str:
    with pytest.raises(CentreError) as e:
        parse_centre(data, "centre.yaml")
    return str(e.value)


def test_bad_penalties_and_positions_are_named_in_the_error():
    text = problems(
        centre(
            "linear",
            [
                {"operator": "901", "penalty": -1},
                {"operator": "902", "level": -2},
                {"operator": "903", "position": -3},
                {"operator": "904", "penalty": 1, "level": 1},
            ],
        )
    )
    assert "queues[0].members[0].penalty" in text
    assert "queues[0].members[1].level" in text
    assert "queues[0].members[2].position" in text
    assert "give either 'penalty' or 'level', not both" in text


def test_bad_tier_rules_are_named_in_the_error():
    text = problems(centre("linear", ["901"], tier_rules={"wait": 0, "multiply": True}))
    assert "queues[0].tier_rules.wait" in text
    assert "queues[0].tier_rules.multiply" in text
    text = problems(centre("linear", ["901"], tier_rules={"no_agent_no_wait": True}))
    assert "queues[0].tier_rules.wait:" in text and "required" in text.lower()


def test_level_is_an_alias_of_penalty():
    c = parse_centre(centre("linear", [{"operator": "901", "level": 4}]))
    assert c.queue("q").members[0].penalty == 4


def test_a_freed_operator_takes_the_caller_who_reached_their_level_over_a_younger_vip():
    r = run(centre("linear", TWO_LEVELS, n=2, tier_rules={"wait": 30}), {"901": LONG_TALK})
    r.status(0, "902", "break", "coffee")
    r.arrive(0, "c0", "q")
    r.arrive(3, "c1", "q")
    r.arrive(20, "c2", "q", priority=5)
    r.status(40, "902", "available")
    r.run(45)
    # c2 is first in line but has waited 20 s of the 30 the second level needs
    assert r.rang("c1") == [(40, "902")]
    assert r.rang("c2") == []


def test_the_tier_wait_counts_in_the_queue_the_call_overflowed_to():
    c = centre("linear", TWO_LEVELS, n=3, tier_rules={"wait": 30})
    c["queues"].append(
        {
            "id": "first",
            "members": ["903"],
            "overflow": {"after": 35, "to": "q"},
            "ring_timeout": 10,
        }
    )
    r = run(c, {"901": LONG_TALK}, default=NEVER)
    r.status(0, "903", "break", "lunch")
    r.arrive(0, "c0", "q")
    r.arrive(1, "c1", "first")
    r.run(70)
    assert r.rang("c1") == [(66, "902")]  # entered q at 36, level 1 opens 30 s later


@pytest.mark.parametrize(("no_agent_no_wait", "rung_at"), [(False, 31), (True, 1)])
def test_an_operator_added_below_a_single_level_queue_makes_the_tier_rules_apply(
    no_agent_no_wait, rung_at
):
    members = [{"operator": "901", "penalty": 1}, {"operator": "902", "penalty": 1}]
    tiers = {"wait": 30, "no_agent_no_wait": no_agent_no_wait}
    r = run(centre("linear", members, n=2, tier_rules=tiers))
    r.at(
        0,
        lambda now: r.acd.add_operator(
            now, {"id": "905", "extension": "905"}, status="break", queues=["q"]
        ),
    )
    r.arrive(1, "c1", "q")
    r.run(40)
    assert r.rang("c1") == [(rung_at, "901")]


def test_a_filed_callback_reaches_the_next_level_after_the_tier_wait():
    r = run(centre("linear", TWO_LEVELS, n=2, tier_rules={"wait": 30}), {"901": LONG_TALK})
    r.arrive(0, "c0", "q")
    r.at(3, lambda now: r.acd.file_callback(now, "cb1", "q", caller="+79161112233"))
    r.run(60)
    due = [(t, x.operator_id) for t, x in r.of(d.CallbackDue, "cb1")]
    assert due == [(33, "902")]
