"""重复来电: ``GET /v1/grievances?caller=`` on a read model that keeps no phone in clear."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from temporalio.testing import WorkflowEnvironment

from grievance_flow.codec.keys import ensure_ring_file, read_ring
from grievance_flow.runtime import load_domain
from grievance_flow.store.sealing import FieldCipher, seal_read_model
from grievance_flow.workflows.contracts import Role
from tests.api.conftest import Api, running_api
from tests.api.helpers import file_case, listed

PHONE = "13812345678"


@pytest.fixture(scope="module")
async def sealed_api(
    dev_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Api]:
    data_dir: Path = tmp_path_factory.mktemp("sealed-api")
    async with running_api(dev_env, data_dir, load_domain(None)) as api:
        # As open_database does for a system with a codec key ring.
        seal_read_model(api.engine, FieldCipher(read_ring(ensure_ring_file(data_dir))))
        yield api


async def test_a_dispatcher_finds_every_case_of_a_caller(sealed_api: Api) -> None:
    first = await file_case(sealed_api, reporter={"name": "王女士", "phone": PHONE})
    second = await file_case(sealed_api, reporter={"name": "王女士", "phone": "138 1234 5678"})
    await file_case(sealed_api, reporter={"name": "李先生", "phone": "13900001111"})
    page = await listed(sealed_api, Role.DISPATCHER, first["id"], caller=PHONE)
    page = await listed(sealed_api, Role.DISPATCHER, second["id"], caller="138-1234-5678")
    assert {item["id"] for item in page["items"]} == {first["id"], second["id"]}
    assert page["total"] == 2
    assert all(item["reporter"]["phone"] in (PHONE, "138 1234 5678") for item in page["items"])

    with sealed_api.engine.connect() as connection:
        held = repr(connection.execute(sa.text("SELECT * FROM cases")).all())
    assert PHONE not in held and "王女士" not in held


async def test_masking_by_role_stays_as_it_was(sealed_api: Api) -> None:
    case = await file_case(sealed_api, reporter={"name": "王女士", "phone": PHONE})
    page = await listed(sealed_api, Role.HOTLINE, case["id"])
    (mine,) = [item for item in page["items"] if item["id"] == case["id"]]
    assert mine["reporter"]["phone"] == "138****5678"


@pytest.mark.parametrize("who", [Role.HOTLINE, "grid-1"])
async def test_only_those_who_may_see_phones_look_up_callers(
    sealed_api: Api, who: Role | str
) -> None:
    response = await sealed_api.http.get(
        "/v1/grievances", params={"caller": PHONE}, headers=sealed_api.as_(who)
    )
    assert response.status_code == 403


async def test_a_caller_that_is_no_phone_is_422(sealed_api: Api) -> None:
    response = await sealed_api.http.get(
        "/v1/grievances", params={"caller": "王女士"}, headers=sealed_api.as_(Role.DISPATCHER)
    )
    assert response.status_code == 422
