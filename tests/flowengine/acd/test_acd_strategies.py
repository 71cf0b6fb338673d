"""Every distribution strategy on a fake clock: who rang, when, who got the call."""

from __future__ import annotations

import pytest

from flowengine.acd import decisions as d
from flowengine.acd.core import ACD
from flowengine.acd.model import Centre
from flowengine.acd.strategies import STRATEGIES
from flowengine.acd.testing import Behaviour, VirtualCentre

NEVER = Behaviour(answer_after=None)
QUICK = Behaviour(answer_after=1, talk=10)


def ops(n: int, **extra: dict) -> list[dict]:
    out = []
    for i in range(1, n + 1):
        o = {"id": str(900 + i), "extension": str(900 + i)}
        o.update(extra.get(str(900 + i), {}))
        out.append(o)
    return out


# ------------------------------------------------------------------ registry
def test_registry_has_every_strategy_with_a_russian_name():
    expected = {
        "ring_all",
        "sequential",
        "cumulative",
        "random",
        "fewest_calls",
        "longest_idle",
        "priority",
        "round_robin",
        "linear",
        "skills",
        "personal_manager",
        "wrandom",
        "rrordered",
    }
    assert set(STRATEGIES) == expected
    for cls in STRATEGIES.values():
        assert cls.title_ru and cls.__doc__ and cls.__module__.split(".")[-1]


# ------------------------------------------------------------------ ring_all
def test_ring_all_rings_everyone_and_first_answer_wins(make_centre, make_run):
    r = make_run(
        make_centre("ring_all"),
        {"901": NEVER, "902": Behaviour(answer_after=2), "903": Behaviour(answer_after=5)},
    )
    r.arrive(0, "c1", "q")
    r.run(30)
    assert r.rang("c1") == [(0, "901"), (0, "902"), (0, "903")]
    assert r.connected("c1") == (2, "902")
    stops = {(t, x.operator_id, x.reason) for t, x in r.of(d.StopRinging)}
    assert stops == {(2, "901", "answered_elsewhere"), (2, "903", "answered_elsewhere")}
    assert not r.of(d.OfferMissed)


def test_ring_all_retries_after_a_pause_when_nobody_answers(make_centre, make_run):
    r = make_run(make_centre("ring_all", ring_timeout=10, retry=5), default=NEVER)
    r.arrive(0, "c1", "q")
    r.run(16)
    # round 1 at 0, every leg times out at 10, retry pause 5 s, round 2 at 15
    assert [t for t, _ in r.rang("c1")] == [0, 0, 0, 15, 15, 15]
    assert len(r.of(d.OfferMissed)) == 3


# ------------------------------------------------------------------ sequential
def test_sequential_rings_groups_one_after_another(make_centre, make_run):
    c = make_centre(
        "sequential",
        {"steps": [[901, 902, 903], [904, 905, 906, 907]], "step_timeout": 15},
        n=7,
    )
    r = make_run(c, {"905": Behaviour(answer_after=3)}, default=NEVER)
    r.arrive(0, "c1", "q")
    r.run(60)
    assert r.rang("c1") == [
        (0, "901"),
        (0, "902"),
        (0, "903"),
        (15, "904"),
        (15, "905"),
        (15, "906"),
        (15, "907"),
    ]
    assert r.connected("c1") == (18, "905")
    # the first group stopped when its step ended, before the second rang
    first = [(t, x.operator_id) for t, x in r.of(d.StopRinging) if x.reason == "no_answer"]
    assert first == [(15, "901"), (15, "902"), (15, "903")]


def test_sequential_skips_a_group_with_nobody_free(make_centre, make_run):
    c = make_centre("sequential", {"steps": [["901", "902"], ["903"]]}, n=3)
    r = make_run(c, default=QUICK)
    r.status(0, "901", "break", "lunch")
    r.status(0, "902", "not_available")
    r.arrive(1, "c1", "q")
    r.run(5)
    assert r.rang("c1") == [(1, "903")]


