"""wrandom (random weighted by penalty) and rrordered (round robin in list order)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from flowengine.acd import decisions as d
from flowengine.acd.core import ACD
from flowengine.acd.strategies.weighted_random import weight
from flowengine.acd.testing import Behaviour, VirtualCentre

NEVER = Behaviour(answer_after=None)
QUICK = Behaviour(answer_after=1, talk=10)


def centre(strategy: str, members: list[Any], n: int = 3, **queue: Any) -> dict[str, Any]:
    ops = [{"id": str(900 + i), "extension": str(900 + i)} for i in range(1, n + 1)]
    q = {"id": "q", "strategy": strategy, "members": members, "ring_timeout": 10, "retry": 5}
    q.update(queue)
    return {"operators": ops, "queues": [q]}


def first_rung(acd: ACD, calls: int) -> list[str]:
    """Who is rung first for each of `calls` calls, each abandoned at once (no miss)."""
    got = []
    for i in range(calls):
        out = acd.call_arrived(float(i), f"c{i}", "q")
        rings = [x.operator_id for x in out if isinstance(x, d.Ring)]
        assert len(rings) == 1
        got.append(rings[0])
        acd.call_abandoned(float(i), f"c{i}")
    return got


PENALISED = [
    {"operator": "901", "penalty": 0},
    {"operator": "902", "penalty": 1},
    {"operator": "903", "penalty": 3},
]


# ------------------------------------------------------------------ wrandom
def test_weight_is_one_over_one_plus_penalty():
    assert [weight(p) for p in (0, 1, 3)] == [1.0, 0.5, 0.25]


def test_wrandom_shares_follow_the_weights():
    n = 4000
    counts = Counter(first_rung(ACD(centre("wrandom", PENALISED), seed=7), n))
    total = 1 + 0.5 + 0.25
    for op, w in (("901", 1.0), ("902", 0.5), ("903", 0.25)):
        assert abs(counts[op] / n - w / total) < 0.03, counts


def test_plain_random_takes_penalties_as_levels_not_weights():
    got = Counter(first_rung(ACD(centre("random", PENALISED), seed=7), 300))
    # every other strategy takes penalties as levels: the lowest is always first
    assert got == {"901": 300}


def test_wrandom_is_reproducible_with_the_same_seed():
    a = first_rung(ACD(centre("wrandom", PENALISED), seed=11), 50)
    b = first_rung(ACD(centre("wrandom", PENALISED), seed=11), 50)
    c = first_rung(ACD(centre("wrandom", PENALISED), seed=12), 50)
    assert a == b
    assert a != c


def test_wrandom_draws_again_among_the_untried_after_a_no_answer():
    r = VirtualCentre(ACD(centre("wrandom", PENALISED), seed=3), default=NEVER)
    r.arrive(0, "c1", "q")
    r.run(29)
    rang = r.rang("c1")
    assert [t for t, _ in rang] == [0, 10, 20]
    assert sorted(op for _, op in rang) == ["901", "902", "903"]


def test_wrandom_keeps_to_the_levels_the_tier_rules_opened():
    members = [{"operator": "901", "penalty": 0}, {"operator": "902", "penalty": 1}]
    c = centre("wrandom", members, n=2, tier_rules={"wait": 30})
    r = VirtualCentre(ACD(c, seed=1), {"901": Behaviour(answer_after=1, talk=1000)})
    r.arrive(0, "c0", "q")
    r.run(2)
    assert r.connected("c0") == (1, "901")
    r.arrive(3, "c1", "q")
    r.run(60)
    assert r.rang("c1") == [(33, "902")]


# ------------------------------------------------------------------ rrordered
def test_rrordered_goes_round_the_list_in_the_configured_order():
    r = VirtualCentre(ACD(centre("rrordered", ["903", "901", "902"])), default=QUICK)
    for i in range(5):
        r.arrive(20 * i, f"c{i}", "q")
    r.run(200)
    assert [r.connected(f"c{i}")[1] for i in range(5)] == ["903", "901", "902", "903", "901"]


def test_rrordered_remembers_the_last_one_rung_not_the_last_who_answered():
    # c1 rings 901 and the caller hangs up; nobody answered anything yet
    results = {}
    for strategy in ("rrordered", "round_robin"):
        r = VirtualCentre(ACD(centre(strategy, ["901", "902", "903"])), default=NEVER)
        r.arrive(0, "c1", "q")
        r.abandon(5, "c1")
        r.arrive(10, "c2", "q")
        r.run(15)
        results[strategy] = r.rang("c2")
    assert results["rrordered"] == [(10, "902")]
    assert results["round_robin"] == [(10, "901")]


def test_rrordered_moves_the_turn_on_past_a_member_who_let_it_ring_out():
    r = VirtualCentre(
        ACD(centre("rrordered", ["901", "902", "903"])), {"901": NEVER}, default=QUICK
    )
    r.arrive(0, "c1", "q")  # 901 rings out, 902 answers
    r.arrive(30, "c2", "q")
    r.run(60)
    assert r.rang("c1") == [(0, "901"), (10, "902")]
    assert r.rang("c2") == [(30, "903")]


def test_rrordered_skips_members_who_are_not_free_and_wraps():
    r = VirtualCentre(ACD(centre("rrordered", ["901", "902", "903"])), default=QUICK)
    r.status(0, "903", "break", "lunch")
    r.arrive(1, "c1", "q")
    r.arrive(30, "c2", "q")
    r.arrive(60, "c3", "q")
    r.run(90)
    assert [r.connected(c)[1] for c in ("c1", "c2", "c3")] == ["901", "902", "901"]
