"""Menu: branch on a value by exact value, list, prefix, numeric range or regex."""

from __future__ import annotations

from typing import Any

import pytest
from scenario_builders import doc, events, load, node, run, start

from flowengine.errors import ScenarioError


def menu_doc(value: str, cases: list[dict[str, Any]], **variables: Any) -> dict[str, Any]:
    return doc([start("m"), node("m", "menu", {"value": value, "cases": cases})], variables=variables or None)


def branch(value: str, cases: list[dict[str, Any]], **variables: Any) -> str:
    """The exit the menu takes for `value` (an expression)."""
    trace = run(menu_doc(value, cases, **variables))
    (taken,) = [e["exit"] for e in trace.exits if e["node"] == "m"]
    return taken


@pytest.mark.parametrize(
    ("value", "case", "matches"),
    [
        ("'+74951230001'", "+74951230001", True),
        ("'+74951230001'", "+74951230002", False),
        ("'74951230001'", 74951230001, True),  # text equals the number it spells
        ("5", "5", True),
        ("5", "5.0", True),
        ("'sales'", "Sales", False),  # text comparison is exact
        ("''", None, False),
        ("null", None, True),
        ("true", True, True),
    ],
)
def test_equals(value: str, case: Any, matches: bool) -> None:
    assert branch(value, [{"equals": case, "exit": "hit"}]) == ("hit" if matches else "other")


def test_in_list() -> None:
    cases = [{"in": ["+78125550002", "+78125550003", 100], "exit": "spb"}]
    assert branch("'+78125550003'", cases) == "spb"
    assert branch("'100'", cases) == "spb"
    assert branch("'+78125550004'", cases) == "other"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("'+78005553535'", "toll_free"), ("78005553535", "other"), ("'+7800'", "toll_free"), ("'+780'", "other")],
)
def test_prefix(value: str, expected: str) -> None:
    assert branch(value, [{"prefix": "+7800", "exit": "toll_free"}]) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("100", "internal"),  # both ends are inclusive
        ("199", "internal"),
        ("150.5", "internal"),
        ("'150'", "internal"),  # numeric text counts
        ("99.9", "other"),
        ("200", "other"),
        ("'abc'", "other"),  # not a number: no match, and no error
        ("''", "other"),
        ("true", "other"),
        ("null", "other"),
    ],
)
def test_range(value: str, expected: str) -> None:
    trace = run(menu_doc(value, [{"range": [100, 199], "exit": "internal"}]))
    assert [e["exit"] for e in trace.exits if e["node"] == "m"] == [expected]
    assert events(trace, "node_failed") == []


@pytest.mark.parametrize(
    ("regex", "value", "expected"),
    [
        (r"9\d{2}", "'+79161234567'", "mobile"),  # search, not full match
        (r"^9\d{2}", "'+79161234567'", "other"),
        (r"^\+7(9\d{9})$", "'+79161234567'", "mobile"),
        (r"^\+7(9\d{9})$", "'+791612345678'", "other"),
        (r"^\d+$", "12345", "mobile"),  # numbers are matched as their text
    ],
)
def test_regex_search_semantics(regex: str, value: str, expected: str) -> None:
    assert branch(value, [{"regex": regex, "exit": "mobile"}]) == expected


def test_first_matching_case_wins_and_exit_names_can_be_shared() -> None:
    cases = [
        {"equals": "+74951230001", "exit": "moscow"},
        {"prefix": "+7495", "exit": "moscow"},
        {"prefix": "+7", "exit": "russia"},
        {"regex": "^\\+74951", "exit": "never"},
    ]
    scenario = load(menu_doc("X", cases, X=""))
    assert scenario.nodes["m"].all_exits == ("moscow", "russia", "never", "other")
    assert branch("'+74951230001'", cases) == "moscow"
    assert branch("'+74957777777'", cases) == "moscow"
    assert branch("'+78125550002'", cases) == "russia"
    assert branch("'+18125550002'", cases) == "other"


def test_branches_on_caller_and_called_numbers_and_variables() -> None:
    data = doc(
        [
            start("m"),
            node(
                "m",
                "menu",
                {"value": "callerid() & '>' & calledid()", "cases": [{"regex": "^\\+7916.*>100$", "exit": "vip"}]},
                vip="v",
                other="o",
            ),
            node("v", "assign", {"assignments": [{"variable": "R", "value": "'vip'"}]}),
            node("o", "assign", {"assignments": [{"variable": "R", "value": "'other'"}]}),
        ]
    )
    assert run(data, caller="+79161112233", called="100").variables["R"] == "vip"
    assert run(data, caller="+79261112233", called="100").variables["R"] == "other"


