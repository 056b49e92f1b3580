"""``audit show``'s actor column: the role, the unit, and who held the key."""

from __future__ import annotations

from grievance_flow.audit.render import actor_label
from grievance_flow.workflows.contracts import SYSTEM, Actor, Role


def test_an_actor_with_a_key_shows_its_holder_and_key_id() -> None:
    held = Actor(Role.UNIT, "grid-1", holder="网格员 李四", key_id="k_0123456789abcdef")
    assert actor_label(held) == "unit/grid-1 网格员 李四 (k_0123456789abcdef)"
    assert actor_label(Actor(Role.DISPATCHER, holder="刘二")) == "dispatcher 刘二 (no key id)"


def test_the_system_and_old_histories_show_the_role_alone() -> None:
    assert actor_label(SYSTEM) == "system"
    assert actor_label(Actor(Role.UNIT, "grid-1")) == "unit/grid-1"  # recorded before holders
