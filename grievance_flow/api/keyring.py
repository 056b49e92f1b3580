"""Bearer keys → actors, looked up on every request so a revoked key stops at once.

A revocation (``grievance keys revoke``, ``DELETE /v1/keys/{key_id}``) may come
from another process; SPEC §7 wants the key refused on its very next request,
so nothing is cached: each request costs one primary-key lookup of the key's
hash, in a worker thread so the event loop never waits on the database.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import Engine

from grievance_flow.store.keys import resolve_key
from grievance_flow.workflows.contracts import Actor


class KeyRing:
    """Resolves API keys to the actor (role, unit, holder, key id) they carry."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def actor_for(self, key: str) -> Actor | None:
        """The actor for ``key``, or None if it is unknown or revoked."""
        return await asyncio.to_thread(resolve_key, self._engine, key)
