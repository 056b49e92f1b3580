"""What a case shows Temporal's visibility store: its search attributes (SPEC §8).

Pure and deterministic. :func:`indexed_values` reads the attributes off the live
case; a :class:`SearchIndex` remembers what was last upserted and gives only the
difference, so a case upserts when something a query can see has changed, and
its history carries no ``UpsertWorkflowSearchAttributes`` event that changes
nothing. None of the values is personal data: no reporter, phone, address or
description ever reaches visibility.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from temporalio.common import SearchAttributeKey, SearchAttributeUpdate

from grievance_flow import search_attributes as attributes
from grievance_flow.workflows.contracts import CaseView

IndexedValue = str | bool | datetime | None
"""A search attribute's value; None means the attribute is unset."""


def indexed_values(
    case: CaseView, *, overdue: bool
) -> list[tuple[SearchAttributeKey[Any], IndexedValue]]:
    """Every §8 attribute of ``case`` and its current value.

    Args:
        case: The live case.
        overdue: Whether the current stage's clock has passed its deadline and the
            stage is still not done (红灯); an approved extension clears it.
    """
    # The current stage's own clock: a closed case, or one in classify before its
    # clock is computed, has none.
    deadline = case.deadlines.get(case.stage.value)
    return [
        (attributes.STAGE, case.stage.value),
        (attributes.UNIT, case.unit),
        (attributes.CATEGORY, case.category),
        (attributes.CHANNEL, case.channel),
        (attributes.DUE_AT, deadline.due_at if deadline is not None else None),
        (attributes.OVERDUE, overdue),
        (attributes.SUPERVISED, case.supervised),
    ]


class SearchIndex:
    """The search attributes last upserted for a case, and the updates that bring them level."""

    def __init__(self) -> None:
        # A case starts with no search attributes: an unset value needs no upsert.
        self._upserted: dict[str, IndexedValue] = {}

    def changes(
        self, values: list[tuple[SearchAttributeKey[Any], IndexedValue]]
    ) -> list[SearchAttributeUpdate[Any]]:
        """The updates that differ from what was last upserted (empty when level)."""
        return [
            key.value_unset() if value is None else key.value_set(value)
            for key, value in values
            if self._upserted.get(key.name) != value
        ]

    def upserted(self, updates: list[SearchAttributeUpdate[Any]]) -> None:
        """Remember ``updates`` as upserted."""
        for update in updates:
            self._upserted[update.key.name] = update.value
