"""With the codec, Temporal's own copy of a case holds no personal data (SPEC §12).

The API and worker run on a client sealed by a key ring; the history is then
read straight from the dev server, as ``temporal workflow show`` without the
codec would, and every payload's bytes are searched for the reporter's phone,
name, address and description. The same case filed by a plain client shows
them all, so the search can fail.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from grievance_flow.codec.converter import sealed_converter
from grievance_flow.codec.encryption import ENCODING
from grievance_flow.codec.keys import ensure_ring_file, read_ring
from grievance_flow.runtime import load_domain
from grievance_flow.workflows.contracts import Role
from tests.api.conftest import Api, running_api
from tests.api.helpers import act, file_case
from tests.builders import CASE_TEXT

NAME, PHONE, ADDRESS = "王女士", "13812345678", "湖滨路12号"
PERSONAL = [NAME, PHONE, ADDRESS, CASE_TEXT]


_STICKY = ("searchAttributes", "markerRecordedEventAttributes")
"""Fields whose payloads are reported as theirs, however deep."""


def payload_bytes(node: Any, field: str = "") -> Iterator[tuple[str, bytes, bytes]]:
    """(the field it is in, encoding, data) of every payload in a history's JSON."""
    if isinstance(node, dict):
        if "data" in node and "metadata" in node and isinstance(node["data"], str):
            encoding = base64.b64decode(node["metadata"].get("encoding", ""))
            yield field, encoding, base64.b64decode(node["data"])
        for key, value in node.items():
            yield from payload_bytes(value, field if field in _STICKY else key)
    elif isinstance(node, list):
        for value in node:
            yield from payload_bytes(value, field)


async def drive_and_read(api: Api, raw: Client) -> list[tuple[str, bytes, bytes]]:
    """File, dispatch and progress a case; its history's payloads, read without a codec."""
    case = await file_case(api)
    await act(api, case["id"], "dispatch", Role.DISPATCHER, {"category": "city.street-vending"})
    await act(api, case["id"], "accept", "grid-1", {})
    await act(api, case["id"], "progress", "grid-1", {"note": f"已联系{NAME}"})
    await asyncio.sleep(0.2)  # the projection's activity result lands in the history too
    history = await raw.get_workflow_handle(case["id"]).fetch_history()
    return list(payload_bytes(history.to_json_dict()))


def leaked(payloads: list[tuple[str, bytes, bytes]]) -> set[str]:
    return {text for text in PERSONAL for _, _, data in payloads if text.encode() in data}


async def test_the_raw_history_holds_no_personal_data(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    ring = read_ring(ensure_ring_file(tmp_path))
    config = dev_env.client.config()
    config["data_converter"] = sealed_converter(ring)
    sealed = Client(**config)
    async with running_api(dev_env, tmp_path, load_domain(None), client=sealed) as api:
        payloads = await drive_and_read(api, dev_env.client)
        # The API still reads the case in clear through its codec.
        case_id = (await api.http.get("/v1/grievances", headers=api.as_(Role.DISPATCHER))).json()[
            "items"
        ][0]["id"]
        seen = await api.http.get(f"/v1/grievances/{case_id}", headers=api.as_(Role.DISPATCHER))
        assert seen.json()["reporter"]["phone"] == PHONE
    assert len(payloads) > 5
    # Every payload is sealed but the search attributes', which Temporal must
    # read to index, and the SDK's own marker details (patch ids, a local
    # activity's sequence number and times); none holds personal data.
    plain = {field for field, encoding, _ in payloads if encoding != ENCODING}
    assert plain <= set(_STICKY)
    assert any(field not in _STICKY for field, _, _ in payloads)
    assert leaked(payloads) == set()
    # Search attributes stay plain (and hold no personal data): the UI's filters work.
    described = await dev_env.client.get_workflow_handle(case_id).describe()
    assert described.search_attributes["GrievanceStage"] == ["handle"]


async def test_without_the_codec_the_same_search_finds_it_all(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with running_api(dev_env, tmp_path, load_domain(None)) as api:
        payloads = await drive_and_read(api, dev_env.client)
    assert leaked(payloads) == set(PERSONAL)