def test_sequential_steps_accept_extensions(make_centre):
    c = make_centre(
        "sequential",
        {"steps": [["e1"], ["e2"]]},
        operators=[{"id": "anna", "extension": "e1"}, {"id": "boris", "extension": "e2"}],
    )
    r = VirtualCentre(ACD(c), default=NEVER)
    r.arrive(0, "c1", "q")
    r.run(11)
    assert r.rang("c1") == [(0, "anna"), (10, "boris")]


# ------------------------------------------------------------------ cumulative
def test_cumulative_adds_one_every_interval_without_dropping(make_centre, make_run):
    c = make_centre("cumulative", {"interval": 5}, n=4, ring_timeout=10)
    r = make_run(c, {"903": Behaviour(answer_after=1)}, default=NEVER)
    r.arrive(0, "c1", "q")
    r.run(40)
    assert r.rang("c1") == [(0, "901"), (5, "902"), (10, "903")]
    assert r.connected("c1") == (11, "903")
    # nobody was stopped before the answer; 901 and 902 rang until 11
    stops = [(t, x.operator_id, x.reason) for t, x in r.of(d.StopRinging)]
    assert stops == [(11, "901", "answered_elsewhere"), (11, "902", "answered_elsewhere")]


def test_cumulative_legs_end_together_at_the_total(make_centre, make_run):
    c = make_centre("cumulative", {"interval": 5, "total": 12}, n=4)
    r = make_run(c, default=NEVER)
    r.arrive(0, "c1", "q")
    r.run(12)
    assert r.rang("c1") == [(0, "901"), (5, "902"), (10, "903")]
    misses = [(t, x.operator_id) for t, x in r.of(d.OfferMissed)]
    assert misses == [(12, "901"), (12, "902"), (12, "903")]


def test_cumulative_adds_the_next_at_once_if_all_ringing_failed(make_centre, make_run):
    c = make_centre("cumulative", {"interval": 5}, n=3)
    r = make_run(c, {"901": Behaviour(fail="rejected", fail_after=1)}, default=NEVER)
    r.arrive(0, "c1", "q")
    r.run(3)
    assert r.rang("c1") == [(0, "901"), (1, "902")]


# ------------------------------------------------------------------ random
def _random_order(seed: int) -> list[str]:
    c = Centre.model_validate(
        {
            "operators": ops(5),
            "queues": [
                {
                    "id": "q",
                    "strategy": "random",
                    "strategy_params": {"attempt_timeout": 4},
                    "members": [str(901 + i) for i in range(5)],
                }
            ],
        }
    )
    r = VirtualCentre(ACD(c, seed=seed), default=NEVER)
    r.arrive(0, "c1", "q")
    r.run(19)
    rang = r.rang("c1")
    assert [t for t, _ in rang] == [0, 4, 8, 12, 16]  # one at a time, per-attempt timer
    return [op for _, op in rang]


def test_random_rings_one_random_operator_per_attempt_reproducibly():
    a = _random_order(7)
    assert sorted(a) == ["901", "902", "903", "904", "905"]  # nobody twice in a round
    assert _random_order(7) == a  # seeded: reproducible
    assert any(_random_order(s) != a for s in range(8, 14))  # and really random


def test_random_max_attempts_ends_the_round(make_centre, make_run):
    c = make_centre("random", {"attempt_timeout": 4, "max_attempts": 2}, n=5, retry=100)
    r = make_run(c, default=NEVER)
    r.arrive(0, "c1", "q")
    r.run(50)
    assert [t for t, _ in r.rang("c1")] == [0, 4]


# ------------------------------------------------------------------ fewest_calls
def _history(c: dict, plan: list[tuple[float, str]], until: float) -> VirtualCentre:
    """Give operators answered calls at the given times (restricted calls)."""
    r = VirtualCentre(ACD(c), default=Behaviour(answer_after=0.5, talk=5))
    for i, (t, op) in enumerate(plan):
        r.arrive(t, f"h{i}", "q", operators=[op])
    r.run(until)
    return r


