"""Remembered answers to retried actions, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import Engine

from grievance_flow.store.idempotency import RememberedAnswer, fingerprint, recall, remember
from tests.store.factories import T0


def _answer(status_code: int = 200, **body: object) -> RememberedAnswer:
    return RememberedAnswer(
        action="progress",
        fingerprint=fingerprint("progress", {"note": "已到场"}, requester="unit:grid-1"),
        status_code=status_code,
        body={"id": "grievance-1", "stage": "handle", **body},
    )


def test_an_answer_is_recalled_as_stored(engine: Engine) -> None:
    assert recall(engine, "grievance-1", "key-1") is None
    answer = _answer(co_units=["dept-cg"], note="处理中 ✓")
    assert remember(engine, "grievance-1", "key-1", answer, at=T0) == answer
    assert recall(engine, "grievance-1", "key-1") == answer
    # Keys are per case: the same key on another case is another request.
    assert recall(engine, "grievance-2", "key-1") is None


def test_the_first_answer_wins(engine: Engine) -> None:
    first = _answer()
    refusal = RememberedAnswer(
        action="supervise",
        fingerprint=fingerprint("supervise", {"note": "x"}, requester="dispatcher"),
        status_code=409,
        body={"error": "Conflict", "detail": "not now"},
    )
    remember(engine, "grievance-1", "key-1", first, at=T0)
    assert remember(engine, "grievance-1", "key-1", refusal, at=T0) == first
    assert recall(engine, "grievance-1", "key-1") == first


def test_fingerprint_is_canonical_and_tells_requests_apart() -> None:
    same = fingerprint("whistle", {"units": ["a", "b"], "reason": "r"}, requester="unit:g")
    assert same == fingerprint("whistle", {"reason": "r", "units": ["a", "b"]}, requester="unit:g")
    assert len(same) == 64
    others = {
        fingerprint("whistle", {"units": ["b", "a"], "reason": "r"}, requester="unit:g"),
        fingerprint("supervise", {"units": ["a", "b"], "reason": "r"}, requester="unit:g"),
        fingerprint("whistle", {"units": ["a", "b"], "reason": "r"}, requester="unit:h"),
    }
    assert same not in others and len(others) == 3
