"""Writing an agent: its settings, its own model key (sealed) and the audit of both."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from agents.answering.responders.llm_client import agent_llm_key_assign
from agents.models import Agent
from security.audit import audit_record

# Where the agent's key goes: changes are audited (never the key itself).
AUDITED_LLM_FIELDS = ("responder", "llm_base_url", "llm_model")
AUDITED_PII_FIELDS = ("pii_masking", "pii_region")


def agent_llm_key_set(*, agent: Agent, api_key: str = "", forget: bool = False) -> str | None:
    """Seal a new model key onto the agent (or forget the stored one when `forget` and no
    new key). The caller saves the agent. Returns what the key became for the audit —
    "set", "unset", or None when nothing changed."""
    had_key = bool(agent.llm_api_key_sealed)
    forget = forget and not api_key
    if api_key or forget:
        agent_llm_key_assign(agent=agent, api_key=api_key)
    if api_key:
        return "set"
    return "unset" if forget and had_key else None


@transaction.atomic
def agent_save(
    *,
    agent: Agent,
    by: Any,
    before: Mapping[str, Any],
    created: bool,
    llm_api_key: str = "",
    llm_api_key_forget: bool = False,
) -> Agent:
    """Save the agent and audit who changed its model, key, identity rule or PII policy.
    `before` holds the previous value of each field that changed (nothing is audited for
    a new agent)."""
    had_key = bool(agent.llm_api_key_sealed)
    key_now = agent_llm_key_set(agent=agent, api_key=llm_api_key, forget=llm_api_key_forget)
    agent.save()
    if created:
        return agent
    llm_changes = _changes(agent, before, AUDITED_LLM_FIELDS)
    if key_now:  # that it changed, never the key
        llm_changes["llm_api_key"] = {"from": "set" if had_key else "unset", "to": key_now}
    if llm_changes:
        _audit(agent, by, "agent.llm_changed", llm_changes)
    if "identity_required" in before:
        required = agent.identity_required
        _audit(
            agent,
            by,
            "identity.required",
            {"identity_required": {"from": not required, "to": required}},
        )
    pii_changes = _changes(agent, before, AUDITED_PII_FIELDS)
    if pii_changes:
        _audit(agent, by, "agent.pii_changed", pii_changes)
    return agent


def _changes(agent: Agent, before: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    return {
        name: {"from": before[name], "to": getattr(agent, name)}
        for name in fields
        if name in before
    }


def _audit(agent: Agent, by: Any, action: str, changes: dict[str, Any]) -> None:
    audit_record(
        action=action,
        target=agent.public_id,
        actor=by,
        workspace_id=agent.workspace_id,
        changes=changes,
    )