def test_value_expression_error_takes_the_error_exit() -> None:
    data = doc(
        [
            start("m"),
            node("m", "menu", {"value": "1 / ZERO", "cases": [{"equals": 1, "exit": "one"}]}, one="x", other="x", error="oops"),
            node("oops", "assign", {"assignments": [{"variable": "R", "value": "'failed'"}]}),
        ],
        variables={"ZERO": 0},
    )
    trace = run(data)
    assert trace.variables["R"] == "failed"
    assert events(trace, "node_failed")[0]["code"] == "expression"


def test_no_cases_always_other() -> None:
    assert branch("'anything'", []) == "other"


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ({"equals": "1", "prefix": "1", "exit": "a"}, "exactly one"),
        ({"exit": "a"}, "exactly one"),
        ({"regex": "([a-z", "exit": "a"}, "bad regex"),
        ({"range": [10, 1], "exit": "a"}, "empty"),
        ({"range": [1, 2, 3], "exit": "a"}, ""),
        ({"equals": "1", "exit": "other"}, "reserved"),
        ({"equals": "1", "exit": "has space"}, "pattern"),
        ({"equals": "1"}, "missing"),
        ({"regex": "a" * 1001, "exit": "a"}, "at most 1000"),
        ({"regex": "[ab]{1000}" * 5 + "x{1000}", "exit": "a"}, "too large once compiled"),
    ],
    ids=[
        "two kinds", "no kind", "bad regex", "reversed range", "range of three", "reserved exit", "bad exit name",
        "no exit", "long regex", "large regex",
    ],
)
def test_bad_case_is_a_load_error_with_path(case: dict[str, Any], words: str) -> None:
    cases = [{"equals": "ok", "exit": "fine"}, case]
    with pytest.raises(ScenarioError) as info:
        load(menu_doc("1", cases))
    (problem,) = info.value.problems
    assert problem.node_id == "m"
    assert problem.path.startswith("nodes[1].params.cases[1]"), problem.path
    assert words in problem.message


def test_exit_not_declared_by_a_case_is_rejected() -> None:
    data = doc([start("m"), node("m", "menu", {"value": "1", "cases": [{"equals": 1, "exit": "one"}]}, two="m")])
    with pytest.raises(ScenarioError) as info:
        load(data)
    assert info.value.problems[0].path == "nodes[1].exits.two"


# ---- hostile input: regex cost ------------------------------------------------------------

HOSTILE = [{"regex": f"a[ab]{{{n}}}c", "exit": f"e{n}"} for n in range(900, 1000, 10)]


def hostile_menu(value: str) -> dict[str, Any]:
    return doc(
        [
            start("m"),
            node("m", "menu", {"value": value, "cases": HOSTILE}, error="failed"),
            node("failed", "assign", {"assignments": [{"variable": "F", "value": "1"}]}),
        ],
        variables={"F": 0, "repeat": "ab" * 50_000},
    )


@pytest.mark.parametrize(("length", "words"), [(100_000, "too long to match"), (5_000, "steps")])
def test_hostile_regex_menu_fails_fast_and_does_not_stall_another_call(length: int, words: str) -> None:
    import asyncio
    import time

    from flowengine.runtime.engine import Engine
    from flowengine.runtime.virtual_loop import run_virtual
    from flowengine.testing.harness import trace_of
    from flowengine.testing.script import CallerScript
    from telephony_adapters.sim import SimBackend

    hostile = load(hostile_menu(f"substr(repeat, 0, {length})"))
    gaps: list[float] = []

    async def main() -> Any:
        async def other_call() -> None:
            last = time.perf_counter()
            for _ in range(200):
                await asyncio.sleep(0)
                now = time.perf_counter()
                gaps.append(now - last)
                last = now

        engine = Engine(keep_events=True)
        engine.publish(hostile, default=True)
        other = asyncio.ensure_future(other_call())
        backend = SimBackend(engine)
        _call, task = backend.place_call(CallerScript(caller="+7", called="100"))
        ctx = await task
        await other
        return trace_of(ctx)

    started = time.perf_counter()
    trace = run_virtual(main())
    assert time.perf_counter() - started < 2.0
    (failed,) = events(trace, "node_failed")
    assert failed["code"] == "regex_limit" and words in failed["message"], failed
    assert trace.variables["F"] == 1  # the error exit was followed
    assert max(gaps) < 0.25  # never held up for long (7 s before the limits; generous for a loaded machine)


def test_regex_within_limits_still_matches_a_long_value() -> None:
    cases = [{"regex": "x$", "exit": "end"}]
    assert branch("v", cases, v="a" * 9_999 + "x") == "end"


def test_a_case_exit_that_is_not_text_is_a_validation_error_not_a_crash():
    from pydantic import ValidationError

    from nodes.menu import MenuCase

    with pytest.raises(ValidationError) as e:
        MenuCase.model_validate({"exit": [], "in": ["1"]})
    assert e.value.errors()[0]["loc"] == ("exit",)
