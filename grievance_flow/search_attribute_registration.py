"""Registering SPEC §8's search attributes with a Temporal server that is already running.

``grievance up``'s dev server takes them as ``--search-attribute`` flags and the
compose set-up creates them with the ``temporal`` CLI; this is for the servers
that take neither, such as the time-skipping test server that workflow tests,
the history recorder and the history-size benchmark start. A case's worker
upserts them, and a server that does not know one fails the workflow task.
"""

from __future__ import annotations

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from grievance_flow import search_attributes


def dev_server_flags() -> list[str]:
    """``temporal server start-dev``'s ``--search-attribute Name=Type`` for each attribute."""
    flags: list[str] = []
    for name, kind in search_attributes.registrations().items():
        flags += ["--search-attribute", f"{name}={kind}"]
    return flags


async def register(client: Client) -> None:
    """Add every attribute to the namespace of ``client``; a server that has them keeps them."""
    request = AddSearchAttributesRequest(
        namespace=client.namespace,
        search_attributes={
            key.name: IndexedValueType.ValueType(key.indexed_value_type.value)
            for key in search_attributes.ALL
        },
    )
    try:
        await client.operator_service.add_search_attributes(request)
    except RPCError as exc:
        if exc.status is not RPCStatusCode.ALREADY_EXISTS:
            raise
