"""Schedule: the pure time decision, strict formats, and calls on the simulator."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from flowengine.errors import ScenarioError
from flowengine.scenario.loader import load_scenario_data
from flowengine.testing.harness import run_scenario
from flowengine.testing.script import CallerScript
from nodes.schedule import ScheduleParams, schedule_state

UTC = dt.UTC
MSK = ZoneInfo("Europe/Moscow")
OFFICE: dict[str, Any] = {
    "timezone": "Europe/Moscow",
    "weekly": {
        "mon": ["09:00-18:00"],
        "tue": ["09:00-13:00", "14:00-18:00"],
        "wed": ["09:00-18:00"],
        "thu": ["09:00-18:00"],
        "fri": ["09:00-17:00"],
        "sat": ["22:00-02:00"],
    },
    "holidays": ["2026-11-04", {"date": "--01-07", "name": "Christmas"}, "--02-29"],
    "exceptions": [
        {"date": "2026-12-31", "hours": ["09:00-15:00"]},
        {"date": "2026-11-25", "hours": []},
        {"date": "--01-07", "hours": ["10:00-12:00"]},
        {"date": "2027-01-07", "hours": []},
    ],
}


def state(params: dict[str, Any], when: dt.datetime) -> str:
    return schedule_state(ScheduleParams.model_validate(params), when)


def msk(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=MSK)


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (msk(2026, 11, 23, 8, 59), "closed"),  # Monday before opening
        (msk(2026, 11, 23, 9, 0), "open"),
        (msk(2026, 11, 23, 17, 59, 59), "open"),
        (msk(2026, 11, 23, 18, 0), "closed"),  # the end is exclusive
        (msk(2026, 11, 24, 13, 30), "closed"),  # Tuesday lunch break
        (msk(2026, 11, 24, 14, 0), "open"),
        (msk(2026, 11, 27, 17, 30), "closed"),  # Friday closes at 17:00
        (msk(2026, 11, 22, 12, 0), "closed"),  # Sunday is not listed: closed
    ],
)
def test_weekly_hours(when: dt.datetime, expected: str) -> None:
    assert state(OFFICE, when) == expected


def test_overnight_range_belongs_to_the_day_it_starts() -> None:
    assert state(OFFICE, msk(2026, 11, 28, 21, 59)) == "closed"  # Saturday
    assert state(OFFICE, msk(2026, 11, 28, 23, 30)) == "open"
    assert state(OFFICE, msk(2026, 11, 29, 1, 59)) == "open"  # Sunday morning, Saturday's range
    assert state(OFFICE, msk(2026, 11, 29, 2, 0)) == "closed"
    # Friday has no overnight range, so Saturday early morning is closed.
    assert state(OFFICE, msk(2026, 11, 28, 1, 0)) == "closed"


def test_overnight_range_runs_into_a_holiday() -> None:
    params = {"weekly": {"sat": ["22:00-02:00"]}, "holidays": ["2026-11-29"]}
    assert state(params, msk(2026, 11, 29, 1, 0)) == "open"
    assert state(params, msk(2026, 11, 29, 3, 0)) == "holiday"
    # A holiday on the day a range starts cancels the range, night included.
    params = {"weekly": {"sat": ["22:00-02:00"]}, "holidays": ["2026-11-28"]}
    assert state(params, msk(2026, 11, 28, 23, 0)) == "holiday"
    assert state(params, msk(2026, 11, 29, 1, 0)) == "closed"


def test_range_to_midnight_and_whole_day() -> None:
    params = {"weekly": {"mon": ["20:00-00:00"], "tue": ["00:00-24:00"]}}
    assert state(params, msk(2026, 11, 23, 23, 59)) == "open"
    assert state(params, msk(2026, 11, 24, 0, 0)) == "open"  # Tuesday's own range
    assert state(params, msk(2026, 11, 24, 23, 59)) == "open"
    assert state(params, msk(2026, 11, 25, 0, 0)) == "closed"


def test_holidays_fixed_and_yearly() -> None:
    assert state(OFFICE, msk(2026, 11, 4, 12, 0)) == "holiday"  # a Wednesday
    assert state(OFFICE, msk(2027, 11, 4, 12, 0)) == "open"  # fixed date: that year only
    assert state(OFFICE, msk(2028, 2, 29, 12, 0)) == "holiday"  # --02-29 in a leap year
    assert state(OFFICE, msk(2027, 3, 1, 12, 0)) == "open"


def test_exception_beats_holiday_and_weekly_hours() -> None:
    # --01-07 is a holiday, but the yearly exception opens 10:00-12:00.
    assert state(OFFICE, msk(2026, 1, 7, 11, 0)) == "open"
    assert state(OFFICE, msk(2026, 1, 7, 13, 0)) == "closed"  # not "holiday": the exception rules
    # A dated exception beats the yearly one: closed all day in 2027.
    assert state(OFFICE, msk(2027, 1, 7, 11, 0)) == "closed"
    # Short day on a Thursday, and a weekday closed by an empty exception.
    assert state(OFFICE, msk(2026, 12, 31, 14, 59)) == "open"
    assert state(OFFICE, msk(2026, 12, 31, 15, 0)) == "closed"
    assert state(OFFICE, msk(2026, 11, 25, 12, 0)) == "closed"


def test_zone_conversion_from_a_utc_instant() -> None:
    # 05:59 UTC is 08:59 in Moscow (UTC+3): closed; 06:00 UTC is 09:00: open.
    assert state(OFFICE, dt.datetime(2026, 11, 23, 5, 59, tzinfo=UTC)) == "closed"
    assert state(OFFICE, dt.datetime(2026, 11, 23, 6, 0, tzinfo=UTC)) == "open"
    # Monday 01:00 in Moscow is still Sunday 22:00 UTC: the local date decides.
    assert (
        state(
            {**OFFICE, "weekly": {"mon": ["00:00-02:00"]}},
            dt.datetime(2026, 11, 22, 22, 0, tzinfo=UTC),
        )
        == "open"
    )
    # Without a timezone the instant is read in its own zone.
    local = {"weekly": {"mon": ["09:00-18:00"]}}
    assert state(local, dt.datetime(2026, 11, 23, 6, 0, tzinfo=UTC)) == "closed"
    assert state(local, dt.datetime(2026, 11, 23, 6, 0, tzinfo=UTC).astimezone(MSK)) == "open"


def test_dst_spring_forward_skipped_time_is_never_open() -> None:
    # Berlin, Sunday 2026-03-29: 02:00 CET jumps to 03:00 CEST at 01:00 UTC.
    params = {"timezone": "Europe/Berlin", "weekly": {"sun": ["02:30-03:30"]}}
    assert state(params, dt.datetime(2026, 3, 29, 0, 59, tzinfo=UTC)) == "closed"  # 01:59 CET
    assert state(params, dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC)) == "open"  # 03:00 CEST
    assert state(params, dt.datetime(2026, 3, 29, 1, 29, tzinfo=UTC)) == "open"
    assert state(params, dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC)) == "closed"  # 03:30 CEST


def test_dst_fall_back_repeated_hour_is_open_twice() -> None:
    # Berlin, Sunday 2026-10-25: 03:00 CEST falls back to 02:00 CET at 01:00 UTC.
    params = {"timezone": "Europe/Berlin", "weekly": {"sun": ["02:00-03:00"]}}
    assert state(params, dt.datetime(2026, 10, 24, 23, 59, tzinfo=UTC)) == "closed"  # 01:59 CEST
    for hour, minute in ((0, 0), (0, 59), (1, 0), (1, 59)):  # 02:xx CEST, then 02:xx CET
        assert state(params, dt.datetime(2026, 10, 25, hour, minute, tzinfo=UTC)) == "open"
    assert state(params, dt.datetime(2026, 10, 25, 2, 0, tzinfo=UTC)) == "closed"  # 03:00 CET


def test_dst_in_new_york() -> None:
    # 2026-03-08, a Sunday: 02:00 EST -> 03:00 EDT. 09:00 EDT is 13:00 UTC, not 14:00.
    params = {
        "timezone": "America/New_York",
        "weekly": {"mon": ["09:00-17:00"], "sun": ["09:00-17:00"]},
    }
    assert state(params, dt.datetime(2026, 3, 8, 12, 59, tzinfo=UTC)) == "closed"
    assert state(params, dt.datetime(2026, 3, 8, 13, 0, tzinfo=UTC)) == "open"
    assert state(params, dt.datetime(2026, 3, 7, 13, 0, tzinfo=UTC)) == "closed"  # Saturday


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        state(OFFICE, dt.datetime(2026, 11, 23, 12, 0))


@pytest.mark.parametrize(
    ("params", "where", "message"),
    [
        ({"weekly": {"mon": ["9-18"]}}, ("weekly", "mon", 0), "'9-18' is not HH:MM-HH:MM"),
        ({"weekly": {"mon": ["09:00-25:00"]}}, ("weekly", "mon", 0), "outside 00:00..24:00"),
        ({"weekly": {"tue": ["08:00-09:00", "10:00-10:00"]}}, ("weekly", "tue", 1), "same time"),
        ({"weekly": {"monday": ["09:00-18:00"]}}, ("weekly", "monday"), "Extra inputs"),
        ({"holidays": ["01-07"]}, ("holidays", 0, "date"), "--MM-DD for every year"),
        ({"holidays": [{"date": "2026-02-30"}]}, ("holidays", 0, "date"), "not a valid date"),
        ({"holidays": ["--13-01"]}, ("holidays", 0, "date"), "not a valid date"),
        ({"exceptions": [{"date": "2026-01-01"}]}, ("exceptions", 0, "hours"), "required"),
        ({"timezone": "Mars/Olympus"}, ("timezone",), "unknown time zone 'Mars/Olympus'"),
        (
            {
                "exceptions": [
                    {"date": "--01-01", "hours": []},
                    {"date": "--01-01", "hours": ["10:00-11:00"]},
                ]
            },
            (),
            "exceptions[1]: date '--01-01' is already in exceptions[0]",
        ),
    ],
)
def test_bad_params_name_the_field(
    params: dict[str, Any], where: tuple[Any, ...], message: str
) -> None:
    with pytest.raises(ValidationError) as info:
        ScheduleParams.model_validate(params)
    errors = info.value.errors()
    assert len(errors) == 1
    assert tuple(errors[0]["loc"]) == where
    assert message in errors[0]["msg"]


# ---- whole calls on the simulator -------------------------------------------------------------


def office_scenario(schedule: dict[str, Any]) -> Any:
    return load_scenario_data(
        {
            "schema": 1,
            "id": "office",
            "timezone": "Europe/Moscow",
            "nodes": [
                {"id": "start", "type": "start", "exits": {"next": "hours"}},
                {
                    "id": "hours",
                    "type": "schedule",
                    "params": schedule,
                    "exits": {"open": "welcome", "closed": "after_hours", "holiday": "festive"},
                },
                {"id": "welcome", "type": "say", "params": {"text": "Welcome"}},
                {"id": "after_hours", "type": "say", "params": {"text": "We are closed"}},
                {"id": "festive", "type": "say", "params": {"text": "Happy holidays"}},
            ],
        }
    )


def test_call_follows_the_schedule_in_the_scenario_zone() -> None:
    # No timezone param: the scenario's zone (Moscow) is used.
    schedule = {k: v for k, v in OFFICE.items() if k != "timezone"}
    scenario = office_scenario(schedule)
    cases = [
        (dt.datetime(2026, 11, 23, 6, 30, tzinfo=UTC), "welcome", "Welcome"),  # Mon 09:30 MSK
        (dt.datetime(2026, 11, 23, 5, 30, tzinfo=UTC), "after_hours", "We are closed"),  # 08:30 MSK
        (dt.datetime(2026, 11, 4, 9, 0, tzinfo=UTC), "festive", "Happy holidays"),
        (dt.datetime(2026, 11, 28, 21, 30, tzinfo=UTC), "welcome", "Welcome"),  # Sun 00:30 MSK
    ]
    for at, node, prompt in cases:
        trace = run_scenario(scenario, CallerScript(), at=at)
        assert trace.path == ["start", "hours", node], at
        assert trace.exits[1] == {
            "node": "hours",
            "exit": node.replace("welcome", "open")
            .replace("after_hours", "closed")
            .replace("festive", "holiday"),
        }
        assert trace.prompts == [prompt]


def test_call_reads_the_params_zone_over_the_scenario_zone() -> None:
    # 10:00 in Moscow is 02:00 in New York: closed there.
    scenario = office_scenario({"timezone": "America/New_York", "weekly": {"mon": ["09:00-18:00"]}})
    trace = run_scenario(scenario, CallerScript(), at=dt.datetime(2026, 11, 23, 10, 0, tzinfo=MSK))
    assert trace.path[-1] == "after_hours"
    trace = run_scenario(scenario, CallerScript(), at=dt.datetime(2026, 11, 23, 18, 0, tzinfo=MSK))
    assert trace.path[-1] == "welcome"  # 10:00 in New York


def test_loader_reports_every_bad_field_with_node_and_path() -> None:
    with pytest.raises(ScenarioError) as info:
        office_scenario(
            {"weekly": {"mon": ["9-18"], "fri": ["09:00-17:00", "18:00"]}, "holidays": ["07.01"]}
        )
    found = {(p.node_id, p.path) for p in info.value.problems}
    assert found == {
        ("hours", "nodes[1].params.weekly.mon[0]"),
        ("hours", "nodes[1].params.weekly.fri[1]"),
        ("hours", "nodes[1].params.holidays[0]"),  # the shorthand text itself
    }
    assert "'9-18' is not HH:MM-HH:MM" in str(info.value)