def test_fewest_calls_day_window(make_centre):
    c = make_centre("fewest_calls", {"window": "day"}, n=3)
    plan = [(0, "901"), (10, "901"), (20, "901"), (3000, "902"), (30, "903"), (40, "903")]
    r = _history(c, plan, 3500)
    r.arrive(4000, "c1", "q")
    r.run(4010)
    assert r.rang("c1") == [(4000, "902")]  # 1 call, fewer than 3 and 2


def test_fewest_calls_hour_window_forgets_older_calls(make_centre):
    c = make_centre("fewest_calls", {"window": "hour"}, n=3)
    plan = [(0, "901"), (10, "901"), (20, "901"), (3000, "902"), (30, "903"), (3100, "903")]
    r = _history(c, plan, 3500)
    r.arrive(4000, "c1", "q")
    r.run(4010)
    # in the last hour (400..4000]: 901 none, 902 one, 903 one
    assert r.rang("c1") == [(4000, "901")]


def test_fewest_calls_hourly_recalculation_freezes_counts_for_the_hour(make_centre):
    c = make_centre("fewest_calls", {"window": "day", "recalc": "hourly"}, n=2)
    # before 3600 both have one call; after 3600 901 takes two more
    plan = [(10, "901"), (20, "902"), (3700, "901"), (3710, "901")]
    r = _history(c, plan, 3800)
    r.arrive(3900, "c1", "q")
    r.run(3910)
    # counts taken at 3600: 901=1, 902=1 -> tie -> longest idle: 902 (ended at ~25.5)
    assert r.rang("c1") == [(3900, "902")]
    r.arrive(7300, "c2", "q")  # recalculated at 7200: 901 has 3 calls, 902 has 2
    r.run(7310)
    assert r.rang("c2") == [(7300, "902")]


def test_fewest_calls_every_call_uses_live_counts(make_centre):
    c = make_centre("fewest_calls", {"window": "day", "recalc": "every_call"}, n=2)
    plan = [(10, "901"), (20, "902"), (3700, "902"), (3710, "902")]
    r = _history(c, plan, 3800)
    r.arrive(3900, "c1", "q")
    r.run(3910)
    assert r.rang("c1") == [(3900, "901")]


# ------------------------------------------------------------------ longest_idle
def test_longest_idle_picks_the_operator_whose_last_call_ended_longest_ago(make_centre):
    c = make_centre("longest_idle", n=3)
    r = VirtualCentre(
        ACD(c),
        {
            "901": Behaviour(answer_after=1, talk=30),  # call ends at 31
            "902": Behaviour(answer_after=1, talk=5),  # call ends at 16
            "903": Behaviour(answer_after=1, talk=50),  # call ends at 71
        },
    )
    r.arrive(0, "c1", "q", operators=["901"])
    r.arrive(10, "c2", "q", operators=["902"])
    r.arrive(20, "c3", "q", operators=["903"])
    r.arrive(100, "c4", "q")
    r.run(101)
    assert r.rang("c4") == [(100, "902")]


def test_longest_idle_never_called_operators_come_first_in_list_order(make_centre, make_run):
    r = make_run(make_centre("longest_idle", n=3), default=QUICK)
    r.arrive(0, "c1", "q")
    r.arrive(1, "c2", "q")
    r.arrive(2, "c3", "q")
    r.run(3)
    assert [op for _, op in r.rang()] == ["901", "902", "903"]


# ------------------------------------------------------------------ priority
def test_priority_highest_rank_first_ties_by_longest_idle(make_centre):
    members = [
        {"operator": "901", "rank": 1},
        {"operator": "902", "rank": 5},
        {"operator": "903", "rank": 5},
        {"operator": "904", "rank": 3},
    ]
    c = make_centre("priority", n=4, members=members)
    r = VirtualCentre(ACD(c), default=Behaviour(answer_after=1, talk=10))
    r.arrive(0, "c1", "q")  # 902 (rank 5, list order among never-called)
    r.arrive(5, "c2", "q")  # 903 (rank 5, 902 busy)
    r.arrive(8, "c3", "q")  # 904 (rank 3: both rank-5 busy)
    r.arrive(30, "c4", "q")  # 902 (ended at 11) idle longer than 903 (ended at 16)
    r.run(31)
    assert r.who_got() == {"c1": "902", "c2": "903", "c3": "904", "c4": "902"}


