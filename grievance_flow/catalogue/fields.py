"""The calendar-overrides mapping, shared by the catalogue and the overrides file.

``{holidays: [YYYY-MM-DD...], workdays: [...]}`` is a catalogue section and the
whole ``CALENDAR_OVERRIDES`` file; one document model checks both.
"""

from __future__ import annotations

from pydantic import ValidationError

from grievance_flow.catalogue.document import CalendarOverridesEntry
from grievance_flow.catalogue.model import CalendarOverrides
from grievance_flow.catalogue.problems import FieldError, field_errors

__all__ = ["FieldError", "parse_calendar_overrides"]


def parse_calendar_overrides(value: object, path: str) -> CalendarOverrides:
    """Parse ``{holidays: [...], workdays: [...]}``; both lists optional.

    Raises:
        FieldError: Naming each bad value (``holidays[0]``), after ``path`` if any.
    """
    try:
        return CalendarOverridesEntry.model_validate(value).to_overrides()
    except ValidationError as exc:
        problems = "; ".join(str(problem) for problem in field_errors(exc, value))
        raise FieldError(path, problems) from None
