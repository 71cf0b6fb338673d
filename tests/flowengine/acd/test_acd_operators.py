"""Operator run-time state: the state table, timing, history."""

from __future__ import annotations

import pytest

from flowengine.acd.model import OperatorSpec
from flowengine.acd.operators import (
    TRANSITIONS,
    IllegalTransition,
    OperatorRuntime,
    OperatorState,
    StatusTable,
)
from flowengine.errors import UsageError

S = OperatorState
TABLE = StatusTable({"available": True, "not_available": False, "break": False, "training": False})


def make(now: float = 0.0) -> OperatorRuntime:
    return OperatorRuntime(OperatorSpec(id="901", extension="901"), now, TABLE)


def test_state_table_is_the_documented_cycle():
    assert TRANSITIONS == {
        S.IDLE: {S.RINGING, S.TALKING},
        S.RINGING: {S.IDLE, S.TALKING},
        S.TALKING: {S.WRAP_UP, S.IDLE},
        S.WRAP_UP: {S.IDLE},
    }


@pytest.mark.parametrize(
    ("start", "to"), [(S.IDLE, S.WRAP_UP), (S.WRAP_UP, S.TALKING), (S.TALKING, S.RINGING)]
)
def test_illegal_transitions_raise(start, to):
    op = make()
    path = {S.IDLE: [], S.TALKING: [S.TALKING], S.WRAP_UP: [S.TALKING, S.WRAP_UP]}[start]
    for st in path:
        op.set_state(0, st)
    with pytest.raises(
        IllegalTransition, match=f"operator '901': cannot go from {start.value} to {to.value}"
    ):
        op.set_state(1, to)


def test_time_in_statuses_and_states_accumulates():
    op = make(0)
    op.set_status(10, "break", "lunch", TABLE)
    op.set_status(70, "available", None, TABLE)
    op.set_state(100, S.RINGING)
    op.set_state(104, S.TALKING)
    op.set_state(164, S.WRAP_UP)
    op.set_state(174, S.IDLE)
    op.set_state(200, S.RINGING)
    assert op.time_in("break", 250) == 60
    assert op.time_in("available", 250) == 10 + 180
    assert op.time_in("ringing", 250) == 4 + 50  # current stint included
    assert op.time_in("talking", 250) == 60
    assert op.time_in("wrap_up", 250) == 10
    assert op.time_in("idle", 250) == 100 + 26
    assert op.last_call_end == 164  # the conversation's end, not the wrap-up's
    assert op.since(250) == (180, 50)


def test_unknown_status_is_refused_and_nothing_changes():
    op = make()
    with pytest.raises(
        UsageError,
        match="unknown status 'holiday' \\(known: available, break, not_available, training\\)",
    ):
        op.set_status(5, "holiday", None, TABLE)
    assert op.status == "available" and op.time_in("available", 5) == 5


def test_answered_history_for_windows():
    op = make()
    for t in (10, 20, 3700, 3800, 90000):
        op.record_answer(t)
    assert op.calls_between(0, 3600) == 2
    assert op.calls_between(20, 3800) == 2  # half-open: (20, 3800]
    assert op.calls_between(90000 - 86400, 90000) == 3
    assert op.answered == 5 and op.consecutive_misses == 0


def test_misses_count_in_a_row_until_an_answer():
    op = make()
    assert [op.record_miss(r) for r in ("no_answer", "busy", "rejected")] == [1, 2, 3]
    op.record_answer(5)
    assert op.record_miss("no_answer") == 1
    assert op.missed == {"no_answer": 2, "busy": 1, "rejected": 1}
