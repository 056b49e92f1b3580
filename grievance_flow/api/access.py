"""Who may read or do what, on top of the workflow's own transition checks."""

from __future__ import annotations

from collections.abc import Collection

from grievance_flow.api.errors import Forbidden
from grievance_flow.workflows.contracts import Actor, CaseView, Role


def require_role(actor: Actor, roles: Collection[Role], doing: str) -> None:
    """Refuse (403) unless ``actor`` has one of ``roles``."""
    if actor.role not in roles:
        allowed = " or ".join(sorted(role.value for role in roles))
        raise Forbidden(f"Only the {allowed} role may {doing}; this key is {actor.role.value}.")


def require_reader(actor: Actor, case: CaseView) -> None:
    """Refuse (403) a unit reading a case that is neither assigned to it nor shared with it."""
    if actor.role is not Role.UNIT:
        return
    if case.unit == actor.unit or actor.unit in case.co_units:
        return
    raise Forbidden(f"Case '{case.id}' is not assigned to unit '{actor.unit}'.")
