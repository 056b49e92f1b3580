"""Bearer keys → actors, with a short cache so most requests skip the database."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import Engine

from grievance_flow.store.keys import hash_key, resolve_key
from grievance_flow.workflows.contracts import Actor


class KeyRing:
    """Resolves API keys to the role (and unit) they carry.

    Only known keys are cached, and only for ``ttl`` seconds: a key created by
    ``grievance keys create`` in another process works at once (a miss always
    asks the database), and nothing is cached for unknown keys, so guessing
    keys cannot fill memory.
    """

    def __init__(self, engine: Engine, *, ttl: float = 60.0) -> None:
        self._engine = engine
        self._ttl = ttl
        self._known: dict[str, tuple[Actor, float]] = {}

    async def actor_for(self, key: str) -> Actor | None:
        """The actor for ``key``, or None if no such key exists."""
        digest = hash_key(key)
        hit = self._known.get(digest)
        now = time.monotonic()
        if hit is not None and hit[1] > now:
            return hit[0]
        actor = await asyncio.to_thread(resolve_key, self._engine, key)
        if actor is not None:
            self._known[digest] = (actor, now + self._ttl)
        return actor
