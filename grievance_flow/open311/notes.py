"""What an Open311 client may read about a case's events: one public sentence each.

FixMyStreet shows an update's ``description`` (and a request's
``status_notes``) to anyone, so these sentences name units and outcomes and
quote only what staff wrote for the case (a note, a reason). Even that is
redacted: the reporter's own name and phone, and any run of seven or more
digits (a phone or ID number a unit typed into a note), become ``***``. The
reporter's details never appear otherwise: no sentence takes them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from grievance_flow.catalogue.model import Catalogue
from grievance_flow.workflows.contracts import Event, EventType, Reporter

REDACTED = "***"
_LONG_NUMBER = re.compile(r"\+?\d[\d -]{5,}\d")

_OUTCOMES = {
    "resolved": "已解决",
    "explained": "已解释说明",
    "unresolvable": "暂不具备解决条件",
    "rejected": "不予受理",
    "withdrawn": "来电人已撤回",
    "merged": "已并入其他工单办理",
    "unresolved": "未解决，转督办",
}
_SATISFACTION = {
    "satisfied": "满意",
    "basically_satisfied": "基本满意",
    "unsatisfied": "不满意",
    "unreachable": "未联系上",
}


class PublicNotes:
    """Turns events into public sentences, naming units as the catalogue does."""

    def __init__(self, catalogue: Catalogue) -> None:
        self._catalogue = catalogue
        self._describers: dict[EventType, Callable[[Mapping[str, Any]], str]] = {
            EventType.REPORTED: lambda d: "诉求已受理",
            EventType.SUGGESTED: lambda d: "正在分类派单",
            EventType.DISPATCHED: lambda d: f"已派至{self._unit(d.get('unit'))}办理",
            EventType.ARBITRATED: lambda d: f"经协调，改派{self._unit(d.get('unit'))}办理",
            EventType.REJECTED: lambda d: self._with("不予受理", d.get("reason")),
            EventType.MERGED: self._merged,
            EventType.ACCEPTED: lambda d: f"{self._unit(d.get('unit'))}已签收",
            EventType.RETURNED: lambda d: f"{self._unit(d.get('unit'))}退回，重新派单",
            EventType.PROGRESS: lambda d: self._with("办理进展", d.get("note")),
            EventType.EXTENSION_REQUESTED: lambda d: (
                f"承办单位申请延期{d.get('working_days')}个工作日"
            ),
            EventType.EXTENSION_DECIDED: lambda d: (
                "延期申请已批准" if d.get("approved") else "延期申请未获批准"
            ),
            EventType.WHISTLED: lambda d: "已吹哨，相关部门报到协同办理",
            EventType.REPORTED_IN: lambda d: f"{self._unit(d.get('unit'))}已报到",
            EventType.COMPLETED: lambda d: self._with(
                f"办理完毕（{_OUTCOMES.get(str(d.get('result')), d.get('result'))}）",
                d.get("note"),
            ),
            EventType.RECHECKED: self._rechecked,
            EventType.REOPENED: lambda d: "回访未通过，重新办理",
            EventType.SLA_WARNING: lambda d: "办理时限临近",
            EventType.SLA_OVERDUE: lambda d: "已超过办理时限",
            EventType.CHASED: lambda d: "已催办承办单位",
            EventType.ESCALATED: lambda d: "已提级督办",
            EventType.SUPERVISED: lambda d: "已督办",
            EventType.WITHDRAWN: lambda d: "来电人已撤回诉求",
            EventType.CLOSED: lambda d: (
                f"已结案（{_OUTCOMES.get(str(d.get('outcome')), d.get('outcome'))}）"
            ),
            EventType.SUPPLEMENTED: lambda d: "来电人补充诉求",
        }

    def describe(self, event: Event, reporter: Reporter | None = None) -> str:
        """The public sentence of ``event``, redacted against ``reporter``."""
        describer = self._describers.get(event.type)
        text = describer(event.data) if describer else event.type.value
        return redact(text, reporter)

    def _unit(self, unit_id: object) -> str:
        unit = self._catalogue.units.get(str(unit_id)) if unit_id else None
        return unit.name if unit is not None else "承办单位"

    @staticmethod
    def _with(lead: str, note: object) -> str:
        return f"{lead}：{note}" if note else lead

    def _merged(self, data: Mapping[str, Any]) -> str:
        if data.get("into"):
            return f"与工单{data['into']}合并办理"
        return "已合并重复诉求"

    @staticmethod
    def _rechecked(data: Mapping[str, Any]) -> str:
        verdict = "回访通过" if data.get("passed") else "回访未通过"
        satisfaction = _SATISFACTION.get(str(data.get("satisfaction")))
        return f"{verdict}（{satisfaction}）" if satisfaction else verdict


def redact(text: str, reporter: Reporter | None = None) -> str:
    """``text`` without the reporter's name or phone, nor any long number."""
    if reporter is not None:
        for secret in (reporter.phone, reporter.name):
            if secret and len(secret.strip()) >= 2:
                text = text.replace(secret.strip(), REDACTED)
    return _LONG_NUMBER.sub(REDACTED, text)
