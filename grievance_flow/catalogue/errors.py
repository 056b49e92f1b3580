"""Errors raised by the dispatch catalogue.

All of them derive from :class:`CatalogueError`, itself a :class:`ValueError`, so
a caller that only wants "bad input" can catch one thing, while the API can map
the subclasses to distinct responses (an unknown category in a dispatch is a 422,
not a server error). Messages are whole sentences meant for an operator.
"""

from __future__ import annotations


class CatalogueError(ValueError):
    """Base class of every catalogue error."""


class InvalidCatalogueError(CatalogueError):
    """A catalogue file or mapping is malformed; the message names the bad entry."""


class UnknownUnitError(CatalogueError):
    """A unit id is not in the catalogue."""


class UnknownCategoryError(CatalogueError):
    """A category code is not in the catalogue."""


class UnknownSlaClassError(CatalogueError):
    """An SLA class name is not in the catalogue."""


class RoutingError(CatalogueError):
    """A case cannot be routed: bad grid, or no unit at the category's tier."""
