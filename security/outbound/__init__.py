"""Requests our servers make to URLs that workspaces typed in: one policy, no SSRF.

Every such URL — an agent's model server, its MCP servers, alert webhooks, and any later
one — is checked by `policy.outbound_target` for its `Purpose` when it is saved
(`outbound_url_problem`) and again before every call, and is then called through
`pinned`, which connects only to the address the check approved. The operator's own
settings (LLM_BASE_URL) are trusted and do not go through here.
"""

from security.outbound.pinned import (
    AsyncPinnedTransport,
    OutboundBlocked,
    PinnedTransport,
    pinned_async_client,
    pinned_client,
    post_json,
)
from security.outbound.policy import (
    OutboundFailed,
    OutboundRefused,
    Purpose,
    Target,
    address_is_public,
    outbound_target,
    outbound_url_problem,
    private_allowed,
)

__all__ = [
    "AsyncPinnedTransport",
    "OutboundBlocked",
    "OutboundFailed",
    "OutboundRefused",
    "PinnedTransport",
    "Purpose",
    "Target",
    "address_is_public",
    "outbound_target",
    "outbound_url_problem",
    "pinned_async_client",
    "pinned_client",
    "post_json",
    "private_allowed",
]
