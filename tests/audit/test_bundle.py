"""Signed bundles: every byte counts, and only the system's audit key signs (SPEC §12).

Built from a recorded history (``tests/histories/full-lifecycle.json``, plain
payloads, so a progress note can be edited by one character), then tampered
with in each way an auditor must catch.
"""

from __future__ import annotations

import base64
import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from grievance_flow.audit.bundle import (
    BundleError,
    canonical,
    history_sha256,
    make_bundle,
    verify_bundle,
)
from grievance_flow.audit.histories import history_from_json
from grievance_flow.audit.replay import replay_history
from grievance_flow.audit.signing import SigningKey, ensure_signing_key, read_verifying_key

HISTORY = Path(__file__).parents[1] / "histories" / "full-lifecycle.json"
NOTE = "已到工地核实"
"""A progress note of the recording; its payloads hold it \\u-escaped, as JSON does."""
ESCAPED = json.dumps(NOTE)[1:-1]


@pytest.fixture
def key(tmp_path: Path) -> SigningKey:
    return ensure_signing_key(tmp_path / "audit-key.pem")


@pytest.fixture
def bundle(key: SigningKey) -> str:
    history = json.loads(HISTORY.read_text("utf-8"))
    return make_bundle(
        history,
        case_id="grievance-REC-full",
        run_id=None,
        exported_at=datetime(2026, 12, 7, 8, tzinfo=UTC),
        key=key,
    )


def edited(text: str, change: Any) -> str:
    """The bundle's document changed by ``change(doc)``, written canonically again."""
    document = json.loads(text)
    change(document)
    return canonical(document)


def _text(data: str) -> str:
    return base64.b64decode(data).decode("utf-8", "replace")


def note_payloads(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Every payload in the history whose JSON holds the progress note."""
    found = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            data = node.get("data")
            if isinstance(data, str) and "metadata" in node and ESCAPED in _text(data):
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document["history"])
    return found


async def test_a_bundle_verifies_and_its_history_replays(bundle: str, key: SigningKey) -> None:
    verified = verify_bundle(bundle, [key.verifying])
    assert (verified.case_id, verified.key_id) == ("grievance-REC-full", key.verifying.key_id)
    history = history_from_json(verified.history, workflow_id=verified.case_id)
    assert (await replay_history("bundle", history)).ok


def test_the_public_key_file_verifies_too(bundle: str, key: SigningKey, tmp_path: Path) -> None:
    public = tmp_path / "audit.pub.pem"
    public.write_text(key.verifying.pem())
    assert verify_bundle(bundle, [read_verifying_key(public)]).case_id == "grievance-REC-full"


def test_one_character_of_a_note_changed_fails(bundle: str, key: SigningKey) -> None:
    def change(document: dict[str, Any]) -> None:
        payload = note_payloads(document)[0]
        # 核实 → 核查: one character of the note.
        changed = _text(payload["data"]).replace(ESCAPED, json.dumps("已到工地核查")[1:-1], 1)
        payload["data"] = base64.b64encode(changed.encode()).decode()

    with pytest.raises(BundleError, match="history edited"):
        verify_bundle(edited(bundle, change), [key.verifying])


def test_a_dropped_event_fails_even_with_the_hash_recomputed(bundle: str, key: SigningKey) -> None:
    def drop(document: dict[str, Any]) -> None:
        del document["history"]["events"][5]

    with pytest.raises(BundleError, match="history edited"):
        verify_bundle(edited(bundle, drop), [key.verifying])

    def drop_and_rehash(document: dict[str, Any]) -> None:
        drop(document)
        document["history_sha256"] = history_sha256(document["history"])

    with pytest.raises(BundleError, match="signature does not verify"):
        verify_bundle(edited(bundle, drop_and_rehash), [key.verifying])


def test_a_signature_from_another_bundle_or_key_fails(
    bundle: str, key: SigningKey, tmp_path: Path
) -> None:
    other = json.loads(
        make_bundle(
            {"events": json.loads(bundle)["history"]["events"][:3]},
            case_id="grievance-REC-full",
            run_id=None,
            exported_at=datetime(2026, 12, 7, 8, tzinfo=UTC),
            key=key,
        )
    )

    def swap(document: dict[str, Any]) -> None:
        document["signature"] = copy.deepcopy(other["signature"])

    with pytest.raises(BundleError, match="signature does not verify"):
        verify_bundle(edited(bundle, swap), [key.verifying])
    stranger = ensure_signing_key(tmp_path / "stranger.pem")
    with pytest.raises(BundleError, match="not the system's audit key"):
        verify_bundle(bundle, [stranger.verifying])


def test_an_edited_time_fails(bundle: str, key: SigningKey) -> None:
    def backdate(document: dict[str, Any]) -> None:
        document["exported_at"] = "2026-01-01T00:00:00+00:00"

    with pytest.raises(BundleError, match="signature does not verify"):
        verify_bundle(edited(bundle, backdate), [key.verifying])


def test_any_byte_changed_fails_even_whitespace(bundle: str, key: SigningKey) -> None:
    with pytest.raises(BundleError, match="not byte for byte as it was exported"):
        verify_bundle(bundle.replace("\n  ", "\n   ", 1), [key.verifying])
    with pytest.raises(BundleError, match="not byte for byte"):
        verify_bundle(bundle + "\n", [key.verifying])


def test_a_bare_history_is_not_a_bundle(key: SigningKey) -> None:
    with pytest.raises(BundleError, match="not a signed audit bundle"):
        verify_bundle(HISTORY.read_text("utf-8"), [key.verifying])
