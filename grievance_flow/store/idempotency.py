"""Remembered answers to actions sent with an ``Idempotency-Key`` (SPEC §4a).

Temporal applies an update id once, but remembers only updates it accepted: a
refused Update never reaches the history, and a closed workflow answers no
update at all. So the API also keeps the first answer per ``(case_id, key)``
here and answers a repeat from it. The first answer wins: a second writer of
the same key (a concurrent retry) keeps the stored one and is told what it is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Table
from sqlmodel import Session, select

from grievance_flow.store.dialect import insert_for
from grievance_flow.store.models import ActionRequest
from grievance_flow.store.sealing import cipher_of, open_doc, seal_doc

_requests: Table = ActionRequest.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class RememberedAnswer:
    """What an action request was answered, and which request it was.

    Attributes:
        action: The action's name (``progress``, ``whistle``, ...).
        fingerprint: :func:`fingerprint` of the request.
        status_code: The HTTP status it was answered with.
        body: The error body of a refusal, or the unmasked case of a success.
    """

    action: str
    fingerprint: str
    status_code: int
    body: dict[str, Any]


def fingerprint(action: str, body: Mapping[str, Any], *, requester: str) -> str:
    """SHA-256 of the action, who asked, and the canonical JSON of the body.

    Canonical: keys sorted, no insignificant whitespace, so the same request
    always has the same fingerprint however its JSON was spelt.
    """
    canonical = json.dumps(
        {"action": action, "requester": requester, "body": body},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def recall(engine: Engine, case_id: str, key: str) -> RememberedAnswer | None:
    """The answer first given to ``key`` on ``case_id``, or None if it is new."""
    with Session(engine) as session:
        record = session.exec(
            select(ActionRequest).where(ActionRequest.case_id == case_id, ActionRequest.key == key)
        ).one_or_none()
    if record is None:
        return None
    return RememberedAnswer(
        action=record.action,
        fingerprint=record.fingerprint,
        status_code=record.status_code,
        body=open_doc(record.body, cipher_of(engine)),
    )


def remember(
    engine: Engine, case_id: str, key: str, answer: RememberedAnswer, *, at: datetime
) -> RememberedAnswer:
    """Keep ``answer`` for ``key`` on ``case_id`` unless one is kept already.

    Returns:
        The answer now stored: ``answer``, or the one a concurrent request with
        the same key stored first.
    """
    row = {
        "case_id": case_id,
        "key": key,
        "action": answer.action,
        "fingerprint": answer.fingerprint,
        "status_code": answer.status_code,
        # A success's body is the unmasked case: its reporter is sealed like the case's.
        "body": seal_doc(answer.body, cipher_of(engine)),
        "created_at": at,
    }
    with engine.begin() as connection:
        insert = insert_for(connection.dialect.name, _requests).values(row)
        connection.execute(insert.on_conflict_do_nothing(index_elements=["case_id", "key"]))
    stored = recall(engine, case_id, key)
    if stored is None:  # pragma: no cover - rows are never deleted
        raise RuntimeError(f"the answer for key {key!r} on {case_id!r} vanished")
    return stored
