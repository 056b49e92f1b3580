"""The search attributes a case keeps current in Temporal (SPEC §8).

One list, read by everything that registers them (``grievance up``'s dev
server, the compose set-up) and by the workflow that upserts them, so the names
and types cannot drift apart. None of them holds personal data: only the stage,
the units, the category, the channel, the deadline and two flags.
"""

from __future__ import annotations

from typing import Any

from temporalio.common import SearchAttributeKey

STAGE = SearchAttributeKey.for_keyword("GrievanceStage")
UNIT = SearchAttributeKey.for_keyword("GrievanceUnit")
CATEGORY = SearchAttributeKey.for_keyword("GrievanceCategory")
CHANNEL = SearchAttributeKey.for_keyword("GrievanceChannel")
DUE_AT = SearchAttributeKey.for_datetime("GrievanceDueAt")
OVERDUE = SearchAttributeKey.for_bool("GrievanceOverdue")
SUPERVISED = SearchAttributeKey.for_bool("GrievanceSupervised")

ALL: tuple[SearchAttributeKey[Any], ...] = (
    STAGE,
    UNIT,
    CATEGORY,
    CHANNEL,
    DUE_AT,
    OVERDUE,
    SUPERVISED,
)


def registrations() -> dict[str, str]:
    """Each attribute's name and its type as the ``temporal`` CLI spells it.

    ``Keyword``, ``Datetime`` or ``Bool``: what ``temporal server start-dev
    --search-attribute Name=Type`` and ``temporal operator search-attribute
    create --type`` take.
    """
    names = {"KEYWORD": "Keyword", "DATETIME": "Datetime", "BOOL": "Bool"}
    prefix = "INDEXED_VALUE_TYPE_"
    return {key.name: names[key.indexed_value_type.name.removeprefix(prefix)] for key in ALL}
