"""Response models of the reports (`routers/reports.py`), made from the
column table of `flowengine.reports.catalogue`, so the OpenAPI document
names and describes every column a report returns."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, create_model

from flowengine.reports.catalogue import KINDS, LOAD_WEEKDAY, Column

_TYPES: dict[str, Any] = {"str": str | None, "int": int, "float": float | None, "dict": dict[str, Any]}


class ReportPeriod(BaseModel):
    start: str = Field(alias="from", description="the period's start, ISO time in `tz` (included)")
    end: str = Field(alias="to", description="the period's end, ISO time in `tz` (not included)")
    tz: str = Field(description="the time zone of hours, weekdays and times shown")

    model_config = {"populate_by_name": True}


class ReportFilters(BaseModel):
    queues: list[str] | None = Field(default=None, description="only calls of these queues (department included)")
    operators: list[str] | None = Field(default=None, description="only these operators (department's members included)")
    caller: str | None = None
    scenario: str | None = None


def _row_model(name: str, columns: tuple[Column, ...]) -> type[BaseModel]:
    fields: dict[str, Any] = {
        c.name: (_TYPES[c.type], Field(description=c.meaning)) for c in columns
    }
    return create_model(name, **fields)


def _camel(kind: str) -> str:
    return kind.capitalize()


ROW_MODELS: dict[str, type[BaseModel]] = {
    kind: _row_model(f"{_camel(kind)}ReportRow", spec.columns) for kind, spec in KINDS.items()
}
WEEKDAY_ROW = _row_model("LoadReportWeekdayRow", LOAD_WEEKDAY)


def _report_model(kind: str) -> type[BaseModel]:
    spec = KINDS[kind]
    fields: dict[str, Any] = {
        "kind": (str, Field(description=spec.title)),
        "period": (ReportPeriod, ...),
        "filters": (ReportFilters, ...),
        "columns": (list[str], Field(description="the row fields in display order")),
    }
    if kind == "load":
        fields["by_hour"] = (list[ROW_MODELS[kind]], Field(description="24 rows, hour 0-23"))  # type: ignore[valid-type]
        fields["by_weekday"] = (list[WEEKDAY_ROW], Field(description="7 rows, mon-sun"))  # type: ignore[valid-type]
    else:
        fields["rows"] = (list[ROW_MODELS[kind]], ...)  # type: ignore[valid-type]
    return create_model(f"{_camel(kind)}Report", **fields)


REPORT_MODELS: dict[str, type[BaseModel]] = {kind: _report_model(kind) for kind in KINDS}