def test_priority_hunts_down_the_ranks_on_no_answer(make_centre):
    members = [
        {"operator": "901", "rank": 1},
        {"operator": "902", "rank": 9},
        {"operator": "903", "rank": 5},
    ]
    c = make_centre("priority", n=3, members=members)
    r = VirtualCentre(ACD(c), default=NEVER)
    r.arrive(0, "c1", "q")
    r.run(25)
    assert r.rang("c1") == [(0, "902"), (10, "903"), (20, "901")]


# ------------------------------------------------------------------ round_robin
def test_round_robin_continues_after_the_last_who_got_a_call(make_centre, make_run):
    r = make_run(make_centre("round_robin", n=4), default=Behaviour(answer_after=1, talk=2))
    for i, t in enumerate([0, 10, 20, 30, 40]):
        r.arrive(t, f"c{i + 1}", "q")
    r.run(50)
    assert [r.who_got()[f"c{i}"] for i in range(1, 6)] == ["901", "902", "903", "904", "901"]


def test_round_robin_skips_unavailable_and_remembers(make_centre, make_run):
    r = make_run(make_centre("round_robin", n=4), default=Behaviour(answer_after=1, talk=2))
    r.arrive(0, "c1", "q")  # 901
    r.status(5, "902", "break", "coffee")
    r.arrive(10, "c2", "q")  # 903 (902 on break)
    r.status(15, "902", "available")
    r.arrive(20, "c3", "q")  # 904: continues after 903, not back to 902
    r.arrive(30, "c4", "q")  # wraps to 901
    r.run(40)
    assert [r.who_got()[f"c{i}"] for i in range(1, 5)] == ["901", "903", "904", "901"]


def test_round_robin_hunts_on_from_where_the_round_is(make_centre):
    c = make_centre("round_robin", n=4)
    r = VirtualCentre(ACD(c), {"903": NEVER, "904": NEVER}, Behaviour(answer_after=1, talk=2))
    r.arrive(0, "c1", "q")  # 901
    r.arrive(10, "c2", "q")  # 902
    r.arrive(20, "c3", "q")  # 903 no answer -> 904 no answer -> 901
    r.run(60)
    assert r.rang("c3") == [(20, "903"), (30, "904"), (40, "901")]


# ------------------------------------------------------------------ linear
def test_linear_always_starts_from_the_top(make_centre, make_run):
    r = make_run(make_centre("linear", n=3), default=Behaviour(answer_after=1, talk=5))
    r.arrive(0, "c1", "q")  # 901
    r.arrive(2, "c2", "q")  # 902 (901 talking)
    r.arrive(20, "c3", "q")  # 901 again: both free, the top wins
    r.run(30)
    assert r.who_got() == {"c1": "901", "c2": "902", "c3": "901"}


# ------------------------------------------------------------------ skills
SKILLED = {
    "901": {"skills": {"english": 3}},
    "902": {"skills": {"english": 9}},
    "903": {"skills": {"english": 6}},
}
WIDENING = [
    {"after": 0, "required": {"english": 8}},
    {"after": 30, "required": {"english": 5}},
    {"after": 60, "required": {}},
]


def test_skills_requirement_widens_as_the_caller_waits(make_centre):
    c = make_centre(
        "skills",
        operators=ops(3, **SKILLED),
        skills=WIDENING,
        retry_delays={"rejected": 1000},
    )
    r = VirtualCentre(ACD(c), {"903": Behaviour(fail="rejected", fail_after=1)}, NEVER)
    r.status(0, "902", "break", "lunch")
    r.status(0, "903", "break", "lunch")
    r.arrive(1, "c1", "q")
    r.status(10, "903", "available")  # level 6: not enough before 30 s of waiting
    r.run(60)
    assert r.rang("c1") == [(31, "903")]  # level >= 5 from 30 s on
    r.run(62)
    # 903 rejected and sits out its retry delay; from 60 s anybody will do
    assert r.rang("c1") == [(31, "903"), (61, "901")]


