"""The personas themselves behave as their roles say (the rest of the suite relies on it)."""

from __future__ import annotations

from typing import Any

from workspaces.permissions import is_member, may_manage


def test_the_double_agent_manages_b_but_not_a(double_agent: Any, workspace_a, workspace_b) -> None:
    assert may_manage(double_agent, workspace_b.pk)
    assert not may_manage(double_agent, workspace_a.pk)
    assert is_member(double_agent, workspace_a.pk)


def test_the_outsider_is_no_member_of_a(outsider: Any, workspace_a) -> None:
    assert not is_member(outsider, workspace_a.pk)


def test_a_visitor_gets_a_session_on_an_allowed_origin(visitor_session, agent_a) -> None:
    session = visitor_session(agent_a)
    assert session["token"]
    assert session["visitorId"].startswith("vis_")
