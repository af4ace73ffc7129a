"""Scoring a visitor's message for spam and abuse, and acting on the score.

Signals are counted in the same atomic counters as rate limits. A score of 50 refuses
the message ("slow down"); 100 also blocks the address for an hour. Both are recorded for
staff to review. The weights are deliberately simple, so staff can predict them.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from security.models import AbuseEvent, IpBlock
from security.ratelimit import Limit, rate_limit_hit

logger = logging.getLogger("customeragent.security")

URL = re.compile(r"https?://|www\.", re.IGNORECASE)
SLOW_DOWN_AT = 50
BLOCK_AT = 100
AUTO_BLOCK_FOR = timedelta(hours=1)

REPEATS = Limit(name="abuse_repeat", rate=2, window=600)  # the same text, per visitor
BURST = Limit(name="abuse_burst", rate=8, window=30)  # messages, per visitor
LINKS_ALLOWED = 2


@dataclass(frozen=True)
class Verdict:
    score: int
    signals: dict[str, int] = field(default_factory=dict)

    @property
    def action(self) -> str | None:
        if self.score >= BLOCK_AT:
            return AbuseEvent.Action.BLOCKED
        if self.score >= SLOW_DOWN_AT:
            return AbuseEvent.Action.SLOWED
        return None


def message_score(*, visitor_id: str, text: str, honeypot: str | None = None) -> Verdict:
    """Count this message's signals and score it (0 for an ordinary message)."""
    signals: dict[str, int] = {}
    if honeypot:
        signals["honeypot"] = 100  # a field people never see was filled: a bot
    normalized = " ".join(text.lower().split())
    # Text reaching here was checked at the edge; surrogatepass keeps odd text hashable
    # (and distinct) all the same, rather than failing the message.
    digest = hashlib.sha256(normalized.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    repeated = rate_limit_hit(REPEATS, f"{visitor_id}:{digest}")
    if not repeated.allowed:
        signals["repeated_text"] = 25 * (repeated.count - REPEATS.rate)
    burst = rate_limit_hit(BURST, visitor_id)
    if not burst.allowed:
        signals["burst"] = 30
    links = len(URL.findall(text))
    if links > LINKS_ALLOWED:
        signals["links"] = 20 * (links - LINKS_ALLOWED)
    return Verdict(score=min(sum(signals.values()), 1000), signals=signals)


def abuse_act(
    verdict: Verdict, *, workspace_id: int | None, agent_id: str, visitor_id: str, ip: str
) -> str | None:
    """Record a verdict that calls for action and carry it out; the action taken, if any."""
    action = verdict.action
    if action is None:
        return None
    AbuseEvent.objects.create(
        workspace_id=workspace_id,
        agent_id=agent_id,
        visitor_id=visitor_id,
        ip=ip if ip != "0.0.0.0" else None,  # noqa: S104 (the unknown-peer placeholder)
        score=verdict.score,
        signals=verdict.signals,
        action=action,
    )
    if action == AbuseEvent.Action.BLOCKED and ip != "0.0.0.0":  # noqa: S104
        IpBlock.objects.create(
            network=ip,
            workspace_id=workspace_id,
            reason=f"abuse score {verdict.score}: {', '.join(sorted(verdict.signals))}",
            source=IpBlock.Source.AUTOMATIC,
            expires_at=timezone.now() + AUTO_BLOCK_FOR,
        )
    logger.warning("abuse %s: visitor %s ip %s %s", action, visitor_id, ip, verdict.signals)
    return action


def message_screen(
    *,
    workspace_id: int | None,
    agent_id: str,
    visitor_id: str,
    ip: str,
    text: str,
    honeypot: str | None = None,
) -> str | None:
    """Score a visitor's message and act on it: None to let it through, else the action."""
    verdict = message_score(visitor_id=visitor_id, text=text, honeypot=honeypot)
    return abuse_act(
        verdict, workspace_id=workspace_id, agent_id=agent_id, visitor_id=visitor_id, ip=ip
    )
