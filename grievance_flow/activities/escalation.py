"""The escalation activity: who is one tier above a late unit (提级)."""

from __future__ import annotations

from temporalio import activity

from grievance_flow.catalogue.errors import CatalogueError
from grievance_flow.catalogue.model import Catalogue, Tier
from grievance_flow.workflows.contracts import ActivityName, EscalationInput, EscalationTarget


class EscalationActivities:
    """Looks up the unit tree of the loaded catalogue."""

    def __init__(self, catalogue: Catalogue) -> None:
        self._catalogue = catalogue

    @activity.defn(name=ActivityName.ESCALATION_TARGET.value)
    async def escalation_target(self, request: EscalationInput) -> EscalationTarget:
        """The parent one tier up (D→C→B→A); none at tier A, where the command centre steps in."""
        catalogue = self._catalogue
        try:
            unit = catalogue.unit(request.unit)
        except CatalogueError:
            # A unit dropped from a newer catalogue cannot be climbed from; the
            # command centre takes over rather than the case stalling.
            activity.logger.warning(
                "case %s: unit %r is not in the catalogue; escalating to the command centre",
                request.case_id,
                request.unit,
            )
            return EscalationTarget()
        parent = catalogue.parent(unit.id)
        if unit.tier is Tier.A or parent is None:
            return EscalationTarget()
        return EscalationTarget(unit=parent.id, tier=parent.tier.value)
