"""The `alerts` section of the centre file: which alerts to watch for (docs/monitor.md).

Plain settings models, apart from the watcher, so the centre file's model can
hold them without importing the monitor's machinery.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["AlertSettings", "Hours", "LineAlert", "LongWaitAlert", "ServiceLevelAlert", "WebhookSettings"]

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Hours(_Model):
    """When a line is expected to carry calls: days of the week, from-to (local time)."""

    days: tuple[Day, ...] = _DAYS
    start: str = Field(default="00:00", alias="from")
    end: str = Field(default="24:00", alias="to")

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        try:
            h, m = value.split(":")
            ok = len(m) == 2 and 0 <= int(h) <= 24 and 0 <= int(m) < 60 and (int(h) < 24 or int(m) == 0)
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(f"{value!r} is not a time HH:MM")
        return value

    def contains(self, local: dt.datetime) -> bool:
        if _DAYS[local.weekday()] not in self.days:
            return False
        minute = local.hour * 60 + local.minute
        return _minutes(self.start) <= minute < _minutes(self.end)


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


class LineAlert(_Model):
    line: str = Field(min_length=1)
    silent_minutes: float = Field(gt=0, le=24 * 60)
    hours: Hours = Hours()


class ServiceLevelAlert(_Model):
    window_minutes: float = Field(default=15, gt=0, le=24 * 60)
    min_calls: int = Field(default=5, ge=1)


class LongWaitAlert(_Model):
    seconds: float = Field(gt=0)


class WebhookSettings(_Model):
    url: str = Field(pattern=r"^https?://")
    timeout: float = Field(default=5.0, gt=0, le=60)


class AlertSettings(_Model):
    """The `alerts` section of the centre file (docs/monitor.md)."""

    lines: tuple[LineAlert, ...] = ()
    service_level: ServiceLevelAlert | None = None
    long_wait: LongWaitAlert | None = None
    webhook: WebhookSettings | None = None


