"""Recording security-relevant changes (allowed domains, limits, blocks, secrets)."""

from __future__ import annotations

from typing import Any

from security.api_access import is_api_key
from security.models import AuditEntry


def acting_user(actor: Any) -> Any:
    """The person behind `actor` for a `created_by`-style user column: None for a
    workspace API key (it acts for its workspace, not a person), anonymous or nobody."""
    if actor is None or is_api_key(actor) or not getattr(actor, "is_authenticated", False):
        return None
    return actor


def audit_record(
    *,
    action: str,
    target: str,
    actor: Any = None,
    workspace_id: int | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditEntry:
    """Record a security-relevant change. `actor` is a user, a workspace API key's
    principal (workspaces.api_keys, recorded by key id and `api-key:ca_<prefix>`), or None
    for the platform itself."""
    user = acting_user(actor)
    key = actor if is_api_key(actor) else None
    if user is not None:
        label = user.get_username()
    else:
        label = key.get_username() if key is not None else ""
    return AuditEntry.objects.create(
        action=action,
        target=target[:255],
        actor=user,
        actor_key_id=key.key_id if key is not None else None,
        actor_label=label[:150],
        workspace_id=workspace_id,
        changes=changes or {},
    )


def field_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """`{field: {"from": old, "to": new}}` for the fields whose values differ."""
    return {
        name: {"from": before.get(name), "to": value}
        for name, value in after.items()
        if before.get(name) != value
    }
