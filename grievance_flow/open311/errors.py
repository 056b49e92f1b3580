"""Open311 errors: ``<errors><error><code/><description/></error></errors>`` or its JSON.

Every refusal under ``/open311/v2`` is one of these, in the format the path
asked for (XML when it asked for none we serve), never ``/v1``'s
``{"error", "detail"}`` and never a 5xx for bad input.
"""

from __future__ import annotations

from fastapi import Response

from grievance_flow.open311.documents import Format, render


class Open311Error(Exception):
    """A request Open311 refuses: an HTTP status and one sentence saying why.

    Attributes:
        status_code: 400, 403, 404 (or 503 when Temporal or the database is away).
        description: The sentence; it never quotes personal data.
    """

    def __init__(self, status_code: int, description: str) -> None:
        super().__init__(description)
        self.status_code = status_code
        self.description = description


def bad_request(description: str) -> Open311Error:
    """A 400: a parameter missing, malformed or out of range."""
    return Open311Error(400, description)


def error_response(error: Open311Error, fmt: Format) -> Response:
    """``error`` as an Open311 error list in ``fmt``."""
    errors = [{"code": str(error.status_code), "description": error.description}]
    return render("errors", errors, fmt, status_code=error.status_code)
