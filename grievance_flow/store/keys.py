"""API keys: issued once in plaintext, stored only as a hash, resolved to an Actor."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from grievance_flow.store.models import ApiKey
from grievance_flow.workflows.contracts import Actor, Role

KEY_PREFIX = "gf_"
"""Marks our keys, so a leaked one is recognisable (e.g. by secret scanners)."""


def generate_key() -> str:
    """Return a new random key: the prefix and 256 bits of URL-safe randomness."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    """Return the SHA-256 hex digest under which ``key`` is stored."""
    # A fast unsalted hash is right here, unlike for passwords: keys are 256-bit
    # random tokens, so there is nothing to brute-force or look up in a table,
    # and every API request hashes one, so it must be cheap.
    return hashlib.sha256(key.encode()).hexdigest()


KEY_ID_PREFIX = "k_"


def key_id_for(key: str) -> str:
    """The key's stable, non-secret id (SPEC §7): ``k_`` and 16 hex digits of its hash."""
    return KEY_ID_PREFIX + hash_key(key)[:16]


def create_key(engine: Engine, *, role: Role, unit: str | None, label: str = "") -> str:
    """Issue a new key for ``role`` (and ``unit``), held by ``label``; return its plaintext.

    The plaintext is not stored and cannot be shown again.

    Raises:
        ValueError: The role and unit do not fit together (see :func:`register_key`).
    """
    key = generate_key()
    register_key(engine, key, role=role, unit=unit, label=label)
    return key


def register_key(
    engine: Engine, key: str, *, role: Role, unit: str | None, label: str = ""
) -> None:
    """Store a key whose plaintext is already known; doing it again is a no-op.

    ``grievance up`` uses this to re-register the keys in ``dev-keys.json`` on
    every start.

    Raises:
        ValueError: ``key`` is empty; ``role`` is ``system``; a ``unit`` key has no
            unit, or another role has one; or the key is already registered for
            a different role or unit.
    """
    role = Role(role)  # tolerate a plain string from the CLI
    _check_key_fits(key, role, unit)
    row = {
        "key_hash": hash_key(key),
        "key_id": key_id_for(key),
        "role": role.value,
        "unit": unit,
        "label": label,
        "created_at": datetime.now(UTC),
    }
    table = ApiKey.__table__  # type: ignore[attr-defined]
    with Session(engine) as session:
        # Insert-or-ignore, not read-then-insert: the API and the worker may
        # register the same dev keys at the same moment.
        if engine.dialect.name == "postgresql":
            session.execute(postgresql.insert(table).values(row).on_conflict_do_nothing())
        elif engine.dialect.name == "sqlite":
            session.execute(sqlite.insert(table).values(row).on_conflict_do_nothing())
        else:
            raise ValueError(f"no key store for database {engine.dialect.name!r}")
        stored = session.get(ApiKey, row["key_hash"])
        holder = (stored.role, stored.unit) if stored is not None else None
        session.commit()
    if holder != (role.value, unit):
        raise ValueError(
            "this key is already registered for another role or unit; issue a new key instead"
        )


def resolve_key(engine: Engine, key: str) -> Actor | None:
    """Return who ``key`` belongs to, or None for an empty, unknown or revoked key.

    The actor carries the key's holder and id, so every action it takes records
    who took it (SPEC §7), whatever the request body says.
    """
    if not key:
        return None
    with Session(engine) as session:
        stored = session.get(ApiKey, hash_key(key))
    if stored is None or stored.revoked_at is not None:
        return None
    return actor_of(stored)


def actor_of(stored: ApiKey) -> Actor:
    """The actor a stored key acts as."""
    return Actor(
        role=Role(stored.role), unit=stored.unit, holder=stored.label or None, key_id=stored.key_id
    )


def list_keys(engine: Engine) -> list[ApiKey]:
    """Every key, revoked ones included, oldest first (hashes only, never a plaintext)."""
    with Session(engine) as session:
        statement = select(ApiKey).order_by(col(ApiKey.created_at), col(ApiKey.key_id))
        return list(session.exec(statement))


def find_key(engine: Engine, key_id: str) -> ApiKey | None:
    """The key with this id, or None."""
    with Session(engine) as session:
        return session.exec(select(ApiKey).where(col(ApiKey.key_id) == key_id)).first()


def revoke_key(engine: Engine, key_id: str, *, now: datetime | None = None) -> ApiKey | None:
    """Revoke the key (it answers 401 from its next request on); None if there is none.

    Revoking a revoked key changes nothing and returns it as it is.
    """
    with Session(engine) as session:
        stored = session.exec(select(ApiKey).where(col(ApiKey.key_id) == key_id)).first()
        if stored is None:
            return None
        if stored.revoked_at is None:
            stored.revoked_at = now or datetime.now(UTC)
            session.add(stored)
            session.commit()
            session.refresh(stored)
        return stored


def _check_key_fits(key: str, role: Role, unit: str | None) -> None:
    if not key:
        raise ValueError("an API key must not be empty")
    if role is Role.SYSTEM:
        raise ValueError("the system role belongs to the workflow itself; no key may carry it")
    if role is Role.UNIT and not unit:
        raise ValueError("a unit key must name its unit (the unit_id it acts for)")
    if role is not Role.UNIT and unit is not None:
        raise ValueError(f"a {role.value} key must not carry a unit; only unit keys do")
