"""Working-day calendar and SLA deadline arithmetic (SPEC §2).

Used by the deadline activity only: calendar data changes between releases,
so deadlines are computed here once and recorded in workflow history.
"""

from grievance_flow.deadlines.calendar import (
    OverridesFileError,
    WorkingCalendar,
    load_overrides_file,
    merge,
)
from grievance_flow.deadlines.compute import deadline_after, warn_time
from grievance_flow.deadlines.coverage import (
    CalendarCoverage,
    YearCoverage,
    calendar_coverage,
    local_today,
    log_calendar_coverage,
)

__all__ = [
    "CalendarCoverage",
    "OverridesFileError",
    "WorkingCalendar",
    "YearCoverage",
    "calendar_coverage",
    "deadline_after",
    "load_overrides_file",
    "local_today",
    "log_calendar_coverage",
    "merge",
    "warn_time",
]
