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
from security.ratelimit import Decision, Limit, rate_limit_hit

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


def _text_digest(text: str) -> str:
    normalized = " ".join(text.lower().split())
    # Text reaching here was checked at the edge; surrogatepass keeps odd text hashable
    # (and distinct) all the same, rather than failing the message.
    return hashlib.sha256(normalized.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def message_counters(*, visitor_id: str, text: str) -> list[tuple[Limit, str]]:
    """The counters a message is scored by (the same text per visitor, messages per
    visitor), for callers that count them along with other limits in one round trip."""
    return [(REPEATS, f"{visitor_id}:{_text_digest(text)}"), (BURST, visitor_id)]


def message_verdict(
    *, text: str, honeypot: str | None, repeated: Decision, burst: Decision
) -> Verdict:
    """Score a message from its counted `message_counters`."""
    signals: dict[str, int] = {}
    if honeypot:
        signals["honeypot"] = 100  # a field people never see was filled: a bot
    if not repeated.allowed:
        signals["repeated_text"] = 25 * (repeated.count - REPEATS.rate)
    if not burst.allowed:
        signals["burst"] = 30
    links = len(URL.findall(text))
    if links > LINKS_ALLOWED:
        signals["links"] = 20 * (links - LINKS_ALLOWED)
    return Verdict(score=min(sum(signals.values()), 1000), signals=signals)


def message_score(*, visitor_id: str, text: str, honeypot: str | None = None) -> Verdict:
    """Count this message's signals and score it (0 for an ordinary message)."""
    counters = message_counters(visitor_id=visitor_id, text=text)
    repeated, burst = (rate_limit_hit(limit, key) for limit, key in counters)
    return message_verdict(text=text, honeypot=honeypot, repeated=repeated, burst=burst)


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
