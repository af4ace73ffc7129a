"""Recording security-relevant changes (allowed domains, limits, blocks, secrets)."""

from __future__ import annotations

from typing import Any

from security.models import AuditEntry


def audit_record(
    *,
    action: str,
    target: str,
    actor: Any = None,
    workspace_id: int | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditEntry:
    return AuditEntry.objects.create(
        action=action,
        target=target[:255],
        actor=actor if getattr(actor, "is_authenticated", False) else None,
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