def test_skills_prefers_the_best_skilled(make_centre, make_run):
    c = make_centre(
        "skills", operators=ops(3, **SKILLED), skills=[{"after": 0, "required": {"english": 1}}]
    )
    r = make_run(c, default=NEVER)
    r.arrive(0, "c1", "q")
    r.run(25)
    assert r.rang("c1") == [(0, "902"), (10, "903"), (20, "901")]


def test_call_level_skills_override_the_queue(make_centre, make_run):
    c = make_centre("longest_idle", operators=ops(3, **SKILLED))
    r = make_run(c, default=NEVER)
    r.arrive(0, "c1", "q", skills={"english": 5})
    r.run(24)
    assert [op for _, op in r.rang("c1")] == ["902", "903"]


# ------------------------------------------------------------------ personal_manager
def _vip(**params) -> dict:
    return {
        "operators": ops(4),
        "queues": [
            {
                "id": "vip",
                "strategy": "personal_manager",
                "strategy_params": {"fallback": "linear", "fallback_after": 20, **params},
                "members": ["901", "902", "903", "904"],
                "personal_managers": {"79161234567": "903", "7495*": "904", "749512*": "902"},
                "ring_timeout": 10,
            }
        ],
    }


def test_personal_manager_by_exact_number_then_fallback():
    r = VirtualCentre(ACD(_vip()), default=NEVER)
    r.arrive(0, "c1", "vip", caller="+7 (916) 123-45-67")
    r.run(35)
    # the manager alone for 20 s, then the fallback (linear) without them
    assert r.rang("c1") == [(0, "903"), (20, "901"), (30, "902")]


def test_personal_manager_longest_prefix_wins():
    r = VirtualCentre(ACD(_vip()), default=QUICK)
    r.arrive(0, "a", "vip", caller="74951111111")
    r.arrive(0, "b", "vip", caller="74951222222")
    r.run(3)
    assert r.who_got() == {"a": "904", "b": "902"}


def test_personal_manager_not_free_means_fallback_at_once():
    r = VirtualCentre(ACD(_vip()), default=Behaviour(answer_after=1, talk=100))
    r.arrive(0, "x", "vip", operators=["903"])  # keep 903 talking
    r.arrive(5, "c1", "vip", caller="79161234567")
    r.run(10)
    assert r.rang("c1") == [(5, "901")]


def test_personal_manager_wait_for_a_busy_manager():
    r = VirtualCentre(ACD(_vip(wait_for_manager=True)), default=Behaviour(answer_after=1, talk=10))
    r.arrive(0, "x", "vip", operators=["903"])  # 903 talks 1..11
    r.arrive(5, "c1", "vip", caller="79161234567")
    r.run(20)
    assert r.rang("c1") == [(11, "903")]  # waited for them, nobody else rang


def test_personal_manager_waiting_ends_after_fallback_after():
    r = VirtualCentre(ACD(_vip(wait_for_manager=True)), default=Behaviour(answer_after=1, talk=100))
    r.arrive(0, "x", "vip", operators=["903"])  # 903 talks until 101
    r.arrive(5, "c1", "vip", caller="79161234567")
    r.run(30)
    assert r.rang("c1") == [(25, "901")]


def test_personal_manager_from_an_expression_overrides_the_table():
    r = VirtualCentre(ACD(_vip()), default=QUICK)
    r.arrive(0, "c1", "vip", caller="79161234567", manager="902")
    r.run(3)
    assert r.who_got() == {"c1": "902"}


def test_unknown_strategy_is_refused_when_building():
    from flowengine.errors import UsageError

    c = Centre.model_validate(_vip())
    acd = ACD(c)
    with pytest.raises(UsageError, match="unknown strategy 'nope'"):
        acd.call_arrived(0, "c1", "vip", strategy="nope")
