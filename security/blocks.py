"""Is this address blocked? The active blocks, parsed once per process, per change.

Each process keeps the list compiled in memory, tagged with the `ipblocks` stamp
(security.stamps); any change to a block replaces the stamp, and the next check in every
process recompiles. Hot paths read the stamp in their one Redis round trip
(security.ratelimit.rate_limits_checked) and match in memory; `ip_block_for` reads it
itself.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils import timezone

from security.audit import audit_record
from security.models import IpBlock
from security.stamps import IP_BLOCKS, MISSING, stamp_bump, stamp_ensure, stamps_read

# A safety net only (every change replaces the stamp): recompile at least this often.
MAX_AGE_SECONDS = 60

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class ActiveBlock:
    network: str
    workspace_id: int | None
    reason: str
    expires_at: float | None  # a timestamp, so the compiled list can expire blocks itself


@dataclass(frozen=True)
class IpBlockList:
    """Every active block, parsed: platform-wide ones apply everywhere, the others only
    to their workspace's widgets."""

    stamp: str
    blocks: tuple[tuple[Network, ActiveBlock], ...]
    compiled_at: float = field(default_factory=time.monotonic)

    def match(self, ip: str, *, workspace_id: int | None = None) -> ActiveBlock | None:
        """The block that applies to `ip` (platform-wide, or for this workspace), if any."""
        if not self.blocks:
            return None
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return None
        now = time.time()
        for network, block in self.blocks:
            if block.expires_at is not None and block.expires_at <= now:
                continue
            if block.workspace_id is not None and block.workspace_id != workspace_id:
                continue
            if network.version == address.version and address in network:
                return block
        return None


_lock = threading.Lock()
_compiled: list[IpBlockList] = []  # this process's copy (at most one)


def ip_blocks_held() -> IpBlockList | None:
    """This process's compiled list, current or not (its stamp says which), or None."""
    held = _compiled[0] if _compiled else None
    if held is not None and time.monotonic() - held.compiled_at > MAX_AGE_SECONDS:
        return None
    return held


def ip_blocks_compile(*, observed_stamp: str) -> IpBlockList:
    """Read the active blocks now and keep them, tagged with the stamp read before."""
    stamp = stamp_ensure(IP_BLOCKS) if observed_stamp == MISSING else observed_stamp
    now = timezone.now()
    rows = IpBlock.objects.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
    blocks = tuple(
        (
            ipaddress.ip_network(row.network, strict=False),
            ActiveBlock(
                network=row.network,
                workspace_id=row.workspace_id,
                reason=row.reason,
                expires_at=row.expires_at.timestamp() if row.expires_at else None,
            ),
        )
        for row in rows
    )
    compiled = IpBlockList(stamp=stamp, blocks=blocks)
    with _lock:
        _compiled[:] = [compiled]
    return compiled


def ip_blocks_current(stamp: str) -> IpBlockList:
    """The compiled list for the stamp just read: this process's copy when it matches."""
    held = ip_blocks_held()
    if held is not None and held.stamp == stamp and stamp != MISSING:
        return held
    return ip_blocks_compile(observed_stamp=stamp)


def ip_blocks_forget() -> None:
    """A block was added, changed or lifted: every process recompiles on its next check."""
    stamp_bump(IP_BLOCKS)


def ip_blocks_drop_local() -> None:
    """Forget this process's compiled copy (tests)."""
    with _lock:
        _compiled.clear()


def ip_block_for(ip: str, *, workspace_id: int | None = None) -> ActiveBlock | None:
    """The block that applies to `ip` (platform-wide, or for this workspace), if any."""
    [stamp] = stamps_read([IP_BLOCKS])
    return ip_blocks_current(stamp).match(ip, workspace_id=workspace_id)


def ip_block_save(block: IpBlock, *, actor: Any, changes: dict[str, str], created: bool) -> IpBlock:
    """Add or change a block by hand (the admin), audited with what changed; every
    process's list follows (the model's signals)."""
    if created and getattr(actor, "pk", None) is not None:
        block.created_by = actor
    block.save()
    audit_record(
        action="ip_block.added" if created else "ip_block.changed",
        target=block.network,
        actor=actor,
        workspace_id=block.workspace_id,
        changes=changes,
    )
    return block


def ip_block_remove(block: IpBlock, *, actor: Any) -> None:
    """Lift a block, audited with the reason it had."""
    audit_record(
        action="ip_block.removed",
        target=block.network,
        actor=actor,
        workspace_id=block.workspace_id,
        changes={"reason": block.reason},
    )
    block.delete()
