"""An agent's identity keys: generate, rotate with a grace period, upload public keys.

The secret is shown to staff (in the admin) and sealed at rest; every change is audited.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.errors import InvalidRequest
from customers.models import IdentityKey
from security.audit import audit_record
from security.sealing import seal, unseal

SECRET_BYTES = 32  # 256 bits
MIN_RSA_BITS = 2048
MAX_PEM_CHARS = 10_000


@dataclass(frozen=True)
class KeyMaterial:
    """What verification needs of a key: its id, algorithm and the key itself."""

    key_id: str
    algorithm: str
    key: str
    retires_at: datetime | None


def live_keys(agent_pk: int, *, now: datetime | None = None) -> QuerySet[IdentityKey]:
    moment = now or timezone.now()
    return IdentityKey.objects.filter(agent_id=agent_pk).filter(
        Q(retires_at__isnull=True) | Q(retires_at__gt=moment)
    )


def key_material(key: IdentityKey) -> KeyMaterial:
    value = (
        unseal(key.sealed_secret)
        if key.algorithm == IdentityKey.Algorithm.HS256
        else key.public_key
    )
    return KeyMaterial(
        key_id=key.key_id, algorithm=key.algorithm, key=value, retires_at=key.retires_at
    )


def identity_secret_reveal(key: IdentityKey, *, actor: Any = None, workspace_id: int) -> str:
    """The plain secret of an HS256 key, for staff to copy; the reveal is audited."""
    if key.algorithm != IdentityKey.Algorithm.HS256:
        raise InvalidRequest("Only shared-secret keys have a secret to reveal.")
    audit_record(
        action="identity.secret.reveal",
        target=key.key_id,
        actor=actor,
        workspace_id=workspace_id,
    )
    return unseal(key.sealed_secret)


@transaction.atomic
def identity_secret_rotate(
    *,
    agent_pk: int,
    workspace_id: int,
    actor: Any = None,
    grace: timedelta | None = None,
    now: datetime | None = None,
) -> tuple[IdentityKey, str]:
    """A new shared secret; the live ones keep verifying for `grace`, then retire.

    Returns the new key and its secret (also revealable later in the admin).
    """
    moment = now or timezone.now()
    grace = (
        grace if grace is not None else timedelta(seconds=settings.IDENTITY_ROTATION_GRACE_SECONDS)
    )
    if grace < timedelta(0) or grace > timedelta(days=30):
        raise InvalidRequest("The grace period must be between 0 and 30 days.")
    retiring = list(
        live_keys(agent_pk, now=moment)
        .filter(algorithm=IdentityKey.Algorithm.HS256)
        .select_for_update()
    )
    for old in retiring:
        retire_at = moment + grace
        if old.retires_at is None or old.retires_at > retire_at:
            old.retires_at = retire_at
            old.save(update_fields=["retires_at"])
    secret = secrets.token_hex(SECRET_BYTES)
    key = IdentityKey.objects.create(
        agent_id=agent_pk,
        algorithm=IdentityKey.Algorithm.HS256,
        sealed_secret=seal(secret),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    audit_record(
        action="identity.secret.rotate",
        target=key.key_id,
        actor=actor,
        workspace_id=workspace_id,
        changes={
            "retiring": {k.key_id: (moment + grace).isoformat() for k in retiring},
            "graceSeconds": int(grace.total_seconds()),
        },
    )
    return key, secret


def public_key_algorithm(pem: str) -> str:
    """RS256 for an RSA key of at least 2048 bits, ES256 for a P-256 key; else refused."""
    if not pem.strip() or len(pem) > MAX_PEM_CHARS:
        raise InvalidRequest("Paste a PEM public key ('-----BEGIN PUBLIC KEY-----').")
    try:
        key = load_pem_public_key(pem.strip().encode())
    except (ValueError, TypeError):
        raise InvalidRequest(
            "This is not a PEM public key. Paste the public half only "
            "('-----BEGIN PUBLIC KEY-----'), never the private key."
        ) from None
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise InvalidRequest(f"RSA keys must have at least {MIN_RSA_BITS} bits.")
        return IdentityKey.Algorithm.RS256
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return IdentityKey.Algorithm.ES256
    raise InvalidRequest("Only RSA (RS256) and P-256 (ES256) public keys are accepted.")


@transaction.atomic
def identity_public_key_add(
    *, agent_pk: int, workspace_id: int, pem: str, actor: Any = None
) -> IdentityKey:
    if "PRIVATE KEY" in pem:
        raise InvalidRequest(
            "That is a private key: keep it on your server and paste the public key."
        )
    algorithm = public_key_algorithm(pem)
    key = IdentityKey.objects.create(
        agent_id=agent_pk,
        algorithm=algorithm,
        public_key=pem.strip(),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    audit_record(
        action="identity.public_key.add",
        target=key.key_id,
        actor=actor,
        workspace_id=workspace_id,
        changes={"algorithm": algorithm},
    )
    return key


def identity_key_retire(
    key: IdentityKey, *, workspace_id: int, actor: Any = None, now: datetime | None = None
) -> IdentityKey:
    """Stop a key verifying at once (a leaked secret, a key the site no longer uses)."""
    key.retires_at = now or timezone.now()
    key.save(update_fields=["retires_at"])
    audit_record(
        action="identity.key.retire", target=key.key_id, actor=actor, workspace_id=workspace_id
    )
    return key
