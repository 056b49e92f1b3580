"""How the API shows the working-day calendar's coverage (``/v1/catalogue``, ``/readyz``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends
from pydantic import BaseModel, Field

from grievance_flow.api.deps import ResourcesDep
from grievance_flow.deadlines.coverage import CalendarCoverage, local_today


class CalendarYearPublic(BaseModel):
    """One year of the working-day calendar and the data that serves it."""

    year: int
    source: str = Field(
        description="The published source: chinese-calendar, holidays or weekends (last resort)."
    )
    version: str | None = Field(description="The source package's version; null for weekends.")
    official_workdays: bool = Field(
        description="An official 调休 arrangement is loaded for the year (from the source or "
        "the overrides); false means deadlines count an estimate."
    )
    override_holidays: int = Field(description="Holidays the overrides add in the year.")
    override_workdays: int = Field(description="Working days the overrides add in the year.")


class CalendarCoveragePublic(BaseModel):
    """The calendar's coverage around today, and what needs an operator's attention."""

    today: date = Field(description="Today in the catalogue's time zone.")
    horizon_days: int
    years: list[CalendarYearPublic]
    warnings: list[str] = Field(
        description="Years within the horizon that have no official 调休 arrangement loaded."
    )

    @classmethod
    def of(cls, coverage: CalendarCoverage) -> CalendarCoveragePublic:
        """Present a :class:`CalendarCoverage`."""
        return cls(
            today=coverage.today,
            horizon_days=coverage.horizon_days,
            years=[
                CalendarYearPublic(
                    year=year.year,
                    source=year.source,
                    version=year.version,
                    official_workdays=year.official_workdays,
                    override_holidays=year.override_holidays,
                    override_workdays=year.override_workdays,
                )
                for year in coverage.years
            ],
            warnings=list(coverage.warnings),
        )


async def calendar_today(resources: ResourcesDep) -> date:
    """Today in the catalogue's time zone; tests override this dependency to fix the date."""
    return local_today(resources.domain.catalogue.timezone_info)


CalendarTodayDep = Annotated[date, Depends(calendar_today)]
