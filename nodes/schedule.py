"""Schedule / Расписание: working hours in a time zone, holidays and exception dates.

    {"timezone": "Europe/Moscow",
     "weekly": {"mon": ["09:00-18:00"], "tue": ["09:00-13:00", "14:00-18:00"],
                "wed": ["09:00-18:00"], "thu": ["09:00-18:00"], "fri": ["09:00-17:00"],
                "sat": ["22:00-02:00"]},
     "holidays": ["2026-05-09", {"date": "--01-01", "name": "New Year"}],
     "exceptions": [{"date": "2026-12-31", "hours": ["09:00-15:00"]},
                    {"date": "2026-06-12", "hours": []}]}

Exits: "open", "closed", "holiday".

- `weekly` lists the opening ranges of each day, "HH:MM-HH:MM" (end may be
  24:00); a day left out (or `[]`) is closed. A range whose end is not after
  its start crosses midnight ("22:00-02:00") and belongs to the day it starts:
  Saturday's "22:00-02:00" keeps the line open until 02:00 on Sunday, even if
  Sunday is a holiday.
- `holidays` are dates "YYYY-MM-DD" (that day only) or "--MM-DD" (every year,
  the ISO 8601 form for a date without a year; "--02-29" only in leap years),
  as text or as `{"date": ..., "name": ...}`. A holiday closes the whole day
  and the node takes "holiday" instead of "closed".
- `exceptions` set special hours for one date (same date forms; `"hours": []`
  closes the day). An exception beats the weekly hours and a holiday on that
  date; a "YYYY-MM-DD" exception beats a "--MM-DD" one.
- `timezone` (IANA name) is where the hours are read; default: the scenario's.
  Hours are wall-clock times, so on a DST change day "01:00-04:00" lasts two or
  four real hours, and a time the clock skips is never inside a range.

`schedule_state(params, when)` is the pure decision, usable on its own.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    Field,
    GetJsonSchemaHandler,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

from flowengine.components.node import NodeType, ParamsModel
from flowengine.components.registry import registry

if TYPE_CHECKING:
    from flowengine.runtime.context import CallContext

State = Literal["open", "closed", "holiday"]
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60

_RANGE = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
_FIXED_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_YEARLY_DATE = re.compile(r"^--(\d{2})-(\d{2})$")

#: a range as minutes from the start of its day; `end` > 1440 crosses midnight
Span = tuple[int, int]
#: a date as (year, month, day); year None for "--MM-DD", every year
DateKey = tuple[int | None, int, int]


def _check_range(text: str) -> str:
    parse_range(text)
    return text


def parse_range(text: str) -> Span:
    """ "09:00-18:00" -> (540, 1080); "22:00-02:00" -> (1320, 1560)."""
    m = _RANGE.match(text)
    if m is None:
        raise PydanticCustomError(
            "time_range", "'{text}' is not HH:MM-HH:MM (e.g. 09:00-18:00)", {"text": text}
        )
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2 != 0):
        raise PydanticCustomError(
            "time_range", "'{text}' has a time outside 00:00..24:00", {"text": text}
        )
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start == end:
        raise PydanticCustomError(
            "time_range",
            "'{text}' starts and ends at the same time (write 00:00-24:00 for the whole day)",
            {"text": text},
        )
    if end < start:
        end += MINUTES_PER_DAY
    return start, end


def _check_date(text: str) -> str:
    parse_date(text)
    return text


def parse_date(text: str) -> DateKey:
    """ "2026-01-07" -> (2026, 1, 7); "--01-07" (every year) -> (None, 1, 7)."""
    fixed = _FIXED_DATE.match(text)
    yearly = _YEARLY_DATE.match(text)
    try:
        if fixed is not None:
            year, month, day = (int(g) for g in fixed.groups())
            dt.date(year, month, day)
            return year, month, day
        if yearly is not None:
            month, day = (int(g) for g in yearly.groups())
            dt.date(2000, month, day)  # a leap year, so --02-29 is accepted
            return None, month, day
    except ValueError:
        raise PydanticCustomError("date", "'{text}' is not a valid date", {"text": text}) from None
    raise PydanticCustomError(
        "date",
        "'{text}' is not a date: write YYYY-MM-DD, or --MM-DD for every year",
        {"text": text},
    )


TimeRange = Annotated[str, AfterValidator(_check_range)]
DateText = Annotated[str, AfterValidator(_check_date)]


class WeeklyHours(ParamsModel):
    mon: list[TimeRange] = Field(default_factory=list)
    tue: list[TimeRange] = Field(default_factory=list)
    wed: list[TimeRange] = Field(default_factory=list)
    thu: list[TimeRange] = Field(default_factory=list)
    fri: list[TimeRange] = Field(default_factory=list)
    sat: list[TimeRange] = Field(default_factory=list)
    sun: list[TimeRange] = Field(default_factory=list)


class Holiday(ParamsModel):
    date: DateText = Field(description="YYYY-MM-DD, or --MM-DD for every year")
    name: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"date": data} if isinstance(data, str) else data

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        # The published schema must admit the text shorthand the loader accepts.
        schema = handler.resolve_ref_schema(handler(core_schema))
        title = schema.pop("title", "Holiday")
        text = {"type": "string", "description": 'shorthand for {"date": text}'}
        return {"title": title, "anyOf": [text, schema]}


class ExceptionDay(ParamsModel):
    date: DateText = Field(description="YYYY-MM-DD, or --MM-DD for every year")
    hours: list[TimeRange] = Field(description="working hours on that date; [] = closed")
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Rules:
    """A schedule parsed for `schedule_state` (`ScheduleParams.rules`)."""

    tz: ZoneInfo | None
    weekly: tuple[tuple[Span, ...], ...]  # by weekday, Monday first
    holidays: frozenset[DateKey]
    exceptions: dict[DateKey, tuple[Span, ...]]


class ScheduleParams(ParamsModel):
    timezone: str | None = Field(default=None, description="IANA zone; default: the scenario's")
    weekly: WeeklyHours = Field(default_factory=WeeklyHours)
    holidays: list[Holiday] = Field(default_factory=list)
    exceptions: list[ExceptionDay] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: too long for a file name
                shown = value if len(value) <= 60 else value[:57] + "..."
                raise PydanticCustomError(
                    "time_zone", "unknown time zone '{zone}'", {"zone": shown}
                ) from None
        return value

    @model_validator(mode="after")
    def _one_exception_per_date(self) -> ScheduleParams:
        seen: dict[DateKey, int] = {}
        for index, item in enumerate(self.exceptions):
            key = parse_date(item.date)
            if key in seen:
                raise ValueError(
                    f"exceptions[{index}]: date '{item.date}' is already in exceptions[{seen[key]}]"
                )
            seen[key] = index
        return self

    @functools.cached_property
    def rules(self) -> Rules:
        """The parsed schedule: built on first use and kept (params do not change
        after load), so a call parses nothing. A cached property rather than
        pydantic private attributes, which cost microseconds per read."""
        return Rules(
            tz=ZoneInfo(self.timezone) if self.timezone else None,
            weekly=tuple(
                tuple(parse_range(r) for r in getattr(self.weekly, day)) for day in DAY_NAMES
            ),
            holidays=frozenset(parse_date(h.date) for h in self.holidays),
            exceptions={
                parse_date(e.date): tuple(parse_range(r) for r in e.hours) for e in self.exceptions
            },
        )


def _keys(day: dt.date) -> tuple[DateKey, DateKey]:
    """The two ways a date can be listed: that day only, and every year."""
    return (day.year, day.month, day.day), (None, day.month, day.day)


def _is_holiday(rules: Rules, day: dt.date) -> bool:
    fixed, yearly = _keys(day)
    return fixed in rules.holidays or yearly in rules.holidays


def _has_exception(rules: Rules, day: dt.date) -> bool:
    fixed, yearly = _keys(day)
    return fixed in rules.exceptions or yearly in rules.exceptions


def _hours(rules: Rules, day: dt.date) -> tuple[Span, ...]:
    """The opening ranges that start on `day`: exception, else holiday (none), else weekly."""
    for key in _keys(day):
        if key in rules.exceptions:
            return rules.exceptions[key]
    if _is_holiday(rules, day):
        return ()
    return rules.weekly[day.weekday()]


def schedule_state(params: ScheduleParams, when: dt.datetime) -> State:
    """ "open", "closed" or "holiday" at the instant `when` (time zone aware).

    `when` is read in `params.timezone`, or in its own zone when none is set.
    """
    if when.tzinfo is None:
        raise ValueError("schedule_state needs an aware datetime")
    rules = params.rules
    local = when.astimezone(rules.tz) if rules.tz is not None else when
    today = local.date()
    minute = local.hour * 60 + local.minute
    for start, end in _hours(rules, today):
        if start <= minute < end:
            return "open"
    for _start, end in _hours(rules, today - dt.timedelta(days=1)):
        if minute < end - MINUTES_PER_DAY:
            return "open"
    if _is_holiday(rules, today) and not _has_exception(rules, today):
        return "holiday"
    return "closed"


@registry.register
class ScheduleNode(NodeType[ScheduleParams]):
    type_name = "schedule"
    title_en = "Schedule"
    title_ru = "Расписание"
    description = "Branch on working hours in a time zone: open, closed or holiday"
    category = "flow"
    Params = ScheduleParams
    exits = ("open", "closed", "holiday")
    exit_conditions = {"holiday": "only with `holidays`"}
    __slots__ = ()

    def possible_exits(self) -> tuple[str, ...]:
        if self.params.holidays:
            return self.all_exits
        return ("open", "closed")

    async def run(self, ctx: CallContext) -> str:
        return schedule_state(self.params, ctx.now())
