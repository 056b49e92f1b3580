"""The read model: SQLModel tables of cases, events, notices and API keys, and their queries.

Written by the projection and notice activities and key management, read by the API;
rebuildable from Temporal at any time. Import the public API from here.
"""

from grievance_flow.store.engine import make_engine, migrate, normalize_url, sqlite_url_for
from grievance_flow.store.keys import (
    create_key,
    generate_key,
    hash_key,
    register_key,
    resolve_key,
)
from grievance_flow.store.notices import is_delivered, list_notices, mark_delivered, record_notice
from grievance_flow.store.projection import project_case
from grievance_flow.store.queries import case_events, get_case, list_cases

__all__ = [
    "case_events",
    "create_key",
    "generate_key",
    "get_case",
    "hash_key",
    "is_delivered",
    "list_cases",
    "list_notices",
    "make_engine",
    "mark_delivered",
    "migrate",
    "normalize_url",
    "project_case",
    "record_notice",
    "register_key",
    "resolve_key",
    "sqlite_url_for",
]
