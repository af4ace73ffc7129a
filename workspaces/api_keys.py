"""Per-workspace API keys: issue, check, revoke. A key acts as its workspace, not a person."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from security.audit import acting_user, audit_record
from workspaces.models import ApiKey

PREFIX_CHARS = 8


@dataclass(frozen=True)
class WorkspaceKeyPrincipal:
    """What `request.user` is for a call made with an API key (see workspaces.scoping)."""

    api_workspace_id: int
    key_id: int
    can_write: bool
    username: str
    is_authenticated: bool = True
    is_superuser: bool = False
    is_staff: bool = False
    pk: None = None

    def get_username(self) -> str:
        """How audit entries and staff-written rows name the key: `api-key:ca_<prefix>`."""
        return self.username


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_issue(
    *, workspace_id: int, name: str, can_write: bool, actor: Any = None
) -> tuple[ApiKey, str]:
    """A new key and its plain text (shown once): `ca_<prefix>_<secret>`."""
    prefix = secrets.token_hex(PREFIX_CHARS // 2)
    secret = secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        workspace_id=workspace_id,
        name=name,
        prefix=prefix,
        digest=_digest(secret),
        can_write=can_write,
        created_by=acting_user(actor),
    )
    audit_record(
        action="api_key.issue",
        target=f"ca_{prefix}",
        actor=actor,
        workspace_id=workspace_id,
        changes={"name": name, "canWrite": can_write},
    )
    return key, f"ca_{prefix}_{secret}"


def api_key_principal(presented: str) -> WorkspaceKeyPrincipal | None:
    """The workspace a presented key speaks for, or None (unknown, revoked, malformed)."""
    parts = presented.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != "ca" or len(parts[1]) != PREFIX_CHARS or len(presented) > 100:
        return None
    key = ApiKey.objects.filter(prefix=parts[1], revoked_at__isnull=True).first()
    if key is None or not hmac.compare_digest(key.digest, _digest(parts[2])):
        return None
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
    return WorkspaceKeyPrincipal(
        api_workspace_id=key.workspace_id,
        key_id=key.pk,
        can_write=key.can_write,
        username=f"api-key:ca_{key.prefix}",
    )


def api_key_revoke(key: ApiKey, *, actor: Any = None) -> None:
    ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    audit_record(
        action="api_key.revoke",
        target=f"ca_{key.prefix}",
        actor=actor,
        workspace_id=key.workspace_id,
    )
