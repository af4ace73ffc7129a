"""Is this address blocked? Active blocks are cached briefly and re-read on any change."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

from security.models import IpBlock

CACHE_KEY = "security:ipblocks"
CACHE_SECONDS = 30


@dataclass(frozen=True)
class ActiveBlock:
    network: str
    workspace_id: int | None
    reason: str
    expires_at: float | None  # a timestamp, so the cached list can expire blocks itself


def _active_blocks() -> list[ActiveBlock]:
    cached: list[ActiveBlock] | None = cache.get(CACHE_KEY)
    if cached is None:
        now = timezone.now()
        rows = IpBlock.objects.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        cached = [
            ActiveBlock(
                network=row.network,
                workspace_id=row.workspace_id,
                reason=row.reason,
                expires_at=row.expires_at.timestamp() if row.expires_at else None,
            )
            for row in rows
        ]
        cache.set(CACHE_KEY, cached, CACHE_SECONDS)
    return cached


def ip_blocks_forget() -> None:
    cache.delete(CACHE_KEY)


def ip_block_for(ip: str, *, workspace_id: int | None = None) -> ActiveBlock | None:
    """The block that applies to `ip` (platform-wide, or for this workspace), if any."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    now = timezone.now().timestamp()
    for block in _active_blocks():
        if block.expires_at is not None and block.expires_at <= now:
            continue
        if block.workspace_id is not None and block.workspace_id != workspace_id:
            continue
        network = ipaddress.ip_network(block.network, strict=False)
        if network.version == address.version and address in network:
            return block
    return None
