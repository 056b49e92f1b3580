"""API keys: issued once, stored hashed, resolved to who holds them."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from grievance_flow.store.keys import (
    create_key,
    find_key,
    generate_key,
    hash_key,
    key_id_for,
    list_keys,
    register_key,
    resolve_key,
    revoke_key,
)
from grievance_flow.store.models import ApiKey
from grievance_flow.workflows.contracts import Actor, Role


def _stored(engine: Engine) -> list[ApiKey]:
    with Session(engine) as session:
        return list(session.exec(select(ApiKey)).all())


def test_a_created_key_resolves_to_its_role_and_unit(engine: Engine) -> None:
    unit_key = create_key(engine, role=Role.UNIT, unit="street-1", label="东湖街道")
    dispatcher_key = create_key(engine, role=Role.DISPATCHER, unit=None)

    assert resolve_key(engine, unit_key) == Actor(
        role=Role.UNIT, unit="street-1", holder="东湖街道", key_id=key_id_for(unit_key)
    )
    assert resolve_key(engine, dispatcher_key) == Actor(
        role=Role.DISPATCHER, key_id=key_id_for(dispatcher_key)
    )


def test_only_the_hash_is_stored(engine: Engine) -> None:
    key = create_key(engine, role=Role.AUDITOR, unit=None, label="纪检")
    [row] = _stored(engine)
    assert row.key_hash == hash_key(key) != key
    assert len(row.key_hash) == 64
    assert (row.role, row.unit, row.label) == ("auditor", None, "纪检")
    assert row.created_at.tzinfo is not None


def test_unknown_and_empty_keys_resolve_to_nobody(engine: Engine) -> None:
    create_key(engine, role=Role.ADMIN, unit=None)
    assert resolve_key(engine, generate_key()) is None
    assert resolve_key(engine, "") is None


def test_registering_a_known_key_again_is_a_no_op(engine: Engine) -> None:
    key = generate_key()
    for _ in range(2):
        register_key(engine, key, role=Role.UNIT, unit="grid-1", label="dev")
    assert len(_stored(engine)) == 1
    assert resolve_key(engine, key) == Actor(
        role=Role.UNIT, unit="grid-1", holder="dev", key_id=key_id_for(key)
    )


def test_a_key_cannot_be_re_registered_for_someone_else(engine: Engine) -> None:
    key = generate_key()
    register_key(engine, key, role=Role.UNIT, unit="grid-1")
    with pytest.raises(ValueError, match="already registered"):
        register_key(engine, key, role=Role.UNIT, unit="grid-2")
    assert resolve_key(engine, key) == Actor(role=Role.UNIT, unit="grid-1", key_id=key_id_for(key))


@pytest.mark.parametrize(
    ("role", "unit", "message"),
    [
        (Role.UNIT, None, "must name its unit"),
        (Role.UNIT, "", "must name its unit"),
        (Role.DISPATCHER, "street-1", "must not carry a unit"),
        (Role.SYSTEM, None, "no key may carry it"),
    ],
)
def test_role_and_unit_must_fit(engine: Engine, role: Role, unit: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        create_key(engine, role=role, unit=unit)
    assert _stored(engine) == []


def test_generated_keys_are_prefixed_and_unique() -> None:
    keys = {generate_key() for _ in range(100)}
    assert len(keys) == 100
    assert all(key.startswith("gf_") and len(key) > 40 for key in keys)


def test_a_key_id_names_the_key_without_revealing_it(engine: Engine) -> None:
    key = create_key(engine, role=Role.ADMIN, unit=None, label="运维 张工")
    key_id = key_id_for(key)
    assert key_id.startswith("k_") and len(key_id) == 18
    assert key_id[2:] == hash_key(key)[:16] and key_id[2:] not in key
    found = find_key(engine, key_id)
    assert found is not None and found.label == "运维 张工"


def test_a_revoked_key_resolves_to_nobody_at_once(engine: Engine) -> None:
    key = create_key(engine, role=Role.DISPATCHER, unit=None, label="值班长")
    other = create_key(engine, role=Role.DISPATCHER, unit=None, label="派单员")
    revoked = revoke_key(engine, key_id_for(key))
    assert revoked is not None and revoked.revoked_at is not None
    assert resolve_key(engine, key) is None
    assert resolve_key(engine, other) is not None
    again = revoke_key(engine, key_id_for(key))  # revoking twice changes nothing
    assert again is not None and again.revoked_at == revoked.revoked_at
    assert revoke_key(engine, "k_0000000000000000") is None
    assert [(k.label, k.revoked_at is not None) for k in list_keys(engine)] == [
        ("值班长", True),
        ("派单员", False),
    ]
