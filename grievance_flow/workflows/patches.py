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
