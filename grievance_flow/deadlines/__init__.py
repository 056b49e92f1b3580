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

__all__ = [
    "OverridesFileError",
    "WorkingCalendar",
    "deadline_after",
    "load_overrides_file",
    "merge",
    "warn_time",
]
