"""Every ``workflow.patched()`` id of GrievanceWorkflow, with what it guards.

A change that alters the commands a case issues (a new activity or timer, a
different order) would break the replay of cases started before it, so it is
taken only behind ``workflow.patched(<id>)``: a new case records the id in its
history (a ``MarkerRecorded`` event) and takes the new path; an old case, whose
history has no marker, replays the old one. Once no open case predates a patch,
replace its ``patched()`` with ``workflow.deprecate_patch(<id>)`` and drop the
old path (README, "Changing workflow code safely").
"""

from __future__ import annotations

SUPERVISION_NOTIFIES_UNIT = "supervision-notifies-unit"
"""督办 reaches the unit: ``supervise`` on a case a unit holds also sends that unit a notice.

Added with issue 5. Cases started before it supervise without a notice.
"""

MERGE_CLOSES_FIRST = "merge-closes-first"
"""并单 closes the duplicate before it tells the target, so nothing can slip in between.

Added with issue 8. ``merge`` used to signal the target first and change the
case only once the signal was delivered: a ``withdraw``, ``dispatch`` or second
``merge`` accepted meanwhile passed its validator, and the case closed twice. A
new case records the merge and closes in the handler, before any await, and the
signal goes out afterwards (a target that has closed meanwhile is answered for
by the duplicate itself, with a notice to the hotline).
"""

MERGE_RECORDS_ONE = "merge-records-one"
"""A target's ``merged`` event names the new duplicate and the count, not the whole list.

Added with issue 8: copying the list into every event made a merge storm O(n²).
"""

NOTICES_HANDED_OVER = "notices-handed-over"
"""Notices go out in batches, each in a ``NoticeDelivery`` workflow of its own.

Added with issue 8. Delivering them as the case's own activities kept a closed
case open while a receiver was down, and sent a merge storm's notices one by one.
A new case hands each batch to the ``hand_over_notices`` local activity, which
starts the delivery workflow and returns.
"""

SUMMONS_CLOSED_ON_ESCALATION = "summons-closed-on-escalation"
"""Report-in clocks that an escalation out of handle stops are recorded as ``summons_closed``.

Added with issue 8: they used to vanish without a trace.
"""

LOCAL_ACTIVITY_FALLBACK = "local-activity-fallback"
"""A local activity that keeps failing for a few seconds is retried as a normal activity.

Added with issue 8. A local activity retried without end keeps the workflow task
alive with heartbeats: about three history events every 8 s for every open case
while the read model is down. A normal activity's retries are kept by the
server and add nothing to the history, and it is picked up again within
``RETRY.maximum_interval`` once the database is back. Asked before the case's
first local activity, not when one fails (see ``lookups-keep-task-time``).
"""

LOOKUPS_KEEP_TASK_TIME = "lookups-keep-task-time"
"""What a local lookup's result changes is recorded at the time it was asked for.

Added with issue 8. The classifier's suggestion, an escalation's target and an
approved extension were applied at ``workflow.now()`` after the local activity
resolved, which a replay reads differently from a live run whose task was
retried after a worker died; the fault suite's rebuilt read model then differed
from the live one by milliseconds. A new case applies them at the asking time,
and versions its projections by its newest event's time, which replays alike.
"""

SEARCH_ATTRIBUTES = "search-attributes"
"""A case keeps its SPEC §8 search attributes current in Temporal's visibility store.

Added with issue 9. A new case upserts them once it is triaged and again whenever
its stage, unit, category, channel, current deadline, overdue or supervision
changes (:mod:`grievance_flow.workflows.visibility`); the server must have them
registered. Cases started before it have none.
"""
