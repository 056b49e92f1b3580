"""The human timeline ``grievance audit show`` prints: who did what, when.

Times are shown in the hotline's local time (Asia/Shanghai), to the second;
each event type gets the few data fields an auditor looks for, and any other
type falls back to its plain data, so a new event type is never hidden.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from grievance_flow.workflows.contracts import Actor, CaseView, Event, EventType

try:
    LOCAL_TIME: timezone | ZoneInfo = ZoneInfo("Asia/Shanghai")
except ZoneInfoNotFoundError:  # no tz database on the host: China keeps UTC+8 all year
    LOCAL_TIME = timezone(timedelta(hours=8), "CST")


def local(moment: datetime | str | None) -> str:
    """``YYYY-MM-DD HH:MM:SS`` in Asia/Shanghai; ISO strings (as in event data) accepted."""
    if moment is None:
        return "-"
    if isinstance(moment, str):
        try:
            instant = datetime.fromisoformat(moment)
        except ValueError:
            return moment
    else:
        instant = moment
    return instant.astimezone(LOCAL_TIME).strftime("%Y-%m-%d %H:%M:%S")


def actor_label(actor: Actor) -> str:
    """``role`` or ``role/unit``, then the key's holder and id when the history has them."""
    label = f"{actor.role.value}/{actor.unit}" if actor.unit else actor.role.value
    if actor.holder is not None or actor.key_id is not None:
        label += f" {actor.holder or '?'} ({actor.key_id or 'no key id'})"
    return label


def render_timeline(case: CaseView, events: list[Event]) -> str:
    """The header and one line per event, as printed by ``audit show``."""
    lines = [
        f"case      {case.id}  (external id {case.external_id}, channel {case.channel})",
        f"stage     {case.stage.value} / {case.status.value}"
        f"    outcome {case.outcome.value if case.outcome else '-'}",
        f"unit      {case.unit or '-'}{f' (tier {case.tier})' if case.tier else ''}"
        f"    category {case.category or '-'}",
        f"filed     {local(case.created_at)}    closed {local(case.closed_at)}",
        f"record    supervised {'yes' if case.supervised else 'no'}, "
        f"escalations {case.escalations}, returns {case.returns}, reopens {case.reopens}"
        + (f", merged into {case.merged_into}" if case.merged_into else "")
        + (f", duplicates merged here {','.join(case.merged_cases)}" if case.merged_cases else "")
        + (f", opened for {','.join(case.related_cases)}" if case.related_cases else ""),
        "",
        f"{len(events)} events, rebuilt from the Temporal history (times Asia/Shanghai):",
    ]
    actor_width = max((len(actor_label(event.actor)) for event in events), default=0)
    type_width = max((len(event.type.value) for event in events), default=0)
    for event in events:
        detail = describe(event)
        lines.append(
            f"{event.seq:>4}  {local(event.at)}  {actor_label(event.actor):<{actor_width}}  "
            f"{event.type.value:<{type_width}}  {detail}".rstrip()
        )
    return "\n".join(lines)


def describe(event: Event) -> str:
    """The key facts of one event, in a few words."""
    describer = _DESCRIBERS.get(event.type, _plain)
    return describer(event.data)


def _pairs(data: Mapping[str, Any], *keys: str) -> str:
    shown = []
    for key in keys:
        value = data.get(key)
        if value is None or value == [] or value == "":
            continue
        if isinstance(value, bool):
            value = "yes" if value else "no"
        elif key.endswith("_at"):
            value = local(value)
        elif isinstance(value, list):
            value = ",".join(str(item) for item in value)
        shown.append(f"{key}={value}")
    return " ".join(shown)


def _plain(data: Mapping[str, Any]) -> str:
    return _pairs(data, *(key for key, value in data.items() if not isinstance(value, dict)))


def _clock(data: Mapping[str, Any]) -> str:
    return _pairs(data, "clock", "unit", "due_at", "recipient")


def _escalated(data: Mapping[str, Any]) -> str:
    tier = f" (tier {data['tier']})" if data.get("tier") else ""
    return f"{data.get('from') or '-'} → {data.get('to') or '-'}{tier}  " + _pairs(
        data, "clock", "due_at"
    )


def _dispatched(data: Mapping[str, Any]) -> str:
    routed = f"{data.get('category') or '-'} → {data.get('unit') or '-'}"
    if data.get("tier"):
        routed += f" (tier {data['tier']})"
    if data.get("auto"):
        routed += f" auto, score {data.get('score')}"
    return f"{routed}  {_pairs(data, 'note')}".rstrip()


def _suggested(data: Mapping[str, Any]) -> str:
    candidates = data.get("candidates") or []
    if not candidates:
        text = "no category suggested"
    else:
        best = candidates[0]
        text = f"best {best.get('category')} → {best.get('unit') or '-'} score {best.get('score')}"
        if len(candidates) > 1:
            text += f" (+{len(candidates) - 1} more)"
    duplicates = _pairs(data, "possible_duplicates")
    return f"{text}  {duplicates}".rstrip()


def _extension_decided(data: Mapping[str, Any]) -> str:
    verdict = "approved" if data.get("approved") else "denied"
    moved = ""
    if data.get("due_at"):
        moved = f" due {local(data.get('previous_due_at'))} → {local(data['due_at'])}"
    return f"{verdict} {data.get('working_days')} working days{moved}  {_pairs(data, 'note')}"


def _rechecked(data: Mapping[str, Any]) -> str:
    verdict = "passed" if data.get("passed") else "failed"
    return f"{verdict}, {data.get('satisfaction')}  {_pairs(data, 'note')}".rstrip()


def _keys(*keys: str) -> Callable[[Mapping[str, Any]], str]:
    return lambda data: _pairs(data, *keys)


_DESCRIBERS: dict[EventType, Callable[[Mapping[str, Any]], str]] = {
    EventType.REPORTED: _keys("channel", "grid", "category_hint", "urgent"),
    EventType.SUGGESTED: _suggested,
    EventType.DISPATCHED: _dispatched,
    EventType.ARBITRATED: _dispatched,
    EventType.REJECTED: _keys("reason"),
    EventType.MERGED: _keys("into", "duplicate"),
    EventType.ACCEPTED: _keys("unit", "note"),
    EventType.RETURNED: _keys("unit", "returns", "reason"),
    EventType.PROGRESS: _keys("note"),
    EventType.EXTENSION_REQUESTED: _keys("working_days", "reason"),
    EventType.EXTENSION_DECIDED: _extension_decided,
    EventType.WHISTLED: _keys("units", "reason"),
    EventType.REPORTED_IN: _keys("unit", "on_time", "note"),
    EventType.COMPLETED: _keys("result", "note", "evidence"),
    EventType.RECHECKED: _rechecked,
    EventType.REOPENED: _keys("reopens", "unit"),
    EventType.SLA_WARNING: _clock,
    EventType.SLA_OVERDUE: _clock,
    EventType.CHASED: _clock,
    EventType.ESCALATED: _escalated,
    EventType.SUPERVISED: _keys("note", "clock"),
    EventType.WITHDRAWN: _keys("reason"),
    EventType.CLOSED: _keys("outcome"),
    EventType.SUPPLEMENTED: _keys("note", "attachments", "source", "reference", "reported_status"),
}
